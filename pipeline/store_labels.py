"""Episode labels: the person's confirmations, rejections and missed cramps.

The store has one writer at a time (``pipeline/store.py``), and a label must never wait for,
nor hold up, the nightly flow. So every label is first **appended to a queue file** beside
the store (``crampwatch.duckdb`` -> ``crampwatch.labels.jsonl``): one JSON object per line,
written under a file lock, flushed and ``fsync``-ed before :func:`add_label` returns. The
queue is the label's durable home until a writer has merged it into ``episode_labels``:

* :func:`merge_pending` inserts the queued labels whose ``label_id`` (client-generated,
  uuid4) is not yet in the table: merging twice, or crashing between the insert and the
  queue clean-up, never duplicates a label. It runs at the start of every writer run that
  detects cramps (``pipeline.detect``'s journal/label check) and right after a label is added
  when the store is free (:func:`try_merge`, which gives up at once if the store is locked).
* :func:`compact_queue` drops the lines whose ``label_id`` is in the *committed* table
  (never inside an open transaction: a rollback would lose them), rewriting the file
  atomically (temporary file, fsync, ``os.replace``) under the same lock, so an append
  that races with it is either in the old file (and kept) or waits for the new one.

Hence a label is never lost (it stays queued until the table has it) and never duplicated
(the table's primary key is the label id). A torn last line (a crash mid-append) is skipped
when read and closed with a newline by the next append.

History is kept: a newer label of the same episode supersedes an older one;
:func:`current_labels` returns the latest per episode (``labelled_utc``, then arrival order).
All SQL for ``episode_labels`` is in this module.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:  # polars is imported where frames are built: `crampwatch label` stays fast
    import polars as pl

KINDS = ("nocturnal_cramp", "dehydration")
LABELS = ("confirmed", "rejected", "missed")
SOURCES = ("dashboard", "cli", "import")

COLUMNS = (
    "label_id",
    "participant_id",
    "episode_id",
    "kind",
    "start_utc",
    "end_utc",
    "label",
    "labelled_utc",
    "labelled_by",
    "source",
    "note",
    "detector_version",
    "confidence_at_label",
)


def label_schema() -> dict[str, pl.DataType]:
    """Polars schema of a labels frame (the table's columns without the arrival ones)."""
    import polars as pl

    return {
        "label_id": pl.String,
        "participant_id": pl.String,
        "episode_id": pl.String,
        "kind": pl.String,
        "start_utc": pl.Datetime("us", "UTC"),
        "end_utc": pl.Datetime("us", "UTC"),
        "label": pl.String,
        "labelled_utc": pl.Datetime("us", "UTC"),
        "labelled_by": pl.String,
        "source": pl.String,
        "note": pl.String,
        "detector_version": pl.String,
        "confidence_at_label": pl.Float64,
    }


@dataclass(frozen=True)
class Label:
    """One label as queued and stored (instants are aware UTC datetimes)."""

    label_id: str
    participant_id: str
    episode_id: str | None
    kind: str
    start_utc: datetime
    end_utc: datetime
    label: str
    labelled_utc: datetime
    labelled_by: str = "self"
    source: str = "cli"
    note: str | None = None
    detector_version: str | None = None
    confidence_at_label: float | None = None

    def to_json(self) -> str:
        d = asdict(self)
        for k in ("start_utc", "end_utc", "labelled_utc"):
            d[k] = d[k].isoformat()
        return json.dumps(d, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str) -> Label:
        d = json.loads(line)
        for k in ("start_utc", "end_utc", "labelled_utc"):
            d[k] = _utc(datetime.fromisoformat(d[k]))
        return cls(**{k: d.get(k) for k in COLUMNS})


def _utc(t: datetime) -> datetime:
    if t.tzinfo is None:
        raise ValueError(f"{t.isoformat()} has no UTC offset")
    return t.astimezone(UTC)


def queue_path(db_path: str | os.PathLike) -> Path:
    """``crampwatch.duckdb`` -> ``crampwatch.labels.jsonl`` (beside the store)."""
    p = Path(db_path)
    return p.with_name(f"{p.stem}.labels.jsonl")


def _lock_path(db_path: str | os.PathLike) -> Path:
    p = Path(db_path)
    return p.with_name(f"{p.stem}.labels.lock")


@contextlib.contextmanager
def _locked(db_path: str | os.PathLike) -> Iterator[None]:
    """Exclusive lock on the queue (a sidecar lock file; held for milliseconds)."""
    lock = _lock_path(db_path)
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if os.name == "nt":  # pragma: no cover - exercised on Windows only
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _fsync_dir(path: Path) -> None:
    if os.name == "nt":  # pragma: no cover
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_label(
    *,
    participant_id: str,
    label: str,
    start_utc: datetime,
    end_utc: datetime,
    episode_id: str | None = None,
    kind: str = "nocturnal_cramp",
    labelled_by: str | None = None,
    source: str = "cli",
    note: str | None = None,
    detector_version: str | None = None,
    confidence_at_label: float | None = None,
    labelled_utc: datetime | None = None,
    label_id: str | None = None,
) -> Label:
    """Validate and build a label (a fresh ``label_id`` unless given)."""
    if label not in LABELS:
        raise ValueError(f"label must be one of {LABELS}, not {label!r}")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
    if (label == "missed") != (episode_id is None):
        raise ValueError("a 'missed' label has no episode id; 'confirmed' and 'rejected' need one")
    if not participant_id:
        raise ValueError("participant_id is required")
    start, end = _utc(start_utc), _utc(end_utc)
    if end < start:
        raise ValueError("end is before start")
    if confidence_at_label is not None and not 0.0 <= confidence_at_label <= 1.0:
        raise ValueError("confidence_at_label must be within 0-1")
    return Label(
        label_id=label_id or uuid.uuid4().hex,
        participant_id=participant_id,
        episode_id=episode_id,
        kind=kind,
        start_utc=start,
        end_utc=end,
        label=label,
        labelled_utc=_utc(labelled_utc) if labelled_utc else datetime.now(UTC),
        labelled_by=labelled_by or "self",
        source=source,
        note=note,
        detector_version=detector_version,
        confidence_at_label=confidence_at_label,
    )


def add_label(db_path: str | os.PathLike, **fields) -> Label:
    """Queue one label durably (fsync-ed) and return it; never opens the store.

    Keyword arguments are those of :func:`make_label`. Call :func:`try_merge` afterwards to
    move it into the store at once when no other process holds it.
    """
    lab = make_label(**fields)
    append_labels(db_path, [lab])
    return lab


def append_labels(db_path: str | os.PathLike, labels: list[Label]) -> None:
    """Append labels to the queue file: one line each, flushed and fsync-ed."""
    if not labels:
        return
    q = queue_path(db_path)
    text = "".join(lab.to_json() + "\n" for lab in labels).encode()
    with _locked(db_path):
        new = not q.exists()
        with open(q, "ab+") as f:
            if not new and f.seek(0, os.SEEK_END) > 0:
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":  # a torn line from a crash: close it
                    text = b"\n" + text
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if new:
            _fsync_dir(q.parent)


def _read_queue(q: Path) -> list[Label]:
    if not q.exists():
        return []
    out = []
    for line in q.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            out.append(Label.from_json(line))
        except (ValueError, TypeError, KeyError):
            continue  # torn or foreign line: skipped, left in the file
    return out


def _db_path_of(con: duckdb.DuckDBPyConnection) -> Path | None:
    rows = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    return Path(rows[0][0]) if rows and rows[0][0] else None


def pending_labels(
    db_path: str | os.PathLike, con: duckdb.DuckDBPyConnection | None = None
) -> list[Label]:
    """Queued labels; with ``con``, only those not yet in its ``episode_labels``."""
    with _locked(db_path):
        queued = _read_queue(queue_path(db_path))
    if con is None or not queued:
        return queued
    have = _stored_ids(con, [lab.label_id for lab in queued])
    return [lab for lab in queued if lab.label_id not in have]


def _stored_ids(con: duckdb.DuckDBPyConnection, ids: list[str]) -> set[str]:
    if not ids or not _has_table(con):
        return set()
    rows = con.execute(
        "SELECT label_id FROM episode_labels WHERE list_contains($1, label_id)", [ids]
    ).fetchall()
    return {r[0] for r in rows}


def _has_table(con: duckdb.DuckDBPyConnection) -> bool:
    return (
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'episode_labels'"
        ).fetchall()[0][0]
        > 0
    )


def labels_frame(labels: list[Label]) -> pl.DataFrame:
    """Labels as a frame with :func:`label_schema`."""
    import polars as pl

    return pl.DataFrame([asdict(lab) for lab in labels] or None, schema=label_schema())


def insert_labels(con: duckdb.DuckDBPyConnection, labels: list[Label]) -> int:
    """Insert the labels whose id is not stored yet; returns how many were inserted."""
    if not labels:
        return 0
    seen: dict[str, Label] = {}
    for lab in labels:
        seen.setdefault(lab.label_id, lab)
    have = _stored_ids(con, list(seen))
    new = [lab for i, lab in seen.items() if i not in have]
    if not new:
        return 0
    cols = ", ".join(COLUMNS)
    marks = ", ".join("?" for _ in COLUMNS)
    con.executemany(
        f"INSERT INTO episode_labels ({cols}) VALUES ({marks})",
        [[getattr(lab, c) for c in COLUMNS] for lab in new],
    )
    return len(new)


def merge_pending(
    con: duckdb.DuckDBPyConnection,
    db_path: str | os.PathLike | None = None,
    *,
    compact: bool = False,
) -> int:
    """Insert the queued labels into ``episode_labels`` (idempotent by ``label_id``).

    ``db_path`` defaults to the file ``con`` is open on (nothing to do in memory). With
    ``compact`` the merged lines are then dropped from the queue: only when ``con`` is not
    inside an open transaction (the inserted rows must be committed first).
    """
    db_path = db_path if db_path is not None else _db_path_of(con)
    if db_path is None or not queue_path(db_path).exists():
        return 0
    n = insert_labels(con, pending_labels(db_path))
    if compact:
        compact_queue(con, db_path)
    return n


def compact_queue(con: duckdb.DuckDBPyConnection, db_path: str | os.PathLike) -> int:
    """Drop queue lines whose label is in the (committed) table; returns lines left."""
    q = queue_path(db_path)
    with _locked(db_path):
        if not q.exists():
            return 0
        lines = q.read_text(encoding="utf-8").splitlines()
        ids = []
        for line in lines:
            try:
                ids.append(json.loads(line).get("label_id"))
            except (ValueError, AttributeError):
                ids.append(None)
        have = _stored_ids(con, [i for i in ids if i])
        keep = [
            ln
            for ln, i in zip(lines, ids, strict=True)
            if ln.strip() and (i is None or i not in have)
        ]
        if not keep:
            q.unlink()
            return 0
        tmp = q.with_name(q.name + ".tmp")
        with open(tmp, "wb") as f:
            f.write("".join(k + "\n" for k in keep).encode())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, q)
        _fsync_dir(q.parent)
        return len(keep)


def try_merge(db_path: str | os.PathLike) -> int | None:
    """Merge the queue into the store if no other process holds it; None if it is busy.

    Opens the store read-write without waiting (the nightly flow keeps it while it runs;
    its own run merges the queue), merges, commits and compacts the queue.
    """
    try:
        con = duckdb.connect(str(db_path))
    except duckdb.IOException as exc:
        if "Could not set lock" in str(exc):  # pipeline.store.LOCK_ERROR
            return None
        raise
    with con:
        con.execute("SET TimeZone = 'UTC'")
        if not _has_table(con):  # an older store: migrate (imports pipeline.store)
            from pipeline import store

            store.migrate(con)
        n = merge_pending(con, db_path)
        compact_queue(con, db_path)
    return n


def current_labels(
    con: duckdb.DuckDBPyConnection,
    participant_id: str | None = None,
    kind: str | None = "nocturnal_cramp",
) -> pl.DataFrame:
    """The current label per episode (latest ``labelled_utc``, then arrival), history aside.

    A ``missed`` label has no episode: each is its own current label. Returns
    :func:`label_schema` columns plus ``merged_seq``.
    """
    import polars as pl

    schema = {**label_schema(), "merged_seq": pl.Int64}
    if not _has_table(con):
        return pl.DataFrame(schema=schema)
    cols = ", ".join(COLUMNS)
    return (
        con.sql(
            f"SELECT {cols}, merged_seq FROM episode_labels "
            "WHERE ($1 IS NULL OR participant_id = $1) AND ($2 IS NULL OR kind = $2) "
            "QUALIFY row_number() OVER (PARTITION BY participant_id, coalesce(episode_id, label_id) "
            "ORDER BY labelled_utc DESC, merged_seq DESC) = 1 "
            "ORDER BY participant_id, start_utc",
            params=[participant_id, kind],
        )
        .pl()
        .cast(schema)
    )


def labels_through_seq(con: duckdb.DuckDBPyConnection, participant_id: str) -> int | None:
    """Highest ``merged_seq`` of the participant's labels (None without any)."""
    if not _has_table(con):
        return None
    return con.execute(
        "SELECT max(merged_seq) FROM episode_labels WHERE participant_id = ?", [participant_id]
    ).fetchall()[0][0]


def labels_changed(con: duckdb.DuckDBPyConnection, participant_id: str) -> bool:
    """True when the participant has labels newer than their latest fitted cramp set saw."""
    seen = con.execute(
        "SELECT max(coalesce(labels_through_seq, 0)) FROM cramp_param_sets "
        "WHERE participant_id = ?",
        [participant_id],
    ).fetchall()[0][0]
    newest = labels_through_seq(con, participant_id)
    return newest is not None and newest > (seen or 0)


def episode_for_label(con: duckdb.DuckDBPyConnection, episode_id: str) -> dict | None:
    """The stored episode a label refers to (span, confidence, version), or None."""
    rows = con.execute(
        "SELECT participant_id, kind, start_utc, end_utc, confidence, detector_version "
        "FROM episodes WHERE episode_id = ?",
        [episode_id],
    ).fetchall()
    if not rows:
        return None
    row = rows[0]
    keys = ("participant_id", "kind", "start_utc", "end_utc", "confidence", "detector_version")
    return dict(zip(keys, row, strict=True))


def lookup_episode(db_path: str | os.PathLike, episode_id: str) -> dict | None:
    """:func:`episode_for_label` from the published snapshot (else the store, read-only);
    None when neither can be read or the episode is not there."""
    from pipeline.config import snapshot_path

    for target in (snapshot_path(db_path), Path(db_path)):
        if not target.exists():
            continue
        try:
            with duckdb.connect(str(target), read_only=True) as con:
                con.execute("SET TimeZone = 'UTC'")
                ep = episode_for_label(con, episode_id)
        except duckdb.Error:
            continue
        if ep is not None:
            return ep
    return None
