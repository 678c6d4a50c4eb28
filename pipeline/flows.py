"""Prefect 3 flows: ``ingest``, ``detect`` and ``nightly`` (both, then a run summary).

Flows are thin: tasks take paths (hashable, retryable), open the store themselves, call the
plain functions in :mod:`pipeline.ingest` and :mod:`pipeline.detect`, and close it again.
Every flow ends by publishing the read-only snapshot the dashboard reads.

No Prefect server needs to be started: without ``PREFECT_API_URL`` Prefect 3 runs a
temporary API on 127.0.0.1 for the life of the process. Analytics are switched off.
"""

from __future__ import annotations

from pipeline.config import apply_privacy_env

apply_privacy_env()

import time  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402

from prefect import flow, get_run_logger, task  # noqa: E402

from pipeline import store  # noqa: E402
from pipeline.config import data_dir, resolve_db  # noqa: E402
from pipeline.detect import detect_changed  # noqa: E402
from pipeline.ingest import candidate_files, import_file  # noqa: E402


@contextmanager
def _row_progress(label: str):
    """A live rows and rows/s counter on the terminal while a file imports."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"),
               TextColumn("{task.completed:,.0f} rows"),
               TextColumn("{task.fields[rate]:,.0f} rows/s"), TimeElapsedColumn())
    with Progress(*columns, transient=True) as progress:
        task_id = progress.add_task(label, total=None, rate=0.0)
        t0 = time.perf_counter()

        def on_rows(n: int) -> None:
            progress.advance(task_id, n)
            done = progress.tasks[0].completed
            progress.update(task_id, rate=done / max(time.perf_counter() - t0, 1e-9))

        yield on_rows


@task(retries=3, retry_delay_seconds=[2, 10, 30], task_run_name="import {path}")
def import_task(path: str, db_path: str, participant_id: str | None = None,
                tz: str | None = None, inbox_root: str | None = None) -> dict:
    """Import one file (retried when the store is locked or the disk hiccups)."""
    with store.connect(db_path) as con, _row_progress(Path(path).name) as on_rows:
        res = import_file(con, path, participant_id=participant_id, tz=tz,
                          inbox_root=inbox_root, data_dir=data_dir(db_path), on_rows=on_rows)
    log = get_run_logger()
    msg = (f"{res.status:16s} {res.format or '-':15s} +{res.rows_accepted} rows, "
           f"{res.rows_duplicate} already stored, {res.rows_rejected} rejected: {path}")
    (log.warning if res.status in ("failed", "partial") else log.info)(
        msg + (f" ({res.error})" if res.error and res.status != "already_imported" else ""))
    return res.as_dict()


@task(retries=2, retry_delay_seconds=[5, 30])
def detect_task(db_path: str, full: bool = False) -> dict:
    """Episodes and sleep periods, then the daily trigger exposures, for what changed."""
    from pipeline.exposures import update_exposures

    with store.connect(db_path) as con:
        out = detect_changed(con, full=full).as_dict()
        out["exposure_days"] = update_exposures(con, full=full).days_written
        return out


@task(retries=2, retry_delay_seconds=[2, 10])
def publish_task(db_path: str) -> str:
    """Point the accelerometry view at the Parquet files, then publish the snapshot."""
    from pipeline.importers.accelerometry import ensure_accelerometry_view

    with store.connect(db_path) as con:
        ensure_accelerometry_view(con, data_dir(db_path))
        return str(store.publish_snapshot(con, db_path))


@flow(name="ingest", log_prints=True)
def ingest(paths: list[str], db: str | None = None, participant_id: str | None = None,
           tz: str | None = None) -> list[dict]:
    """Import files and folders (every file in them; unrecognised ones recorded as skipped).

    Folders are read, never moved, changed or deleted.
    """
    db_path = str(resolve_db(db))
    results = [import_task(str(f), db_path, participant_id, tz, str(root) if root else None)
               for f, root in candidate_files(paths)]
    publish_task(db_path)
    return results


@flow(name="detect", log_prints=True)
def detect(db: str | None = None, full: bool = False) -> dict:
    """Recompute sleep periods and episodes for the participants and nights that changed."""
    db_path = str(resolve_db(db))
    summary = detect_task(db_path, full)
    publish_task(db_path)
    return summary


def format_summary(imports: list[dict], detection: dict, counts: dict[str, int]) -> str:
    by_status: dict[str, int] = {}
    for r in imports:
        by_status[r["status"]] = by_status.get(r["status"], 0) + 1
    lines = [
        "crampwatch nightly run",
        f"  files: {len(imports)} ("
        + ", ".join(f"{k} {v}" for k, v in sorted(by_status.items())) + ")",
        f"  rows: +{sum(r['rows_accepted'] for r in imports)} new, "
        f"{sum(r['rows_duplicate'] for r in imports)} already stored, "
        f"{sum(r['rows_rejected'] for r in imports)} rejected",
        f"  detection: {detection['participants']} participants, {detection['nights']} nights, "
        f"{detection['episodes_written']} episodes "
        + str(dict(sorted(detection["by_kind"].items())))
        + f", {detection.get('exposure_days', 0)} exposure days",
        "  store: " + ", ".join(f"{k} {v}" for k, v in counts.items()
                                if k not in ("schema_migrations",)),
    ]
    failed = [r for r in imports if r["status"] in ("failed", "partial")]
    lines += [f"  ! {r['status']}: {r['error'] or r['path']}" for r in failed]
    return "\n".join(lines)


@flow(name="nightly", log_prints=True)
def nightly(inbox: str, db: str | None = None, participant_id: str | None = None,
            tz: str | None = None) -> dict:
    """Ingest every new file in ``inbox``, re-detect what changed, publish, print a summary."""
    db_path = str(resolve_db(db))
    if not Path(inbox).exists():
        raise FileNotFoundError(f"inbox {inbox} does not exist")
    imports = [import_task(str(f), db_path, participant_id, tz, str(root) if root else None)
               for f, root in candidate_files([inbox])]
    detection = detect_task(db_path)
    publish_task(db_path)
    with store.connect(db_path) as con:
        counts = store.table_counts(con)
    summary = format_summary(imports, detection, counts)
    print(summary)
    return {"imports": imports, "detection": detection, "counts": counts, "summary": summary}


if __name__ == "__main__":  # a crontab line can call: python -m pipeline.flows INBOX [DB]
    import sys

    nightly(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
