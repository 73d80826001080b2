"""``civictwin report``: a workshop's results as one self-contained web page and its data files.

:func:`build_report` reads the workshop back from its database (:class:`game.wall.replay.Replay`:
the final board, the participation over time, the languages used), writes the five
exports of :func:`multiplayer.export.export` into the output folder, and then
``index.html``: summary, participation, answers, the proposals ranked with their
simulated effects, maps of the proposals and of the consensus, the questions in every
language used, the method and the data attribution. The page needs nothing but itself:
no script, no font, no image, no request to any server. Files are written whole
(``.partial`` then a rename), so a reader never sees half a report.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape as geojson_shape

from game.report._html import Context, Phase, ProposalFacts, render_page
from game.wall.basemap import find_city, load_basemap
from game.wall.replay import Replay
from multiplayer._export_data import WorkshopData
from multiplayer.errors import MultiplayerError
from multiplayer.export import export
from multiplayer.store import Store
from world.catalog import CatalogError, load_catalog
from world.errors import WorldError
from world.package import read_metadata
from world.scenario import load_scenario

__all__ = ["FILE_NOTES", "Report", "build_report"]

#: What each file next to the page holds, as the page's file list says it.
FILE_NOTES = {
    "votes.csv": "every counted vote, one row each (pseudonyms, times, late flag)",
    "proposals.csv": "every proposal with its votes and one column per simulated indicator change",
    "interventions.geojson": "every placed intervention as GeoJSON (RFC 7946, WGS84 longitude/latitude) for GIS",
    "events.jsonl": "the whole anonymised event log, one JSON object per line",
    "bundle.json": "all of the above in one JSON document, with the questions and phases",
}


@dataclass(frozen=True)
class Report:
    """What :func:`build_report` wrote: the page, every file by name, and the counts it shows."""

    index: Path
    files: dict[str, Path]
    counts: dict[str, int]


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _write(path: Path, text: str) -> Path:
    """Replace ``path`` with ``text`` at once (as :mod:`multiplayer.export` does)."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8", newline="")
    os.replace(partial, path)
    return path


def counts_of(data: WorkshopData) -> dict[str, int]:
    """The report's headline counts, by the same rules as the export's ``bundle.json``:
    phones (participants), active kiosks, kiosk visits, proposals, counted votes, comments."""
    kiosk_ids = {k["id"] for k in data.kiosks}
    phones = len(data.participants)
    return {"participants": phones, "phones": phones,
            "kiosks": sum(1 for k in data.kiosks if k["revoked_at"] is None),
            "kiosk_sessions": sum(1 for actor, _ in data.sessions if actor in kiosk_ids),
            "proposals": len(data.proposals), "votes": len(data.votes), "comments": len(data.comments)}


def _vote_stats(data: WorkshopData) -> dict[str, int]:
    cast = [e["data"] for e in data.events if e["type"] == "vote"]
    return {"cast": len(cast), "counted": len(data.votes), "replaced": sum(1 for v in cast if v.get("replaced")),
            "late": sum(1 for v in cast if v.get("late")),
            "not_counted": sum(1 for v in cast if v.get("counted") is False)}


def _proposal_facts(data: WorkshopData) -> dict[str, ProposalFacts]:
    """Origin, what each proposal places (by catalog name) and its estimated cost."""
    try:
        catalog = load_catalog()
    except (CatalogError, WorldError, OSError):
        catalog = None
    facts = {}
    for p in data.proposals:
        if p["author_role"] == "kiosk":
            origin = f"made at kiosk {data.kiosk_name(p['author'])} ({data.author('kiosk', p['author'], p['session'])})"
        else:
            origin = f"sent from a phone ({p['author']})"
        names: list[str] = []
        cost_eur: float | None = 0.0
        for item in p["interventions"]:
            catalog_id = str(item.get("catalog", ""))
            try:
                entry = catalog[catalog_id] if catalog is not None else None
            except CatalogError:
                entry = None
            names.append(str(entry.name.get("en", catalog_id)).lower() if entry else catalog_id)
            try:
                geometry = geojson_shape(item.get("geometry"))
            except (AttributeError, TypeError, ValueError, KeyError, shapely.errors.GEOSException):
                geometry = None
            cost_eur = None if entry is None or geometry is None or cost_eur is None else \
                cost_eur + entry.cost_eur(geometry)
        placed = sorted(Counter(names).items(), key=lambda kv: (-kv[1], kv[0]))
        facts[p["id"]] = ProposalFacts(p["description"] or "", origin, placed, cost_eur or None)
    return facts


def _conditions(scenario: str) -> dict[str, Any] | None:
    try:
        loaded = load_scenario(scenario)
    except (WorldError, OSError, ValueError):
        return None
    w = loaded.weather
    zone = getattr(loaded.when.tzinfo, "key", "") or ""
    return {"when": f"{loaded.when:%-d %B %Y, %H:%M}" + (f" ({zone})" if zone else ""),
            "air_c": w.get("air_temperature_c", float("nan")), "humidity_pct": w.get("relative_humidity_pct", 0.0),
            "wind_ms": w.get("wind_ms", 0.0), "rain_mm": w.get("rain_mm", 0.0), "soil": loaded.soil_group,
            "budget_eur": loaded.budget_eur}


def _city(city: Path | None) -> dict[str, Any]:
    if city is None:
        return {}
    try:
        meta = read_metadata(city)
    except WorldError as exc:
        raise MultiplayerError(f"{exc}".rstrip(".") + "; pass --city the folder 'civictwin build-city' wrote.") \
            from None
    return {"name": meta.get("name"), "crs": meta.get("crs"), "attribution": list(meta.get("attribution", [])),
            "sources": [s for s in meta.get("sources", []) if isinstance(s, Mapping)]}


def _comments(data: WorkshopData) -> list[dict[str, Any]]:
    return [{"target": c["target"], "text": c["text"], "author": data.author(c["author_role"], c["author"],
                                                                             c["session"]),
             "at": _time(c["cast_at"] or c["received_at"])} for c in data.comments]


def _bucket_s(replay: Replay) -> float:
    """About 150 steps over the workshop, at least a tenth of a second."""
    times = [_time(e["at"]) for e in replay.data.events]
    span_s = (max(times) - min(times)).total_seconds()  # type: ignore[type-var,operator]
    return max(span_s / 150.0, 0.1)


def build_report(db: Path, code: str, out: Path, *, city: Path | None = None, now: datetime | None = None) -> Report:
    """Write workshop ``code``'s report into ``out`` (made if missing): ``index.html`` and the
    five exports. ``city`` is the city package for the maps (default: the built package of the
    scenario's city, or no basemap). A missing database or unknown workshop raises
    :class:`MultiplayerError` with one sentence."""
    replay = Replay.open(Path(db), code)
    data = replay.data
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MultiplayerError(f"cannot write the report to {out} ({exc.strerror or exc}).") from None
    store = Store(Path(db), create=False, needs_key=False)
    try:
        files = export(store, data.code, out)
    finally:
        store.close()
    scenario = str(data.spec.get("scenario", ""))
    if city is None:
        city = find_city(scenario)
    board = replay.board_at(None)
    basemap = load_basemap(city, board.area_m)
    generator = str(json.loads(files["bundle.json"].read_text(encoding="utf-8")).get("generator", "civictwin"))
    counts = counts_of(data)
    phases = [Phase(p["phase"], _time(p["started_at"]), _time(p["ended_at"]))  # type: ignore[arg-type]
              for p in data.phases()]
    activity = [_time(e["at"]) for e in data.events if e["role"] in ("participant", "kiosk")]
    context = Context(
        code=data.code, title=dict(data.workshop["title"]), scenario=scenario,
        languages=list(data.spec.get("languages", [])), languages_used=replay.languages_used(), zone=replay.zone,
        generated_at=now or datetime.now(UTC), created_at=_time(data.workshop["created_at"]),  # type: ignore[arg-type]
        first_activity=activity[0] if activity else None, last_activity=_time(data.events[-1]["at"]),  # type: ignore[arg-type]
        phases=phases, rounds_s={k: int(v) for k, v in data.spec.get("rounds_s", {}).items()}, counts=counts,
        votes=_vote_stats(data), board=board, participation=replay.participation(_bucket_s(replay)),
        proposals=_proposal_facts(data), comments=_comments(data), basemap=basemap, city=_city(city),
        conditions=_conditions(scenario),
        files=[(name, path.stat().st_size, FILE_NOTES.get(name, "")) for name, path in files.items()],
        generator=generator)
    index = _write(out / "index.html", render_page(context))
    return Report(index, {**files, "index.html": index}, counts)
