"""Numbers and texts of the kiosk session in the citizen's language: KPI cards, the
legend of a field, palette prices, the callout after a placement.

Every number goes through :func:`game.kiosk.i18n.format_number` (or ``format_eur``), so a
Finnish visitor reads "33 305 m²" and a German one "33.305 m²".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from game.kiosk.i18n import format_eur, format_number, texts
from game.kiosk.view import KpiCard, Legend
from sims.engine import KpiValue
from sims.field import Field
from world.catalog import Intervention

__all__ = ["KPI_ORDER", "t", "t_name", "kpi_label", "unit_text", "with_unit", "format_value", "format_delta",
           "proposal_delta", "kpi_cards", "legend_for", "nice_ticks", "cost_text", "localized"]

#: The order of the KPI cards and overlay buttons, by simulation.
KPI_ORDER = ("shade", "heat", "runoff", "noise", "green")
#: How a KPI unit is shown and with how many decimals.
_UNITS: dict[str, tuple[str, int]] = {
    "%": ("%", 1), "m²": ("m²", 0), "°C": ("°C", 2), "dB(A)": ("dB", 1), "dB": ("dB", 1), "m³": ("m³", 0),
    "seats": ("", 0), "m": ("m", 0), "mm": ("mm", 0), "fraction": ("%", 0),
}


def t(lang: str, key: str, **fmt: Any) -> str:
    """The UI text ``key`` in ``lang``."""
    return texts().t(lang, key, **fmt)


def t_name(lang: str, key: str, name: str, **fmt: Any) -> str:
    """A text with an intervention's ``{name}`` inside a sentence: "This large tree:".
    The name keeps its capital where the text starts with it, and in German."""
    if lang != "de" and not texts().raw(lang, key).startswith("{name}"):
        name = name[:1].lower() + name[1:]
    return t(lang, key, name=name, **fmt)


def localized(names: Mapping[str, str] | Any, lang: str) -> str:
    """A content text given per language (catalog names, questions): ``lang``, else
    English, else the first one there is."""
    if isinstance(names, str):
        return names
    if not isinstance(names, Mapping) or not names:
        return ""
    return str(names.get(lang) or names.get("en") or next(iter(names.values())))


def kpi_label(name: str, fallback: str, lang: str) -> str:
    """The KPI's name for citizens (``kpi.<name>``), else the simulation's own label."""
    try:
        return t(lang, f"kpi.{name}")
    except KeyError:
        return fallback or name


def unit_text(unit: str) -> tuple[str, int]:
    """(unit as shown, decimals) for a KPI unit."""
    return _UNITS.get(unit, (unit, 1))


def with_unit(number: str, unit: str, lang: str) -> str:
    """A formatted number with its unit: "27.0%" in English, "27,0 %" (no-break space) elsewhere."""
    if not unit:
        return number
    if unit == "%" and lang == "en":
        return number + unit
    return number + ("\u202f" if lang == "fr" else "\u00a0") + unit


def format_value(value: float, unit: str, lang: str) -> str:
    shown, decimals = unit_text(unit)
    return with_unit(format_number(value, lang, decimals=decimals), shown, lang)


def format_delta(delta: float, unit: str, lang: str) -> str | None:
    """The signed change with its unit, or None when it rounds to nothing as shown."""
    shown, decimals = unit_text(unit)
    if not math.isfinite(delta) or round(delta, decimals) == 0:
        return None
    return with_unit(format_number(delta, lang, decimals=decimals, sign=True), shown, lang)


def proposal_delta(delta: float, unit: str) -> float:
    """A KPI delta as a proposal carries it: one decimal more than the card shows."""
    decimals = unit_text(unit)[1]
    return float(round(delta, decimals if unit == "seats" else decimals + 1)) + 0.0  # no -0.0


def _ordered(kpis: Mapping[str, KpiValue]) -> list[KpiValue]:
    rank = {name: i for i, name in enumerate(KPI_ORDER)}
    return sorted(kpis.values(), key=lambda k: rank.get(k.simulation, len(rank)))  # stable within a simulation


def kpi_cards(kpis: Mapping[str, KpiValue], lang: str) -> tuple[KpiCard, ...]:
    """One card per KPI: shade, heat, runoff, noise, green. A change too small to show
    reads "no change" and is coloured as no change."""
    cards = []
    for kpi in _ordered(kpis):
        delta = format_delta(kpi.delta, kpi.unit, lang)
        cards.append(KpiCard(name=kpi.name, label=kpi_label(kpi.name, kpi.label, lang),
                             value=format_value(kpi.value, kpi.unit, lang),
                             delta=delta if delta is not None else t(lang, "kpi.no_change"),
                             verdict=kpi.verdict if delta is not None else "same"))
    return tuple(cards)


def nice_ticks(low: float, high: float, least: int = 4, most: int = 6) -> list[float]:
    """Round values from ``low`` to ``high`` for legend labels: steps of 1, 2, 2.5 or 5
    times a power of ten, between ``least`` and ``most`` of them.

    >>> nice_ticks(-40.05, 46.0)
    [-40.0, -20.0, 0.0, 20.0, 40.0]
    >>> nice_ticks(0.0, 100.0)
    [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
    """
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low]
    magnitude = 10.0 ** math.floor(math.log10((high - low) / most))
    for step in (m * magnitude * scale for scale in (1.0, 10.0, 100.0) for m in (1.0, 2.0, 2.5, 5.0)):
        first = math.ceil(low / step - 1e-9) * step
        count = math.floor((high - first) / step + 1e-9) + 1
        if count <= most:
            if count >= least:
                return [round(first + i * step, 10) + 0.0 for i in range(count)]
            break
    return [low + (high - low) * i / (least - 1) for i in range(least)]


def _tick_decimals(ticks: Sequence[float]) -> int:
    for decimals in range(4):
        if all(abs(v - round(v, decimals)) < 1e-9 for v in ticks):
            return decimals
    return 4


def legend_for(field: Field, sim: str, lang: str) -> Legend:
    """The legend of a field: its colour ramp, title and unit, and a few labelled values
    (a fraction is labelled in per cent)."""
    stops = tuple((float(v), tuple(int(c) for c in rgba)) for v, rgba in field.ramp.stops)
    low, high = stops[0][0], stops[-1][0]
    scale = 100.0 if field.unit == "fraction" else 1.0
    shown, _ = unit_text(field.unit)
    ticks = nice_ticks(low * scale, high * scale)
    decimals = _tick_decimals(ticks)
    labels = tuple((v / scale, with_unit(format_number(v, lang, decimals=decimals), shown, lang)) for v in ticks)
    return Legend(title=t(lang, f"sim.{sim}"), unit=shown, stops=stops, labels=labels)  # type: ignore[arg-type]


def cost_text(entry: Intervention, lang: str) -> str:
    """The price of a catalog entry: "€1,200", "€60 / m²", "€300 / m"."""
    parts = []
    if entry.fixed_eur or not (entry.per_m_eur or entry.per_m2_eur):
        parts.append(format_eur(entry.fixed_eur, lang))
    if entry.per_m_eur:
        parts.append(f"{format_eur(entry.per_m_eur, lang)} / m")
    if entry.per_m2_eur:
        parts.append(f"{format_eur(entry.per_m2_eur, lang)} / m²")
    return " + ".join(parts)
