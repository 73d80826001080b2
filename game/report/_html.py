"""The report page: one self-contained HTML document a planner can open, print or send on.

Everything is inline: the style sheet (with an A4 ``@media print``), the charts and maps
as SVG; there is no script, font, image or link that would make the browser ask the
network for anything. Every text that came from the workshop (titles, descriptions,
comments typed by the public) is escaped. :class:`Context` holds the facts, gathered by
:mod:`game.report.build`; :func:`render_page` lays them out section by section.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from html import escape
from typing import Any

from game.report import _charts, _maps
from game.wall.basemap import Basemap
from game.wall.board import Board, QuestionTally, text_in
from game.wall.colours import hex_colour
from game.wall.replay import ParticipationPoint

__all__ = ["CSS", "LANGUAGE_NAMES", "Context", "Phase", "ProposalFacts", "render_page"]


@dataclass(frozen=True)
class Phase:
    """One phase the workshop went through (``ended`` None: it is the last)."""

    name: str
    started: datetime
    ended: datetime | None


@dataclass(frozen=True)
class ProposalFacts:
    """What the board does not carry about a proposal: who made it, what it places, its cost."""

    description: str
    origin: str
    placed: list[tuple[str, int]]
    cost_eur: float | None


@dataclass(frozen=True)
class Context:
    """Every fact the page shows; times are aware datetimes, shown in ``zone``."""

    code: str
    title: dict[str, str]
    scenario: str
    languages: list[str]
    languages_used: list[str]
    zone: tzinfo
    generated_at: datetime
    created_at: datetime
    first_activity: datetime | None
    last_activity: datetime
    phases: list[Phase]
    rounds_s: dict[str, int]
    counts: dict[str, int]
    votes: dict[str, int]
    board: Board
    participation: list[ParticipationPoint]
    proposals: dict[str, ProposalFacts]
    comments: list[dict[str, Any]]
    basemap: Basemap
    city: dict[str, Any]
    conditions: dict[str, Any] | None
    files: list[tuple[str, int, str]]
    generator: str


LANGUAGE_NAMES = {"en": "English", "fi": "Finnish", "sv": "Swedish", "nl": "Dutch", "fr": "French", "de": "German"}
_PHASE_WORDS = {"lobby": "Lobby (people join)", "explore": "Round 1 · explore", "propose": "Round 2 · propose",
                "vote": "Round 3 · vote", "reveal": "Reveal (results shown)", "closed": "Closed"}


def _e(text: Any) -> str:
    return escape(str(text), quote=True)


def when(at: datetime | None, zone: tzinfo, *, date: bool = True) -> str:
    """A moment in the workshop's zone: "21 Jun 2026, 14:05:09" (or just the time)."""
    if at is None:
        return "–"
    local = at.astimezone(zone)
    return local.strftime("%-d %b %Y, %H:%M:%S" if date else "%H:%M:%S")


def duration(seconds: float) -> str:
    """ "1 h 05 min", "4 min 30 s", "0.4 s"."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], *, numeric: Sequence[int] = (), caption: str = "",
           cls: str = "") -> str:
    """A table; ``rows`` are already-escaped HTML cells."""
    def cell(tag: str, index: int, html: str) -> str:
        scope = ' scope="col"' if tag == "th" else ""
        num = ' class="num"' if index in numeric else ""
        return f"<{tag}{scope}{num}>{html}</{tag}>"
    out = [f'<table class="{cls}">' if cls else "<table>"]
    if caption:
        out.append(f"<caption>{caption}</caption>")
    out.append("<thead><tr>" + "".join(cell("th", i, _e(h)) for i, h in enumerate(head)) + "</tr></thead><tbody>")
    out.extend("<tr>" + "".join(cell("td", i, c) for i, c in enumerate(row)) + "</tr>" for row in rows)
    out.append("</tbody></table>")
    return "".join(out)


def _n(count: int, noun: str) -> str:
    """ "1 visit", "3 visits"."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _cover(ctx: Context) -> str:
    title = text_in(ctx.title, "en") or ctx.code
    others = [f'<span lang="{_e(lang)}">{_e(ctx.title[lang])}</span>' for lang in ctx.languages
              if lang != "en" and ctx.title.get(lang)]
    return (f'<header class="cover"><p class="eyebrow">Workshop report · civictwin</p><h1>{_e(title)}</h1>'
            f'<p class="subtitle">Workshop <b>{_e(ctx.code)}</b> · scenario {_e(ctx.scenario)} · '
            f'{_e(ctx.city.get("name") or "no city package")} · {when(ctx.created_at, ctx.zone).split(",")[0]}</p>'
            + (f'<p class="translations">{" · ".join(others)}</p>' if others else "")
            + f'<p class="note">Report generated {when(ctx.generated_at, ctx.zone)} '
              f'({_e(_zone(ctx))}). Times below are local time.</p></header>')


def _zone(ctx: Context) -> str:
    return getattr(ctx.zone, "key", None) or ctx.created_at.astimezone(ctx.zone).tzname() or "UTC"


def _summary(ctx: Context) -> str:
    c = ctx.counts
    figures = [("participants", "phones joined"), ("kiosks", "kiosks"), ("kiosk_sessions", "kiosk visits"),
               ("proposals", "proposals"), ("votes", "votes counted"), ("comments", "comments")]
    cards = "".join(f'<div class="figure" data-count="{key}"><b>{c.get(key, 0)}</b><span>{_e(words)}</span></div>'
                    for key, words in figures)
    dates = [("Workshop created", when(ctx.created_at, ctx.zone)),
             ("First activity", when(ctx.first_activity, ctx.zone)),
             ("Last activity", when(ctx.last_activity, ctx.zone))]
    one_day = len({p.started.astimezone(ctx.zone).date() for p in ctx.phases}) == 1
    rows = [[_e(_PHASE_WORDS.get(p.name, p.name)), when(p.started, ctx.zone, date=not one_day),
             when(p.ended, ctx.zone, date=not one_day) if p.ended else "–",
             duration((p.ended - p.started).total_seconds()) if p.ended else "–",
             duration(ctx.rounds_s[p.name]) if p.name in ctx.rounds_s else ""] for p in ctx.phases]
    people = c.get("participants", 0) + c.get("kiosk_sessions", 0)
    return ("<section id=\"summary\"><h2>Summary</h2>"
            f"<p>{people} people took part: {c.get('participants', 0)} on their phones and "
            f"{_n(c.get('kiosk_sessions', 0), 'visit')} at {_n(c.get('kiosks', 0), 'kiosk')}. "
            f"They made {_n(c.get('proposals', 0), 'proposal')} and cast {_n(c.get('votes', 0), 'vote')} "
            "that count.</p>"
            f'<div class="figures">{cards}</div>' + _headlines(ctx)
            + "<dl class=\"dates\">" + "".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in dates) + "</dl>"
            + "<h3>Phases</h3>"
            + _table(["Phase", "Started", "Ended", "Lasted", "Planned"], rows, numeric=(3, 4))
            + "</section>")


def _headline(ctx: Context, question: QuestionTally) -> str:
    """What the room said to one question, in a sentence."""
    text = _e(text_in(question.text, "en"))
    if not question.total:
        return f"<li>{text} <i>No answers.</i></li>"
    if question.kind == "score":
        mean = sum(int(r.key) * r.count for r in question.rows if r.key.isdigit()) / question.total
        return f"<li>{text} <b>{mean:.1f} of 5</b> on average ({_n(question.total, 'answer')}).</li>"
    top = max(r.count for r in question.rows)
    leaders = [r for r in question.rows if r.count == top]
    names = " and ".join(f"{r.key} “{text_in(r.label, 'en')}”" if question.kind == "proposal"
                         else f"“{text_in(r.label, 'en')}”" for r in leaders)
    tied = ", tied" if len(leaders) > 1 else ""
    return (f"<li>{text} <b>{_e(names)}</b> ({100 * top / question.total:.0f} % of {question.total}"
            f"{tied}).</li>")


def _headlines(ctx: Context) -> str:
    return '<ul class="headlines">' + "".join(_headline(ctx, q) for q in ctx.board.questions) + "</ul>"


def _participation(ctx: Context) -> str:
    points = ctx.participation
    if not points:
        return ""
    series = [_charts.Series("phones joined", "#0072b2", [(p.at, p.phones) for p in points]),
              _charts.Series("kiosk visits", "#e69f00", [(p.at, p.kiosk_sessions) for p in points], "6 3"),
              _charts.Series("votes", "#009e73", [(p.at, p.votes) for p in points]),
              _charts.Series("proposals", "#cc79a7", [(p.at, p.proposals) for p in points], "2 3")]
    bands = [(p.started, p.ended or ctx.last_activity, p.name) for p in ctx.phases]
    chart = _charts.line_chart(series, points[0].at, points[-1].at, ctx.zone,
                               "Participation over time: running totals of phones, kiosk visits, votes and proposals",
                               bands=bands)
    return ('<section id="participation"><h2>Participation over time</h2>'
            f"<figure>{chart}<figcaption>Running totals from the event log, phases shaded behind. "
            "Votes count once per person and question (a changed vote is not counted twice); kiosk visits are "
            "counted when a visitor starts at a kiosk.</figcaption>"
            "</figure></section>")


def _question_chart(ctx: Context, question: QuestionTally) -> str:
    if question.kind == "proposal":
        colours = {p.id: hex_colour(p.colour) for p in ctx.board.ranking}
        bars = [_charts.Bar(f"{row.key} {text_in(row.label, 'en')}".strip(), row.count,
                            colours.get(row.key, "#0072b2")) for row in question.rows]
    elif question.kind == "score":
        bars = [_charts.Bar(f"{row.key} ({'not at all' if row.key == '1' else 'very' if row.key == '5' else '…'})"
                            if row.key in ("1", "5") else row.key, row.count) for row in question.rows]
    else:
        bars = [_charts.Bar(text_in(row.label, "en"), row.count) for row in question.rows]
    text = text_in(question.text, "en")
    chart = _charts.bar_chart(bars, question.total, f"Answers to “{text}”")
    extra = ""
    if question.kind == "score" and question.total:
        mean = sum(int(r.key) * r.count for r in question.rows) / question.total
        extra = f" Mean score {mean:.2f} of 5."
    return (f'<figure class="question" id="q-{_e(question.id)}"><h3>{_e(text)}</h3>{chart}'
            f"<figcaption>{question.total} answers ({_e(question.kind)} question <code>{_e(question.id)}</code>)."
            f"{extra}</figcaption></figure>")


def _answers(ctx: Context) -> str:
    return ('<section id="answers"><h2>Answers per question</h2>'
            + "".join(_question_chart(ctx, q) for q in ctx.board.questions) + "</section>")


def _proposals(ctx: Context) -> str:
    ranking = ctx.board.ranking
    if not ranking:
        return '<section id="proposals"><h2>Proposals</h2><p>No proposal was made.</p></section>'
    largest: dict[str, float] = {}
    for proposal in ranking:
        for name, delta in proposal.kpis.items():
            largest[name] = max(largest.get(name, 0.0), abs(delta))
    rows = []
    for rank, proposal in enumerate(ranking, start=1):
        facts = ctx.proposals.get(proposal.id)
        placed = ", ".join(f"{n} × {_e(name)}" for name, n in facts.placed) if facts else ""
        cost = f"; about €{facts.cost_eur:,.0f}" if facts and facts.cost_eur else ""
        late = ' <span class="badge">arrived late</span>' if proposal.late else ""
        what = (f'<span class="swatch" style="background:{hex_colour(proposal.colour)}"></span>'
                f"<b>{_e(proposal.id)}</b> {_e(proposal.title)}{late}"
                f'<div class="note">{_e(facts.origin) if facts else ""}</div>'
                + (f"<div>{_e(facts.description)}</div>" if facts and facts.description else "")
                + f'<div class="note">{placed}{cost}</div>')
        rows.append([str(rank), what, str(proposal.votes), f"{100 * proposal.share:.0f} %",
                     _charts.effects_list(proposal.kpis, largest)])
    table = _table(["#", "Proposal", "Votes", "Share", "Simulated effects"], rows, numeric=(0, 2, 3), cls="ranking")
    return ('<section id="proposals"><h2>Proposals, ranked by votes</h2>'
            "<p>Votes are those on the proposal question(s); the share is of all such votes. Simulated effects are "
            "the changes each proposal made to the scenario's indicators when it was drawn at the kiosk "
            "(see <a href=\"#method\">Method</a>); shares change in percentage points (pp). Blue means better, "
            "orange worse, as the words say.</p>" + table + "</section>")


def _comments(ctx: Context) -> str:
    if not ctx.comments:
        return ""
    rows = [[_e(c.get("target", "")), _e(c.get("text", "")), _e(c.get("author", "")),
             when(c.get("at"), ctx.zone, date=False)] for c in ctx.comments]
    return ('<section id="comments"><h2>Comments</h2><p class="note">As typed by participants (pseudonyms only).'
            "</p>" + _table(["On", "Comment", "By", "At"], rows) + "</section>")


def _languages(ctx: Context) -> list[str]:
    used = [lang for lang in ctx.languages if lang in ctx.languages_used]
    used += [lang for lang in ctx.languages_used if lang not in used]
    return used or list(ctx.languages)


def _translations(ctx: Context) -> str:
    languages = _languages(ctx)
    blocks = []
    for question in ctx.board.questions:
        rows = []
        for lang in languages:
            text = question.text.get(lang)
            fallback = "" if text else ' <span class="note">(no translation: shown in English)</span>'
            options = ""
            if question.kind == "choice":
                options = " · ".join(_e(text_in(r.label, lang)) for r in question.rows)
            rows.append([_e(LANGUAGE_NAMES.get(lang, lang)),
                         f'<span lang="{_e(lang)}">{_e(text or text_in(question.text, "en"))}</span>{fallback}',
                         f'<span lang="{_e(lang)}">{options}</span>'])
        blocks.append(f"<h3><code>{_e(question.id)}</code></h3>"
                      + _table(["Language", "Question", "Options" if question.kind == "choice" else ""], rows))
    used = ", ".join(LANGUAGE_NAMES.get(lang, lang) for lang in ctx.languages_used) or "none recorded"
    return ('<section id="questions"><h2>The questions in every language used</h2>'
            f"<p>Languages participants used: {_e(used)}. The workshop offered "
            f"{_e(', '.join(LANGUAGE_NAMES.get(lang, lang) for lang in ctx.languages))}.</p>"
            + "".join(blocks) + "</section>")


def _files(ctx: Context) -> str:
    rows = [[f'<a href="{_e(name)}">{_e(name)}</a>', _e(what), f"{size / 1024:,.1f} KiB"]
            for name, size, what in ctx.files]
    return ('<section id="files"><h2>Data files</h2><p>In the same folder as this page:</p>'
            + _table(["File", "What", "Size"], rows, numeric=(2,)) + "</section>")


#: The page's style: screen first, then A4 print (no web font: the reader's sans-serif).
CSS = """
:root{--ink:#1d2433;--muted:#545d6c;--line:#d6dbe3;--accent:#0072b2;--band:#f3f5f8}
*{box-sizing:border-box}
html{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;color:var(--ink);background:#e9edf2}
body{margin:0;line-height:1.5;font-size:15px}
main{max-width:960px;margin:24px auto;background:#fff;padding:40px 52px 48px;box-shadow:0 1px 4px #0002}
.cover{border-bottom:4px solid var(--accent);padding-bottom:14px}
.eyebrow{text-transform:uppercase;letter-spacing:.08em;font-size:12px;color:var(--muted);margin:0}
h1{font-size:30px;line-height:1.2;margin:6px 0}
h2{font-size:21px;margin:34px 0 10px;padding-top:10px;border-top:1px solid var(--line)}
h3{font-size:16px;margin:20px 0 6px}
.subtitle{font-size:16px;margin:4px 0}.translations{color:var(--muted);font-size:13px;margin:4px 0}
.figures{display:grid;grid-template-columns:repeat(6,1fr);gap:10px;margin:16px 0}
.figure{background:var(--band);border-radius:6px;padding:10px 12px;border-top:3px solid var(--accent)}
.figure b{display:block;font-size:28px;line-height:1.2}.figure span{color:var(--muted);font-size:13px}
.dates{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:8px 0}
.dates dt{color:var(--muted)}.dates dd{margin:0}
table{border-collapse:collapse;width:100%;font-size:14px;margin:8px 0}
caption{text-align:left;color:var(--muted);font-size:13px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:var(--band)}.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
figure{margin:14px 0 22px}figcaption{font-size:13px;color:var(--muted);margin-top:6px}
svg{max-width:100%;height:auto}svg.delta{vertical-align:middle}
.swatch{display:inline-block;width:13px;height:13px;border:1px solid var(--ink);vertical-align:-2px;margin-right:6px}
.legend{list-style:none;padding:0;margin:6px 0;display:flex;flex-wrap:wrap;gap:4px 18px;color:var(--ink)}
.effects{list-style:none;margin:0;padding:0;font-size:13px}
.effects li{display:grid;grid-template-columns:1fr auto 92px;gap:10px;align-items:center;padding:2px 0}
.ranking td:nth-child(2){width:36%}.ranking td:nth-child(5){width:48%}
.headlines{margin:8px 0 14px;padding-left:20px}.headlines li{margin:3px 0}
.better{color:#005a8c;font-weight:bold}.worse{color:#a33f00;font-weight:bold}.note{color:var(--muted);font-size:13px}
.badge{font-size:11px;border:1px solid var(--muted);border-radius:3px;padding:0 4px;color:var(--muted)}
.attribution{font-size:12px;margin:4px 0 0}.scale{margin:4px 0}code{font-size:13px}a{color:#005a8c}
@page{size:A4;margin:14mm 12mm}
@media print{html{background:#fff}body{font-size:11pt}main{max-width:none;margin:0;padding:0;box-shadow:none}
h2{break-after:avoid}figure,.figures,tr,.cover{break-inside:avoid}#maps figure{break-before:page}
a[href]:not([href^="#"]):after{content:" (" attr(href) ")";color:var(--muted);font-size:9pt}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
@media (max-width:700px){main{padding:20px}.figures{grid-template-columns:repeat(3,1fr)}}
"""


_SIMULATIONS = (
    ("Shade", "shadows of buildings and tree crowns on a 2 m surface model for the scenario's sun position "
              "(Ratti &amp; Richens 2004, raster shadow casting)"),
    ("Heat", "felt temperature as UTCI (Bröde et al. 2012) from a SOLWEIG-style mean radiant temperature "
             "(Lindberg &amp; Grimmond 2011)"),
    ("Storm water", "runoff of the design storm by the SCS curve-number method (USDA NRCS TR-55, 1986)"),
    ("Road noise", "L<sub>den</sub> by CNOSSOS-EU (Directive (EU) 2015/996, as corrected in 2021)"),
    ("Green access", "the 3-30-300 rule (Konijnendijk 2021, 2023), measured as Browning et al. (2024) advise"),
)


def _method(ctx: Context) -> str:
    rounds = "; ".join(f"{_PHASE_WORDS.get(p.name, p.name)} {duration((p.ended - p.started).total_seconds())}"
                       for p in ctx.phases if p.ended and p.name in ("explore", "propose", "vote"))
    planned = ", ".join(f"{name} {duration(s)}" for name, s in ctx.rounds_s.items())
    v = ctx.votes
    conditions = ""
    if ctx.conditions:
        c = ctx.conditions
        conditions = (f" The scenario's conditions: {_e(c['when'])}, air {c['air_c']:g} °C, relative humidity "
                      f"{c['humidity_pct']:g} %, wind {c['wind_ms']:g} m/s, a {c['rain_mm']:g} mm storm on soil group "
                      f"{_e(c['soil'])}" + (f", a budget of €{c['budget_eur']:,.0f}" if c.get("budget_eur") else "")
                      + ".")
    sims = "".join(f"<li><b>{name}</b>: {what}.</li>" for name, what in _SIMULATIONS)
    return ('<section id="method"><h2>Method</h2>'
            "<h3>How the workshop ran</h3>"
            "<p>A facilitator led the room through timed rounds on a shared wall: people joined on their phones "
            "by a QR code and the join code, and at kiosks, touch screens with the 3D city. In <i>explore</i> "
            "they looked at the simulated maps, in <i>propose</i> they drew changes at a kiosk and sent them as "
            "proposals, in <i>vote</i> everyone answered the questions; then the results were revealed. "
            f"Rounds as run: {_e(rounds or 'none')}. Planned: {_e(planned or 'no timer')}.</p>"
            "<h3>How votes are counted</h3>"
            f"<p>One vote per person per question: a phone is one person, a kiosk visit is one person. A new vote "
            f"replaces that person's earlier vote on the question; only the latest counts. {v.get('cast', 0)} votes "
            f"were cast and {v.get('counted', 0)} count: {v.get('replaced', 0)} replaced an earlier vote. Kiosks "
            "keep working offline and send what visitors did later with the time they did it: such a vote counts "
            f"(marked late) when voting was open at that time; {v.get('late', 0)} votes arrived late, "
            f"{v.get('not_counted', 0)} of them older than a vote the same person had already cast and not counted."
            "</p><h3>How the effects were simulated</h3>"
            "<p>While a proposal is drawn, the kiosk runs the city's simulations on its 3D model, before and after "
            "the change, and the proposal carries the difference of each indicator (the simulated effects in the "
            "ranking). They compare proposals under one set of conditions; they are not forecasts." + conditions
            + f"</p><ul>{sims}</ul>"
            "<h3>Privacy</h3><p>No names, e-mail or IP addresses are stored. Phones appear as pseudonyms "
            "(<code>p3</code>), kiosk visits as <code>k1/s2</code>; access tokens are stored only as keyed "
            "hashes and never exported. Comments and titles are shown as typed.</p></section>")


def _sources(ctx: Context) -> str:
    city = ctx.city
    attribution = "".join(f"<li>{_e(a)}</li>" for a in city.get("attribution", [])) or \
        "<li>No city package was found, so the maps have no basemap.</li>"
    sources = ", ".join(f"{_e(s.get('file', '?'))} ({_e(s.get('format', '?'))})" for s in city.get("sources", []))
    return ('<section id="sources"><h2>Data and attribution</h2><ul>' + attribution + "</ul>"
            f"<p>City model: {_e(city.get('name') or '–')}, built from {sources or '–'}; coordinates in "
            f"{_e(city.get('crs') or '–')}, north up on the maps (grid north). Scenario "
            f"<code>{_e(ctx.scenario)}</code>. Kiosk colours: the Okabe–Ito palette, readable with colour-vision "
            f"deficiencies. Made with {_e(ctx.generator)}.</p></section>")


def render_page(ctx: Context) -> str:
    """The whole document."""
    title = text_in(ctx.title, "en") or ctx.code
    body = "".join([_cover(ctx), _summary(ctx), _participation(ctx), _answers(ctx), _proposals(ctx),
                    _maps.maps_section(ctx.basemap, ctx.board),
                    _comments(ctx), _translations(ctx), _method(ctx), _sources(ctx), _files(ctx)])
    return ("<!DOCTYPE html>\n"
            f'<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, '
            f'initial-scale=1"><meta name="generator" content="{_e(ctx.generator)}">'
            f"<title>{_e(title)} · workshop {_e(ctx.code)} · report</title><style>{CSS}</style></head>"
            f"<body><main>{body}</main></body></html>\n")
