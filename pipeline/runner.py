"""The work of every write command, as plain functions that run in this process.

``crampwatch ingest``, ``detect``, ``run`` and ``demo`` call these directly: no Prefect, no
temporary API, so a command with little to do answers in about a second. The Prefect flows in
:mod:`pipeline.flows` call the same functions from thin tasks (retries, run history in a
Prefect server's UI); there is one implementation of each step.

Steps (each opens the store itself unless given an open connection ``con``):

- :func:`import_one` / :func:`import_files`: files into the store (:mod:`pipeline.ingest`);
- :func:`detect_and_exposures`: episodes and sleep periods, then the daily trigger exposures,
  then the trigger statistics, for what changed (:mod:`pipeline.detect`,
  :mod:`pipeline.exposures`, :mod:`pipeline.store_triggers`);
- :func:`publish`: the accelerometry view and the read-only snapshot the dashboard reads;

and the commands built from them: :func:`ingest`, :func:`detect`, :func:`nightly` (import
what is new in an inbox, detect, publish, summarise).

Run history lives in the store whichever way a command runs: ``imports`` (``ingest`` records
every file it is given; a nightly run only files it sees for the first time at their path, that
changed or that failed before: ``record_unchanged=False``, see
:func:`pipeline.ingest.import_file`), and one ``detection_runs`` and one ``exposure_runs`` row
per detection, also when nothing changed.

Prefect and Streamlit are never imported here, the detectors (scipy) only when there is
detection work to do: ``python -X importtime -m pipeline.cli run INBOX`` with nothing new
loads polars, duckdb and the pipeline only.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pipeline import store
from pipeline.config import data_dir, resolve_db, snapshot_path

#: the logger of the in-process runner; the CLI shows its INFO lines with ``--verbose`` only
log = logging.getLogger("crampwatch")

Logger = logging.Logger | logging.LoggerAdapter


@contextmanager
def _store(
    db_path: str | os.PathLike, con: duckdb.DuckDBPyConnection | None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The given connection, or the store opened read-write for the block."""
    if con is not None:
        yield con
        return
    with store.connect(db_path) as own:
        yield own


#: off a terminal, a "file n of N" line is printed for a file that starts once the import
#: has run this long, or that is at least PLAIN_BIG_BYTES (short imports print nothing)
PLAIN_AFTER_S = 5.0
PLAIN_BIG_BYTES = 64 << 20


def _eta(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


class _ImportProgress:
    """Progress of an import of ``N`` files on stderr.

    On a terminal: one rich progress display (transient, so it leaves nothing behind) with
    "file n of N", the current file's rows and rows/s, a bar over the bytes of all files and
    the time remaining; started at the first file, never loaded for output that is not a
    terminal. Off a terminal (a log file, a pipe): no display and no blank lines; on a long
    import a plain line ``file n of N (p %, about m:ss left): PATH`` when a file starts, once
    the import has run :data:`PLAIN_AFTER_S` or for a file of :data:`PLAIN_BIG_BYTES` or more.
    The ETA is bytes-based: time so far / bytes done * bytes left.
    """

    def __init__(self, files: list[str | os.PathLike], enabled: bool = True, stream=None):
        self.sizes = []
        for f in files:
            try:
                self.sizes.append(os.path.getsize(f))
            except OSError:
                self.sizes.append(0)
        self.n = len(files)
        self.total = sum(self.sizes) or 1
        self.done_bytes = 0
        self.enabled = enabled and self.n > 0
        self._stream = stream
        self._tty: bool | None = None
        self._progress = None
        self._t0 = time.perf_counter()
        self._index = 0
        self._file_t0 = self._t0
        self._rows = 0

    def _is_tty(self) -> bool:
        if self._tty is None:
            stream = self._stream or sys.stderr
            try:
                self._tty = bool(stream.isatty())
            except (AttributeError, ValueError):
                self._tty = False
        return self._tty

    def _left(self) -> float | None:
        if self.done_bytes <= 0:
            return None
        elapsed = time.perf_counter() - self._t0
        return elapsed / self.done_bytes * (self.total - self.done_bytes)

    def start_file(self, index: int, path: str | os.PathLike) -> None:
        """File ``index`` (0-based) is about to be imported."""
        self._index, self._rows, self._file_t0 = index, 0, time.perf_counter()
        if not self.enabled:
            return
        label = f"file {index + 1} of {self.n}: {Path(path).name}"
        if self._is_tty():
            if self._progress is None:
                from rich.console import Console
                from rich.progress import (
                    BarColumn,
                    Progress,
                    SpinnerColumn,
                    TextColumn,
                    TimeElapsedColumn,
                    TimeRemainingColumn,
                )

                columns = (
                    SpinnerColumn(),
                    TextColumn("{task.description}"),
                    TextColumn("{task.fields[rows]:,.0f} rows"),
                    TextColumn("{task.fields[rate]:,.0f} rows/s"),
                    BarColumn(),
                    TimeElapsedColumn(),
                    TextColumn("left"),
                    TimeRemainingColumn(),
                )
                console = Console(file=self._stream or sys.stderr)
                self._progress = Progress(*columns, transient=True, console=console)
                self._progress.start()
                self._task = self._progress.add_task(label, total=self.total, rows=0, rate=0.0)
            self._progress.update(self._task, description=label, rows=0, rate=0.0)
            return
        elapsed = time.perf_counter() - self._t0
        size = self.sizes[index] if index < len(self.sizes) else 0
        if elapsed < PLAIN_AFTER_S and size < PLAIN_BIG_BYTES:
            return
        left = self._left()
        eta = f", about {_eta(left)} left" if left is not None else ""
        stream = self._stream or sys.stderr
        print(
            f"file {index + 1} of {self.n} ({100 * self.done_bytes / self.total:.0f} %"
            f"{eta}): {path}",
            file=stream,
            flush=True,
        )

    def rows(self, n: int) -> None:
        """``n`` more rows of the current file are written (the importer's batches)."""
        self._rows += n
        if self._progress is not None:
            rate = self._rows / max(time.perf_counter() - self._file_t0, 1e-9)
            self._progress.update(self._task, rows=self._rows, rate=rate)

    def end_file(self) -> None:
        size = self.sizes[self._index] if self._index < len(self.sizes) else 0
        self.done_bytes += size
        if self._progress is not None:
            self._progress.update(self._task, completed=self.done_bytes)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def import_one(
    path: str | os.PathLike,
    db_path: str | os.PathLike,
    participant_id: str | None = None,
    tz: str | None = None,
    inbox_root: str | os.PathLike | None = None,
    *,
    record_unchanged: bool = True,
    con: duckdb.DuckDBPyConnection | None = None,
    logger: Logger | None = None,
    progress: bool | _ImportProgress = True,
) -> dict:
    """Import one file and log one line about it; returns ``ImportResult.as_dict()``.

    ``progress``: True for a display of this file alone (terminal only), or the
    :class:`_ImportProgress` of a run of several files.
    """
    from pipeline.ingest import import_file

    own = not isinstance(progress, _ImportProgress)
    prog = _ImportProgress([path], enabled=bool(progress)) if own else progress
    if own:
        prog.start_file(0, path)
    try:
        with _store(db_path, con) as c:
            res = import_file(
                c,
                path,
                participant_id=participant_id,
                tz=tz,
                inbox_root=inbox_root,
                data_dir=data_dir(db_path),
                on_rows=prog.rows,
                record_unchanged=record_unchanged,
            )
    finally:
        if own:
            prog.close()
    msg = (
        f"{res.status:16s} {res.format or '-':15s} +{res.rows_accepted} rows, "
        f"{res.rows_duplicate} already stored, {res.rows_rejected} rejected: {path}"
    )
    lg = logger or log
    (lg.warning if res.status in ("failed", "partial") else lg.info)(
        msg + (f" ({res.error})" if res.error and res.status != "already_imported" else "")
    )
    return res.as_dict()


def candidates(paths: list[str | os.PathLike]) -> list[tuple[str, str | None]]:
    """Files and folders expanded to ``(file, inbox_root)`` (strings: Prefect task inputs)."""
    from pipeline.ingest import candidate_files

    return [(str(f), str(root) if root else None) for f, root in candidate_files(paths)]


def import_files(
    paths: list[str | os.PathLike],
    db_path: str | os.PathLike,
    participant_id: str | None = None,
    tz: str | None = None,
    *,
    record_unchanged: bool = True,
    con: duckdb.DuckDBPyConnection | None = None,
    logger: Logger | None = None,
    progress: bool = True,
) -> list[dict]:
    """Import files and folders (every file in them), one store connection for all."""
    files = candidates(paths)
    prog = _ImportProgress([f for f, _ in files], enabled=progress)
    out = []
    try:
        with _store(db_path, con) as c:
            for i, (f, root) in enumerate(files):
                prog.start_file(i, f)
                out.append(
                    import_one(
                        f,
                        db_path,
                        participant_id,
                        tz,
                        root,
                        con=c,
                        record_unchanged=record_unchanged,
                        logger=logger,
                        progress=prog,
                    )
                )
                prog.end_file()
    finally:
        prog.close()
    return out


def detect_and_exposures(
    db_path: str | os.PathLike, full: bool = False, *, con: duckdb.DuckDBPyConnection | None = None
) -> dict:
    """Episodes and sleep periods, then the daily trigger exposures, then the trigger
    statistics of the participants whose inputs changed, for what changed.

    Returns the ``DetectSummary`` as a dict plus ``exposure_days`` and
    ``trigger_participants``. Records one ``detection_runs`` and one ``exposure_runs`` row
    (and ``trigger_runs`` rows for the participants recomputed; none when nothing changed,
    which costs one query and no detector import).
    """
    from pipeline.detect import detect_changed
    from pipeline.exposures import update_exposures
    from pipeline.store_triggers import update_triggers

    with _store(db_path, con) as c:
        out = detect_changed(c, full=full).as_dict()
        out["exposure_days"] = update_exposures(c, full=full).days_written
        out["trigger_participants"] = update_triggers(c, force=full).participants
        return out


def publish(
    db_path: str | os.PathLike, *, con: duckdb.DuckDBPyConnection | None = None, force: bool = False
) -> str:
    """Point the accelerometry view at the Parquet files, then publish the snapshot.

    The copy is skipped when the snapshot already shows what the store holds (a run with
    nothing new changes only the run tables, :data:`pipeline.store.RUN_TABLES`): comparing
    the two costs a read of each, copying costs a rewrite of the whole store.
    """
    from pipeline.importers.accelerometry import ensure_accelerometry_view

    with _store(db_path, con) as c:
        ensure_accelerometry_view(c, data_dir(db_path))
        if not force and store.snapshot_is_current(c, db_path):
            log.info("snapshot %s is current, not copied again", snapshot_path(db_path))
            return str(snapshot_path(db_path))
        return str(store.publish_snapshot(c, db_path))


def ingest(
    paths: list[str | os.PathLike],
    db: str | os.PathLike | None = None,
    participant_id: str | None = None,
    tz: str | None = None,
    *,
    logger: Logger | None = None,
    progress: bool = True,
) -> list[dict]:
    """``crampwatch ingest``: import files and folders, then publish the snapshot.

    Every file offered is ledgered (a known one as ``already_imported``).
    """
    db_path = str(resolve_db(db))
    with store.connect(db_path) as con:
        results = import_files(
            paths, db_path, participant_id, tz, con=con, logger=logger, progress=progress
        )
        publish(db_path, con=con)
    return results


def detect(db: str | os.PathLike | None = None, full: bool = False) -> dict:
    """``crampwatch detect``: recompute what changed, then publish the snapshot."""
    db_path = str(resolve_db(db))
    with store.connect(db_path) as con:
        summary = detect_and_exposures(db_path, full, con=con)
        publish(db_path, con=con)
    return summary


def format_summary(imports: list[dict], detection: dict, counts: dict[str, int]) -> str:
    by_status: dict[str, int] = {}
    for r in imports:
        by_status[r["status"]] = by_status.get(r["status"], 0) + 1
    lines = [
        "crampwatch nightly run",
        f"  files: {len(imports)} ("
        + ", ".join(f"{k} {v}" for k, v in sorted(by_status.items()))
        + ")",
        f"  rows: +{sum(r['rows_accepted'] for r in imports)} new, "
        f"{sum(r['rows_duplicate'] for r in imports)} already stored, "
        f"{sum(r['rows_rejected'] for r in imports)} rejected",
        f"  detection: {detection['participants']} participants, {detection['nights']} nights, "
        f"{detection['episodes_written']} episodes "
        + str(dict(sorted(detection["by_kind"].items())))
        + f", {detection.get('exposure_days', 0)} exposure days",
        "  store: "
        + ", ".join(f"{k} {v}" for k, v in counts.items() if k not in ("schema_migrations",)),
    ]
    failed = [r for r in imports if r["status"] in ("failed", "partial")]
    lines += [f"  ! {r['status']}: {r['error'] or r['path']}" for r in failed]
    return "\n".join(lines)


def summarize(
    db_path: str | os.PathLike,
    imports: list[dict],
    detection: dict,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
) -> dict:
    """The nightly run's result: imports, detection, table counts and the printed summary."""
    with _store(db_path, con) as c:
        counts = store.table_counts(c)
    return {
        "imports": imports,
        "detection": detection,
        "counts": counts,
        "summary": format_summary(imports, detection, counts),
    }


def check_inbox(inbox: str | os.PathLike) -> None:
    if not Path(inbox).exists():
        raise FileNotFoundError(f"inbox {inbox} does not exist")


def nightly(
    inbox: str | os.PathLike,
    db: str | os.PathLike | None = None,
    participant_id: str | None = None,
    tz: str | None = None,
    *,
    logger: Logger | None = None,
    progress: bool = True,
    echo: Callable[[str], None] | None = None,
) -> dict:
    """``crampwatch run``: import what is new in ``inbox``, re-detect what changed, publish.

    Files the ledger already holds at the same path, size and mtime are neither read nor
    ledgered again. Returns ``{"imports", "detection", "counts", "summary"}``; the summary is
    also passed to ``echo`` when given.
    """
    db_path = str(resolve_db(db))
    check_inbox(inbox)
    with store.connect(db_path) as con:
        imports = import_files(
            [inbox],
            db_path,
            participant_id,
            tz,
            con=con,
            record_unchanged=False,
            logger=logger,
            progress=progress,
        )
        detection = detect_and_exposures(db_path, con=con)
        publish(db_path, con=con)
        out = summarize(db_path, imports, detection, con=con)
    if echo is not None:
        echo(out["summary"])
    return out
