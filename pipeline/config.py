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
