"""Streamlit-side glue shared by the entrypoint and the pages: database path, cached reads,
the chosen participant.

Query *results* are cached (``st.cache_data``), keyed on the identity of the published snapshot
(inode, mtime, size), so a new publish is picked up on the next rerun; connections are never
cached (see ``dashboards/queries.py``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import streamlit as st

from dashboards import queries
from pipeline.config import resolve_db, snapshot_path

T = TypeVar("T")

PARTICIPANT_KEY = "participant_id"
CACHE_TTL_S = 600

#: one script run at a time per server process. With about 20 sessions rerunning at once the
#: server deadlocked for good (no health answer, no websocket pings; every thread waiting for
#: the GIL or for polars' or pyarrow's thread pool: polars frames converted to pandas and
#: unpickled from the cache in several threads at once, as in polars issue #27396); found by
#: benchmarks/dashboard.py. Runs are CPU-bound in one interpreter anyway, and one at a time
#: the event loop (pings, sending the pages) no longer starves for the GIL.
_RUN_LOCK = threading.Lock()


def db_path() -> Path:
    """``$CRAMPWATCH_DB`` or ``./crampwatch.duckdb``, made absolute."""
    return resolve_db().resolve()


def database_exists(path: Path) -> bool:
    return snapshot_path(path).exists() or path.exists()


def data_source(path: Path) -> tuple[Path, datetime] | None:
    """The file a reader opens now (snapshot, else store) and its modification time."""
    for p in (snapshot_path(path), path):
        if p.exists():
            return p, datetime.fromtimestamp(os.stat(p).st_mtime).astimezone()
    return None


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False, max_entries=512)
def _cached(name: str, path: str, version: tuple | None, params: tuple) -> Any:
    del version  # part of the cache key only
    return queries.run(path, getattr(queries, name), **dict(params))


def load(query: Callable[..., T], **params: Any) -> T:
    """Run ``queries.<query>`` through the result cache (short-lived connection on a miss)."""
    path = db_path()
    return _cached(
        query.__name__, str(path), queries.data_version(path), tuple(sorted(params.items()))
    )


@contextmanager
def one_run_at_a_time() -> Iterator[None]:
    """Hold the server-wide run lock for the block (see :data:`_RUN_LOCK`)."""
    with _RUN_LOCK:
        yield


def participant() -> str | None:
    """The participant chosen in the sidebar (``None`` before the picker ran)."""
    return st.session_state.get(PARTICIPANT_KEY)


def participant_tz() -> str | None:
    return st.session_state.get("participant_tz")
