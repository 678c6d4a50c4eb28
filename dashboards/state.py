"""Streamlit-side glue shared by the entrypoint and the pages: database path, cached reads,
the chosen participant.

Query *results* are cached (``st.cache_data``), keyed on the identity of the published snapshot
(inode, mtime, size), so a new publish is picked up on the next rerun; connections are never
cached (see ``dashboards/queries.py``). The night chart's finished Vega-Lite spec is cached the
same way (:func:`night_chart_spec`): building and converting it was most of a page's server time.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import altair as alt
import streamlit as st
from altair.utils.schemapi import debug_mode
from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

from dashboards import charts, queries
from pipeline.config import resolve_db, snapshot_path

T = TypeVar("T")

PARTICIPANT_KEY = "participant_id"
CACHE_TTL_S = 600


class FifoLock:
    """A lock handed to its waiters in arrival order (``threading.Lock`` is not fair: under
    load a session could wait through many others' runs, which showed in the p95 page time)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Event] = deque()
        self._held = False

    def acquire(self) -> None:
        with self._mutex:
            if not self._held:
                self._held = True
                return
            turn = threading.Event()
            self._waiters.append(turn)
        turn.wait()  # release() hands the lock over: still held, now by this thread

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().set()
            else:
                self._held = False

    def __enter__(self) -> FifoLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


#: one script run at a time per server process. With about 20 sessions rerunning at once the
#: server deadlocked for good (no health answer, no websocket pings; every thread waiting for
#: the GIL or for polars' or pyarrow's thread pool: polars frames converted to pandas and
#: unpickled from the cache in several threads at once, as in polars issue #27396); found by
#: benchmarks/dashboard.py. Runs are CPU-bound in one interpreter anyway, and one at a time
#: the event loop (pings, sending the pages) no longer starves for the GIL. The whole run holds
#: it: nearly every step of a page touches polars or pyarrow (queries, cache reads, tables,
#: charts), and Altair's settings are process-wide (:func:`vega_lite_spec`).
_RUN_LOCK = FifoLock()


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


class _Unvalidated:
    """An Altair chart whose ``to_dict()`` skips the JSON-schema validation."""

    def __init__(self, chart: alt.TopLevelMixin) -> None:
        self.chart = chart

    def to_dict(self) -> dict:
        return self.chart.to_dict(validate=False)


def vega_lite_spec(build: Callable[[], alt.TopLevelMixin]) -> dict:
    """The spec ``st.altair_chart(build())`` would send (datasets as Arrow bytes), for
    ``st.vega_lite_chart``; built without Altair's schema validation, which cost about as much
    as building the chart. The builders are validated by the tests
    (``tests/dashboards/test_dashboard_units.py``), where Altair's checks stay on.

    ``debug_mode`` is a process-wide Altair switch: fine here, as script runs take turns.
    """
    with debug_mode(False):
        return _convert_altair_to_vega_lite_spec(_Unvalidated(build()))


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False, max_entries=256)
def _night_chart_spec(
    path: str, version: tuple | None, participant_id: str, night_of: date, time_title: str
) -> dict | None:
    # the detail through the result cache under the same snapshot identity: a chart cached for
    # a version is always built from that version's rows
    detail = _cached(
        "night_detail",
        path,
        version,
        tuple(sorted({"participant_id": participant_id, "night_of": night_of}.items())),
    )
    if detail is None:
        return None
    return vega_lite_spec(
        lambda: charts.night_chart(
            detail["heart_rate"],
            detail["stages"],
            detail["episodes"],
            detail["journal"],
            (detail["window_start_local"], detail["window_end_local"]),
            time_title=time_title,
        )
    )


def night_chart_spec(participant_id: str, night_of: date, *, time_title: str) -> dict | None:
    """Vega-Lite spec of :func:`dashboards.charts.night_chart` for a night (``None``: no data),
    cached per (snapshot identity, participant, night, axis title) like :func:`load`."""
    path = db_path()
    return _night_chart_spec(
        str(path), queries.data_version(path), participant_id, night_of, time_title
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
