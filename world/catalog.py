"""The intervention catalog: what can be placed, its cost, where it may go, what it does.

The data lives in ``content/catalog/interventions.toml``; this module loads it, checks
it once (every entry named in every locale, every forbidden class with a reason, the
effect parameters its kind needs) and answers two questions the kiosk and the
simulations ask: what a placement costs, and why it is refused.

>>> catalog = load_catalog()
>>> catalog["tree-medium"].name["fi"]
'Keskikokoinen puu'
>>> catalog["tree-medium"].name["de"]
'Mittelgroßer Baum'
>>> catalog["bench"].cost_eur(shapely.Point(0.0, 0.0))
900.0
>>> catalog.refusal("tree-small", {"sidewalk", "carriageway"}, "en")
"It can't stand on the carriageway."
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import shapely

from world.errors import CatalogError

__all__ = ["CATALOG_PATH", "LOCALES", "KINDS", "Intervention", "Catalog", "load_catalog"]

CATALOG_PATH = Path(__file__).resolve().parent.parent / "content" / "catalog" / "interventions.toml"
#: Every name and reason is given in each of these languages.
LOCALES = ("en", "fi", "sv", "nl", "fr", "de")
#: The geometry each kind is placed with.
KINDS: dict[str, tuple[str, ...]] = {
    "point": ("Point",),
    "line": ("LineString",),
    "area": ("Polygon", "MultiPolygon"),
    "building-edit": ("Polygon", "MultiPolygon"),
}
#: Effect parameters an entry must carry, by the model it uses.
_REQUIRED_EFFECT: dict[str, tuple[str, ...]] = {
    "tree": ("canopy_radius_m", "height_m", "transmissivity"),
    "noise-barrier": ("height_m",),
    "building": ("height_m",),
    "bike-lane": ("traffic_flow_factor", "snap_to"),
    "traffic-calming": ("traffic_flow_factor", "speed_kmh", "snap_to"),
    "rain-garden": ("storage_mm",),
}


@dataclass(frozen=True, slots=True)
class Intervention:
    """One catalog entry. ``effect`` holds the simulation parameters (units in names)."""

    id: str
    kind: str
    model: str
    name: MappingProxyType[str, str]
    fixed_eur: float
    per_m_eur: float
    per_m2_eur: float
    effect: MappingProxyType[str, Any]
    forbidden: tuple[str, ...]

    def cost_eur(self, geometry: shapely.Geometry) -> float:
        """Fixed cost plus length × per-metre plus area × per-m² cost (local metres)."""
        return float(self.fixed_eur + self.per_m_eur * shapely.length(geometry)
                     + self.per_m2_eur * shapely.area(geometry))

    def check_geometry(self, geometry: shapely.Geometry) -> None:
        """Raise :class:`CatalogError` unless ``geometry`` suits this entry's kind."""
        expected = KINDS[self.kind]
        if geometry.geom_type not in expected or geometry.is_empty or not geometry.is_valid:
            raise CatalogError(f"{self.id} is placed with a valid {' or '.join(expected)}, "
                               f"not {geometry.geom_type if not geometry.is_empty else 'an empty geometry'}.")


class Catalog:
    """The loaded catalog: entries by id, in file order, plus refusal reasons."""

    def __init__(self, entries: list[Intervention], reasons: dict[str, dict[str, str]]) -> None:
        self._entries = {e.id: e for e in entries}
        self._reasons = reasons

    def __getitem__(self, intervention_id: str) -> Intervention:
        try:
            return self._entries[intervention_id]
        except KeyError:
            raise CatalogError(f"the catalog has no intervention {intervention_id!r}.") from None

    def __iter__(self) -> Iterator[Intervention]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def ids(self) -> list[str]:
        return list(self._entries)

    def refusal(self, intervention_id: str, classes_under: Iterable[str], lang: str = "en") -> str | None:
        """Why the entry may not go on ground of these land-cover classes, in ``lang``
        (English when the language is unknown), or None when it may."""
        entry = self[intervention_id]
        under = set(classes_under)
        for forbidden in entry.forbidden:
            if forbidden in under:
                reasons = self._reasons[forbidden]
                return reasons.get(lang, reasons["en"])
        return None


def _entry(raw: dict[str, Any], source: str) -> Intervention:
    ident = raw.get("id")
    if not isinstance(ident, str) or not ident:
        raise CatalogError(f"{source}: an intervention has no id.")
    where = f"{source}: intervention {ident!r}"
    kind = raw.get("kind")
    if kind not in KINDS:
        raise CatalogError(f"{where} has kind {kind!r}; expected one of {', '.join(KINDS)}.")
    names = raw.get("name", {})
    missing = [lang for lang in LOCALES if not isinstance(names.get(lang), str) or not names[lang]]
    if missing:
        raise CatalogError(f"{where} has no name in {', '.join(missing)}.")
    cost = raw.get("cost", {})
    if not isinstance(cost, dict) or set(cost) - {"fixed_eur", "per_m_eur", "per_m2_eur"} or \
            any(not isinstance(v, int | float) or v < 0 for v in cost.values()):
        raise CatalogError(f"{where} has a cost other than non-negative fixed_eur, per_m_eur, per_m2_eur.")
    effect = raw.get("effect", {})
    model = str(raw.get("model", ""))
    lacking = [k for k in _REQUIRED_EFFECT.get(model, ()) if k not in effect]
    if lacking:
        raise CatalogError(f"{where} lacks the effect parameters {', '.join(lacking)}.")
    forbidden = raw.get("forbidden", [])
    if not isinstance(forbidden, list) or not all(isinstance(f, str) for f in forbidden):
        raise CatalogError(f"{where}: 'forbidden' must be a list of land-cover names.")
    return Intervention(id=ident, kind=kind, model=model, name=MappingProxyType(dict(names)),
                        fixed_eur=float(cost.get("fixed_eur", 0.0)), per_m_eur=float(cost.get("per_m_eur", 0.0)),
                        per_m2_eur=float(cost.get("per_m2_eur", 0.0)), effect=MappingProxyType(dict(effect)),
                        forbidden=tuple(forbidden))


def load_catalog(path: Path = CATALOG_PATH) -> Catalog:
    """Load and check the catalog; :class:`CatalogError` names the first problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogError(f"{path}: no such file.") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(f"{path.name}: not valid TOML ({exc}).") from None
    entries = [_entry(raw, path.name) for raw in data.get("intervention", [])]
    if not entries:
        raise CatalogError(f"{path.name}: has no [[intervention]] entries.")
    ids = [e.id for e in entries]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise CatalogError(f"{path.name}: the id {duplicates[0]!r} is used twice.")
    reasons = data.get("reasons", {})
    for entry in entries:
        for forbidden in entry.forbidden:
            texts = reasons.get(forbidden)
            if not isinstance(texts, dict) or any(lang not in texts for lang in LOCALES):
                raise CatalogError(f"{path.name}: no reason in every locale for refusing "
                                   f"{entry.id!r} on {forbidden!r}.")
    return Catalog(entries, reasons)
