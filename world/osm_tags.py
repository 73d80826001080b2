"""The OpenStreetMap tag rules of :mod:`world.osm`: what a tag set means for the twin.

Everything here is a pure function of one element's tags (a plain ``dict[str, str]``),
so the rules can be read and tested without a file. The tables are module-level dicts;
each cites the OSM wiki page it follows (by page name, e.g. "Key:building:levels").

Buildings (wiki "Simple 3D Buildings", "Key:height", "Key:building:levels")
    * top: ``height`` or ``building:height`` in metres (``"12"``, ``"12 m"``, ``"12.5m"``,
      ``"12,5"``, ``"40'"``, ``"40'6\\""``, ``"40 ft"``) -> source ``"height"``;
      else ``building:levels`` x :data:`STOREY_HEIGHT_M` plus a roof allowance
      (``roof:levels`` x :data:`STOREY_HEIGHT_M` when tagged, else
      :data:`PITCHED_ROOF_ALLOWANCE_M` when ``roof:shape`` is tagged and not ``flat``;
      an untagged roof is flat, the Simple 3D Buildings default) -> ``"levels"``;
      else :data:`DEFAULT_BUILDING_HEIGHT_M` by building type -> ``"default"``.
      As in Simple 3D Buildings, ``building:levels`` counts from the ground, including
      the levels skipped by ``building:min_level``.
    * bottom: ``min_height``, else ``building:min_level`` x :data:`STOREY_HEIGHT_M`, else 0.
      A top at or below the bottom (a tagging error) is raised to bottom + one storey.

Roads (wiki "Key:highway", "Key:width", "Key:lanes", "Key:maxspeed", "Key:oneway")
    * only the ``highway`` values in :data:`ROAD_DEFAULT_WIDTH_M` are roads; everything
      else (``proposed``, ``construction``, ``platform``, ``bus_stop``, ``elevator``,
      made-up values such as ``trail``) is skipped, as renderers and routers do.
    * surface: :data:`FOOTWAY_CLASSES` -> ``"footway"``; ``cycleway``, and ``path`` with
      ``bicycle=designated`` -> ``"cycleway"``; everything else -> ``"carriageway"``.
    * width: ``width``; else ``lanes`` x :data:`LANE_WIDTH_M` on carriageways; else the
      class default of :data:`ROAD_DEFAULT_WIDTH_M`.
    * maxspeed in km/h: numbers, ``mph`` and ``knots`` units, the implicit zone values of
      :data:`IMPLICIT_MAXSPEED_KMH` (``"FI:urban"`` -> 50), ``XX:zone30`` / ``XX:zone:30``
      -> 30, ``walk`` -> 6; anything else (``none``, ``signals``, ``50;30``) -> None.
    * oneway: ``yes``/``true``/``1``, and ``-1``/``reverse`` (the importer then reverses
      the line so that it runs in the direction of travel); implied by
      ``junction=roundabout|circular`` and ``highway=motorway`` (wiki "Key:oneway").

Areas: :data:`AREA_RULES`, first match wins (see there). Buildings and building parts
are never areas, whatever else they are tagged with.

Trees (wiki "Tag:natural=tree", "Tag:natural=tree_row", "Key:diameter_crown"):
``height`` else :data:`DEFAULT_TREE_HEIGHT_M`; ``diameter_crown`` else
:data:`DEFAULT_CROWN_DIAMETER_M`; species from ``species``, else ``genus``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

__all__ = [
    "AREA_RULES", "DEFAULT_BUILDING_HEIGHT_M", "DEFAULT_CROWN_DIAMETER_M", "DEFAULT_TREE_HEIGHT_M",
    "FALLBACK_BUILDING_HEIGHT_M", "FILTER_KEYS", "FOOTWAY_CLASSES", "IMPLICIT_MAXSPEED_KMH",
    "LANE_WIDTH_M", "PITCHED_ROOF_ALLOWANCE_M", "ROAD_DEFAULT_WIDTH_M", "STOREY_HEIGHT_M",
    "TREE_ROW_SPACING_M", "area_class", "building_heights", "is_building", "is_building_part",
    "parse_count", "parse_length_m", "parse_maxspeed_kmh", "road_class", "road_oneway",
    "road_surface", "road_width_m", "tree_properties",
]

Tags = Mapping[str, str]

# Height of one storey, metres. Wiki "Key:building:levels" suggests about 3 m; it is the
# usual figure for residential floors and a little low for offices (3.5 m).
STOREY_HEIGHT_M = 3.0

# Extra height for a roof that is not flat and has no roof:levels (wiki "Key:roof:shape").
PITCHED_ROOF_ALLOWANCE_M = 1.0

# Default top in metres when a building has neither height nor levels, keyed by the
# `building` value (wiki "Key:building"). Chosen for a European city centre (Helsinki,
# Amsterdam, Berlin): 5-6 storey apartment blocks, 4-5 storey offices and shops with
# high ground floors, low outbuildings in courtyards. Unknown types get the fallback.
DEFAULT_BUILDING_HEIGHT_M: dict[str, float] = {
    "house": 7.0, "detached": 7.0, "semidetached_house": 7.0, "terrace": 9.0,
    "bungalow": 4.0, "farm": 7.0, "cabin": 4.0,
    "residential": 15.0, "apartments": 18.0, "dormitory": 15.0, "hotel": 18.0,
    "commercial": 14.0, "retail": 12.0, "office": 16.0, "supermarket": 8.0,
    "industrial": 8.0, "warehouse": 8.0, "manufacture": 8.0, "hangar": 10.0,
    "church": 20.0, "cathedral": 30.0, "chapel": 10.0, "mosque": 15.0, "synagogue": 15.0,
    "temple": 15.0, "religious": 15.0,
    "public": 15.0, "civic": 15.0, "government": 15.0, "townhall": 18.0,
    "university": 16.0, "college": 15.0, "school": 12.0, "kindergarten": 6.0,
    "hospital": 18.0, "museum": 15.0, "theatre": 16.0, "library": 12.0,
    "train_station": 15.0, "transportation": 10.0, "parking": 12.0, "stadium": 20.0,
    "sports_hall": 10.0, "greenhouse": 4.0, "roof": 4.0, "bridge": 6.0,
    "garage": 3.0, "garages": 3.0, "carport": 3.0, "shed": 3.0, "kiosk": 3.0, "hut": 3.0,
    "service": 3.0, "toilets": 3.0, "bunker": 3.0, "container": 3.0, "ruins": 5.0,
}
FALLBACK_BUILDING_HEIGHT_M = 10.0

# Default paved width in metres by `highway` value (wiki "Key:highway", "Key:width").
# Carriageway figures are whole cross-sections of a typical European street of that
# class without its sidewalks (two 3.25 m lanes plus margins for tertiary, and so on);
# a dual carriageway is mapped as two ways, so motorway/trunk are one direction's width
# with shoulders. Only these values are imported as roads.
ROAD_DEFAULT_WIDTH_M: dict[str, float] = {
    "motorway": 14.0, "trunk": 12.0, "primary": 10.0, "secondary": 8.5, "tertiary": 7.0,
    "motorway_link": 7.0, "trunk_link": 7.0, "primary_link": 6.5, "secondary_link": 6.0,
    "tertiary_link": 5.5,
    "unclassified": 6.0, "residential": 6.0, "road": 6.0, "living_street": 5.0,
    "service": 4.0, "busway": 3.5, "bus_guideway": 3.5, "track": 3.0, "escape": 4.0,
    "pedestrian": 6.0, "footway": 2.0, "path": 1.5, "steps": 2.0, "corridor": 2.0,
    "bridleway": 2.0, "cycleway": 2.0,
}

# One traffic lane, metres (the common urban lane width in Nordic and German guidance).
LANE_WIDTH_M = 3.25

# Classes whose surface is "footway" (living_street is a shared carriageway, not here).
FOOTWAY_CLASSES = frozenset({"footway", "path", "pedestrian", "steps", "corridor", "bridleway"})

# Implicit speed limits, km/h (wiki "Key:maxspeed", section "Implicit maxspeed values").
# A small table for the countries the project has data for; others read as None.
IMPLICIT_MAXSPEED_KMH: dict[str, float] = {
    "FI:urban": 50.0, "FI:rural": 80.0, "FI:motorway": 120.0, "FI:living_street": 20.0,
    "SE:urban": 50.0, "SE:rural": 70.0, "SE:motorway": 110.0,
    "NO:urban": 50.0, "NO:rural": 80.0, "DK:urban": 50.0, "DK:rural": 80.0,
    "DE:urban": 50.0, "DE:rural": 100.0, "DE:living_street": 7.0, "DE:bicycle_road": 30.0,
    "NL:urban": 50.0, "NL:rural": 80.0, "NL:motorway": 100.0,
    "FR:urban": 50.0, "FR:rural": 80.0, "FR:motorway": 130.0,
    "GB:nsl_single": 96.56, "GB:nsl_dual": 112.65, "GB:motorway": 112.65,
}
_WALKING_PACE_KMH = 6.0
_MPH_KMH = 1.609344
_KNOT_KMH = 1.852

# Land-cover rules: (area class, key, accepted values or None for any value but "no"),
# tried in this order, first match wins. Wiki pages: "Tag:leisure=park",
# "Tag:landuse=grass", "Tag:natural=scrub", "Tag:landuse=forest", "Tag:natural=water",
# "Key:water", "Tag:waterway=riverbank", "Tag:place=square", "Key:area:highway",
# "Tag:amenity=parking". Water first (a pond in a park is its own element anyway), then
# the intentional open spaces before generic cover. Parking is ground cover only:
# parking=underground|rooftop|multi-storey is not (see area_class). leisure=pitch is
# grass unless its `surface` says it is hard (asphalt, clay, ...). Not assembled:
# natural=coastline (the sea is a known gap: coastline ways are never closed in an
# extract, so the sea polygon cannot be built from them).
AREA_RULES: tuple[tuple[str, str, frozenset[str] | None], ...] = (
    ("water", "natural", frozenset({"water"})),
    ("water", "water", None),
    ("water", "waterway", frozenset({"riverbank"})),
    ("water", "landuse", frozenset({"basin", "reservoir"})),
    ("park", "leisure", frozenset({"park", "garden"})),
    ("forest", "landuse", frozenset({"forest"})),
    ("forest", "natural", frozenset({"wood"})),
    ("plaza", "place", frozenset({"square"})),
    ("plaza", "area:highway", frozenset({"pedestrian", "footway"})),
    ("parking", "amenity", frozenset({"parking"})),
    ("grass", "landuse", frozenset({"grass", "meadow", "village_green", "recreation_ground"})),
    ("grass", "natural", frozenset({"grassland", "scrub", "heath"})),
    ("grass", "leisure", frozenset({"pitch"})),
)
_GRASSY_SURFACES = frozenset({"grass", "artificial_turf", "grass_paver"})
_NOT_GROUND_PARKING = frozenset({"underground", "rooftop", "multi-storey"})
_PLAZA_HIGHWAYS = frozenset({"pedestrian", "footway"})

# Tree defaults (wiki "Tag:natural=tree"): a mature street tree in a northern European
# city (lime, maple, birch) is 8-15 m tall with a 5-8 m crown.
DEFAULT_TREE_HEIGHT_M = 10.0
DEFAULT_CROWN_DIAMETER_M = 6.0
# Spacing of the trees placed along a natural=tree_row way (typical avenue planting).
TREE_ROW_SPACING_M = 8.0

# Keys an element needs at least one of to matter to the importer (pyosmium KeyFilter).
FILTER_KEYS: tuple[str, ...] = (
    "building", "building:part", "highway", "natural", "leisure", "landuse", "water",
    "waterway", "place", "area:highway", "amenity",
)

_NUMBER = r"(\d+(?:[.,]\d+)?|[.,]\d+)"
_METRES = re.compile(rf"^{_NUMBER}\s*(m|metres?|meters?)?$", re.IGNORECASE)
_FEET = re.compile(rf"^{_NUMBER}\s*(?:'|ft|feet|foot)\s*(?:{_NUMBER}\s*(?:\"|in|inch|inches))?$",
                   re.IGNORECASE)
_SPEED = re.compile(rf"^{_NUMBER}\s*(km/h|kmh|kph|mph|knots)?$", re.IGNORECASE)
_ZONE = re.compile(r"^[A-Z]{2}:zone:?(\d+)$", re.IGNORECASE)


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def _positive(value: float) -> float | None:
    return value if math.isfinite(value) and value > 0.0 else None


def parse_length_m(text: str | None) -> float | None:
    """A length tag in metres, or None when absent, unparseable or not positive.

    >>> [parse_length_m(t) for t in ["12", "12 m", "12.5m", "12,5", "40'", "40'6\\"", "x", "-3"]]
    [12.0, 12.0, 12.5, 12.5, 12.192, 12.3444, None, None]
    """
    if text is None:
        return None
    text = text.strip()
    match = _METRES.match(text)
    if match:
        return _positive(_number(match.group(1)))
    match = _FEET.match(text)
    if match:
        inches = _number(match.group(2)) if match.group(2) else 0.0
        return _positive(round((_number(match.group(1)) * 12.0 + inches) * 0.0254, 6))
    return None


def parse_count(text: str | None) -> float | None:
    """A non-negative count tag (``building:levels``, ``lanes``) as a float, or None.

    >>> [parse_count(t) for t in ["4", "4.5", "0", "two", "2;3", None]]
    [4.0, 4.5, 0.0, None, None, None]
    """
    if text is None:
        return None
    try:
        value = _number(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0.0 else None


def parse_maxspeed_kmh(text: str | None) -> float | None:
    """A ``maxspeed`` value in km/h, or None.

    >>> [parse_maxspeed_kmh(t) for t in ["50", "30 mph", "FI:urban", "DE:zone30", "none"]]
    [50.0, 48.28, 50.0, 30.0, None]
    """
    if text is None:
        return None
    text = text.strip()
    match = _SPEED.match(text)
    if match:
        value = _number(match.group(1))
        unit = (match.group(2) or "").lower()
        factor = _MPH_KMH if unit == "mph" else _KNOT_KMH if unit == "knots" else 1.0
        return _positive(round(value * factor, 2))
    if text in IMPLICIT_MAXSPEED_KMH:
        return IMPLICIT_MAXSPEED_KMH[text]
    match = _ZONE.match(text)
    if match:
        return _positive(float(match.group(1)))
    if text.lower() == "walk":
        return _WALKING_PACE_KMH
    return None


def is_building(tags: Tags) -> bool:
    """``building=*`` other than ``no``."""
    return tags.get("building", "no") != "no"


def is_building_part(tags: Tags) -> bool:
    """``building:part=*`` other than ``no`` (takes precedence over ``building``)."""
    return tags.get("building:part", "no") != "no"


def building_heights(tags: Tags) -> tuple[float, float, int | None, str]:
    """``(min_height_m, height_m, levels, height_source)`` of a building or part.

    >>> building_heights({"building": "yes", "building:levels": "4", "roof:shape": "gabled"})
    (0.0, 13.0, 4, 'levels')
    >>> building_heights({"building:part": "yes", "height": "30", "min_height": "12"})
    (12.0, 30.0, None, 'height')
    """
    levels_value = parse_count(tags.get("building:levels"))
    levels = int(levels_value) if levels_value is not None else None
    bottom = parse_length_m(tags.get("min_height"))
    if bottom is None:
        min_level = parse_count(tags.get("building:min_level"))
        bottom = min_level * STOREY_HEIGHT_M if min_level is not None else 0.0
    top = parse_length_m(tags.get("height"))
    if top is None:
        top = parse_length_m(tags.get("building:height"))
    if top is not None:
        source = "height"
    elif levels_value is not None and levels_value > 0:
        roof_levels = parse_count(tags.get("roof:levels"))
        if roof_levels is not None:
            roof = roof_levels * STOREY_HEIGHT_M
        elif tags.get("roof:shape", "flat") != "flat":
            roof = PITCHED_ROOF_ALLOWANCE_M
        else:
            roof = 0.0
        top, source = levels_value * STOREY_HEIGHT_M + roof, "levels"
    else:
        kind = tags.get("building") or tags.get("building:part") or "yes"
        top = DEFAULT_BUILDING_HEIGHT_M.get(kind)
        if top is None:
            top = DEFAULT_BUILDING_HEIGHT_M.get(tags.get("building:part", ""), FALLBACK_BUILDING_HEIGHT_M)
        source = "default"
    if top <= bottom:
        top = bottom + STOREY_HEIGHT_M
    return round(float(bottom), 3), round(float(top), 3), levels, source


def road_class(tags: Tags) -> str | None:
    """The ``highway`` value when the way is a road (see the module doc), else None."""
    value = tags.get("highway")
    if value not in ROAD_DEFAULT_WIDTH_M or tags.get("area") == "yes":
        return None
    return value


def road_surface(tags: Tags) -> str:
    """``"footway"``, ``"cycleway"`` or ``"carriageway"`` for a road's tags."""
    value = tags.get("highway", "")
    if value == "cycleway" or (value == "path" and tags.get("bicycle") == "designated"):
        return "cycleway"
    if value in FOOTWAY_CLASSES:
        return "footway"
    return "carriageway"


def road_width_m(tags: Tags, surface: str) -> float:
    """Paved width: ``width``, else lanes x 3.25 m on carriageways, else the class default."""
    width = parse_length_m(tags.get("width"))
    if width is not None:
        return width
    lanes = parse_count(tags.get("lanes"))
    if surface == "carriageway" and lanes is not None and lanes >= 1:
        return lanes * LANE_WIDTH_M
    return ROAD_DEFAULT_WIDTH_M.get(tags.get("highway", ""), ROAD_DEFAULT_WIDTH_M["road"])


def road_oneway(tags: Tags) -> tuple[bool, bool]:
    """``(oneway, reversed)``: reversed when travel runs against the way (``oneway=-1``)."""
    value = tags.get("oneway", "").strip().lower()
    if value in ("yes", "true", "1"):
        return True, False
    if value in ("-1", "reverse"):
        return True, True
    if value:
        return False, False
    implied = tags.get("junction") in ("roundabout", "circular") or tags.get("highway") == "motorway"
    return implied, False


def area_class(tags: Tags) -> str | None:
    """The land-cover class of a closed way or multipolygon (AREA_RULES), else None.

    ``highway=pedestrian|footway`` with ``area=yes`` is a plaza too. Buildings and
    building parts are never areas.

    >>> area_class({"leisure": "park", "landuse": "grass"}), area_class({"building": "yes"})
    ('park', None)
    """
    if is_building(tags) or is_building_part(tags):
        return None
    if tags.get("area") == "yes" and tags.get("highway") in _PLAZA_HIGHWAYS:
        return "plaza"
    for klass, key, values in AREA_RULES:
        value = tags.get(key)
        if value is None or value == "no" or (values is not None and value not in values):
            continue
        if klass == "parking" and (tags.get("parking") in _NOT_GROUND_PARKING
                                   or tags.get("location") == "underground"):
            continue
        if key == "leisure" and value == "pitch" and tags.get("surface", "grass") not in _GRASSY_SURFACES:
            continue
        return klass
    return None


def tree_properties(tags: Tags) -> tuple[float, float, str | None]:
    """``(height_m, crown_diameter_m, species)`` of a tree from its (or its row's) tags."""
    height = parse_length_m(tags.get("height")) or DEFAULT_TREE_HEIGHT_M
    crown = parse_length_m(tags.get("diameter_crown")) or DEFAULT_CROWN_DIAMETER_M
    species = tags.get("species") or tags.get("genus") or None
    return height, crown, species
