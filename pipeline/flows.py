"""Prefect 3 flows: ``ingest``, ``detect`` and ``nightly`` (both, then a run summary).

For scheduled runs, where Prefect's retries and run history earn their place (a Prefect
server's UI, deployments). The CLI runs the same work in-process through
:mod:`pipeline.runner` and comes here only with ``--prefect`` or when ``PREFECT_API_URL`` is
set (README, "The nightly flow").

Flows are thin: tasks take paths (hashable, retryable) and call the plain functions of
:mod:`pipeline.runner`, each opening and closing the store itself. Every flow ends by
publishing the read-only snapshot the dashboard reads.

No Prefect server needs to be started: without ``PREFECT_API_URL`` Prefect 3 runs a
temporary API on 127.0.0.1 for the life of the process. Analytics are switched off.
"""

from __future__ import annotations

from pipeline.config import apply_allocator_env, apply_privacy_env

apply_privacy_env()
apply_allocator_env()

from prefect import flow, get_run_logger, task  # noqa: E402

from pipeline import runner  # noqa: E402
from pipeline.config import resolve_db  # noqa: E402
from pipeline.runner import format_summary  # noqa: E402, F401 - kept importable from here


@task(retries=3, retry_delay_seconds=[2, 10, 30], task_run_name="import {path}")
def import_task(
    path: str,
    db_path: str,
    participant_id: str | None = None,
    tz: str | None = None,
    inbox_root: str | None = None,
    record_unchanged: bool = True,
) -> dict:
    """Import one file (retried when the store is locked or the disk hiccups)."""
    return runner.import_one(
        path,
        db_path,
        participant_id,
        tz,
        inbox_root,
        record_unchanged=record_unchanged,
        logger=get_run_logger(),
    )


@task(retries=2, retry_delay_seconds=[5, 30])
def detect_task(db_path: str, full: bool = False) -> dict:
    """Episodes and sleep periods, then the daily trigger exposures, for what changed."""
    return runner.detect_and_exposures(db_path, full)


@task(retries=2, retry_delay_seconds=[2, 10])
def publish_task(db_path: str) -> str:
    """Point the accelerometry view at the Parquet files, then publish the snapshot."""
    return runner.publish(db_path)


@flow(name="ingest", log_prints=True)
def ingest(
    paths: list[str],
    db: str | None = None,
    participant_id: str | None = None,
    tz: str | None = None,
) -> list[dict]:
    """Import files and folders (every file in them; unrecognised ones recorded as skipped).

    Folders are read, never moved, changed or deleted.
    """
    db_path = str(resolve_db(db))
    results = [
        import_task(f, db_path, participant_id, tz, root) for f, root in runner.candidates(paths)
    ]
    publish_task(db_path)
    return results


@flow(name="detect", log_prints=True)
def detect(db: str | None = None, full: bool = False) -> dict:
    """Recompute sleep periods and episodes for the participants and nights that changed."""
    db_path = str(resolve_db(db))
    summary = detect_task(db_path, full)
    publish_task(db_path)
    return summary


@flow(name="nightly", log_prints=True)
def nightly(
    inbox: str, db: str | None = None, participant_id: str | None = None, tz: str | None = None
) -> dict:
    """Ingest every new file in ``inbox``, re-detect what changed, publish, print a summary.

    Files already in the ledger (same path, size and mtime) are not ledgered again.
    """
    db_path = str(resolve_db(db))
    runner.check_inbox(inbox)
    imports = [
        import_task(f, db_path, participant_id, tz, root, record_unchanged=False)
        for f, root in runner.candidates([inbox])
    ]
    detection = detect_task(db_path)
    publish_task(db_path)
    out = runner.summarize(db_path, imports, detection)
    print(out["summary"])
    return out


if __name__ == "__main__":  # a crontab line can call: python -m pipeline.flows INBOX [DB]
    import sys

    nightly(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
