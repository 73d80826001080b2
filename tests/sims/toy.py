"""A small synthetic city for simulation tests: a street with sidewalks, a block of
flats, an office, a lawn, a pond and a few trees, 200 m × 200 m around the origin."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import shapely

from sims.scene import Conditions, Scene, make_scene
from world.city import Area, Building, City, Road, Tree
from world.frame import LocalFrame

#: Midsummer afternoon in Helsinki, the issue's default moment.
HELSINKI_AFTERNOON = Conditions(datetime(2026, 6, 21, 15, tzinfo=ZoneInfo("Europe/Helsinki")), 60.1716, 24.9443)
AREA = (-100.0, -100.0, 100.0, 100.0)


def toy_city() -> City:
    buildings = [
        Building("flats", shapely.box(-40, 10, 0, 30), 18.0, building_type="apartments", levels=6),
        Building("office", shapely.box(20, 10, 50, 40), 24.0, building_type="office"),
    ]
    roads = [
        Road("street", shapely.LineString([(-100, 0), (100, 0)]), "secondary", "carriageway", 10.0),
        Road("walk-n", shapely.LineString([(-100, 7), (100, 7)]), "footway", "footway", 3.0),
        Road("walk-s", shapely.LineString([(-100, -7), (100, -7)]), "footway", "footway", 3.0),
        Road("lane", shapely.LineString([(10, -100), (10, 100)]), "footway", "footway", 3.0),
    ]
    areas = [
        Area("lawn", shapely.box(-90, -90, -20, -20), "grass"),
        Area("pond", shapely.box(30, -60, 60, -30), "water"),
        Area("square", shapely.box(-15, -40, 5, -12), "plaza"),
    ]
    trees = [Tree(f"t{i}", shapely.Point(-80 + 15 * i, -10), 12.0, 6.0) for i in range(5)]
    return City("toy", LocalFrame("EPSG:3067", 385946.0, 6672301.0), buildings, roads, areas, trees, [], [])


def toy_scene(city: City | None = None, conditions: Conditions = HELSINKI_AFTERNOON) -> Scene:
    return make_scene(city or toy_city(), conditions, AREA, 2.0)
