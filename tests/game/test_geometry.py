"""Tests for game.kiosk.geometry: reader output -> Panda3D geometry, read back and rendered.

One ShowBase per process: the offscreen renderer is a session-scoped fixture, and the
test uses the app object, never the ``base``/``render`` builtins.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from panda3d.core import (
    AmbientLight,
    DirectionalLight,
    Filename,
    GeomNode,
    GeomVertexReader,
    LMatrix4f,
    NodePath,
    Point3,
    Texture,
    loadPrcFileData,
)

from game.kiosk.geometry import FEATURE_ID, primitive_to_geom, scene_to_node
from world.gltf_read import read_gltf

DATA = Path(__file__).resolve().parents[1] / "data"
SAMPLES = DATA / "gltf" / "samples"
BACKGROUND = (0.2, 0.3, 0.5)


def _geom_nodes(root: NodePath) -> list[GeomNode]:
    return [p.node() for p in root.find_all_matches("**/+GeomNode")]


@pytest.mark.parametrize("name", ["Duck.glb", "BoxInterleaved.glb", "cubevc.glb"])
def test_geom_counts_and_vertices_match_the_reader(name: str) -> None:
    scene = read_gltf(SAMPLES / name)
    root = NodePath(scene_to_node(scene, name))
    nodes = _geom_nodes(root)
    assert len(nodes) == len(scene.primitives)
    for node, prim in zip(nodes, scene.primitives, strict=True):
        geom = node.get_geom(0)
        assert geom.check_valid()
        vdata = geom.get_vertex_data()
        assert vdata.get_num_rows() == prim.vertex_count
        assert geom.get_primitive(0).get_num_primitives() == prim.triangle_count
        index_column = geom.get_primitive(0).get_vertices()
        assert index_column.get_array_format().get_stride() == 4  # uint32 indices
        for row in (0, 1, prim.vertex_count // 2, prim.vertex_count - 1):
            reader = GeomVertexReader(vdata, "vertex")
            reader.set_row(row)
            np.testing.assert_array_equal(tuple(reader.get_data3()), prim.positions[row])
            if prim.normals is not None:
                reader = GeomVertexReader(vdata, "normal")
                reader.set_row(row)
                np.testing.assert_array_equal(tuple(reader.get_data3()), prim.normals[row])
            if prim.colors is not None:
                reader = GeomVertexReader(vdata, "color")
                reader.set_row(row)
                np.testing.assert_allclose(tuple(reader.get_data4()), prim.colors[row], atol=1e-6)
        tri = geom.get_primitive(0)
        got = [tri.get_vertex(i) for i in range(min(30, tri.get_num_vertices()))]
        assert got == [int(v) for v in prim.indices[:30]]


def test_root_converts_y_up_to_z_up_and_nodes_carry_the_matrix() -> None:
    scene = read_gltf(SAMPLES / "Duck.glb")
    root = NodePath(scene_to_node(scene, "duck"))
    up = root.get_mat().xform_vec((0, 1, 0))  # glTF +Y
    assert tuple(round(v, 6) for v in up) == (0, 0, 1)
    node = root.find("**/+GeomNode")
    expected = LMatrix4f(*scene.primitives[0].matrix.T.ravel().tolist())
    assert node.get_mat().almost_equal(expected, 1e-6)
    low, high = root.get_tight_bounds()
    assert high.z - low.z > high.y - low.y  # the duck stands up along Panda's z


def test_feature_ids_become_a_uint32_column() -> None:
    path = DATA / "3dtiles" / "glTF" / "EXT_mesh_features" / "FeatureIdAttribute" / "FeatureIdAttribute.gltf"
    (prim,) = read_gltf(path).primitives
    vdata = primitive_to_geom(prim).get_vertex_data()
    column = vdata.get_format().get_column(FEATURE_ID)
    assert column is not None and column.get_component_bytes() == 4
    reader = GeomVertexReader(vdata, FEATURE_ID)
    assert prim.feature_ids is not None
    assert [reader.get_data1i() for _ in range(prim.vertex_count)] == [int(v) for v in prim.feature_ids]


@pytest.fixture(scope="session")
def app() -> Iterator[Any]:
    loadPrcFileData("", "load-display p3headlessgl\nwindow-type offscreen\naudio-library-name null\n"
                        "win-size 320 240\nsync-video false")
    from direct.showbase.ShowBase import ShowBase

    # Rendering works on any machine `make test` set up (Mesa's EGL): fail loudly, never skip.
    showbase = ShowBase()
    if showbase.win is None:
        showbase.destroy()
        pytest.fail("offscreen Panda3D opened no buffer: is Mesa's EGL installed (make test does it)?")
    yield showbase
    showbase.destroy()


def test_duck_renders_offscreen(app: Any, tmp_path: Path) -> None:
    showbase = app
    showbase.disable_mouse()
    showbase.win.set_clear_color((*BACKGROUND, 1.0))
    duck = showbase.render.attach_new_node(scene_to_node(read_gltf(SAMPLES / "Duck.glb"), "duck"))
    sun = showbase.render.attach_new_node(DirectionalLight("sun"))
    sun.set_hpr(40, -50, 0)
    sky = showbase.render.attach_new_node(AmbientLight("sky"))
    sky.node().set_color((0.25, 0.25, 0.25, 1))
    for light in (sun, sky):
        duck.set_light(light)
    try:
        low, high = duck.get_tight_bounds()
        centre = (low + high) / 2
        radius = (high - low).length() / 2
        showbase.camera.set_pos(centre + Point3(radius * 1.2, -radius * 2.5, radius * 0.8))
        showbase.camera.look_at(centre)
        for _ in range(2):
            showbase.graphicsEngine.render_frame()
        png = tmp_path / "duck.png"
        assert showbase.win.save_screenshot(Filename.from_os_specific(str(png)))
        assert png.stat().st_size > 0
        texture = Texture()
        assert texture.read(Filename.from_os_specific(str(png)))
        pixels = np.frombuffer(texture.get_ram_image_as("RGB"), np.uint8).reshape(
            texture.get_y_size(), texture.get_x_size(), 3)
    finally:
        for node in (duck, sun, sky):
            node.remove_node()
    background = np.round(np.array(BACKGROUND) * 255)
    differs = np.abs(pixels.astype(float) - background).max(axis=2) > 8
    assert differs.mean() > 0.02, "the duck should cover part of the image"
    assert differs.mean() < 0.98, "the background should still show around the duck"
    h, w = differs.shape
    assert differs[h // 3: 2 * h // 3, w // 3: 2 * w // 3].any()  # and it is in the middle
    shade = pixels[differs].astype(float).mean(axis=1)
    assert shade.std() > 10, "lit through its normals, the duck is not a flat silhouette"
