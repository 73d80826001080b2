"""Meshing: a City becomes triangle soups, one per material, vectorised over all features.

Every vertex carries the index of the feature it belongs to (``-1`` for the bare
terrain), so that tiles can be cut out afterwards (:func:`split_by_tile`) and the
kiosk can pick by feature id. Flat shading: vertices are not shared between faces.

- Footprints (OSM, GeoJSON) are extruded: walls from every ring edge (holes included),
  a roof from a constrained Delaunay triangulation of the footprint (GEOS, so concave
  shapes and holes are exact), a floor only where a volume does not touch the ground.
- CityJSON surfaces are triangulated as they are, in their own plane (LoD2 roofs stay
  sloped), coloured by their semantics (roof, wall, ground).
- The ground is land cover: areas and road outlines lifted a few centimetres each by
  layer (:data:`GROUND_LAYER_Z_M`) so that sidewalks sit above carriageways above grass.
- Trees are a low-poly trunk and crown, one copy per tree from a template.

>>> import shapely
>>> from world.city import Volume
>>> box = shapely.box(0.0, 0.0, 10.0, 20.0)
>>> soup = extrude_volumes([Volume(box, 0.0, 12.0)], [0], [(200, 180, 160, 255)], [(120, 110, 110, 255)])
>>> round(soup.volume_m3(), 6)
2400.0
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import shapely

from world.city import Area, Building, City, Road, Surface, Tree, Volume

__all__ = [
    "MeshSoup", "MATERIALS", "GROUND_LAYER_Z_M", "extrude_volumes", "mesh_city", "split_by_tile",
    "building_colours", "triangulate",
]

Rgba = tuple[int, int, int, int]

#: Materials of a tile, with their PBR roughness. One glTF primitive per material per
#: tile; colour differences within a material are per-vertex colours.
MATERIALS: dict[str, float] = {
    "terrain": 1.0,     # bare ground under everything, no feature ids
    "ground": 0.95,     # land cover: roads, sidewalks, grass, plazas, parking
    "water": 0.15,
    "building": 0.85,
    "vegetation": 0.8,  # trees
}

#: Height of each land-cover layer above the terrain, metres: enough to avoid
#: z-fighting at street level, too little to see.
GROUND_LAYER_Z_M: dict[str, float] = {
    "other": 0.01, "grass": 0.02, "park": 0.02, "forest": 0.02, "water": 0.03,
    "parking": 0.04, "plaza": 0.05, "carriageway": 0.06, "cycleway": 0.07,
    "footway": 0.08, "sidewalk": 0.08,
}

GROUND_COLOURS: dict[str, Rgba] = {
    "terrain": (150, 148, 128, 255), "other": (160, 158, 140, 255),
    "grass": (118, 160, 82, 255), "park": (96, 150, 70, 255), "forest": (62, 112, 54, 255),
    "water": (70, 120, 170, 255), "parking": (120, 120, 124, 255), "plaza": (196, 186, 168, 255),
    "carriageway": (82, 84, 90, 255), "cycleway": (168, 92, 82, 255),
    "footway": (178, 174, 166, 255), "sidewalk": (178, 174, 166, 255),
}

_BUILDING_GROUPS: dict[str, tuple[str, ...]] = {
    "residential": ("house", "detached", "residential", "apartments", "terrace", "semidetached_house",
                    "dormitory", "bungalow", "farm"),
    "commercial": ("commercial", "retail", "office", "hotel", "supermarket", "kiosk", "shop"),
    "civic": ("church", "cathedral", "chapel", "public", "civic", "government", "school", "university",
              "college", "hospital", "museum", "train_station", "transportation", "library", "theatre"),
    "industrial": ("industrial", "warehouse", "garage", "garages", "shed", "service", "parking", "hut",
                   "roof", "carport"),
}
#: (wall, roof) colours per building group.
_BUILDING_COLOURS: dict[str, tuple[Rgba, Rgba]] = {
    "residential": ((222, 200, 172, 255), (150, 96, 84, 255)),
    "commercial": ((196, 204, 214, 255), (112, 116, 124, 255)),
    "civic": ((226, 214, 180, 255), (96, 126, 112, 255)),
    "industrial": ((176, 172, 166, 255), (104, 104, 108, 255)),
    "other": ((214, 208, 198, 255), (128, 112, 108, 255)),
}
_GROUP_OF_TYPE = {t: group for group, types in _BUILDING_GROUPS.items() for t in types}
_SURFACE_SHADE = {"roof": 1.0, "wall": 1.0, "ground": 0.6, "other": 0.9}

_TRUNK_RGBA: Rgba = (96, 72, 52, 255)
_CROWN_RGBA: Rgba = (70, 128, 60, 255)


def building_colours(building_type: str) -> tuple[Rgba, Rgba]:
    """``(wall, roof)`` RGBA colours for an OSM-style building type.

    >>> building_colours("apartments")[0]
    (222, 200, 172, 255)
    """
    return _BUILDING_COLOURS[_GROUP_OF_TYPE.get(building_type, "other")]


@dataclass(slots=True)
class MeshSoup:
    """Triangles of one material: float64 positions in local metres (z up), float32
    unit normals, RGBA8 colours, the feature index of each vertex, int64 triangles."""

    positions: np.ndarray
    normals: np.ndarray
    colors: np.ndarray
    features: np.ndarray
    triangles: np.ndarray

    @staticmethod
    def empty() -> MeshSoup:
        return MeshSoup(np.zeros((0, 3)), np.zeros((0, 3), np.float32), np.zeros((0, 4), np.uint8),
                        np.zeros(0, np.int64), np.zeros((0, 3), np.int64))

    @staticmethod
    def concat(parts: Sequence[MeshSoup]) -> MeshSoup:
        parts = [p for p in parts if len(p.triangles)]
        if not parts:
            return MeshSoup.empty()
        offsets = np.cumsum([0] + [len(p.positions) for p in parts[:-1]])
        return MeshSoup(
            np.concatenate([p.positions for p in parts]),
            np.concatenate([p.normals for p in parts]),
            np.concatenate([p.colors for p in parts]),
            np.concatenate([p.features for p in parts]),
            np.concatenate([p.triangles + off for p, off in zip(parts, offsets, strict=True)]),
        )

    @property
    def vertex_count(self) -> int:
        return len(self.positions)

    def volume_m3(self, feature: int | None = None) -> float:
        """Signed enclosed volume by the divergence theorem (sum of p0·(p1×p2)/6),
        over all triangles or those of one feature. Exact for a closed mesh; a floor at
        z = 0 contributes nothing, so ground-standing prisms need none."""
        tris = self.triangles
        if feature is not None:
            tris = tris[self.features[tris[:, 0]] == feature]
        p = self.positions[tris]
        return float(np.einsum("ij,ij->i", p[:, 0], np.cross(p[:, 1], p[:, 2])).sum() / 6.0)


def _flat_triangles(tri_xyz: np.ndarray, normals: np.ndarray, colors: np.ndarray,
                    features: np.ndarray) -> MeshSoup:
    """A soup from ``(t, 3, 3)`` triangles with per-triangle normal, colour, feature."""
    t = len(tri_xyz)
    return MeshSoup(
        tri_xyz.reshape(-1, 3).astype(np.float64),
        np.repeat(normals.astype(np.float32), 3, axis=0),
        np.repeat(colors.astype(np.uint8), 3, axis=0),
        np.repeat(features.astype(np.int64), 3),
        np.arange(3 * t, dtype=np.int64).reshape(-1, 3),
    )


def triangulate(polygons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Constrained Delaunay triangles of each (multi)polygon: ``(t, 3, 2)`` xy, counter-
    clockwise, and ``(t,)`` the index of the polygon each triangle belongs to."""
    if len(polygons) == 0:
        return np.zeros((0, 3, 2)), np.zeros(0, np.int64)
    collections = shapely.constrained_delaunay_triangles(polygons)
    parts, owner = shapely.get_parts(collections, return_index=True)
    xy = shapely.get_coordinates(parts).reshape(-1, 4, 2)[:, :3]
    cross = ((xy[:, 1, 0] - xy[:, 0, 0]) * (xy[:, 2, 1] - xy[:, 0, 1])
             - (xy[:, 1, 1] - xy[:, 0, 1]) * (xy[:, 2, 0] - xy[:, 0, 0]))
    clockwise = cross < 0
    xy[clockwise] = xy[clockwise][:, ::-1]
    keep = np.abs(cross) > 1e-12
    return xy[keep], owner[keep].astype(np.int64)


def _flat_polygons(polygons: np.ndarray, z_m: np.ndarray, colors: np.ndarray, features: np.ndarray,
                   facing_up: bool = True) -> MeshSoup:
    """Horizontal polygons at per-polygon heights, facing up (roofs, ground) or down."""
    xy, owner = triangulate(polygons)
    if not facing_up:
        xy = xy[:, ::-1]
    z = np.broadcast_to(z_m[owner][:, None, None], (len(xy), 3, 1))
    normal = np.array([0.0, 0.0, 1.0 if facing_up else -1.0])
    return _flat_triangles(np.concatenate([xy, z], axis=2), np.tile(normal, (len(xy), 1)),
                           colors[owner], features[owner])


def _walls(polygons: np.ndarray, z_lo_m: np.ndarray, z_hi_m: np.ndarray, colors: np.ndarray,
           features: np.ndarray) -> MeshSoup:
    """Vertical quads on every ring edge of counter-clockwise-oriented polygons."""
    rings, ring_owner = shapely.get_rings(polygons, return_index=True)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    same_ring = coord_ring[:-1] == coord_ring[1:]
    p0, p1 = coords[:-1][same_ring], coords[1:][same_ring]
    owner = ring_owner[coord_ring[:-1][same_ring]]
    d = p1 - p0
    length = np.hypot(d[:, 0], d[:, 1])
    ok = length > 1e-9
    p0, p1, d, length, owner = p0[ok], p1[ok], d[ok], length[ok], owner[ok]
    # Exterior rings run counter-clockwise and holes clockwise, so (dy, -dx) points
    # out of the solid on both.
    normal = np.column_stack([d[:, 1] / length, -d[:, 0] / length, np.zeros(len(d))])
    lo, hi = z_lo_m[owner], z_hi_m[owner]
    n = len(d)
    quad = np.empty((n, 4, 3))
    quad[:, 0, :2], quad[:, 0, 2] = p0, lo
    quad[:, 1, :2], quad[:, 1, 2] = p1, lo
    quad[:, 2, :2], quad[:, 2, 2] = p1, hi
    quad[:, 3, :2], quad[:, 3, 2] = p0, hi
    base = (np.arange(n, dtype=np.int64) * 4)[:, None]
    tris = np.concatenate([base + [0, 1, 2], base + [0, 2, 3]], axis=1).reshape(-1, 3)
    return MeshSoup(quad.reshape(-1, 3), np.repeat(normal, 4, axis=0).astype(np.float32),
                    np.repeat(colors[owner].astype(np.uint8), 4, axis=0),
                    np.repeat(features[owner].astype(np.int64), 4), tris)


def extrude_volumes(volumes: Sequence[Volume], features: Sequence[int], wall_rgba: Sequence[Rgba],
                    roof_rgba: Sequence[Rgba]) -> MeshSoup:
    """Walls, roofs and (for raised volumes) floors of prisms, all in one go."""
    if not volumes:
        return MeshSoup.empty()
    footprints = shapely.orient_polygons(np.array([v.footprint for v in volumes], dtype=object))
    polygons, owner = shapely.get_parts(footprints, return_index=True)
    lo = np.array([v.min_height_m for v in volumes])[owner]
    hi = np.array([v.height_m for v in volumes])[owner]
    feature = np.asarray(features, dtype=np.int64)[owner]
    walls = np.asarray(wall_rgba, dtype=np.uint8)[owner]
    roofs = np.asarray(roof_rgba, dtype=np.uint8)[owner]
    raised = lo > 0.0
    return MeshSoup.concat([
        _walls(polygons, lo, hi, walls, feature),
        _flat_polygons(polygons, hi, roofs, feature, facing_up=True),
        _flat_polygons(polygons[raised], lo[raised], roofs[raised], feature[raised], facing_up=False),
    ])


def _surfaces(surfaces: Sequence[Surface], features: Sequence[int], rgba: Sequence[Rgba]) -> MeshSoup:
    """Triangulate planar 3D polygons in their own plane (Newell normal), keeping holes."""
    polygons, origins, bases, normals = [], [], [], []
    for surface in surfaces:
        outer = surface.rings[0]
        normal = np.sum(np.cross(outer, np.roll(outer, -1, axis=0)), axis=0)
        norm = np.linalg.norm(normal)
        if norm < 1e-12:
            polygons.append(shapely.Polygon())
            origins.append(np.zeros(3))
            bases.append(np.eye(3)[:2])
            normals.append(np.array([0.0, 0.0, 1.0]))
            continue
        normal = normal / norm
        helper = np.array([0.0, 0.0, 1.0]) if abs(normal[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
        e1 = np.cross(helper, normal)
        e1 /= np.linalg.norm(e1)
        e2 = np.cross(normal, e1)
        origin = outer[0]
        rings_uv = [np.column_stack([(r - origin) @ e1, (r - origin) @ e2]) for r in surface.rings]
        polygons.append(shapely.make_valid(shapely.Polygon(rings_uv[0], rings_uv[1:])))
        origins.append(origin)
        bases.append(np.stack([e1, e2]))
        normals.append(normal)
    if not polygons:
        return MeshSoup.empty()
    uv, owner = triangulate(np.array(polygons, dtype=object))
    origin = np.array(origins)[owner]
    basis = np.array(bases)[owner]
    xyz = origin[:, None, :] + uv[..., 0:1] * basis[:, None, 0, :] + uv[..., 1:2] * basis[:, None, 1, :]
    return _flat_triangles(xyz, np.array(normals)[owner], np.asarray(rgba, np.uint8)[owner],
                           np.asarray(features, np.int64)[owner])


def _shade(rgba: Rgba, factor: float) -> Rgba:
    return (int(rgba[0] * factor), int(rgba[1] * factor), int(rgba[2] * factor), rgba[3])


def _buildings(buildings: Sequence[Building], index: dict[str, int]) -> MeshSoup:
    volumes: list[Volume] = []
    volume_features: list[int] = []
    walls: list[Rgba] = []
    roofs: list[Rgba] = []
    surfaces: list[Surface] = []
    surface_features: list[int] = []
    surface_rgba: list[Rgba] = []
    for building in buildings:
        wall, roof = building_colours(building.building_type)
        feature = index[building.id]
        if building.surfaces:
            for surface in building.surfaces:
                base = roof if surface.kind == "roof" else wall
                surfaces.append(surface)
                surface_features.append(feature)
                surface_rgba.append(_shade(base, _SURFACE_SHADE[surface.kind]))
            continue
        own = building.volumes or (Volume(building.footprint, building.min_height_m, building.height_m),)
        for volume in own:
            volumes.append(volume)
            volume_features.append(feature)
            walls.append(wall)
            roofs.append(roof)
    return MeshSoup.concat([extrude_volumes(volumes, volume_features, walls, roofs),
                            _surfaces(surfaces, surface_features, surface_rgba)])


def _ground(areas: Sequence[Area], roads: Sequence[Road], index: dict[str, int]) -> tuple[MeshSoup, MeshSoup]:
    """Land cover as flat polygons, ``(ground, water)``."""
    polygons, layers, features = [], [], []
    for area in areas:
        polygons.append(area.geometry)
        layers.append(area.area_class)
        features.append(index[area.id])
    for road in roads:
        polygons.append(road.outline())
        layers.append(road.surface)
        features.append(index[road.id])
    if not polygons:
        return MeshSoup.empty(), MeshSoup.empty()
    geoms = shapely.orient_polygons(np.array(polygons, dtype=object))
    layer = np.array(layers)
    z = np.array([GROUND_LAYER_Z_M.get(name, 0.01) for name in layers])
    rgba = np.array([GROUND_COLOURS.get(name, GROUND_COLOURS["other"]) for name in layers], np.uint8)
    feature = np.array(features, np.int64)
    water = layer == "water"
    return (_flat_polygons(geoms[~water], z[~water], rgba[~water], feature[~water]),
            _flat_polygons(geoms[water], z[water], rgba[water], feature[water]))


def _unit_tree() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A low-poly tree of height 1 and crown diameter 1: a hexagonal trunk and an
    octagonal double cone crown. Returns ``(triangles (t,3,3), normals (t,3), is_crown (t,))``."""
    tris = []
    sides = 6
    angle = np.linspace(0.0, 2 * np.pi, sides + 1)
    trunk_r, trunk_top = 0.06, 0.4
    for a0, a1 in pairwise(angle):
        p0 = np.array([np.cos(a0) * trunk_r, np.sin(a0) * trunk_r, 0.0])
        p1 = np.array([np.cos(a1) * trunk_r, np.sin(a1) * trunk_r, 0.0])
        q0, q1 = p0 + [0, 0, trunk_top], p1 + [0, 0, trunk_top]
        tris += [(p0, p1, q1, False), (p0, q1, q0, False)]
    ring = 8
    angle = np.linspace(0.0, 2 * np.pi, ring + 1)
    bottom, waist, top = np.array([0, 0, 0.3]), 0.6, np.array([0, 0, 1.0])
    for a0, a1 in pairwise(angle):
        w0 = np.array([np.cos(a0) * 0.5, np.sin(a0) * 0.5, waist])
        w1 = np.array([np.cos(a1) * 0.5, np.sin(a1) * 0.5, waist])
        tris += [(w0, w1, top, True), (w1, w0, bottom, True)]
    xyz = np.array([[t[0], t[1], t[2]] for t in tris], dtype=np.float64)
    normal = np.cross(xyz[:, 1] - xyz[:, 0], xyz[:, 2] - xyz[:, 0])
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    return xyz, normal, np.array([t[3] for t in tris])


_TREE = _unit_tree()


def _trees(trees: Sequence[Tree], index: dict[str, int]) -> MeshSoup:
    if not trees:
        return MeshSoup.empty()
    unit, unit_normal, crown = _TREE
    centre = np.array([[t.geometry.x, t.geometry.y, 0.0] for t in trees])
    scale = np.array([[t.crown_diameter_m, t.crown_diameter_m, t.height_m] for t in trees])
    xyz = unit[None] * scale[:, None, None, :] + centre[:, None, None, :]
    # Normals transform by the inverse scale, then renormalise.
    normal = unit_normal[None] / scale[:, None, :]
    normal /= np.linalg.norm(normal, axis=2, keepdims=True)
    rgba = np.where(crown[:, None], np.array(_CROWN_RGBA), np.array(_TRUNK_RGBA))
    n = len(trees)
    features = np.array([index[t.id] for t in trees], np.int64)
    return _flat_triangles(xyz.reshape(-1, 3, 3), normal.reshape(-1, 3), np.tile(rgba, (n, 1)),
                           np.repeat(features, len(unit)))


def mesh_city(city: City, index: dict[str, int]) -> dict[str, MeshSoup]:
    """Every feature of ``city`` meshed, per material (terrain excluded: see
    :func:`terrain_quad`). ``index`` maps feature id → feature index."""
    ground, water = _ground(city.areas, city.roads, index)
    return {
        "ground": ground,
        "water": water,
        "building": _buildings(city.buildings, index),
        "vegetation": _trees(city.trees, index),
    }


def terrain_quad(min_x: float, min_y: float, max_x: float, max_y: float) -> MeshSoup:
    """The bare ground of one tile: a quad at z = 0 with no feature (index -1)."""
    xyz = np.array([[[min_x, min_y, 0.0], [max_x, min_y, 0.0], [max_x, max_y, 0.0]],
                    [[min_x, min_y, 0.0], [max_x, max_y, 0.0], [min_x, max_y, 0.0]]])
    return _flat_triangles(xyz, np.tile([0.0, 0.0, 1.0], (2, 1)),
                           np.tile(GROUND_COLOURS["terrain"], (2, 1)), np.full(2, -1))


def split_by_tile(soup: MeshSoup, tile_of_feature: np.ndarray, tile_count: int) -> list[MeshSoup]:
    """Cut a soup into one soup per tile, by the tile of each vertex's feature.

    Vertices of one triangle always share a feature, hence a tile. Vectorised: one
    stable sort of vertices and one of triangles.
    """
    if soup.vertex_count == 0:
        return [MeshSoup.empty() for _ in range(tile_count)]
    vertex_tile = tile_of_feature[soup.features]
    order = np.argsort(vertex_tile, kind="stable")
    new_index = np.empty_like(order)
    new_index[order] = np.arange(len(order))
    tris = new_index[soup.triangles]
    tri_tile = vertex_tile[soup.triangles[:, 0]]
    tri_order = np.argsort(tri_tile, kind="stable")
    tris, tri_tile = tris[tri_order], tri_tile[tri_order]
    sorted_tile = vertex_tile[order]
    v_start = np.searchsorted(sorted_tile, np.arange(tile_count + 1))
    t_start = np.searchsorted(tri_tile, np.arange(tile_count + 1))
    positions, normals = soup.positions[order], soup.normals[order]
    colors, features = soup.colors[order], soup.features[order]
    out = []
    for tile in range(tile_count):
        v0, v1 = v_start[tile], v_start[tile + 1]
        t0, t1 = t_start[tile], t_start[tile + 1]
        out.append(MeshSoup(positions[v0:v1], normals[v0:v1], colors[v0:v1], features[v0:v1],
                            tris[t0:t1] - v0))
    return out
