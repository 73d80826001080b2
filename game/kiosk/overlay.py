"""A simulation field draped on the ground as a translucent texture.

One card covers the field's extent a little above the highest ground layer
(:data:`world.mesh.GROUND_LAYER_Z_M`), so buildings and trees still hide it where they
stand in front; its texture is the field's own colour ramp (:meth:`sims.field.Field.image`),
rebuilt only when the field object changes. Cells the field leaves empty (NaN:
buildings, water) stay transparent.
"""

from __future__ import annotations

import numpy as np
from panda3d.core import CardMaker, NodePath, SamplerState, Texture, TransparencyAttrib

from sims.field import Field
from world.raster import Grids

__all__ = ["OVERLAY_Z_M", "field_rgba", "GroundOverlay"]

#: Above every land-cover layer (the highest, sidewalks, sits at 0.08 m).
OVERLAY_Z_M = 0.15


def field_rgba(field: Field, opacity: float = 0.85) -> np.ndarray:
    """The field's colours as RGBA8, rows bottom-up (south first) as a texture wants them,
    alpha scaled by ``opacity``."""
    image = field.image()
    image = image[::-1].copy()
    image[..., 3] = np.rint(image[..., 3].astype(np.float32) * opacity).astype(np.uint8)
    return image


def _extent(field: Field, grids: Grids) -> tuple[float, float, float, float]:
    cell_m = field.cell_m if field.cell_m is not None else grids.cell_m
    west, north = field.origin if field.origin is not None else grids.origin
    rows, cols = field.values.shape
    return west, north - rows * cell_m, west + cols * cell_m, north


class GroundOverlay:
    """The chosen field on the ground; ``show(None)`` hides it."""

    def __init__(self, parent: NodePath) -> None:
        self.np = parent.attach_new_node("overlay")
        self.np.set_light_off(1)
        self.np.set_transparency(TransparencyAttrib.M_alpha)
        self.np.set_depth_write(False)
        self.np.set_bin("transparent", 0)
        self.np.set_shader_off(1)
        self._card: NodePath | None = None
        self._field: Field | None = None
        self._texture = Texture("overlay")
        self._texture.set_wrap_u(SamplerState.WM_clamp)
        self._texture.set_wrap_v(SamplerState.WM_clamp)
        # Nearest texels: a cell is a cell; blending neighbours would invent values.
        self._texture.set_magfilter(SamplerState.FT_nearest)
        self._texture.set_minfilter(SamplerState.FT_linear)

    @property
    def field(self) -> Field | None:
        return self._field

    def show(self, field: Field | None, grids: Grids | None = None) -> None:
        """Drape ``field`` (placed by ``grids`` when it has no extent of its own)."""
        if field is self._field:
            return
        self._field = field
        if field is None or grids is None:
            self.np.hide()
            return
        image = field_rgba(field)
        rows, cols = image.shape[:2]
        self._texture.setup_2d_texture(cols, rows, Texture.T_unsigned_byte, Texture.F_rgba8)
        # Panda3D keeps texels as BGRA.
        self._texture.set_ram_image(np.ascontiguousarray(image[..., [2, 1, 0, 3]]).tobytes())
        min_x, min_y, max_x, max_y = _extent(field, grids)
        if self._card is not None:
            self._card.remove_node()
        maker = CardMaker("overlay-card")
        maker.set_frame(min_x, max_x, min_y, max_y)
        card = NodePath(maker.generate())
        # CardMaker builds in the x-z plane; lay it flat, facing up.
        card.set_p(-90.0)
        card.set_z(OVERLAY_Z_M)
        card.set_texture(self._texture)
        card.reparent_to(self.np)
        self._card = card
        self.np.show()
