"""The Days and triggers page: AppTest against the known store (tests/dashboards/store_data.py)
and the pure helpers behind it."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboards import charts, queries
from dashboards.format import days_table, profile_lines
from tests.dashboards.store_data import APP, P01_DAYS

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def p01_days(store) -> pl.DataFrame:
    return queries.run(store, queries.days, participant_id="P01")


def _days_page(participant: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    if participant:
        at.selectbox(key="participant_id").set_value(participant).run()
    return at.switch_page("app_pages/days.py").run()


def test_days_query_joins_the_night_after(p01_days):
    assert p01_days.get_column("local_date").to_list() == [d[0] for d in P01_DAYS]
    row = p01_days.row(4, named=True)  # 2026-01-08: the cramp night and the dehydration day
    assert row["cramp_episodes_night_after"] == 1
    assert row["cramp_label_night_after"] == "likely"
    assert row["journal_cramps_night_after"] == 1  # 03:25 on the 9th belongs to the 8th's night
    assert row["dehydration_label"] == "possible"
    others = p01_days.filter(pl.col("local_date") != date(2026, 1, 8))
    assert others.get_column("cramp_episodes_night_after").sum() == 0
    assert others.get_column("dehydration_label").null_count() == others.height
    # missing data stays NULL, never 0
    assert p01_days.row(5, named=True)["outdoor_hi_max_c"] is None
    assert p01_days.row(2, named=True)["fluid_logged_ml"] is None


def test_days_table_newest_first_with_labels(p01_days):
    table = days_table(p01_days)
    assert table.get_column("day").to_list() == [d[0] for d in reversed(P01_DAYS)]
    cramp_day = table.filter(pl.col("day") == date(2026, 1, 8)).row(0, named=True)
    assert cramp_day["cramps_night_after"] == "1 · likely; 1 in journal"
    assert cramp_day["dehydration"] == "possible (0.55)"
    assert cramp_day["magnesium"] == "uncertain · 78 %"
    assert cramp_day["fluid_log"] == "logged"
    quiet = table.filter(pl.col("day") == date(2026, 1, 6)).row(0, named=True)
    assert quiet["cramps_night_after"] is None
    assert quiet["fluid_log"] == "not logged"
    assert quiet["fluid_logged_ml"] is None
    assert quiet["magnesium"] is None


def test_days_table_shows_the_bedroom_only_with_an_indoor_sensor(p01_days):
    assert "bedroom_temp_max_c" not in days_table(p01_days).columns  # P01 has no sensor
    sensor = p01_days.with_columns(
        indoor_temp_max_c=pl.when(pl.col("local_date") == date(2026, 1, 8)).then(29.5),
        indoor_hi_ge_80f_h=pl.when(pl.col("local_date") == date(2026, 1, 8)).then(4),
    )
    table = days_table(sensor)
    hot = table.filter(pl.col("day") == date(2026, 1, 8)).row(0, named=True)
    assert hot["bedroom_temp_max_c"] == 29.5 and hot["bedroom_hours_hi_ge_80f"] == 4
    other = table.filter(pl.col("day") == date(2026, 1, 6)).row(0, named=True)
    assert other["bedroom_temp_max_c"] is None  # no reading that day: empty, not 0


def test_heat_bands_follow_the_nws_thresholds_in_fahrenheit():
    # 80 / 90 / 103 / 125 °F = 26.67 / 32.22 / 39.44 / 51.67 °C
    hi_c = [20.0, 26.6, 26.7, 32.3, 39.5, 51.7, None]
    out = pl.DataFrame({"hi": hi_c}).select(charts._heat_band(pl.col("hi"))).to_series()
    assert out.to_list() == [
        "below caution",
        "below caution",
        "caution",
        "extreme caution",
        "danger",
        "extreme danger",
        None,
    ]


def test_days_chart_panels_and_window(p01_days):
    window = (date(2026, 1, 5), date(2026, 1, 9))
    spec = charts.days_chart(charts.days_frame(p01_days), window).to_dict()
    titles = [panel["title"]["text"] for panel in spec["vconcat"]]
    assert len(titles) == 6
    assert titles[0].startswith("Cramp episodes") and titles[1].startswith("Outdoor heat index")
    datasets = spec["datasets"]
    # the window filters the rows the panels draw (5 of the 6 days)
    day_sets = [rows for rows in datasets.values() if rows and "heat_band" in rows[0]]
    assert day_sets and all(len(rows) == 5 for rows in day_sets)
    cramp_sets = [rows for rows in datasets.values() if rows and "row" in rows[0]]
    assert sorted(r["row"] for r in cramp_sets[0]) == ["detected", "journal"]


def _heat_marks(spec: dict) -> list[str]:
    heat = spec["vconcat"][1]
    return [
        layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]
        for layer in heat["layer"]
    ]


def test_days_chart_draws_the_bedroom_line_only_with_a_sensor(p01_days):
    window = (date(2026, 1, 5), date(2026, 1, 9))
    plain = charts.days_chart(charts.days_frame(p01_days), window).to_dict()
    assert "line" not in _heat_marks(plain)  # P01 has no indoor sensor
    sensor = p01_days.with_columns(
        indoor_hi_max_c=pl.when(pl.col("local_date") >= date(2026, 1, 7)).then(27.5)
    )
    spec = charts.days_chart(charts.days_frame(sensor), window).to_dict()
    assert spec["vconcat"][1]["title"]["text"].startswith(
        "Heat index, daily max (°C): outdoor (bars), bedroom sensor (line)"
    )
    assert "line" in _heat_marks(spec)
    line = next(
        layer
        for layer in spec["vconcat"][1]["layer"]
        if isinstance(layer["mark"], dict) and layer["mark"]["type"] == "line"
    )
    assert line["encoding"]["y"]["field"] == "indoor_hi_max_c"


def test_profile_lines_name_the_flagged_classes():
    lines = profile_lines(
        {
            "conditions": ["type 2 diabetes"],
            "medications": ["hydrochlorothiazide", "atorvastatin"],
            "cramp_drug_classes": ["thiazide_diuretic", "statin"],
            "cramp_condition_classes": ["type2_diabetes"],
        }
    )
    assert lines == [
        "**Conditions:** type 2 diabetes · cramp-associated: **type 2 diabetes**",
        "**Medications:** hydrochlorothiazide, atorvastatin · cramp-associated: "
        "**thiazide diuretic, statin**",
    ]
    assert (
        profile_lines({"conditions": None, "medications": []})[1] == "**Medications:** none listed"
    )


def test_days_page_shows_counts_profile_chart_and_table(app_env):
    at = _days_page()
    assert not at.exception
    assert at.title[0].value == "Days and triggers · P01"
    assert {m.label: m.value for m in at.metric} == {
        "Nights with cramp episodes": "1",
        "Days with heat index ≥ 80 °F": "2",
        "Days with fluids logged": "4 of 6",
        "Dehydration-condition days": "1",
    }
    markdown = " ".join(m.value for m in at.markdown)
    assert "cramp-associated: **thiazide diuretic, statin**" in markdown
    charts_ = at.get("vega_lite_chart")
    assert len(charts_) == 1
    assert len(json.loads(charts_[0].proto.spec)["vconcat"]) == 6
    assert at.dataframe[0].value.shape[0] == 6


def test_days_window_slider_narrows_counts(app_env):
    at = _days_page()
    at.slider(key="days_window_P01").set_value((date(2026, 1, 4), date(2026, 1, 7))).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Nights with cramp episodes"] == "0"
    assert metrics["Days with fluids logged"] == "3 of 4"
    assert at.dataframe[0].value.shape[0] == 4


def test_days_page_without_exposures_says_so(app_env):
    at = _days_page("P02")
    assert not at.exception
    assert at.title[0].value == "Days and triggers · P02"
    assert any("No daily exposures yet" in i.value for i in at.info)
    assert "**Medications:** none listed" in [m.value for m in at.markdown]


def _page_on_an_older_snapshot(fresh_store, monkeypatch, sql: str) -> AppTest:
    """The Days page on the fresh store's snapshot after ``sql`` made it look older."""
    import duckdb

    from pipeline.config import snapshot_path

    con = duckdb.connect(str(snapshot_path(fresh_store)))
    con.execute(sql)
    con.close()
    monkeypatch.setenv("CRAMPWATCH_DB", str(fresh_store))
    return _days_page()


def test_days_page_on_a_database_without_daily_exposures(fresh_store, monkeypatch):
    """A snapshot from before migration 0002 (no daily_exposures): a hint, not a traceback."""
    at = _page_on_an_older_snapshot(fresh_store, monkeypatch, "DROP TABLE daily_exposures")
    assert not at.exception
    assert any("predates daily exposures" in i.value for i in at.info)


def test_days_page_on_a_snapshot_from_before_a_newer_column(fresh_store, monkeypatch):
    """A snapshot written before migration 0005 (no indoor band hours): a hint to update."""
    at = _page_on_an_older_snapshot(
        fresh_store, monkeypatch, "ALTER TABLE daily_exposures DROP COLUMN indoor_hi_ge_80f_h"
    )
    assert not at.exception
    assert any("written by an older crampwatch" in i.value for i in at.info)


def test_missing_day_columns(fresh_store):
    import duckdb

    from pipeline.config import snapshot_path

    con = duckdb.connect(str(snapshot_path(fresh_store)))
    try:
        assert queries.missing_day_columns(con) == []
        con.execute("ALTER TABLE daily_exposures DROP COLUMN indoor_hi_ge_80f_h")
        assert queries.missing_day_columns(con) == ["indoor_hi_ge_80f_h"]
    finally:
        con.close()


def test_days_page_does_not_hide_a_real_binder_error(fresh_store, monkeypatch):
    """Only a snapshot that lacks a column gets the 'older crampwatch' hint; any other binder
    error in the query is a bug and must surface."""
    import duckdb

    def broken(con, participant_id):
        raise duckdb.BinderException('Referenced column "no_such_column" not found')

    broken.__name__ = "days"  # state.load looks the query up by name
    monkeypatch.setattr(queries, "days", broken)
    monkeypatch.setenv("CRAMPWATCH_DB", str(fresh_store))
    at = _days_page()
    assert at.exception and "no_such_column" in at.exception[0].message
    assert not any("older crampwatch" in i.value for i in at.info)
