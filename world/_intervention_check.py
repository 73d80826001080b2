"""Whether a placement may go where it is, and if not why, in the citizen's language.

The catalog gives the land-cover rules and their reasons (:meth:`Catalog.refusal`);
this module adds the refusals that are not about land cover (wrong shape, off the
map, no building to edit, no street to follow, too large), with their reasons in
every catalog locale (:data:`world.catalog.LOCALES`).
"""

from __future__ import annotations

import numpy as np
import shapely

from world._intervention_apply import MAX_PARK_TREES, park_tree_points
from world._intervention_match import cells_under, snap_roads, target_buildings
from world._intervention_parse import InterventionError, Placed, effect_value, entry_for
from world.catalog import Catalog
from world.city import City
from world.errors import CatalogError
from world.raster import Grids, LandCover

__all__ = ["REASONS", "check"]

#: Refusals that are not about land cover, per locale. The keys ``point``, ``line``,
#: ``area`` and ``building-edit`` say how an entry of that catalog kind is placed.
REASONS: dict[str, dict[str, str]] = {
    "point": {"en": "Place it with a single tap.", "fi": "Sijoita se yhdellä napautuksella.",
              "sv": "Placera den med ett enda tryck.", "nl": "Plaats dit met één tik.",
              "fr": "Placez-le d'un seul toucher.",
              "de": "Platzieren Sie es mit einem einzigen Tippen."},
    "line": {"en": "Draw it as a line.", "fi": "Piirrä se viivana.", "sv": "Rita den som en linje.",
             "nl": "Teken dit als een lijn.", "fr": "Tracez-le comme une ligne.", "de": "Zeichnen Sie es als Linie."},
    "area": {"en": "Draw it as an area.", "fi": "Piirrä se alueena.", "sv": "Rita den som ett område.",
             "nl": "Teken dit als een gebied.", "fr": "Tracez-le comme une zone.", "de": "Zeichnen Sie es als Fläche."},
    "building-edit": {"en": "Choose a building for it.", "fi": "Valitse sille rakennus.",
                      "sv": "Välj en byggnad för den.", "nl": "Kies er een gebouw voor.",
                      "fr": "Choisissez un bâtiment pour cela.", "de": "Wählen Sie dafür ein Gebäude."},
    "outside": {"en": "It lies outside the map of this area.", "fi": "Se on tämän alueen kartan ulkopuolella.",
                "sv": "Den ligger utanför kartan över området.", "nl": "Dit ligt buiten de kaart van dit gebied.",
                "fr": "C'est en dehors de la carte de ce secteur.",
                "de": "Das liegt außerhalb der Karte dieses Gebiets."},
    "no_building": {"en": "There is no building here.", "fi": "Tässä ei ole rakennusta.",
                    "sv": "Här finns ingen byggnad.", "nl": "Hier staat geen gebouw.",
                    "fr": "Il n'y a pas de bâtiment ici.", "de": "Hier steht kein Gebäude."},
    "no_street": {"en": "Draw it along a street with car traffic.",
                  "fi": "Piirrä se autoliikenteelle tarkoitettua katua pitkin.",
                  "sv": "Rita den längs en gata med biltrafik.", "nl": "Teken dit langs een straat met autoverkeer.",
                  "fr": "Tracez-le le long d'une rue ouverte aux voitures.",
                  "de": "Zeichnen Sie es entlang einer Straße mit Autoverkehr."},
    "too_large": {"en": "It is too large.", "fi": "Se on liian suuri.", "sv": "Den är för stor.",
                  "nl": "Dit is te groot.", "fr": "C'est trop grand.", "de": "Das ist zu groß."},
}


def _text(key: str, lang: str) -> str:
    texts = REASONS[key]
    return texts.get(lang, texts["en"])


def check(city: City, grids: Grids, placed: Placed, catalog: Catalog, lang: str = "en") -> str | None:
    """None when ``placed`` may go where it is on ``city`` (rasterised as ``grids``),
    else the reason in ``lang`` (English when the language is unknown).

    In order: the geometry must suit the entry's kind and lie on the grid; the land
    cover (:class:`LandCover` names, lower case) of the cells it covers
    (:func:`cells_under`) must not be one the catalog forbids; a building edit needs a
    building under it, a street intervention a carriageway to follow
    (:func:`snap_roads`), a park at most :data:`MAX_PARK_TREES` trees. An unknown
    catalog id is a programming error: :class:`InterventionError`.

    >>> from world.catalog import load_catalog
    >>> from world.city import Road
    >>> from world.frame import LocalFrame
    >>> from world.raster import rasterize
    >>> road = Road("r", shapely.LineString([(0, 0), (40, 0)]), "primary", "carriageway", 8.0)
    >>> city = City("toy", LocalFrame("EPSG:3067", 0.0, 0.0, 0.0), [], [road], [], [], [], [])
    >>> grids = rasterize(city, (0.0, -20.0, 40.0, 20.0))
    >>> tree = Placed("t", "tree-small", shapely.Point(10.0, 1.0))
    >>> check(city, grids, tree, load_catalog(), "fi")
    'Sitä ei voi sijoittaa ajoradalle.'
    >>> check(city, grids, Placed("t", "tree-small", shapely.Point(10.0, 9.0)), load_catalog()) is None
    True
    """
    entry = entry_for(catalog, placed.catalog, f"intervention {placed.id!r}")
    try:
        entry.check_geometry(placed.geometry)
    except CatalogError:
        return _text(entry.kind, lang)
    if not shapely.box(*grids.bounds).covers(placed.geometry):
        return _text("outside", lang)
    rows, cols = cells_under(grids, placed.geometry)
    if len(rows) == 0:
        return _text("outside", lang)
    classes = {LandCover(int(code)).name.lower() for code in np.unique(grids.landcover[rows, cols])}
    refusal = catalog.refusal(entry.id, classes, lang)
    if refusal is not None:
        return refusal
    if entry.kind == "building-edit" and not target_buildings(city, placed):
        return _text("no_building", lang)
    if entry.effect.get("snap_to") == "carriageway" and not snap_roads(city, placed.geometry):
        return _text("no_street", lang)
    if entry.model == "park":
        try:
            trees = len(park_tree_points(placed.geometry, float(effect_value(entry, placed, "trees_per_ha", 0.0))))
        except InterventionError:
            return _text("too_large", lang)
        if trees > MAX_PARK_TREES:
            return _text("too_large", lang)
    return None
