"""Turn :mod:`world.gltf_read` scenes into Panda3D geometry without per-vertex Python.

Each attribute goes into its own ``GeomVertexArrayData`` (vertex float32x3, normal
float32x3, color float32x4, texcoord float32x2, ``feature_id`` uint32), and indices into
a uint32 ``GeomTriangles``; all are filled with one buffer copy each
(``GeomVertexArrayDataHandle.copy_data_from``), so building a million-vertex tile costs
a few memcpy calls.

Coordinates: primitives keep glTF's metres and y-up axes; :func:`scene_to_node` puts
the y-up to z-up conversion (+90 degrees about X, as panda3d-gltf does) on the root
node, and each primitive's node matrix on its own GeomNode.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
from panda3d.core import (
    ColorScaleAttrib,
    CS_yup_right,
    CS_zup_right,
    CullFaceAttrib,
    Geom,
    GeomNode,
    GeomTriangles,
    GeomVertexArrayFormat,
    GeomVertexData,
    GeomVertexFormat,
    InternalName,
    LMatrix4f,
    LVecBase4f,
    PandaNode,
    RenderState,
    TransformState,
)

from world.gltf_read import Primitive, Scene

__all__ = ["FEATURE_ID", "primitive_to_geom", "scene_to_node"]

FEATURE_ID = "feature_id"  # name of the per-vertex uint32 column holding _FEATURE_ID_0


@cache
def _vertex_format(normals: bool, colors: bool, uvs: bool, feature_ids: bool) -> GeomVertexFormat:
    """A registered format with one array per attribute present, in a fixed order."""
    columns: list[tuple[InternalName, int, Any, Any]] = [
        (InternalName.get_vertex(), 3, Geom.NT_float32, Geom.C_point)
    ]
    if normals:
        columns.append((InternalName.get_normal(), 3, Geom.NT_float32, Geom.C_normal))
    if colors:
        columns.append((InternalName.get_color(), 4, Geom.NT_float32, Geom.C_color))
    if uvs:
        columns.append((InternalName.get_texcoord(), 2, Geom.NT_float32, Geom.C_texcoord))
    if feature_ids:
        columns.append((InternalName.make(FEATURE_ID), 1, Geom.NT_uint32, Geom.C_index))
    fmt = GeomVertexFormat()
    for name, count, numeric, contents in columns:
        array = GeomVertexArrayFormat()
        array.add_column(name, count, numeric, contents)
        fmt.add_array(array)
    return GeomVertexFormat.register_format(fmt)


def primitive_to_geom(prim: Primitive, *, feature_ids: bool = True) -> Geom:
    """A static Geom holding ``prim``'s vertices (in its mesh space) and triangles.

    The arrays are copied once into Panda3D's own buffers; ``prim.matrix`` is not
    applied (see :func:`scene_to_node`). ``feature_ids=False`` leaves the feature id
    column out: the kiosk picks on the CPU (:mod:`game.kiosk.picking`), and every
    column costs vertex fetches on a software renderer.
    """
    f32, u32 = np.dtype(np.float32), np.dtype(np.uint32)
    ids = prim.feature_ids if feature_ids else None
    candidates: list[tuple[np.ndarray | None, np.dtype[Any]]] = [
        (prim.positions, f32), (prim.normals, f32), (prim.colors, f32), (prim.uvs, f32), (ids, u32)
    ]
    attributes = [(arr, dtype) for arr, dtype in candidates if arr is not None]
    fmt = _vertex_format(prim.normals is not None, prim.colors is not None, prim.uvs is not None, ids is not None)
    vdata = GeomVertexData("gltf", fmt, Geom.UH_static)
    vdata.unclean_set_num_rows(prim.vertex_count)
    for i, (arr, dtype) in enumerate(attributes):
        vdata.modify_array_handle(i).copy_data_from(np.ascontiguousarray(arr, dtype=dtype))
    triangles = GeomTriangles(Geom.UH_static)
    triangles.set_index_type(Geom.NT_uint32)
    triangles.modify_vertices().modify_handle().copy_data_from(
        np.ascontiguousarray(prim.indices, dtype=np.uint32))
    geom = Geom(vdata)
    geom.add_primitive(triangles)
    return geom


def _material_state(material: dict[str, Any] | None) -> RenderState:
    """Base colour factor and double-sidedness of a glTF material (textures are not loaded).

    glTF's base colour is the factor times the vertex colour, which is what a colour
    scale does; a Panda3D Material's diffuse would replace the vertex colours instead.
    """
    if material is None:
        return RenderState.make_empty()
    pbr = material.get("pbrMetallicRoughness")
    factor = pbr.get("baseColorFactor") if isinstance(pbr, dict) else None
    state = RenderState.make_empty()
    if (isinstance(factor, list) and len(factor) == 4 and all(isinstance(v, int | float) for v in factor)
            and any(float(v) != 1.0 for v in factor)):
        state = state.add_attrib(ColorScaleAttrib.make(LVecBase4f(*(float(v) for v in factor))))
    if material.get("doubleSided") is True:
        state = state.add_attrib(CullFaceAttrib.make(CullFaceAttrib.M_cull_none))
    return state


def _transform(matrix: np.ndarray) -> TransformState:
    """glTF column-vector matrix -> Panda3D TransformState (row vectors: the transpose)."""
    return TransformState.make_mat(LMatrix4f(*np.asarray(matrix, dtype=np.float64).T.ravel().tolist()))


def scene_to_node(scene: Scene, name: str, *, feature_ids: bool = True) -> PandaNode:
    """A Panda3D node tree for ``scene``: one GeomNode per primitive instance.

    The root carries the glTF y-up to Panda3D z-up rotation; each GeomNode carries its
    instance's world matrix and its material's state. Instances of one glTF primitive
    share a single Geom.
    """
    root = PandaNode(name)
    root.set_transform(TransformState.make_mat(LMatrix4f.convert_mat(CS_yup_right, CS_zup_right)))
    geoms: dict[tuple[int, int], Geom] = {}
    states: dict[int | None, RenderState] = {}
    for i, prim in enumerate(scene.primitives):
        key = (id(prim.positions), id(prim.indices))
        if key not in geoms:
            geoms[key] = primitive_to_geom(prim, feature_ids=feature_ids)
        if prim.material not in states:
            material = scene.materials[prim.material] if prim.material is not None else None
            states[prim.material] = _material_state(material)
        node = GeomNode(f"{name}/{i}")
        node.add_geom(geoms[key], states[prim.material])
        node.set_transform(_transform(prim.matrix))
        root.add_child(node)
    return root
