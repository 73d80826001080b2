"""Charts of the report as inline SVG written by hand: no script, no font or image to fetch.

Every chart is an ``<svg role="img">`` with a ``<title>`` and an ``aria-label`` saying what
it shows in words, so a screen reader reads the numbers and a printed page keeps them
sharp. Colours come from the Okabe–Ito palette (colour-blind safe); what a colour means
is always written next to it as well (counts, "better"/"worse"), never left to the hue.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from html import escape

from game.kiosk.i18n import format_number, texts
from sims.kpis import KPIS

__all__ = ["KPI_ORDER", "KPI_UNITS", "Bar", "KpiChange", "Series", "bar_chart", "delta_bar", "effects_list",
           "kpi_change", "kpi_label", "kpi_sort_key", "line_chart", "nice_step", "time_ticks"]

_FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
_INK = "#1d2433"
_MUTED = "#5b6474"
_GRID = "#d9dde4"
_ACCENT = "#0072b2"
_BETTER = "#0072b2"
_WORSE = "#d55e00"
_SAME = "#8a929e"
#: Time steps for axis ticks, seconds: from a second to a day.
_TIME_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def _attr(text: str) -> str:
    return escape(text, quote=True)


def _svg_open(width: int, height: int, label: str, extra_class: str = "") -> str:
    cls = f' class="{extra_class}"' if extra_class else ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}"{cls} aria-label="{_attr(label)}" '
            f'font-family="{_FONT}"><title>{escape(label)}</title>')


def _short(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (the full text stays in a title)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def nice_step(span: float, most: int = 6) -> float:
    """A round tick step (1, 2 or 5 × 10ⁿ) giving at most ``most`` steps over ``span``.

    >>> nice_step(37), nice_step(5), nice_step(1200)
    (10.0, 1.0, 200.0)
    """
    if span <= 0 or not math.isfinite(span):
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(span / most))
    step = next(f * magnitude for f in (1.0, 2.0, 5.0, 10.0) if span / (f * magnitude) <= most)
    return max(step, 1.0)  # counts are whole numbers


@dataclass(frozen=True)
class Bar:
    """One bar of a bar chart: its label, count and fill colour (``#rrggbb``)."""

    label: str
    count: int
    colour: str = _ACCENT
    note: str = ""


def bar_chart(bars: Sequence[Bar], total: int, label: str, *, width: int = 760) -> str:
    """Horizontal bars with the count and the share of ``total`` written after each bar.

    The longest bar spans the plot; the share is of every answer to the question, so the
    shares of a question add up to 100 % (give or take rounding).
    """
    row_h, label_w, value_w, top = 30, 300, 110, 6
    height = top * 2 + row_h * max(1, len(bars))
    plot_w = width - label_w - value_w
    most = max((b.count for b in bars), default=0) or 1
    words = "; ".join(f"{b.label}: {b.count} ({_percent(b.count, total)})" for b in bars)
    parts = [_svg_open(width, height, f"{label}. {words or 'no answers'}.", "chart")]
    for index, bar in enumerate(bars):
        y = top + index * row_h
        bar_w = plot_w * bar.count / most
        parts.append(f'<g><title>{escape(bar.label)}: {bar.count} ({_percent(bar.count, total)})</title>')
        parts.append(f'<text x="{label_w - 10}" y="{y + row_h / 2 + 5:.1f}" text-anchor="end" font-size="14" '
                     f'fill="{_INK}">{escape(_short(bar.label, 36))}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 4}" width="{plot_w:.1f}" height="{row_h - 8}" fill="#f1f3f6"/>')
        if bar.count:
            parts.append(f'<rect x="{label_w}" y="{y + 4}" width="{max(bar_w, 2.0):.1f}" height="{row_h - 8}" '
                         f'fill="{bar.colour}"/>')
        value = f"{bar.count}  ({_percent(bar.count, total)})"
        parts.append(f'<text x="{label_w + plot_w + 8}" y="{y + row_h / 2 + 5:.1f}" font-size="14" '
                     f'fill="{_INK}" font-weight="bold">{escape(value)}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def _percent(count: int, total: int) -> str:
    return f"{100.0 * count / total:.0f} %" if total else "0 %"


@dataclass(frozen=True)
class Series:
    """A cumulative count over time for :func:`line_chart`."""

    name: str
    colour: str
    points: Sequence[tuple[datetime, int]]
    dash: str = ""


def time_ticks(start: datetime, end: datetime, zone: tzinfo, most: int = 7) -> tuple[list[datetime], str]:
    """Round times between ``start`` and ``end`` for an axis, and the strftime format to label them."""
    span_s = max((end - start).total_seconds(), 1e-3)
    step_s = next((s for s in _TIME_STEPS_S if span_s / s <= most), _TIME_STEPS_S[-1])
    local = start.astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    first_s = math.ceil((local - midnight).total_seconds() / step_s) * step_s
    ticks = []
    offset_s = first_s - (local - midnight).total_seconds()
    while offset_s <= span_s + 1e-6:
        ticks.append(start + (end - start) * (offset_s / span_s))
        offset_s += step_s
    return ticks, "%H:%M" if step_s >= 60 else "%H:%M:%S"


def line_chart(series: Sequence[Series], start: datetime, end: datetime, zone: tzinfo, label: str, *,
               bands: Sequence[tuple[datetime, datetime, str]] = (), width: int = 856, height: int = 330) -> str:
    """Step lines of cumulative counts against time, with the workshop's phases shaded
    behind them (``bands``: start, end, name), labelled axes in local time and a legend
    under the plot giving each line's final count."""
    left, right, top, bottom = 52, 16, 26, 78
    plot_w, plot_h = width - left - right, height - top - bottom
    span_s = max((end - start).total_seconds(), 1e-3)
    highest = max((n for s in series for _, n in s.points), default=0)
    step = nice_step(max(highest, 1), 5)
    y_max = max(step, math.ceil(max(highest, 1) / step) * step)

    def x_of(at: datetime) -> float:
        return left + plot_w * min(max((at - start).total_seconds() / span_s, 0.0), 1.0)

    def y_of(n: float) -> float:
        return top + plot_h * (1.0 - n / y_max)

    finals = ", ".join(f"{s.name} {s.points[-1][1] if s.points else 0}" for s in series)
    parts = [_svg_open(width, height, f"{label}. At the end: {finals}.", "chart")]
    for index, (band_start, band_end, name) in enumerate(bands):
        x0, x1 = x_of(band_start), x_of(band_end)
        fill = "#e8eef6" if index % 2 == 0 else "#f6f8fb"
        parts.append(f'<rect x="{x0:.1f}" y="{top}" width="{max(x1 - x0, 0.5):.1f}" height="{plot_h}" fill="{fill}">'
                     f'<title>{escape(name)}</title></rect>')
        if x1 - x0 > 7.5 * len(name):
            parts.append(f'<text x="{(x0 + x1) / 2:.1f}" y="{top - 8}" text-anchor="middle" font-size="12" '
                         f'fill="{_MUTED}">{escape(name)}</text>')
    for value in _frange(0.0, y_max, step):
        y = y_of(value)
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="{_GRID}"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="12" '
                     f'fill="{_MUTED}">{value:g}</text>')
    ticks, fmt = time_ticks(start, end, zone)
    for tick in ticks:
        x = x_of(tick)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top + plot_h}" y2="{top + plot_h + 5}" stroke="{_INK}"/>'
                     f'<text x="{x:.1f}" y="{top + plot_h + 19}" text-anchor="middle" font-size="12" '
                     f'fill="{_INK}">{tick.astimezone(zone).strftime(fmt)}</text>')
    parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="{_INK}"/>'
                 f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="{_INK}"/>')
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h + 38}" text-anchor="middle" font-size="12" '
                 f'fill="{_MUTED}">time ({escape(_zone_name(zone, start))})</text>'
                 f'<text x="14" y="{top + plot_h / 2:.1f}" text-anchor="middle" font-size="12" fill="{_MUTED}" '
                 f'transform="rotate(-90 14 {top + plot_h / 2:.1f})">count so far</text>')
    slot = plot_w / max(len(series), 1)
    for index, item in enumerate(series):
        parts.append(_step_path(item, x_of, y_of, x_of(end)))
        x, y = left + index * slot, height - 10
        final = item.points[-1][1] if item.points else 0
        parts.append(f'<line x1="{x:.1f}" x2="{x + 24:.1f}" y1="{y - 4}" y2="{y - 4}" stroke="{item.colour}" '
                     f'stroke-width="3"{_dash(item.dash)}/><text x="{x + 30:.1f}" y="{y}" font-size="13" '
                     f'fill="{_INK}">{escape(item.name)}: {final}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _frange(low: float, high: float, step: float) -> list[float]:
    count = round((high - low) / step) + 1
    return [low + i * step for i in range(count)]


def _dash(dash: str) -> str:
    return f' stroke-dasharray="{dash}"' if dash else ""


def _step_path(series: Series, x_of: Callable[[datetime], float], y_of: Callable[[float], float], x_end: float) -> str:
    """A cumulative count drawn as steps: flat until the next point, then up."""
    if not series.points:
        return ""
    x, y = x_of(series.points[0][0]), y_of(0)
    d = [f"M{x:.1f},{y:.1f}"]
    for at, count in series.points:
        x_next = x_of(at)
        d.append(f"H{x_next:.1f}V{y_of(count):.1f}")
    d.append(f"H{x_end:.1f}")
    return (f'<path d="{"".join(d)}" fill="none" stroke="{series.colour}" stroke-width="2.5" '
            f'stroke-linejoin="round"{_dash(series.dash)}/>')


def _zone_name(zone: tzinfo, at: datetime) -> str:
    offset = at.astimezone(zone).strftime("%z")
    key = getattr(zone, "key", None) or at.astimezone(zone).tzname() or "UTC"
    return f"{key}, UTC{offset[:3]}:{offset[3:]}" if offset else str(key)


def delta_bar(delta: float, largest: float, verdict: str, label: str, *, width: int = 90, height: int = 14) -> str:
    """A small signed bar: from the middle to the right for a rise, to the left for a fall,
    ``largest`` (the biggest change of this KPI over all proposals) reaching the edge;
    blue when the change is better, vermillion when worse, grey when it is no change."""
    colour = {"better": _BETTER, "worse": _WORSE}.get(verdict, _SAME)
    middle = width / 2
    reach = 0.0 if not largest else (width / 2 - 1) * min(abs(delta) / largest, 1.0)
    x = middle if delta >= 0 else middle - reach
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="delta" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" aria-label="{_attr(label)}"><title>{escape(label)}</title>'
            f'<rect x="0" y="{height / 2 - 0.5}" width="{width}" height="1" fill="{_GRID}"/>'
            f'<rect x="{x:.1f}" y="2" width="{max(reach, 1.0):.1f}" height="{height - 4}" fill="{colour}"/>'
            f'<rect x="{middle - 0.5}" y="0" width="1" height="{height}" fill="{_INK}"/></svg>')


# -- KPI changes in words ------------------------------------------------------------------------

#: Every KPI's unit and which way is better (``sims.kpis``: a proposal carries only deltas).
KPI_UNITS: dict[str, tuple[str, str]] = {name: (info.unit, info.better) for name, info in KPIS.items()}
#: The order planners read them in, as the kiosk shows them: shade, heat, runoff, noise, green.
KPI_ORDER = tuple(KPIS)
#: Unit as written after a change (shares change by percentage points), and decimals.
_SHOWN = {"%": (" pp", 1), "m²": (" m²", 0), "seats": (" seats", 0), "°C": (" °C", 2), "m³": (" m³", 0),
          "dB(A)": (" dB(A)", 1)}


@dataclass(frozen=True)
class KpiChange:
    """One simulated change as a planner reads it: "Storm water running off −120 m³ ↓ better"."""

    name: str
    label: str
    delta: float
    text: str
    arrow: str
    verdict: str

    @property
    def words(self) -> str:
        return f"{self.label} {self.text} {self.arrow} {self.verdict}"


def kpi_label(name: str) -> str:
    """The KPI's name in English as the kiosk writes it, else its id."""
    try:
        return texts().t("en", f"kpi.{name}")
    except KeyError:
        return name.replace("_", " ")


def kpi_change(name: str, delta: float) -> KpiChange:
    """``delta`` of KPI ``name`` in words, with its direction and whether it is better."""
    unit, better = KPI_UNITS.get(name, ("", ""))
    shown, decimals = _SHOWN.get(unit, ("", 2))
    if round(delta, decimals) == 0:
        return KpiChange(name, kpi_label(name), delta, "no change", "", "same")
    text = format_number(delta, "en", decimals=decimals, sign=True) + shown
    if unit == "seats" and abs(round(delta)) == 1:
        text = text.removesuffix("s")
    verdict = "" if not better else ("better" if (delta > 0) == (better == "higher") else "worse")
    return KpiChange(name, kpi_label(name), delta, text, "↑" if delta > 0 else "↓", verdict or "changed")


def kpi_sort_key(name: str) -> tuple[int, str]:
    return (KPI_ORDER.index(name) if name in KPI_ORDER else len(KPI_ORDER), name)


def effects_list(kpis: Mapping[str, float], largest: Mapping[str, float]) -> str:
    """A proposal's simulated changes as an HTML list: each changed KPI in words with its
    small signed bar (``largest``: the biggest change of each KPI over all proposals),
    then how many indicators did not change."""
    changes = [kpi_change(name, kpis[name]) for name in sorted(kpis, key=kpi_sort_key)]
    if not changes:
        return '<span class="note">not simulated</span>'
    shown = [c for c in changes if c.verdict != "same"]
    lines = "".join(
        f'<li><span class="label">{escape(c.label)}</span><span class="{c.verdict}">{escape(c.text)} {c.arrow} '
        f'{escape(c.verdict)}</span>{delta_bar(c.delta, largest.get(c.name, 0.0), c.verdict, c.words)}</li>'
        for c in shown)
    rest = len(changes) - len(shown)
    tail = f'<li class="note">no change in {rest} other indicator{"s" if rest != 1 else ""}</li>' if rest else ""
    return f'<ul class="effects">{lines}{tail}</ul>'
