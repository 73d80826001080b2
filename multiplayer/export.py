"""A workshop's results as files a planner opens in a spreadsheet, QGIS or a script.

:func:`export` writes five files into a folder:

- ``votes.csv``: one row per stored vote (a replaced vote is not there; the log keeps it);
- ``proposals.csv``: one row per proposal with its vote count and one ``kpi_<name>``
  column per KPI (deltas against the scenario baseline);
- ``interventions.geojson``: every placed intervention, RFC 7946 (WGS84 lon/lat);
- ``events.jsonl``: the event log, one JSON object per line in order;
- ``bundle.json``: all of it in one document (workshop, phases, questions, proposals,
  votes, comments, tallies, counts).

CSV files are UTF-8 with a header row; free text starting like a spreadsheet formula
(``=``, ``+``, ``-``, ``@``) gets a leading apostrophe there (the bundle keeps it as typed).
People appear only as pseudonyms: ``p3`` for a phone, ``k1/s2`` for the second session
at kiosk ``k1``, ``facilitator``, ``timer``. No token, token hash or message id is written.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

from multiplayer._export_data import WorkshopData
from multiplayer._export_geo import feature_collection
from multiplayer._store_schema import generator
from multiplayer.store import Store
from world.frame import LocalFrame

__all__ = ["EXPORT_FILES", "PROPOSAL_COLUMNS", "VOTE_COLUMNS", "export"]

EXPORT_FILES = ("votes.csv", "proposals.csv", "interventions.geojson", "events.jsonl", "bundle.json")
VOTE_COLUMNS = ("question", "question_kind", "choice", "participant", "kiosk", "session", "cast_at", "received_at",
                "late")
#: Followed by one ``kpi_<name>`` column per KPI any proposal reports, sorted by name.
PROPOSAL_COLUMNS = ("id", "title", "description", "author_role", "author", "kiosk", "session", "cast_at", "late",
                    "interventions", "votes")
_FREE_TEXT = ("title", "description", "kiosk")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _write(path: Path, text: str) -> Path:
    """Replace ``path`` with ``text`` at once (a reader never sees half a file)."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8", newline="")
    os.replace(partial, path)
    return path


def _cell(column: str, value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    # Free text typed by the public must not run as a spreadsheet formula when a planner
    # opens the file (OWASP "CSV injection"): such a cell gets a leading apostrophe.
    if column in _FREE_TEXT and isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _csv(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(k, v) for k, v in row.items()})
    return buffer.getvalue()


def _proposal_rows(data: WorkshopData, votes: dict[str, int], kpi_names: list[str]) -> list[dict[str, Any]]:
    rows = []
    for p in data.proposals:
        kiosk = p["author"] if p["author_role"] == "kiosk" else None
        rows.append({
            "id": p["id"], "title": p["title"], "description": p["description"] or "",
            "author_role": p["author_role"], "author": data.author(p["author_role"], p["author"], p["session"]),
            "kiosk": data.kiosk_name(kiosk), "session": data.session(p["author"], p["session"]),
            "cast_at": p["cast_at"] or "", "late": bool(p["late"]), "interventions": len(p["interventions"]),
            "votes": votes[p["id"]], **{f"kpi_{name}": p["kpis"].get(name) for name in kpi_names}})
    return rows


def _bundle(data: WorkshopData, votes: list[dict[str, Any]], proposals: list[dict[str, Any]],
            tallies: dict[str, dict[str, int]]) -> dict[str, Any]:
    workshop = data.workshop
    full_proposals = [{**row, "description": p["description"], "interventions": p["interventions"],
                       "kpis": p["kpis"], "received_at": p["received_at"]}
                      for row, p in zip(proposals, data.proposals, strict=True)]
    for row in full_proposals:
        for name in list(row):
            if name.startswith("kpi_"):
                del row[name]
    comments = [{"id": c["id"], "target": c["target"], "text": c["text"], "author_role": c["author_role"],
                 "author": data.author(c["author_role"], c["author"], c["session"]),
                 "cast_at": c["cast_at"], "received_at": c["received_at"]} for c in data.comments]
    active_kiosks = [k for k in data.kiosks if k["revoked_at"] is None]
    return {
        "workshop": {"code": data.code, "scenario": workshop["scenario"], "title": workshop["title"],
                     "created_at": workshop["created_at"], "languages": data.spec.get("languages", []),
                     "crs": data.spec.get("crs"), "origin_m": data.spec.get("origin_m"),
                     "area_m": data.spec.get("area_m"), "phases": data.phases(),
                     "kiosks": [{"id": k["id"], "name": k["name"], "added_at": k["added_at"],
                                 "revoked_at": k["revoked_at"]} for k in data.kiosks]},
        "questions": data.questions(),
        "proposals": full_proposals,
        "votes": votes,
        "comments": comments,
        "tallies": tallies,
        "counts": {"participants": len(data.participants), "kiosks": len(active_kiosks),
                   "kiosk_sessions": sum(1 for actor, _ in data.sessions if actor in {k["id"] for k in data.kiosks}),
                   "proposals": len(data.proposals), "votes": len(votes), "comments": len(data.comments)},
        "events_count": len(data.events),
        "generator": generator(),
    }


def export(store: Store, code: str, out: Path) -> dict[str, Path]:
    """Write workshop ``code``'s exports into the folder ``out`` (made if missing,
    files replaced); return ``{file name: path}``. An unknown code raises
    :class:`~multiplayer.store.StoreError`."""
    data = WorkshopData.read(store, code)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    votes = data.vote_rows()
    proposal_votes = data.proposal_votes()
    kpi_names = data.kpi_names()
    proposals = _proposal_rows(data, proposal_votes, kpi_names)
    tallies = data.tallies()
    x_m, y_m = data.spec["origin_m"]
    frame = LocalFrame(data.spec["crs"], float(x_m), float(y_m))
    geojson = feature_collection(frame, data.proposals, proposal_votes, kpi_names)
    events = "".join(_dump(data.public_event(e)) + "\n" for e in data.events)
    columns = PROPOSAL_COLUMNS + tuple(f"kpi_{name}" for name in kpi_names)
    texts = {
        "votes.csv": _csv(VOTE_COLUMNS, votes),
        "proposals.csv": _csv(columns, proposals),
        "interventions.geojson": _dump(geojson) + "\n",
        "events.jsonl": events,
        "bundle.json": json.dumps(_bundle(data, votes, proposals, tallies), ensure_ascii=False, indent=1,
                                  allow_nan=False) + "\n",
    }
    return {name: _write(out / name, text) for name, text in texts.items()}
