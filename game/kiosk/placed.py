"""The placed interventions on screen, and the ghost that follows the pointer.

:class:`PlacedModels` mirrors the engine's placement list: :meth:`PlacedModels.sync`
adds a model for each new placement and removes those no longer placed, so place,
remove, undo, redo and the idle reset all look after themselves. The models come from
:func:`game.kiosk.models.build_model`; a green roof sits on the roof of the building
under it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import shapely
from panda3d.core import NodePath
from shapely.geometry.base import BaseGeometry

from game.kiosk._session_geometry import anchor_xy, building_at
from game.kiosk.models import build_model, ghost
from world.catalog import Catalog
from world.city import City
from world.interventions import Placed

__all__ = ["PlacedModels", "roof_height_m"]


def roof_height_m(city: City | None, geometry: BaseGeometry) -> float | None:
    """The roof height of the building under the geometry (a green roof covers one
    building's footprint), or None."""
    if city is None:
        return None
    building = building_at(city, *anchor_xy(geometry))
    return None if building is None else building.height_m


class PlacedModels:
    """One model per placed intervention, plus the ghost preview."""

    def __init__(self, parent: NodePath, catalog: Catalog) -> None:
        self.np = parent.attach_new_node("placed")
        self.catalog = catalog
        self.city: City | None = None
        self._models: dict[str, NodePath] = {}
        self._ghost: NodePath | None = None
        self._ghost_key: tuple[Any, ...] | None = None

    def _model(self, catalog_id: str, geometry: BaseGeometry, params: dict[str, Any] | None,
               rotation_deg: float = 0.0) -> NodePath:
        entry = self.catalog[catalog_id]
        roof = roof_height_m(self.city, geometry) if entry.kind == "building-edit" else None
        return build_model(entry, geometry, dict(params or {}), roof_z_m=roof, rotation_deg=rotation_deg)

    def sync(self, placed: Iterable[Placed]) -> None:
        """Match the models to the placement list."""
        wanted = {p.id: p for p in placed}
        for placed_id in [i for i in self._models if i not in wanted]:
            self._models.pop(placed_id).remove_node()
        for placed_id, item in wanted.items():
            if placed_id not in self._models:
                rotation = float(item.params.get("rotation_deg", 0.0)) if item.params else 0.0
                model = self._model(item.catalog, item.geometry, dict(item.params or {}), rotation)
                model.reparent_to(self.np)
                self._models[placed_id] = model

    @property
    def ids(self) -> list[str]:
        return list(self._models)

    def show_ghost(self, catalog_id: str, geometry: BaseGeometry, ok: bool, rotation_deg: float = 0.0) -> None:
        """The translucent preview, green when it may go there, red when not."""
        key = (catalog_id, shapely.to_wkb(geometry), ok, rotation_deg)
        if key == self._ghost_key:
            return
        self.clear_ghost()
        model = self._model(catalog_id, geometry, None, rotation_deg)
        ghost(model, ok)
        model.reparent_to(self.np)
        self._ghost = model
        self._ghost_key = key

    def clear_ghost(self) -> None:
        if self._ghost is not None:
            self._ghost.remove_node()
        self._ghost = None
        self._ghost_key = None
