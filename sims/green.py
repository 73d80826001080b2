"""Green access: the share of homes that meet each part of the 3-30-300 rule.

The rule (Konijnendijk van den Bosch C.C. (2021), "The 3-30-300 rule for urban forestry
and greener cities", Biophilic Cities Journal 4(2); Konijnendijk C.C. (2023),
"Evidence-based guidelines for greener, healthier, more resilient neighbourhoods:
introducing the 3-30-300 rule", J. For. Res. 34(3):821–830): everyone should see at
least 3 trees from their home, live in a neighbourhood with at least 30 % tree canopy
cover, and live within 300 m of a public green space of at least 0.5–1 ha.
Browning M.H.E.M. et al. (2024), "Measuring the 3-30-300 rule to help cities meet
nature access thresholds", Sci. Total Environ. 907:167739, review how each part is
measured; this module follows their recommendations where a digital twin can, and
states where it cannot:

* **3** — window views are not modelled. The operational proxy is the one of
  Nieuwenhuijsen M.J. et al. (2022), "The evaluation of the 3-30-300 green space rule
  and mental health", Environ. Res. 215:114387: at least 3 trees (here every City
  tree, planted ones included) within 15 m of the home, measured to the building
  footprint (see :mod:`sims._green_homes`).
* **30** — tree canopy cover (grid cells with ``canopy_m`` > 0, the high-resolution
  land-cover map Browning et al. recommend) within 300 m of the home: a disc around
  the building's representative point. Cells beyond the grid are not known, so they
  leave the denominator as well: near the edge of the grid the share is that of the
  part of the disc inside it.
* **300** — network walking distance (Browning et al.'s recommendation over straight
  lines) from the home to the nearest park of at least 0.5 ha, the lower bound of the
  rule: along every walkable centreline (:mod:`sims._walk_network`) to where the path
  enters the park (:mod:`sims._green_parks`), plus the straight walk from the
  building's representative point to the nearest point of the network (see
  :mod:`sims._green_homes`). Park and forest areas that touch count as one park of
  their united area.

KPIs (all "higher is better", 0.0 when the grid holds no homes): ``homes_3_trees_pct``,
``homes_30_canopy_pct``, ``homes_300_park_pct`` and ``homes_3_30_300_pct``, the share
of homes (``world.raster.homes_estimate`` per building of the grid) meeting each rule
and all three. The field is the walking distance to the nearest such park from every
:attr:`GreenParams.field_cell_m` cell of the grid (0 inside one), capped at
:attr:`GreenParams.field_max_m`, green up to 300 m: where a new park would bring homes
within reach.
"""

from __future__ import annotations

import numpy as np

from sims._green_homes import disc_counts, trees_near
from sims._green_parks import inside_parks, park_members
from sims._green_state import (
    Cells,
    GreenParams,
    GreenState,
    Rerun,
    access_for,
    field_values,
    make_cells,
    make_place,
    tree_set,
    tree_xy,
    walk_m,
)
from sims._green_update import update_state
from sims._walk_network import WalkNetwork, build_walk_network
from sims._walk_route import snap
from sims.field import ColourRamp, Field, Kpi, Result
from sims.scene import Change, Run, Scene, Simulation
from world.city import City

__all__ = ["GreenParams", "GreenSimulation", "walk_to_park_m", "KPI_NAMES"]

#: The KPIs, in the order of the rule; every one is a share of homes, %, higher is better.
KPI_NAMES = ("homes_3_trees_pct", "homes_30_canopy_pct", "homes_300_park_pct", "homes_3_30_300_pct")

#: Dark to light green up to the rule's 300 m, then yellow, orange and red at the cap.
_RAMP = ColourRamp(((0.0, (26, 152, 80, 190)), (300.0, (166, 217, 106, 190)), (300.5, (254, 224, 139, 190)),
                    (600.0, (244, 109, 67, 190)), (1000.0, (165, 0, 38, 190))))


def walk_to_park_m(city: City, geoms: np.ndarray, params: GreenParams | None = None) -> np.ndarray:
    """Walking distance (m) from each geometry (points, footprints) to the nearest park
    of the city that qualifies under ``params``: the straight walk to the nearest point
    of the walking network, then along it into the park; ``inf`` where no such park
    lies within ``params.field_max_m``.

    >>> import shapely
    >>> from world.city import Area, Road
    >>> from world.frame import LocalFrame
    >>> roads = [Road("r", shapely.LineString([(0, 0), (400, 0)]), "footway", "footway", 2.0)]
    >>> park = Area("p", shapely.box(300, 0, 400, 100), "park")               # 1 ha
    >>> city = City("toy", LocalFrame("EPSG:3067", 0, 0, 0), [], roads, [park], [], [], [])
    >>> walk_to_park_m(city, shapely.points([[0.0, 5.0]])).tolist()          # 5 m to the path, 300 along it
    [305.0]
    """
    p = params or GreenParams()
    network = build_walk_network(city.roads)
    access = access_for(network, park_members(city.areas, p.park_classes), p, None)
    return walk_m(network, snap(network, np.asarray(geoms, dtype=object)), access)


class GreenSimulation(Simulation):
    """Green access by the 3-30-300 rule (see the module docstring).

    ``update`` redoes only what a change touches (:mod:`sims._green_update`): a
    planted or removed tree changes the tree counts of the homes within reach and the
    canopy counts by the canopy cells that changed in the change's box; a new park
    searches the walking network once more, from the parks it makes qualify; a new,
    removed or changed building snaps, and counts trees and canopy for, only the homes
    of the buildings that changed; the network itself is kept while the roads stay the
    same. Anything else runs in full.
    """

    name = "green"
    label = "Green access (3-30-300)"

    def __init__(self, params: GreenParams | None = None) -> None:
        self.params = params or GreenParams()

    def run(self, scene: Scene) -> Run:
        return self.run_on(scene, build_walk_network(scene.city.roads))

    def update(self, before: Run, scene: Scene, change: Change) -> Run:
        state = before.state
        if not isinstance(state, GreenState) or state.params != self.params:
            return self.run(scene)
        updated = update_state(state, scene, change)
        if isinstance(updated, Rerun):
            network = updated.network or build_walk_network(scene.city.roads)
            return self.run_on(scene, network, updated.cells)
        return _finish(updated)

    def run_on(self, scene: Scene, network: WalkNetwork, cells: Cells | None = None) -> Run:
        """A full run on a walking network already built from the scene's roads
        (:func:`sims._walk_network.build_walk_network`), and optionally the field's
        cells already snapped to it for the scene's grid; the same as :meth:`run`."""
        p = self.params
        place = make_place(scene, network, p)
        cells = cells or make_cells(scene, network, p)
        trees = tree_set(scene.city)
        tree_counts = trees_near(place.homes, tree_xy(trees), p.tree_distance_m)
        canopy_counts = disc_counts(scene.grids.canopy_m > 0.0, place.discs)
        access = access_for(network, park_members(scene.city.areas, p.park_classes), p, None)
        in_park = inside_parks(cells.xy, access.qualifying_polygons())
        field_m = field_values(network, cells, access, in_park, p)
        return _finish(GreenState(p, network, place, cells, trees, tree_counts, scene.grids.canopy_m, canopy_counts,
                                  access, in_park, field_m))


def _finish(state: GreenState) -> Run:
    """The result of a state: the four shares of homes and the walking-distance field."""
    p, place = state.params, state.place
    homes = place.homes.homes
    trees_ok = state.tree_counts >= p.min_trees
    canopy_ok = (place.discs.cells > 0) & (state.canopy_counts * 100.0 >= p.min_canopy_pct * place.discs.cells)
    park_ok = walk_m(state.network, place.home_snap, state.access) <= p.max_walk_m
    total = int(homes.sum())

    def share(ok: np.ndarray) -> float:
        return 100.0 * int(homes[ok].sum()) / total if total else 0.0

    labels = (f"Homes with {p.min_trees} trees within {p.tree_distance_m:g} m",
              f"Homes with {p.min_canopy_pct:g} % tree canopy within {p.canopy_radius_m:g} m",
              f"Homes within a {p.max_walk_m:g} m walk of a park of {p.min_park_ha:g} ha",
              "Homes meeting all of 3-30-300")
    shares = (share(trees_ok), share(canopy_ok), share(park_ok), share(trees_ok & canopy_ok & park_ok))
    kpis = {name: Kpi(name, value, "%", "higher", label)
            for name, value, label in zip(KPI_NAMES, shares, labels, strict=True)}
    origin, cell_m, _ = place.grid
    factor = state.cells.factor
    legend = (f"Walk to the nearest park of {p.min_park_ha:g} ha or more, m: green within {p.max_walk_m:g} m; "
              f"{p.field_max_m:g} means that far or farther")
    field = Field("green_walk", state.field_m, "m", _RAMP, legend, cell_m=cell_m * factor, origin=origin)
    return Run(Result(field, kpis), state)
