"""The workshop commands end to end: create, list, demo (a real server, a kiosk, phones),
export and backup, and their one-sentence errors."""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

CIVICTWIN = str(Path(sys.executable).with_name("civictwin"))


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CIVICTWIN, *args], capture_output=True, text=True, timeout=300)


def test_create_prints_code_and_tokens_that_are_stored_only_hashed(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    result = _run("workshop", "create", "--db", str(db), "--scenario", "helsinki-centre", "--json")
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert len(created["workshop"]) == 6 and len(created["facilitator_token"]) >= 32
    raw = db.read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob("w.db-*"))
    assert created["facilitator_token"].encode() not in raw and created["view_token"].encode() not in raw
    listed = json.loads(_run("workshop", "list", "--db", str(db), "--json").stdout)
    assert [w["workshop"] for w in listed] == [created["workshop"]]
    assert listed[0]["scenario"] == "helsinki-centre"


def test_demo_runs_a_workshop_and_exports_agree_with_the_database(tmp_path: Path) -> None:
    db, out = tmp_path / "demo.db", tmp_path / "export"
    result = _run("workshop", "demo", "--db", str(db), "--out", str(out), "--phones", "12")
    assert result.returncode == 0, result.stderr
    assert "Phase: closed." in result.stdout and "Traceback" not in result.stderr
    with (out / "votes.csv").open(newline="", encoding="utf-8") as f:
        votes = list(csv.DictReader(f))
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT COUNT(*) FROM votes").fetchone()[0]
        proposals = conn.execute("SELECT COUNT(*) FROM proposals").fetchone()[0]
    assert len(votes) == stored == 12 * 3 + 1
    assert proposals == 2
    geo = json.loads((out / "interventions.geojson").read_text(encoding="utf-8"))
    example = json.loads((ROOT / "content/scenarios/helsinki-centre.example.json").read_text(encoding="utf-8"))
    trees_and_bench = [p for p in example if p["catalog"].startswith("tree") or p["catalog"] == "bench"]
    assert len(geo["features"]) == len(example) + len(trees_and_bench)
    bundle = json.loads((out / "bundle.json").read_text(encoding="utf-8"))
    assert sum(bundle["tallies"]["best-proposal"].values()) == 12
    backups = sorted((tmp_path / "demo.backups").glob("*.sqlite"))
    assert len(backups) >= 3  # propose, vote, reveal, closed: one backup per phase change


def test_backup_and_errors_are_one_sentence(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    assert _run("workshop", "create", "--db", str(db), "--scenario", "helsinki-centre").returncode == 0
    copy = tmp_path / "copy.sqlite"
    result = _run("backup", "--db", str(db), "--out", str(copy))
    assert result.returncode == 0 and copy.exists()
    with sqlite3.connect(copy) as conn:
        assert conn.execute("SELECT COUNT(*) FROM workshops").fetchone() == (1,)
    for args, words in ((("export", "--db", str(db), "--workshop", "NOPE99", "--out", str(tmp_path / "x")), "NOPE99"),
                        (("serve", "--db", str(tmp_path / "missing.db")), "no workshop database"),
                        (("workshop", "create", "--db", str(db), "--scenario", "atlantis"), "atlantis")):
        failed = _run(*args)
        assert failed.returncode == 1 and words in failed.stderr, failed.stderr
        assert "Traceback" not in failed.stderr and len(failed.stderr.strip().splitlines()) == 1
    assert _run("serve", "--db", str(db), "--port", "70000").returncode == 2
