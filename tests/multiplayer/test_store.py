"""The workshop database: schema and migrations, refusals, the key file, writes, group commit, backups."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import stat
import threading
from concurrent.futures import Future
from pathlib import Path

import pytest

from multiplayer._store_schema import LATEST_VERSION, MIGRATIONS, Migration, migrate
from multiplayer.records import TABLES, Record
from multiplayer.store import GroupCommitter, Store, StoreError

CODE = "ABCD23"
AT = "2026-11-21T10:00:00.000Z"


def workshop_row(code: str = CODE) -> Record:
    return Record("workshops", {"code": code, "scenario": "helsinki-centre", "title": json.dumps({"en": "Test"}),
                                "created_at": AT, "facilitator_hash": "f" * 64, "view_hash": "v" * 64})


def event(seq: int, msg_id: str | None = None, code: str = CODE, type: str = "vote") -> Record:
    return Record("events", {"workshop": code, "seq": seq, "msg_id": msg_id, "type": type, "role": "participant",
                             "actor": "p1", "at": AT, "cast_at": None, "data": "{}", "ack": "{}"})


def vote(voter: str, choice: str | int, code: str = CODE) -> Record:
    return Record("votes", {"workshop": code, "question": "priority", "voter": voter, "choice": choice,
                            "participant": voter, "received_at": AT, "late": 0}, upsert=True)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "w.db"
    with Store(path) as store:
        store.write([workshop_row()])
    return path


def count(path: Path, table: str) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


# -- opening, schema, refusals ---------------------------------------------------------------------

def test_a_new_database_has_the_tables_of_the_records_contract(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    Store(path).close()
    with sqlite3.connect(path) as conn:
        for table, (columns, key) in TABLES.items():
            info = conn.execute(f"PRAGMA table_info({table})").fetchall()
            assert tuple(row[1] for row in info) == columns, table
            assert tuple(row[1] for row in sorted((r for r in info if r[5]), key=lambda r: r[5])) == key, table
        meta = dict(conn.execute("SELECT key, value FROM meta"))
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION == len(MIGRATIONS)
        indexes = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert meta["schema_version"] == str(LATEST_VERSION)
    assert meta["generator"].startswith("civictwin")
    assert meta["created_at"].endswith("Z")
    assert "events_msg_id" in indexes


def test_the_connection_runs_wal_with_full_sync_and_foreign_keys(db: Path) -> None:
    with Store(db) as store:
        pragmas = store.pragmas()
    assert pragmas["journal_mode"] == "wal"
    assert pragmas["synchronous"] == 2  # FULL
    assert pragmas["foreign_keys"] == 1
    assert pragmas["busy_timeout"] > 0
    assert pragmas["user_version"] == LATEST_VERSION


def test_reopening_keeps_rows_and_does_not_migrate_again(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        created_at = conn.execute("SELECT value FROM meta WHERE key = 'created_at'").fetchone()[0]
    with Store(db, create=False) as store:
        assert store.workshop_codes() == [CODE]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'created_at'").fetchone()[0] == created_at


def test_a_pending_migration_runs_once_and_a_newer_database_is_refused(db: Path) -> None:
    step = Migration("an index for the test", ("CREATE INDEX votes_choice ON votes (workshop, choice)",))
    conn = sqlite3.connect(db, isolation_level=None)
    assert migrate(conn, steps=(*MIGRATIONS, step)) == LATEST_VERSION
    assert migrate(conn, steps=(*MIGRATIONS, step)) == LATEST_VERSION + 1  # nothing left to run
    assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION + 1
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(LATEST_VERSION + 1)
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'votes_choice'").fetchone()[0] == 1
    conn.close()
    with pytest.raises(StoreError, match="newer civictwin"):
        Store(db)


def test_a_failing_migration_leaves_the_database_as_it_was(db: Path) -> None:
    broken = Migration("broken", ("CREATE TABLE extra (x)", "CREATE TABLE extra (y)"))
    conn = sqlite3.connect(db, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, steps=(*MIGRATIONS, broken))
    assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'extra'").fetchone()[0] == 0
    conn.close()


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("shopping list: milk, bread\n")
    with pytest.raises(StoreError, match=r"notes\.db is not a civictwin workshop database\."):
        Store(path)
    assert path.read_text() == "shopping list: milk, bread\n"
    assert not (tmp_path / "notes.db.key").exists()


@pytest.mark.parametrize("schema", [
    "CREATE TABLE songs (title TEXT)",
    "CREATE TABLE meta (key TEXT, value TEXT); INSERT INTO meta VALUES ('generator', 'someone else');"
    "PRAGMA user_version = 1",
    "CREATE TABLE meta (name TEXT); PRAGMA user_version = 1",
])
def test_someone_elses_sqlite_file_is_refused_untouched(tmp_path: Path, schema: str) -> None:
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript(schema)
    with pytest.raises(StoreError, match="is not a civictwin workshop database"):
        Store(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # not even switched to WAL
    assert not (tmp_path / "other.sqlite.key").exists()


def test_create_false_refuses_a_missing_database(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="there is no workshop database"):
        Store(tmp_path / "missing.db", create=False)
    with pytest.raises(StoreError, match="there is no workshop database"):
        GroupCommitter(tmp_path / "missing.db")
    assert list(tmp_path.iterdir()) == []


# -- the secret key ----------------------------------------------------------------------------------

def test_the_key_file_is_private_and_never_in_the_database(db: Path) -> None:
    key_file = db.with_name("w.db.key")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_bytes()
    assert len(key) == 32
    assert key not in db.read_bytes()


def test_hash_token_is_stable_per_database_and_differs_across_databases(db: Path, tmp_path: Path) -> None:
    token = "a-participant-token-0123456789"
    with Store(db) as store:
        first = store.hash_token(token)
        assert store.hash_token("another-token-0123456789") != first
    with Store(db) as store:
        assert store.hash_token(token) == first
    with Store(tmp_path / "other.db") as other:
        assert other.hash_token(token) != first
    assert len(first) == 64 and int(first, 16) >= 0
    assert first != hashlib.sha256(token.encode()).hexdigest()


def test_a_database_without_its_key_is_refused(db: Path) -> None:
    db.with_name("w.db.key").unlink()
    with pytest.raises(StoreError, match="secret key"):
        Store(db)


def test_a_copy_without_its_key_still_reads_for_planners_but_checks_no_token(db: Path) -> None:
    with Store(db) as store:
        store.write([event(1, "m-00000001")])
    db.with_name("w.db.key").unlink()
    with Store(db, create=False, needs_key=False) as store:
        assert [e["seq"] for e in store.events(CODE)] == [1]
        with pytest.raises(StoreError, match=r"secret key .* is missing"):
            store.hash_token("some-token-0123456789")


# -- writes ------------------------------------------------------------------------------------------

def test_events_are_append_only(db: Path) -> None:
    with Store(db) as store:
        store.write([event(1, "m-00000001")])
        with pytest.raises(StoreError, match="append-only"):
            store.write([Record("events", {**event(1).row, "type": "forged"}, upsert=True)])
    with sqlite3.connect(db) as conn:
        for statement in ("UPDATE events SET type = 'forged'", "DELETE FROM events"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                conn.execute(statement)
    assert count(db, "events") == 1


def test_upsert_replaces_and_insert_refuses_a_duplicate(db: Path) -> None:
    with Store(db) as store:
        store.write([vote("p1", "shade"), vote("p2", "quiet")])
        store.write([vote("p1", "water")])
        assert {(v["voter"], v["choice"]) for v in store.rows("votes", CODE)} == {("p1", "water"), ("p2", "quiet")}
        with pytest.raises(StoreError, match="UNIQUE"):
            store.write([Record("votes", {**vote("p2", "seats").row})])
        assert {v["choice"] for v in store.rows("votes", CODE)} == {"water", "quiet"}


def test_a_score_choice_keeps_its_type_and_later_upserts_win(db: Path) -> None:
    with Store(db) as store:
        store.write([vote("p1", 2), vote("p1", 4), vote("p2", "shade")])
        choices = {v["voter"]: v["choice"] for v in store.rows("votes", CODE)}
    assert choices == {"p1": 4, "p2": "shade"}


def test_a_write_is_one_transaction(db: Path) -> None:
    with Store(db) as store:
        store.write([event(1)])
        with pytest.raises(StoreError):
            store.write([vote("p9", "shade"), event(2), event(1)])  # the last one collides
        assert [e["seq"] for e in store.events(CODE)] == [1]
        assert store.rows("votes", CODE) == []


def test_message_ids_are_unique_per_workshop_but_may_be_missing(db: Path) -> None:
    with Store(db) as store:
        store.write([workshop_row("OTHER2"), event(1, "m-same-id"), event(1, "m-same-id", code="OTHER2"),
                     event(2, None, type="joined"), event(3, None, type="joined")])
        with pytest.raises(StoreError, match="UNIQUE"):
            store.write([event(4, "m-same-id")])
        assert [e["seq"] for e in store.events(CODE)] == [1, 2, 3]


def test_rows_need_their_workshop(db: Path) -> None:
    with Store(db) as store, pytest.raises(StoreError, match="FOREIGN KEY"):
        store.write([vote("p1", "shade", code="NOSUCH")])


def test_reads_come_back_in_key_order(db: Path) -> None:
    with Store(db) as store:
        store.write([event(3), event(1), event(2), vote("p2", "quiet"), vote("p1", "shade")])
        assert [e["seq"] for e in store.events(CODE)] == [1, 2, 3]
        assert [v["voter"] for v in store.rows("votes", CODE)] == ["p1", "p2"]
        assert store.rows("workshops", CODE)[0]["scenario"] == "helsinki-centre"
        assert store.events("NOSUCH") == []
        with pytest.raises(StoreError, match="no table"):
            store.rows("sqlite_master", CODE)


# -- group commit -----------------------------------------------------------------------------------

def test_many_threads_every_record_committed_once_and_acked_after_commit(db: Path) -> None:
    threads_n, per_thread = 8, 60
    visible: list[bool] = []

    def check_visible(seq: int) -> object:
        def callback(future: Future[None]) -> None:
            with sqlite3.connect(db) as reader:
                visible.append(reader.execute("SELECT count(*) FROM events WHERE seq = ?", (seq,)).fetchone()[0] == 1)
        return callback

    committer = GroupCommitter(db)
    futures: list[Future[None]] = []
    lock = threading.Lock()

    def client(worker: int) -> None:
        for i in range(per_thread):
            seq = worker * 1000 + i + 1
            future = committer.submit([event(seq, f"m-{seq:08d}"), vote(f"p{worker}", f"c{i}")])
            future.add_done_callback(check_visible(seq))
            with lock:
                futures.append(future)

    workers = [threading.Thread(target=client, args=(w,)) for w in range(threads_n)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for future in futures:
        assert future.result(timeout=30) is None
    committer.close()
    assert visible == [True] * (threads_n * per_thread)
    with sqlite3.connect(db) as conn:
        seqs = [row[0] for row in conn.execute("SELECT seq FROM events ORDER BY seq")]
        last = dict(conn.execute("SELECT voter, choice FROM votes"))
    assert seqs == sorted(w * 1000 + i + 1 for w in range(threads_n) for i in range(per_thread))
    assert last == {f"p{w}": f"c{per_thread - 1}" for w in range(threads_n)}  # each thread's last vote wins
    stats = committer.stats
    assert stats["records"] == 2 * threads_n * per_thread
    assert stats["submissions"] == threads_n * per_thread
    assert 1 <= stats["commits"] <= stats["submissions"]


def hold_write_lock(db: Path) -> sqlite3.Connection:
    """A second connection holding the database's write lock until it rolls back."""
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    return blocker


def test_what_queues_during_a_commit_goes_into_one_next_commit(db: Path) -> None:
    committer = GroupCommitter(db)
    blocker = hold_write_lock(db)  # nothing commits until it lets go
    futures = [committer.submit([event(seq)]) for seq in range(1, 101)]
    blocker.rollback()
    blocker.close()
    for future in futures:
        future.result(timeout=30)
    committer.close()
    stats = committer.stats
    assert stats["submissions"] == 100
    assert stats["commits"] <= 2  # the first take, then everything that queued behind it
    assert stats["largest_batch_submissions"] >= 50
    assert count(db, "events") == 100


def test_a_bad_submission_fails_alone(db: Path) -> None:
    with Store(db) as store:
        store.write([event(1)])
    committer = GroupCommitter(db)
    blocker = hold_write_lock(db)  # so the three land in the same batch
    good_before = committer.submit([event(2), vote("p1", "shade")])
    bad = committer.submit([event(3), event(1)])  # seq 1 exists: the whole submission is refused
    good_after = committer.submit([event(4)])
    blocker.rollback()
    blocker.close()
    assert good_before.result(timeout=30) is None
    assert good_after.result(timeout=30) is None
    with pytest.raises(StoreError, match="UNIQUE"):
        bad.result(timeout=30)
    committer.close()
    with Store(db) as store:
        assert [e["seq"] for e in store.events(CODE)] == [1, 2, 4]
    assert committer.stats["failed_submissions"] == 1


def test_a_failed_batch_fails_its_futures_and_later_batches_go_on(db: Path) -> None:
    committer = GroupCommitter(db, busy_timeout_ms=20)
    blocker = hold_write_lock(db)
    failed = [committer.submit([event(seq)]) for seq in (1, 2)]
    for future in failed:
        with pytest.raises(StoreError, match="locked"):
            future.result(timeout=30)
    blocker.rollback()
    blocker.close()
    assert committer.submit([event(3)]).result(timeout=30) is None
    committer.close()
    assert count(db, "events") == 1
    assert committer.stats["failed_submissions"] == 2


def test_close_drains_the_queue_and_then_refuses(db: Path) -> None:
    committer = GroupCommitter(db)
    futures = [committer.submit([event(seq)]) for seq in range(1, 501)]
    committer.close()
    assert all(f.done() and f.exception() is None for f in futures)
    assert count(db, "events") == 500
    with pytest.raises(StoreError, match="closed"):
        committer.submit([event(501)])
    committer.close()  # a second close is harmless


def test_a_barrier_resolves_after_what_came_before(db: Path) -> None:
    with GroupCommitter(db) as committer:
        futures = [committer.submit([event(seq)]) for seq in range(1, 51)]
        committer.barrier().result(timeout=30)
        assert all(f.done() for f in futures)
        assert count(db, "events") == 50


def test_a_cancelled_submission_is_still_written(db: Path) -> None:
    with GroupCommitter(db) as committer:
        blocker = hold_write_lock(db)
        first = committer.submit([event(1)])
        second = committer.submit([event(2)])
        second.cancel()
        blocker.rollback()
        blocker.close()
        first.result(timeout=30)
        committer.barrier().result(timeout=30)
    assert count(db, "events") == 2


# -- backups ------------------------------------------------------------------------------------------

def assert_same_rows(source: Path, backup: Path) -> None:
    with sqlite3.connect(source) as a, sqlite3.connect(backup) as b:
        assert b.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert b.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
        assert b.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION
        for table in (*TABLES, "meta"):
            query = f"SELECT * FROM {table} ORDER BY 1, 2"
            assert a.execute(query).fetchall() == b.execute(query).fetchall(), table


def test_a_backup_restored_next_to_the_key_opens_with_the_same_tokens(db: Path) -> None:
    with Store(db) as store:
        store.write([event(1)])
        token_hash = store.hash_token("a-facilitator-token-0123")
        backup = store.backup(label="before-loss")
    for lost in (db, db.with_name("w.db-wal"), db.with_name("w.db-shm")):
        lost.unlink(missing_ok=True)
    db.write_bytes(backup.read_bytes())  # the key file stayed where it was
    with Store(db, create=False) as store:
        assert store.hash_token("a-facilitator-token-0123") == token_hash
        assert [e["seq"] for e in store.events(CODE)] == [1]


def test_group_committer_backup_comes_after_pending_commits(db: Path) -> None:
    with GroupCommitter(db) as committer:
        for seq in range(1, 201):
            committer.submit([event(seq), vote(f"p{seq}", "shade")])
        path = committer.backup("vote-end").result(timeout=30)
    assert path.parent == db.with_name("w.backups")
    assert path.name.endswith("-vote-end.sqlite")
    assert path.name[:8].isdigit() and "T" in path.name
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 200
    assert_same_rows(db, path)
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no key, no WAL, no partial file


def test_store_backup_names_and_refusals(db: Path, tmp_path: Path) -> None:
    with Store(db) as store:
        store.write([event(1), vote("p1", "shade")])
        first = store.backup()
        second = store.backup(label="manual")
        assert first != second and first.name.endswith("-manual.sqlite")
        chosen = store.backup(tmp_path / "copies" / "here.sqlite")
        assert chosen == tmp_path / "copies" / "here.sqlite"
        with pytest.raises(StoreError, match="already exists"):
            store.backup(chosen)
        with pytest.raises(StoreError, match="label"):
            store.backup(label="../escape")
    for path in (first, second, chosen):
        assert_same_rows(db, path)
    with pytest.raises(StoreError, match="secret key"):
        Store(chosen)  # a backup carries no key: it opens only next to its database's key
    with GroupCommitter(db) as committer, pytest.raises(StoreError, match="label"):
        committer.backup("no spaces")

