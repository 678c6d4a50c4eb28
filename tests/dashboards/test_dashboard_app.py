"""The dashboard driven headlessly with Streamlit's AppTest (no browser)."""

from __future__ import annotations

import json
from datetime import datetime

import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from dashboards import charts
from pipeline.store import connect, publish_snapshot
from tests.dashboards.store_data import APP, EXPECTED, P01, _journal

METRIC_LABELS = {
    "nights": "Nights with sleep data",
    "cramp_nights": "Nights with cramp episodes",
    "dehydration_days": "Dehydration-condition days",
    "journal_cramps": "Journal-reported cramps",
}


def _app() -> AppTest:
    return AppTest.from_file(str(APP), default_timeout=30)


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _expected(pid: str) -> dict[str, str]:
    return {METRIC_LABELS[k]: str(v) for k, v in EXPECTED[pid].items()}


def _chart(at: AppTest):
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1
    return charts[0]


def _select_night_row(at: AppTest, pid: str, row: int) -> AppTest:
    at.session_state[f"nights_table_{pid}"] = {
        "selection": {"rows": [row], "columns": [], "cells": []}
    }
    return at.run()


def test_first_participant_headline_counts(app_env):
    at = _app().run()
    assert not at.exception
    assert at.title[0].value == "Nights · P01"
    assert _metrics(at) == _expected("P01")
    assert at.selectbox(key="participant_id").value == "P01"


def test_switching_participant_changes_counts_and_persists(app_env):
    at = _app().run()
    at.selectbox(key="participant_id").set_value("P02").run()
    assert not at.exception
    assert at.title[0].value == "Nights · P02"
    assert _metrics(at) == _expected("P02")
    at.run()  # a plain rerun keeps the choice (session state)
    assert _metrics(at) == _expected("P02")


def test_participant_picker_shows_id_and_time_zone(app_env):
    at = _app().run()
    picker = at.selectbox(key="participant_id")
    assert picker.options == ["P01 · Europe/Berlin", "P02 · America/New_York"]


def test_nights_table_newest_first_with_flags(app_env):
    at = _app().run()
    table = at.dataframe[0].value
    assert [str(d)[:10] for d in table["night_of"]] == [
        "2026-01-09",
        "2026-01-08",
        "2026-01-07",
        "2026-01-06",
        "2026-01-05",
    ]
    cramp = table.iloc[1]
    assert cramp["sleep_local"] == "23:00 – 07:00"
    assert cramp["cramp_episodes"] == "1 · likely"
    assert cramp["max_confidence"] == pytest.approx(0.82)
    assert bool(cramp["journal_cramp"]) is True
    assert cramp["dehydration_day_before"] == "possible (0.55)"
    quiet = table.iloc[0]
    assert quiet["cramp_episodes"] == "none detected"
    assert bool(quiet["journal_cramp"]) is False


def test_default_night_shows_chart_with_data(app_env):
    at = _app().run()
    assert at.subheader[0].value.startswith("Fri 9 Jan 2026")
    chart = _chart(at)
    assert chart.proto.datasets, "chart has no data"
    assert any(len(ds.data.data) > 0 for ds in chart.proto.datasets)
    spec = json.loads(chart.proto.spec)
    assert len(spec["vconcat"]) == 2  # heart rate above, hypnogram below


def test_choosing_the_cramp_night_shows_episode_evidence_and_journal(app_env):
    at = _select_night_row(_app().run(), "P01", 1)
    assert not at.exception
    assert at.subheader[0].value.startswith("Thu 8 Jan 2026")
    chart = _chart(at)
    marks = [layer["mark"]["type"] for layer in json.loads(chart.proto.spec)["vconcat"][0]["layer"]]
    assert {"rect", "line", "rule", "text"} <= set(marks)
    markdown = " ".join(m.value for m in at.markdown)
    assert "Likely cramp episode · confidence **0.82** · 03:10–03:18 local (8 min)" in markdown
    assert "03:25 · **cramp** · severity 6/10 · right calf" in markdown
    evidence = at.dataframe[1].value
    row = evidence.set_index("key").loc["hr_rise_bpm"]
    assert (row["signal"], row["value"], row["unit"]) == ("HR rise", "21.5", "bpm")


def test_flagged_nights_filter(app_env):
    at = _app().run()
    at.toggle(key="nights_flagged_only_P01").set_value(True).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert [str(d)[:10] for d in table["night_of"]] == ["2026-01-08"]
    assert at.subheader[0].value.startswith("Thu 8 Jan 2026")
    assert _metrics(at) == _expected("P01")  # the headline counts do not depend on it


def test_dehydration_tab_lists_days_with_evidence(app_env):
    at = _app().run()
    dehydration = at.tabs[1]
    table = dehydration.dataframe[0].value
    assert len(table) == 1
    assert table["Heat index max (°F)"][0] == pytest.approx(91.2)
    assert table["Hours HI ≥ 80 °F"][0] == pytest.approx(3)
    assert table["Body-mass change (%)"][0] == pytest.approx(-1.1)
    assert table["Sweat (% body mass)"][0] == pytest.approx(1.4)
    assert table["Fluid deficit (% body mass)"][0] == pytest.approx(1.2)
    assert table["Outdoor temp max (°C)"][0] == pytest.approx(32.0)
    assert table["label"][0] == "possible"
    # the selected day's full evidence, with units
    evidence = dehydration.dataframe[1].value.set_index("key")
    assert tuple(evidence.loc["fluid_deficit_pct_bm", ["signal", "value", "unit"]]) == (
        "Fluid deficit",
        "1.2",
        "% body mass",
    )


def test_participant_without_dehydration_days_gets_a_message(app_env):
    at = _app().run()
    at.selectbox(key="participant_id").set_value("P02").run()
    assert any("No dehydration-condition days" in i.value for i in at.tabs[1].info)


@pytest.mark.parametrize("case", ["missing", "empty_store", "not_a_database"])
def test_no_usable_database_shows_info_not_exception(tmp_path, monkeypatch, case):
    db = tmp_path / "crampwatch.duckdb"
    if case == "empty_store":
        con = connect(db)
        publish_snapshot(con, db)
        con.close()
    elif case == "not_a_database":
        db.write_bytes(b"")
    monkeypatch.setenv("CRAMPWATCH_DB", str(db))
    at = _app().run()
    assert not at.exception
    assert len(at.info) == 1
    assert "crampwatch demo" in at.info[0].value and "crampwatch ingest" in at.info[0].value
    assert not at.metric


def test_nights_say_how_the_sleep_period_was_found(fresh_store, monkeypatch):
    """Issue 13, "shown as fact": a period found from movement alone (no heart rate) is
    labelled as such, with a warning that it is often hours too long; others say how."""
    con = connect(fresh_store)
    con.execute(
        "UPDATE sleep_periods SET method = 'cole1992' WHERE participant_id = 'P01' "
        "AND night_of = DATE '2026-01-09'"
    )
    con.execute(
        "UPDATE sleep_periods SET method = 'cole1992+hr' WHERE participant_id = 'P01' "
        "AND night_of = DATE '2026-01-08'"
    )
    publish_snapshot(con, fresh_store)
    con.close()
    monkeypatch.setenv("CRAMPWATCH_DB", str(fresh_store))
    at = _app().run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["sleep_from"][:3]) == [
        "movement only",
        "movement + heart rate",
        "device stages",
    ]
    # the newest night (selected by default) is the movement-only one
    captions = " ".join(c.value for c in at.caption)
    assert "found from movement only, no heart rate" in captions
    (warning,) = at.warning
    assert "often hours too long" in warning.value and "asleep" in warning.value
    at = _select_night_row(at, "P01", 2)
    assert not at.warning
    assert "found from the device's own sleep stages" in " ".join(c.value for c in at.caption)


def _chart_rows(at: AppTest) -> list[dict]:
    """Every row of every dataset of the page's chart (Arrow IPC streams on the proto)."""
    rows = []
    for ds in _chart(at).proto.datasets:
        rows += pa.ipc.open_stream(ds.data.data).read_all().to_pylist()
    return rows


def test_night_chart_and_data_are_cached_until_a_new_snapshot_is_published(
    fresh_store, monkeypatch
):
    """The night's chart is built once per snapshot (state.night_chart_spec); a publish with
    new rows for the night shows them on the next rerun, in the chart and in the journal."""
    builds = []
    real = charts.night_chart
    monkeypatch.setattr(charts, "night_chart", lambda *a, **k: builds.append(1) or real(*a, **k))
    monkeypatch.setenv("CRAMPWATCH_DB", str(fresh_store))
    at = _app().run()
    assert at.subheader[0].value.startswith("Fri 9 Jan 2026")
    assert len(builds) == 1
    assert not any(r.get("note") == "woke up" for r in _chart_rows(at))
    at.run()
    assert len(builds) == 1  # same snapshot: the cached spec
    assert not any("left calf" in m.value for m in at.markdown)

    con = connect(fresh_store)
    _journal(con, P01, datetime(2026, 1, 10, 2, 40), "cramp", 7, "left", "calf", "woke up")
    publish_snapshot(con, fresh_store)
    con.close()

    at.run()
    assert not at.exception
    assert len(builds) == 2  # new snapshot: built again from its rows
    journal_rows = [r for r in _chart_rows(at) if r.get("note") == "woke up"]
    assert [r["caption"] for r in journal_rows] == ["journal: cramp 7/10"]
    markdown = " ".join(m.value for m in at.markdown)
    assert "02:40 · **cramp** · severity 7/10 · left calf" in markdown
