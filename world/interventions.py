"""Placing interventions on the city: parse, check, apply, undo, and say what changed.

A placed intervention is a catalog id + a geometry (local metres) + params + a stable
id (DESIGN.md, "Interventions"); applying and undoing it are pure functions of the
City. The pieces, each in its own private module:

* :class:`Placed`, :func:`parse_placed`, :func:`parse_placed_list`,
  :func:`placed_to_json`, :func:`make_placed`: the protocol's JSON form
  (``{"catalog", "geometry", "params", "id"}``) and its validation; every problem is an
  :class:`InterventionError` naming the placement and what is wrong.
* :func:`apply`, :func:`apply_all`: a new City with the effect, from the catalog's
  effect parameters (params may override them, see :data:`PARAMS`); undo is
  :func:`apply_all` of the list without the placement. By catalog model: a tree adds a
  :class:`~world.city.Tree` (crown diameter 2 × canopy radius, its own transmissivity);
  a bench a :class:`~world.city.Furniture`; a park an Area of class park plus trees at
  ``trees_per_ha`` on a square grid (:func:`park_tree_points`); a play area an Area of
  grass; a rain garden grass plus a ``rain_garden`` Treatment; permeable paving a
  ``permeable_paving`` Treatment; a green roof a ``green_roof`` Treatment on the
  footprint of each building under it (:func:`target_buildings`); a noise barrier a
  :class:`~world.city.Barrier`; a new building a Building (levels = height ÷ 3 m);
  removing a building leaves a plaza Area on its footprint. Bike lanes and traffic
  calming multiply the ``traffic_flow_factor`` and ``heavy_share_factor`` attributes
  of the carriageways the line follows (:func:`snap_roads`: within max(half the road
  width, 8 m) of the line, roughly parallel, for at least min(20 m, half the line,
  half the road)), which :func:`world.raster.road_segments` applies; traffic calming
  also lowers the speed limit to its ``speed_kmh``.
* :func:`check`: None, or why the placement may not go there, in the citizen's language.
* :func:`footprint`: the bounding box and kinds of change, for incremental
  re-rasterisation (:func:`world.raster.rasterize_window`) and simulation updates.

>>> import shapely
>>> from world.catalog import load_catalog
>>> from world.city import City
>>> from world.frame import LocalFrame
>>> from world.raster import rasterize, rasterize_window
>>> catalog = load_catalog()
>>> city = City("toy", LocalFrame("EPSG:3067", 0.0, 0.0, 0.0), [], [], [], [], [], [])
>>> grids = rasterize(city, (-20.0, -20.0, 20.0, 20.0))
>>> tree = parse_placed({"catalog": "tree-medium", "geometry": {"type": "Point", "coordinates": [0.0, 0.0]}})
>>> check(city, grids, tree, catalog) is None
True
>>> after = apply(city, tree, catalog)
>>> change = footprint(city, after, tree, catalog)
>>> sorted(change.kinds), int((rasterize_window(after, grids, change.bbox).canopy_m > 0).sum())
(['surface'], 12)
"""

from __future__ import annotations

from world._intervention_apply import MAX_PARK_TREES, apply, apply_all, park_tree_points
from world._intervention_check import REASONS, check
from world._intervention_footprint import CHANGE_KINDS, Footprint, footprint
from world._intervention_match import (
    SNAP_ALONG_M,
    SNAP_ANGLE_DEG,
    SNAP_MIN_M,
    cells_under,
    snap_roads,
    target_buildings,
)
from world._intervention_parse import (
    MAX_COORDINATE_M,
    PARAMS,
    InterventionError,
    Placed,
    make_placed,
    parse_placed,
    parse_placed_list,
    placed_to_json,
)

__all__ = [
    "InterventionError", "Placed", "PARAMS", "MAX_COORDINATE_M",
    "parse_placed", "parse_placed_list", "placed_to_json", "make_placed",
    "apply", "apply_all", "park_tree_points", "MAX_PARK_TREES",
    "check", "REASONS", "cells_under", "target_buildings", "snap_roads", "SNAP_MIN_M", "SNAP_ALONG_M",
    "SNAP_ANGLE_DEG",
    "Footprint", "footprint", "CHANGE_KINDS",
]
