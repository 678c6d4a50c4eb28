"""crampwatch dashboard entrypoint: ``streamlit run dashboards/app.py``.

Sets up the page, the navigation (pages live in ``dashboards/app_pages/``) and the shared
sidebar with the participant picker, then runs the chosen page. The database is
``$CRAMPWATCH_DB`` (default ``./crampwatch.duckdb``); the dashboard reads its published
read-only snapshot and never writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

try:  # `streamlit run` puts this file's folder on sys.path, not the repository root
    import dashboards  # noqa: F401
except ModuleNotFoundError:  # pragma: no cover - only when the package is not installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb
import streamlit as st

from dashboards import queries, state
from pipeline.store import LOCK_ERROR

HERE = Path(__file__).resolve().parent

st.set_page_config(page_title="crampwatch", layout="wide")

PAGES = [
    st.Page(str(HERE / "app_pages" / "nights.py"), title="Nights", url_path="nights", default=True),
    st.Page(str(HERE / "app_pages" / "days.py"), title="Days and triggers", url_path="days"),
    # later: st.Page(... "episodes.py", title="Episode review")
]
page = st.navigation(PAGES, position="sidebar")

NO_DATA_HINT = (
    "Create one with `crampwatch demo` (synthetic participants), or import your exports with "
    "`crampwatch ingest <files>`; then reload this page."
)


def _stop_with_info(message: str) -> None:
    st.title("crampwatch")
    st.info(message)
    st.stop()


def _participants():
    """Participants from the database, or a friendly stop when there is nothing to show."""
    path = state.db_path()
    if not state.database_exists(path):
        _stop_with_info(f"No crampwatch database at `{path}` yet. {NO_DATA_HINT}")
    try:
        people = state.load(queries.participants)
    except duckdb.IOException as exc:
        if LOCK_ERROR in str(exc):
            st.title("crampwatch")
            st.warning(
                "The database is busy (an import is running and no snapshot has been "
                "published yet). Reload in a minute."
            )
            st.stop()
        _stop_with_info(f"`{path}` is not a readable crampwatch database ({exc}). {NO_DATA_HINT}")
    except duckdb.CatalogException:
        _stop_with_info(f"The database at `{path}` has no crampwatch tables yet. {NO_DATA_HINT}")
    if people.height == 0:
        _stop_with_info(f"The database at `{path}` has no participants yet. {NO_DATA_HINT}")
    return people


def sidebar(people) -> None:
    ids = people.get_column("participant_id").to_list()
    tz = dict(zip(ids, people.get_column("tz").to_list(), strict=True))
    if st.session_state.get(state.PARTICIPANT_KEY) not in ids:
        st.session_state.pop(state.PARTICIPANT_KEY, None)
    with st.sidebar:
        st.selectbox(
            "Participant",
            ids,
            key=state.PARTICIPANT_KEY,
            format_func=lambda pid: f"{pid} · {tz[pid] or 'time zone unknown'}",
            help="Times on every page are shown in this participant's local time.",
        )
        st.session_state["participant_tz"] = tz[st.session_state[state.PARTICIPANT_KEY]]
        source = state.data_source(state.db_path())
        if source is not None:
            st.caption(f"Data: `{source[0].name}`, written {source[1]:%Y-%m-%d %H:%M %Z}")
        st.caption(
            "“Likely” and “possible” are detector confidence bands (≥ 0.7 and "
            "0.4–0.7), not diagnoses. Discuss symptoms with a clinician."
        )


with state.one_run_at_a_time():  # polars and pyarrow deadlock across concurrent runs
    sidebar(_participants())
    page.run()
