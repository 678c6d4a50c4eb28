"""Settings resolved once: database path, privacy switches for Prefect and Streamlit."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DB = Path("crampwatch.duckdb")
ENV_DB = "CRAMPWATCH_DB"

#: Environment that keeps Prefect and Streamlit local and silent: no analytics, no usage
#: statistics, no separately started server (Prefect runs its ephemeral API on 127.0.0.1).
PRIVACY_ENV = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
    "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    "STREAMLIT_SERVER_ADDRESS": "127.0.0.1",
    "STREAMLIT_SERVER_HEADLESS": "true",
    "DO_NOT_TRACK": "1",
}


def apply_privacy_env() -> None:
    """Set the privacy defaults unless the user set them explicitly."""
    for key, value in PRIVACY_ENV.items():
        os.environ.setdefault(key, value)


#: polars' allocator (jemalloc) settings, appended to polars' own (``dirty_decay_ms:500,
#: muzzy_decay_ms:1000``; polars reads ``_RJEM_MALLOC_CONF`` when it is first imported):
#: freed pages are kept 2 s before they go back to the system. An Apple import frees and
#: reuses hundreds of MB a second; with polars' half second much of it went back and was
#: faulted in again (1 GB export, alternating runs at load 8-10: system time 3.1-3.4 ->
#: 1.7-2.0 s, 19.1-20.6 -> 14.0-14.4 CPU-s in all; peak RSS +7-24 MiB)
ALLOCATOR_ENV = {"_RJEM_MALLOC_CONF": "dirty_decay_ms:2000,muzzy_decay_ms:2000"}


def apply_allocator_env() -> None:
    """Set :data:`ALLOCATOR_ENV` unless the user set it; before polars is imported."""
    for key, value in ALLOCATOR_ENV.items():
        os.environ.setdefault(key, value)


def resolve_db(db: str | os.PathLike | None = None) -> Path:
    """``--db`` beats ``$CRAMPWATCH_DB`` beats ``./crampwatch.duckdb``."""
    if db:
        return Path(db)
    if os.environ.get(ENV_DB):
        return Path(os.environ[ENV_DB])
    return DEFAULT_DB


def snapshot_path(db_path: str | os.PathLike) -> Path:
    """Read-only snapshot published beside the store after every write run.

    ``crampwatch.duckdb`` -> ``crampwatch.snapshot.duckdb``.
    """
    p = Path(db_path)
    return p.with_name(f"{p.stem}.snapshot{p.suffix or '.duckdb'}")


def data_dir(db_path: str | os.PathLike) -> Path:
    """Folder beside the store for bulky data kept as Parquet (raw accelerometry).

    ``crampwatch.duckdb`` -> ``crampwatch.data/``.
    """
    p = Path(db_path)
    return p.with_name(f"{p.stem}.data")
