"""Import one file into the store: ledger, format detection, idempotent writes, rejects kept.

Every file gets one row in ``imports``. A file whose sha256 is already in the ledger with
status ok/partial is recorded as ``already_imported`` and not read again; overlapping exports
(this month's Apple export after last month's) are read, and rows whose natural key is already
stored are counted as duplicates instead of being written twice.

Quick check: a file found at the same absolute path with the same size and modification time
as a ledger row that imported (or skipped) it is not hashed again; that row's sha256 stands
for it (the hash stays the authority for "already imported"). With ``record_unchanged=False``
(the nightly run over an inbox) such a file gets no new ledger row either, so a night with
nothing new adds nothing to ``imports``; a file seen for the first time, changed, moved or
failed before is hashed and ledgered as always.
"""

from __future__ import annotations

import hashlib
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import polars as pl

from pipeline import store, store_ledger
from pipeline.importers import (
    NATURAL_KEYS,
    BrokenFileError,
    ImportContext,
    ImportFormatError,
    detect_format,
    iter_candidate_files,
)

PARTICIPANT_COLS = store_ledger.PARTICIPANT_COLS
#: formats that name their own participants: a folder name is not taken as a participant id
SELF_IDENTIFYING = {"fitabase_csv", "journal_csv", "participants_csv"}
#: formats whose rows need a participant id from outside the file
NEEDS_PARTICIPANT = {
    "apple_health",
    "fitbit_takeout_json",
    "garmin_fit",
    "oura_json",
    "oura_csv",
    "generic_csv",
    "indoor_csv",
    "accelerometry_csv",
    "walch_acceleration",
    "walch_heartrate",
}


#: batches an importer may parse ahead of the one being written (0: no background thread)
READ_AHEAD_BATCHES = 1
#: DuckDB's memory limit while a file is imported, unless the store was opened with a limit
#: of its own: DuckDB would otherwise keep every block an import writes and its checkpoint
#: adds more (peak RSS importing 3 GB of Apple XML: 1.39 GiB without a limit, 0.93 GiB with
#: 256MB, 0.81 GiB with 128MB, which costs ~5 % in time; DuckDB spills rather than fail)
IMPORT_MEMORY_LIMIT = "128MB"
#: an import that wrote at least this many rows is checkpointed at once, under that limit
CHECKPOINT_ROWS = 500_000
#: DuckDB threads while a file is imported, unless the store was opened with a number of its
#: own. With two threads an insert writes its rows as several partly filled row groups that
#: the checkpoint then merges, rewriting them; with one, the insert writes full row groups
#: and the checkpoint has nothing left to do. 2.9 M Apple samples in 11 batches: insert +
#: checkpoint 7.6 -> 5.5 CPU-s (and 6.5 -> 5.3 s wall); the importer's own threads (polars)
#: get the other core
IMPORT_THREADS = 1
#: compression DuckDB does not try while a file is imported: FSST loses to dictionary
#: compression on the imported tables' strings (same file size), yet trying it took ~30 % of
#: the time of writing 880k samples in the store's storage format (1.0, as the snapshot);
#: Chimp and Patas lose to ALP on the doubles (DuckDB 2's own format no longer tries them)
IMPORT_SKIP_COMPRESSION = "fsst,chimp,patas"


class _ReadAhead:
    """An importer's batches, produced by a background thread at most ``depth`` ahead.

    The importer parses the next batch while the caller writes this one to DuckDB (polars
    and DuckDB release the GIL, so this uses a second core); memory grows by ``depth``
    batches at most. An importer's exception is raised from ``__next__`` in the caller's
    thread. ``close()`` stops the thread and closes the importer (after a failed write).
    """

    _END = object()

    def __init__(self, batches: Iterable, depth: int):
        self._source = batches
        self._it = iter(batches)
        self._ready: queue.Queue = queue.Queue()
        self._slots = threading.Semaphore(depth)
        self._stop = threading.Event()
        self._done = False
        self._thread = threading.Thread(target=self._run, name="crampwatch-read-ahead", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                self._slots.acquire()
                if self._stop.is_set():
                    return
                try:
                    item = next(self._it)
                except StopIteration:
                    self._ready.put(self._END)
                    return
                self._ready.put(item)
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
            self._ready.put(exc)

    def __iter__(self) -> _ReadAhead:
        return self

    def __next__(self):
        if self._done:
            raise StopIteration
        item = self._ready.get()
        if item is self._END or isinstance(item, BaseException):
            self._done = True
            if item is self._END:
                raise StopIteration
            raise item
        self._slots.release()
        return item

    def close(self) -> None:
        self._stop.set()
        self._slots.release()
        self._thread.join()
        close = getattr(self._source, "close", None)
        if close is not None:
            close()


@dataclass
class ImportResult:
    path: str
    status: str  # ok | partial | failed | skipped | already_imported
    import_id: int | None = None
    format: str | None = None
    participant_id: str | None = None
    rows_accepted: int = 0
    rows_duplicate: int = 0
    rows_rejected: int = 0
    error: str | None = None
    seconds: float = 0.0
    warning: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def sha256_file(path: Path, chunk_bytes: int = 4 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_bytes):
            h.update(chunk)
    return h.hexdigest()


def participant_from_inbox(path: Path, inbox_root: Path | None) -> str | None:
    """The participant a file in an inbox belongs to: the first folder under the inbox root
    that is not a generic name (``inbox``, ``apple_health_export``, ...;
    :func:`pipeline.participants.participant_from_folders`)."""
    from pipeline.participants import participant_from_folders

    return participant_from_folders(path, inbox_root)


@dataclass(frozen=True)
class _FileId:
    """What the quick check compares: where the file is, its size and modification time."""

    abs_path: str
    size: int
    mtime_ns: int | None

    @classmethod
    def of(cls, path: Path) -> _FileId:
        """Taken before the file is read. A file modified less than :data:`RACY_S` ago gets no
        mtime (never matches): a later change within the clock's granularity could keep it."""
        st = path.stat()
        racy = time.time_ns() - st.st_mtime_ns < RACY_S * 1e9
        return cls(str(path.resolve()), st.st_size, None if racy else st.st_mtime_ns)


#: seconds within which a file's mtime is too recent to vouch for its content (coarse
#: file-system clocks: FAT 2 s)
RACY_S = 2


#: ledger statuses whose sha256 is known to describe the file (a failed or running import may
#: have stopped before anything was learnt, so such files are always looked at again)
QUICK_CHECK_STATUSES = ("ok", "partial", "already_imported", "skipped")


def quick_check(con: duckdb.DuckDBPyConnection, fid: _FileId) -> tuple | None:
    """The latest ledger row for this path, size and mtime: (import_id, sha256, format,
    status, error), or None."""
    return store_ledger.quick_check(con, fid.abs_path, fid.size, fid.mtime_ns, QUICK_CHECK_STATUSES)


def _ledger_start(
    con,
    path: Path,
    sha: str,
    fid: _FileId,
    fmt: str | None,
    participant_id: str | None,
    status: str,
    error: str | None = None,
    tz: str | None = None,
    replaces_import_id: int | None = None,
) -> int:
    return store_ledger.ledger_start(
        con,
        path=str(path),
        sha256=sha,
        size=fid.size,
        fmt=fmt,
        participant_id=participant_id,
        status=status,
        error=error,
        abs_path=fid.abs_path,
        mtime_ns=fid.mtime_ns,
        tz=tz,
        replaces_import_id=replaces_import_id,
    )


def upsert_participants(
    con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, import_id: int | None = None
) -> int:
    """Insert participants; for existing ids, non-null incoming fields replace stored ones."""
    return store_ledger.upsert_participants(con, frame, import_id)


def ensure_participant(
    con, participant_id: str, tz: str | None = None, import_id: int | None = None
) -> None:
    frame = pl.DataFrame(
        {"participant_id": [participant_id], "tz": [tz]},
        schema={"participant_id": pl.String, "tz": pl.String},
    )
    upsert_participants(con, frame, import_id)


@dataclass
class ImportPolicy:
    """What the identity checks of an import may override (``--force``,
    ``--new-participant``); :func:`policy` sets it for a block (every import in this process,
    Prefect's task threads included)."""

    force: bool = False  #: import an Apple export whose Me record contradicts the participant
    new_participant: bool = False  #: create a --participant id that resembles a stored one


_POLICY = ImportPolicy()


@contextmanager
def policy(*, force: bool = False, new_participant: bool = False) -> Iterator[None]:
    """Override the identity checks of the imports run inside the block."""
    global _POLICY
    old, _POLICY = _POLICY, ImportPolicy(force=force, new_participant=new_participant)
    try:
        yield
    finally:
        _POLICY = old


def import_file(
    con: duckdb.DuckDBPyConnection,
    path: str | os.PathLike,
    *,
    participant_id: str | None = None,
    tz: str | None = None,
    inbox_root: str | os.PathLike | None = None,
    data_dir: str | os.PathLike | None = None,
    on_rows: Callable[[int], None] | None = None,
    record_unchanged: bool = True,
    force: bool | None = None,
    new_participant: bool | None = None,
    replaces_import_id: int | None = None,
) -> ImportResult:
    """Import ``path`` into the open store ``con``; never raises for bad input.

    Unknown formats are recorded as ``skipped`` with the reason; a file that fails half-way is
    rolled back and recorded as ``failed`` with the error naming the file.

    A file the ledger already holds at the same path, size and mtime (the quick check) is not
    hashed again. With ``record_unchanged=False`` it is also not recorded again: the result
    (``already_imported`` or ``skipped``) carries the id of the ledger row that describes it.

    Identity checks (issue 13; ``force`` / ``new_participant`` override them, default
    :func:`policy`): a ``participant_id`` given by the caller that matches no stored
    participant but resembles one (``1503960366`` for ``fitabase-1503960366``) fails with the
    suggestion; an Apple export whose ``Me`` record gives a sex or birth year other than the
    participant's fails with the reason; one whose devices share nothing with the
    participant's earlier Apple exports is imported with a ``warning``.
    """
    from pipeline import participants as people

    force = _POLICY.force if force is None else force
    new_participant = _POLICY.new_participant if new_participant is None else new_participant
    t0 = time.perf_counter()
    path = Path(path)
    inbox = Path(inbox_root) if inbox_root else None
    pid = participant_id or participant_from_inbox(path, inbox)
    fid = _FileId.of(path)
    known = quick_check(con, fid) if fid.mtime_ns is not None else None
    if known is not None and not record_unchanged and known[3] == "skipped":
        # seen before and not recognised; `crampwatch ingest FILE` sniffs it again
        return ImportResult(
            path=str(path),
            status="skipped",
            import_id=known[0],
            format=known[2],
            participant_id=pid,
            error=known[4],
            seconds=time.perf_counter() - t0,
        )
    sha = known[1] if known is not None else sha256_file(path)
    res = ImportResult(path=str(path), status="running", participant_id=pid)

    prior = store_ledger.prior_import(con, sha)
    if prior and prior[0] != replaces_import_id:  # reassign imports the same file again
        prior_id, prior_format = prior
        res.status, res.format = "already_imported", prior_format
        res.error = f"same content as import {prior_id}"
        if known is not None and not record_unchanged:
            res.import_id = known[0]
        else:
            res.import_id = _ledger_start(
                con, path, sha, fid, prior_format, pid, res.status, res.error
            )
        res.seconds = time.perf_counter() - t0
        return res

    try:
        module = detect_format(path)
    except ImportFormatError as exc:
        # not a format crampwatch reads: skipped; one it reads, but broken (a truncated zip):
        # failed, so the command ends with status 1
        res.status = "failed" if isinstance(exc, BrokenFileError) else "skipped"
        res.format, res.error = "unknown", str(exc)
        res.import_id = _ledger_start(con, path, sha, fid, "unknown", pid, res.status, res.error)
        res.seconds = time.perf_counter() - t0
        return res
    res.format = module.FORMAT
    if module.FORMAT in SELF_IDENTIFYING and not participant_id:
        pid = res.participant_id = None  # ignore the inbox folder name
    if module.FORMAT in NEEDS_PARTICIPANT and not pid:
        res.status = "failed"
        res.error = (
            f"{path}: {module.FORMAT} files carry no participant id; pass "
            "--participant ID or put the file in <inbox>/<participant_id>/"
        )
        res.import_id = _ledger_start(con, path, sha, fid, res.format, pid, res.status, res.error)
        res.seconds = time.perf_counter() - t0
        return res

    if participant_id and not new_participant:
        slip = people.unknown_id_message(con, participant_id)
        if slip:
            res.status, res.error = "failed", f"{path}: {slip}"
            res.import_id = _ledger_start(
                con, path, sha, fid, res.format, pid, res.status, res.error
            )
            res.seconds = time.perf_counter() - t0
            return res

    if tz is None and pid:  # fall back to the participant's stored home zone
        tz = store_ledger.participant_tz(con, pid)
    ctx = ImportContext(
        participant_id=pid,
        tz=tz,
        display_path=str(path),
        data_dir=Path(data_dir) if data_dir else None,
    )
    batches = None
    restore_memory_limit = store.limit_memory(con, IMPORT_MEMORY_LIMIT)
    restore_compression = store.skip_compression(con, IMPORT_SKIP_COMPRESSION)
    restore_threads = store.limit_threads(con, IMPORT_THREADS)
    # One transaction holds the file's ledger row and every row it writes: a process killed
    # part-way leaves neither (DuckDB drops the unfinished transaction when the store is next
    # opened), so the store never holds half a file and the next run imports it whole.
    store.begin(con)
    try:
        import_id = _ledger_start(
            con, path, sha, fid, res.format, pid, "running", None, tz, replaces_import_id
        )
        res.import_id = import_id
        if pid:
            ensure_participant(con, pid, tz, import_id)
        batches = module.read(path, ctx)
        if READ_AHEAD_BATCHES > 0:
            batches = _ReadAhead(batches, READ_AHEAD_BATCHES)
        check = None
        if module.FORMAT == "apple_health" and pid and not force:

            def check(frame: pl.DataFrame) -> None:
                msg = people.identity_conflict(con, pid, frame)
                if msg:
                    raise people.IdentityError(f"{path}: {msg}")

        _write_batches(con, module, batches, import_id, res, on_rows, check)
        if module.FORMAT == "apple_health" and pid:
            res.warning = people.device_warning(con, pid, import_id)
            if res.warning:
                print(f"warning: {path}: {res.warning}", file=sys.stderr, flush=True)
        res.status = "partial" if res.rows_rejected else "ok"
        _ledger_finish(con, res)
        store.commit(con)
        if res.rows_accepted >= CHECKPOINT_ROWS:
            store.checkpoint(con)
    except (KeyboardInterrupt, duckdb.InterruptException):
        # Ctrl-C stops the whole command: the file's transaction goes, nothing is ledgered
        # for it (the next run imports it whole); DuckDB reports Ctrl-C as InterruptException
        store.rollback(con)
        raise KeyboardInterrupt from None
    except Exception as exc:  # noqa: BLE001 - recorded in the ledger, never lost
        store.rollback(con)  # the ledger row goes too: record the failure on its own
        res.status = "failed"
        res.rows_accepted = res.rows_duplicate = res.rows_rejected = 0
        # one line: DuckDB's messages go on with hints ("Possible solutions: ...")
        msg = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), "")
        res.error = msg if str(path) in msg else f"{path}: {type(exc).__name__}: {msg}"
        res.import_id = _ledger_start(con, path, sha, fid, res.format, pid, res.status, res.error)
    finally:
        close = getattr(batches, "close", None)
        if close is not None:
            close()
        restore_memory_limit()
        restore_compression()
        restore_threads()
    res.seconds = time.perf_counter() - t0
    return res


def _write_batches(
    con: duckdb.DuckDBPyConnection,
    module,
    batches: Iterable,
    import_id: int,
    res: ImportResult,
    on_rows: Callable[[int], None] | None = None,
    check: Callable[[pl.DataFrame], None] | None = None,
) -> None:
    """Write an importer's batches as import ``import_id``, counting into ``res``; ``check``
    sees each ``participants`` batch before it is written (and may raise)."""
    for batch in batches:
        frame = batch.frame
        if batch.table == "rejected_rows":
            if frame.height:
                store_ledger.insert_rejected(con, import_id, frame)
            res.rows_rejected += frame.height
        elif batch.table == "participants":
            if check is not None:
                check(frame)
            res.rows_accepted += upsert_participants(con, frame, import_id)
        elif batch.table in NATURAL_KEYS:
            frame = frame.with_columns(pl.lit(import_id, pl.Int64).alias("import_id"))
            if "participant_id" in frame.columns and frame.height:
                for new_pid in frame["participant_id"].drop_nulls().unique().to_list():
                    ensure_participant(con, new_pid, None, import_id)
            inserted, dup = store.insert_new(con, batch.table, frame, NATURAL_KEYS[batch.table])
            if batch.table != "participant_locations":
                res.rows_accepted += inserted
                res.rows_duplicate += dup
        else:
            raise ValueError(f"importer {module.__name__} emitted unknown table {batch.table}")
        if on_rows is not None:
            on_rows(frame.height)


def _ledger_finish(con, res: ImportResult) -> None:
    store_ledger.ledger_finish(
        con,
        res.import_id,
        status=res.status,
        error=res.error,
        rows_accepted=res.rows_accepted,
        rows_duplicate=res.rows_duplicate,
        rows_rejected=res.rows_rejected,
        warning=res.warning,
    )


def rewrite_rows(
    con: duckdb.DuckDBPyConnection, row: dict, data_dir: str | os.PathLike | None = None
) -> int:
    """Write again the rows of live import ``row`` (a ledger row) that are missing from the
    store, under its own import id: after another import that held rows in common with it is
    forgotten. Reads the file at its recorded path; raises ``FileNotFoundError`` when it is
    gone and ``ValueError`` when its content changed. Returns the rows written (the ledger's
    counts follow). Run it inside the caller's transaction."""
    path = Path(row["abs_path"] or row["path"])
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the file of import {row['import_id']} is gone")
    if sha256_file(path) != row["sha256"]:
        raise ValueError(f"{path}: the file of import {row['import_id']} has changed since")
    from pipeline.importers import detect_format as _detect

    module = _detect(path)
    ctx = ImportContext(
        participant_id=row["participant_id"],
        tz=row.get("tz"),
        display_path=str(path),
        data_dir=Path(data_dir) if data_dir else None,
    )
    res = ImportResult(path=str(path), status="running")
    batches = module.read(path, ctx)
    upserted = 0

    def data_batches():  # its rejected rows are still stored; participant rows not counted
        nonlocal upserted
        for b in batches:
            if b.table == "participants":
                upserted += b.frame.height
            if b.table != "rejected_rows":
                yield b

    try:
        _write_batches(con, module, data_batches(), row["import_id"], res)
    finally:
        close = getattr(batches, "close", None)
        if close is not None:
            close()
    written = res.rows_accepted - upserted
    store_ledger.add_counts(con, row["import_id"], written)
    return written


def candidate_files(paths: list[str | os.PathLike]) -> list[tuple[Path, Path | None]]:
    """Expand files and folders into ``(file, inbox_root)`` pairs, in a stable order."""
    out = []
    for p in map(Path, paths):
        if not p.exists():
            raise FileNotFoundError(f"{p}: no such file or folder")
        root = p if p.is_dir() else None
        out.extend((f, root) for f in iter_candidate_files(p))
    return out
