"""Group commit: one writer thread turns many small submissions into few durable commits.

With ``synchronous=FULL`` every commit waits for the disk to flush the log, and that wait
does not grow with the number of rows in the transaction. So :meth:`GroupCommitter.submit` only queues its
records and hands back a future; the writer thread takes everything queued, writes it
in ONE transaction, commits, and only then resolves the futures: an ack sent when a
future resolves never announces data that a crash could lose. Whatever arrives while a
commit is in flight goes into the next one.

One submission's failure (a constraint it breaks) is isolated: the batch is written
again submission by submission under savepoints, so only that future gets the error.
When the transaction itself fails (the database locked, the disk full), every future of
the batch gets a :class:`StoreError`, and later batches go on.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from multiplayer._store_db import BUSY_TIMEOUT_MS, StoreError, backup_path, backup_to, open_database, write_records
from multiplayer.records import Record

__all__ = ["GroupCommitter"]

#: A batch stops growing past this many records; the rest waits for the next commit.
MAX_BATCH_RECORDS = 20_000


@dataclass(slots=True)
class _Write:
    records: Sequence[Record]
    future: Future[None]


@dataclass(slots=True)
class _Job:
    kind: str  # "barrier" | "backup" | "stop"
    future: Future[Any] = field(default_factory=Future)
    label: str = ""


class GroupCommitter:
    """A single writer thread with its own connection to the database at ``path``.

    ``stats`` (a snapshot dict): ``commits`` (transactions committed), ``records`` and
    ``submissions`` committed, ``largest_batch`` (records in the largest commit),
    ``largest_batch_submissions`` and ``failed_submissions``.
    """

    def __init__(self, path: Path | str, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
        self.path = Path(path)
        # Opened here so a bad path fails in the caller; used only by the writer thread.
        self._conn = open_database(self.path, create=False, busy_timeout_ms=busy_timeout_ms)
        self._queue: queue.SimpleQueue[_Write | _Job] = queue.SimpleQueue()
        self._closed = False
        self._close_lock = threading.Lock()
        self._stats_lock = threading.Lock()
        self._stats = {"commits": 0, "records": 0, "submissions": 0, "largest_batch": 0,
                       "largest_batch_submissions": 0, "failed_submissions": 0}
        self._thread = threading.Thread(target=self._run, name=f"group-commit {self.path.name}", daemon=True)
        self._thread.start()

    @property
    def stats(self) -> dict[str, int]:
        with self._stats_lock:
            return dict(self._stats)

    def submit(self, records: Sequence[Record]) -> Future[None]:
        """Queue ``records`` to be written together; the future resolves once they are
        committed (or holds the error). A cancelled future's records are still written."""
        return self._put(_Write(tuple(records), Future())).future

    def barrier(self) -> Future[None]:
        """A future that resolves once everything submitted before it is committed."""
        return self._put(_Job("barrier")).future

    def backup(self, label: str) -> Future[Path]:
        """Back up the database from the writer thread, after the commits queued before it;
        the future holds ``<db stem>.backups/<UTC timestamp>-<label>.sqlite``."""
        backup_path(self.path, label)  # a bad label fails here, in the caller
        return self._put(_Job("backup", label=label)).future

    def close(self) -> None:
        """Commit what is queued, stop the writer thread and close its connection."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(_Job("stop"))
        self._thread.join()

    def __enter__(self) -> GroupCommitter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _put(self, item: _Write | _Job) -> Any:
        with self._close_lock:
            if self._closed:
                raise StoreError(f"the writer for {self.path} is closed.")
            self._queue.put(item)
        return item

    # -- the writer thread ---------------------------------------------------------------

    def _take(self) -> list[_Write | _Job]:
        """Block for the first item, then take whatever else is queued (up to the cap;
        the rest stays queued, in order, for the next batch)."""
        items = [self._queue.get()]
        count = sum(len(i.records) for i in items if isinstance(i, _Write))
        while count < MAX_BATCH_RECORDS:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            items.append(item)
            if isinstance(item, _Write):
                count += len(item.records)
        return items

    def _run(self) -> None:
        try:
            while True:
                items = self._take()
                try:
                    if self._process(items):
                        return
                except Exception as exc:  # a bug or a broken connection: fail loudly, keep serving
                    with contextlib.suppress(Exception):
                        if self._conn.in_transaction:
                            self._conn.execute("ROLLBACK")
                    for item in items:
                        if not item.future.done():
                            item.future.set_exception(StoreError(f"the writer for {self.path} failed: {exc}."))
        finally:
            self._conn.close()

    def _process(self, items: list[_Write | _Job]) -> bool:
        """Commit the writes, running jobs in between in queue order; True at "stop"."""
        pending: list[_Write] = []
        for item in items:
            if isinstance(item, _Write):
                # Written even when the caller cancelled it: the workshop already counts it.
                item.future.set_running_or_notify_cancel()
                pending.append(item)
                continue
            self._commit(pending)
            pending = []
            if item.kind == "stop":
                return True  # close() refuses new items before queueing "stop": nothing follows
            self._job(item)
        self._commit(pending)
        return False

    def _job(self, job: _Job) -> None:
        if not job.future.set_running_or_notify_cancel():
            return
        if job.kind == "barrier":
            job.future.set_result(None)
            return
        try:
            job.future.set_result(backup_to(self._conn, backup_path(self.path, job.label)))
        except Exception as exc:
            job.future.set_exception(exc)

    def _commit(self, batch: list[_Write]) -> None:
        """Write ``batch`` in one transaction, then resolve its futures."""
        if not batch:
            return
        failed: dict[int, BaseException] = {}
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                write_records(self._conn, [r for w in batch for r in w.records])
            except Exception:
                self._conn.execute("ROLLBACK")
                self._conn.execute("BEGIN IMMEDIATE")
                failed = self._write_one_by_one(batch)
            self._conn.execute("COMMIT")
        except Exception as exc:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            error = StoreError(f"writing {len(batch)} submission(s) to {self.path} failed: {exc}.")
            error.__cause__ = exc
            for write in batch:
                _resolve(write.future, error)
            with self._stats_lock:
                self._stats["failed_submissions"] += len(batch)
            return
        committed = [w for i, w in enumerate(batch) if i not in failed]
        records = sum(len(w.records) for w in committed)
        with self._stats_lock:
            stats = self._stats
            stats["commits"] += 1
            stats["records"] += records
            stats["submissions"] += len(committed)
            stats["failed_submissions"] += len(failed)
            stats["largest_batch"] = max(stats["largest_batch"], records)
            stats["largest_batch_submissions"] = max(stats["largest_batch_submissions"], len(committed))
        for index, write in enumerate(batch):
            _resolve(write.future, failed.get(index))

    def _write_one_by_one(self, batch: list[_Write]) -> dict[int, BaseException]:
        """Inside an open transaction: each submission under its own savepoint; return the
        errors of those that failed (rolled back), by position."""
        failed: dict[int, BaseException] = {}
        for index, write in enumerate(batch):
            self._conn.execute("SAVEPOINT submission")
            try:
                write_records(self._conn, write.records)
            except Exception as exc:
                self._conn.execute("ROLLBACK TO submission")
                error = StoreError(f"writing {len(write.records)} record(s) to {self.path} failed: {exc}.")
                error.__cause__ = exc
                failed[index] = error
            self._conn.execute("RELEASE submission")
        return failed


def _resolve(future: Future[None], error: BaseException | None) -> None:
    """Settle a future the writer took (a caller's cancel arrived too late to matter)."""
    if future.cancelled():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
