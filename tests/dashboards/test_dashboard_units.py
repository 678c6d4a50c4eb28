"""queries, format, charts and serve without Streamlit running."""

from __future__ import annotations

import http.server
import inspect
import json
import os
import socket
import sys
import threading
from datetime import date, datetime, timedelta
from pathlib import Path

import altair as alt
import polars as pl
import pytest

from dashboards import charts, queries
from dashboards.format import (
    dehydration_table,
    evidence_table,
    format_offset,
    humanize,
    md_escape,
    nights_table,
    split_unit,
)
from dashboards.serve import serve_command, wait_healthy
from tests.dashboards.store_data import APP, P01_CRAMP_NIGHT, P01_GAP_NIGHT

# ------------------------------------------------------------------------------ queries


def test_every_query_uses_bound_parameters_only():
    src = inspect.getsource(queries)
    assert ".format(" not in src
    for name in ("SUMMARY_SQL", "NIGHTS_SQL", "HEART_RATE_SQL", "JOURNAL_SQL", "DEHYDRATION_SQL"):
        assert "$pid" in getattr(queries, name)


def test_local_times_use_each_rows_offset(store):
    p01 = queries.run(store, queries.nights, participant_id="P01")
    p02 = queries.run(store, queries.nights, participant_id="P02")
    # both sleep at 22:30 local on their first night although 6 h apart in UTC
    assert p01.filter(pl.col("night_of") == date(2026, 1, 5))["sleep_start_local"][0] == datetime(
        2026, 1, 5, 22, 30
    )
    assert p02.filter(pl.col("night_of") == date(2026, 1, 4))["sleep_start_local"][0] == datetime(
        2026, 1, 4, 22, 30
    )


def test_journal_cramps_attach_to_nights_noon_to_noon(store):
    nights = queries.run(store, queries.nights, participant_id="P02")
    flagged = nights.filter(pl.col("journal_cramp"))["night_of"].to_list()
    # 2026-01-06 07:30 belongs to the night of the 5th; 2026-01-07 01:10 to the 6th;
    # the no_cramp entry does not count
    assert sorted(flagged) == [date(2026, 1, 5), date(2026, 1, 6)]


def test_nights_without_data_stay_null_not_zero(store):
    nights = queries.run(store, queries.nights, participant_id="P01")
    quiet = nights.filter(pl.col("night_of") == date(2026, 1, 9)).row(0, named=True)
    assert quiet["max_confidence"] is None and quiet["cramp_label"] is None
    assert quiet["dehydration_label"] is None and quiet["journal_max_severity"] is None


def test_night_detail_window_is_sleep_period_plus_minus_one_hour(store):
    d = queries.run(store, queries.night_detail, participant_id="P01", night_of=P01_CRAMP_NIGHT)
    assert d["window_start_local"] == datetime(2026, 1, 8, 22, 0)
    assert d["window_end_local"] == datetime(2026, 1, 9, 8, 0)
    assert d["utc_offset_s"] == 3600
    hr = d["heart_rate"]
    assert hr["time_local"].min() >= d["window_start_local"]
    assert hr["time_local"].max() < d["window_end_local"]
    assert d["episodes"]["start_local"].to_list() == [datetime(2026, 1, 9, 3, 10)]
    assert d["journal"]["time_local"].to_list() == [datetime(2026, 1, 9, 3, 25)]
    assert "awake" in d["stages"]["stage"].to_list()


def test_night_without_any_data_has_no_detail(store):
    assert (
        queries.run(store, queries.night_detail, participant_id="P01", night_of=date(2025, 6, 1))
        is None
    )


def test_heart_rate_gap_is_a_gap_in_the_chart_data(store):
    d = queries.run(store, queries.night_detail, participant_id="P01", night_of=P01_GAP_NIGHT)
    hr = d["heart_rate"]
    assert hr["heart_rate_bpm"].min() > 0  # nothing filled with zeros
    seg = charts.hr_segments(hr)
    assert seg["segment"].n_unique() == 2
    assert seg.height == hr.height  # no invented rows


def test_data_version_changes_when_a_snapshot_is_published(fresh_store):
    from pipeline.store import connect, publish_snapshot

    before = queries.data_version(fresh_store)
    con = connect(fresh_store)
    try:
        publish_snapshot(con, fresh_store)
    finally:
        con.close()
    assert queries.data_version(fresh_store) != before
    assert queries.data_version(fresh_store.with_name("nothing.duckdb")) is None


# ------------------------------------------------------------------------------ format


@pytest.mark.parametrize(
    "key, name, unit",
    [
        ("hr_rise_bpm", "hr_rise", "bpm"),
        ("sweat_loss_pct_bm", "sweat_loss", "% body mass"),
        ("body_mass_change_pct", "body_mass_change", "%"),
        ("heat_index_max_f", "heat_index_max", "°F"),
        ("wind_speed_m_s", "wind_speed", "m/s"),
        ("steps_total", "steps_total", ""),
    ],
)
def test_split_unit(key, name, unit):
    assert split_unit(key) == (name, unit)


def test_humanize_reads_like_a_label():
    assert humanize("hours_hi_ge_80f") == "Hours HI ≥ 80 °F"
    assert humanize("hr_rise") == "HR rise"


def test_evidence_table_flattens_nested_and_keeps_missing_visible():
    table = evidence_table(
        json.dumps({"hr_rise_bpm": 12.345, "quality": {"hr_missing_pct": None}, "walk": False})
    )
    rows = {r["key"]: r for r in table.iter_rows(named=True)}
    assert rows["hr_rise_bpm"]["value"] == "12.35"
    assert rows["quality.hr_missing_pct"] == {
        "signal": "Quality HR missing",
        "value": "—",
        "unit": "%",
        "key": "quality.hr_missing_pct",
        "detail": True,
    }
    assert rows["walk"]["value"] == "no" and rows["walk"]["detail"] is False
    assert evidence_table("not json")["key"].to_list() == ["raw"]


def test_dehydration_table_picks_headline_evidence_and_drops_unreported_concepts():
    days = pl.DataFrame(
        {
            "local_date": [date(2025, 8, 10)],
            "label": ["likely"],
            "confidence": [0.75],
            "evidence": [
                json.dumps(
                    {
                        "level": "likely_fluid_deficit",
                        "hi_max_f": 88.4,
                        "exposed_hi_ge_80f_h": 3.0,
                        "sweat_pct_bm": 1.03,
                        "deficit_pct_bm": 1.19,
                        "mass_change_pct": -2.81,
                        "deficit_estimate_pct_bm": 2.81,
                        "deficit_estimate_source": "next_morning_mass",
                        "corroboration": "supported",
                        "water_ml": 1510.0,
                    }
                )
            ],
            "outdoor_temp_max_c": [31.04],
            "outdoor_apparent_temp_max_c": [None],
            "outdoor_rh_mean_pct": [55.0],
        }
    )
    row = dehydration_table(days).row(0, named=True)
    assert row == {
        "day": date(2025, 8, 10),
        "label": "likely",
        "confidence": 0.75,
        "Level detail": "likely fluid deficit",
        "Deficit estimate (% body mass)": 2.81,
        "Estimated from": "next morning mass",
        "Heat index max (°F)": 88.4,
        "Hours HI ≥ 80 °F": 3.0,
        "Sweat (% body mass)": 1.03,
        "Fluid deficit (% body mass)": 1.19,
        "Body-mass change (%)": -2.81,
        "Corroboration": "supported",
        "Outdoor temp max (°C)": 31.0,
        "Outdoor RH mean (%)": 55.0,
    }


def test_md_escape_neutralises_links_and_images():
    text = md_escape("![x](http://example.com/a.png) *bold* <b>")
    assert "](" not in text.replace("\\]\\(", "")
    assert text.startswith("\\!\\[")


def test_format_offset():
    assert format_offset(3600) == "UTC+01:00"
    assert format_offset(-5 * 3600 - 1800) == "UTC-05:30"


def test_nights_table_keeps_gaps_for_nights_without_sleep_data():
    frame = pl.DataFrame(
        {
            "night_of": [date(2026, 1, 2)],
            "sleep_start_local": [None],
            "sleep_end_local": [None],
            "asleep_h": [None],
            "awake_min": [None],
            "cramp_episodes": [0],
            "max_confidence": [None],
            "cramp_label": [None],
            "journal_cramp": [True],
            "journal_max_severity": [5],
            "dehydration_day_before": [False],
            "dehydration_label": [None],
            "dehydration_confidence": [None],
            "has_sleep_data": [False],
        },
        schema_overrides={
            "sleep_start_local": pl.Datetime,
            "sleep_end_local": pl.Datetime,
            "asleep_h": pl.Float64,
            "awake_min": pl.Float64,
            "max_confidence": pl.Float64,
            "cramp_label": pl.String,
            "dehydration_label": pl.String,
            "dehydration_confidence": pl.Float64,
        },
    )
    row = nights_table(frame).row(0, named=True)
    assert row["sleep_local"] is None and row["asleep_h"] is None
    assert row["cramp_episodes"] is None  # unknown without sleep data, not "none detected"


# ------------------------------------------------------------------------------ charts


def test_night_chart_is_pure_and_uses_a_utc_scale_on_local_time(store):
    d = queries.run(store, queries.night_detail, participant_id="P01", night_of=P01_CRAMP_NIGHT)
    chart = charts.night_chart(
        d["heart_rate"],
        d["stages"],
        d["episodes"],
        d["journal"],
        (d["window_start_local"], d["window_end_local"]),
    )
    assert isinstance(chart, alt.VConcatChart)
    spec = chart.to_dict()
    x = spec["vconcat"][0]["layer"][0]["encoding"]["x"]
    assert x["scale"]["type"] == "utc"
    assert x["scale"]["domain"][0] == {
        "year": 2026,
        "month": 1,
        "date": 8,
        "hours": 22,
        "minutes": 0,
        "seconds": 0,
        "utc": True,
    }
    assert spec["autosize"] == {"type": "fit-x", "contains": "padding"}
    src = inspect.getsource(charts)
    assert "import streamlit" not in src and "duckdb" not in src


def test_cached_night_chart_spec_is_what_altair_chart_would_send(store):
    """state.vega_lite_spec skips Altair's validation (runtime) but must give the very spec
    ``st.altair_chart`` builds with it on; the chart itself still validates here."""
    from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

    from dashboards import state

    d = queries.run(store, queries.night_detail, participant_id="P01", night_of=P01_CRAMP_NIGHT)

    def build():
        return charts.night_chart(
            d["heart_rate"],
            d["stages"],
            d["episodes"],
            d["journal"],
            (d["window_start_local"], d["window_end_local"]),
            time_title="local time (UTC+01:00)",
        )

    validated = _convert_altair_to_vega_lite_spec(build())
    assert state.vega_lite_spec(build) == validated
    assert validated["datasets"] and all(
        isinstance(b, bytes) for b in validated["datasets"].values()
    )
    from altair.utils.schemapi import DEBUG_MODE

    assert DEBUG_MODE  # switched back on after the unvalidated build


def test_night_chart_accepts_empty_frames():
    empty = queries_empty_detail()
    window = (datetime(2026, 1, 1, 22), datetime(2026, 1, 2, 8))
    chart = charts.night_chart(
        empty["hr"], empty["stages"], empty["episodes"], empty["journal"], window
    )
    chart.to_dict()  # validates against the Vega-Lite schema


def queries_empty_detail() -> dict[str, pl.DataFrame]:
    ts = pl.Datetime("us")
    return {
        "hr": pl.DataFrame(schema={"time_local": ts, "heart_rate_bpm": pl.Float64}),
        "stages": pl.DataFrame(schema={"stage": pl.String, "start_local": ts, "end_local": ts}),
        "episodes": pl.DataFrame(
            schema={
                "start_local": ts,
                "end_local": ts,
                "label": pl.String,
                "confidence": pl.Float64,
            }
        ),
        "journal": pl.DataFrame(
            schema={"time_local": ts, "kind": pl.String, "severity": pl.Int32, "note": pl.String}
        ),
    }


def test_hr_axis_never_magnifies_small_wiggles():
    flat = pl.DataFrame({"heart_rate_bpm": [55.0, 57.0]})
    assert charts.hr_domain(flat) == [45.0, 90.0]
    high = pl.DataFrame({"heart_rate_bpm": [38.0, 131.0]})
    assert charts.hr_domain(high) == [30.0, 140.0]


def test_hr_segments_break_after_long_gaps():
    t0 = datetime(2026, 1, 1, 23)
    times = [t0 + timedelta(minutes=m) for m in (0, 5, 10, 40, 45, 120)]
    seg = charts.hr_segments(pl.DataFrame({"time_local": times, "heart_rate_bpm": [60.0] * 6}))
    assert seg["segment"].to_list() == [0, 0, 0, 1, 1, 2]
    assert seg["isolated"].to_list() == [False] * 5 + [True]


# ------------------------------------------------------------------------------ serve


def test_serve_command(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv, env = serve_command("rel/store.duckdb", port=8600)
    assert argv == [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        "8600",
        "--server.fileWatcherType",
        "none",
        "--client.toolbarMode",
        "viewer",
    ]
    assert Path(argv[4]).is_absolute()
    assert env["CRAMPWATCH_DB"] == str(tmp_path / "rel" / "store.duckdb")
    assert env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] == "false"
    assert env["PATH"] == os.environ["PATH"]  # a complete environment for Popen(env=...)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_wait_healthy_polls_until_ok_and_times_out():
    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200 if self.path == "/_stcore/health" else 404)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        wait_healthy(f"http://127.0.0.1:{server.server_port}", timeout_s=5)
        wait_healthy(f"http://127.0.0.1:{server.server_port}/_stcore/health", timeout_s=5)
    finally:
        server.shutdown()
    with pytest.raises(TimeoutError):
        wait_healthy(f"http://127.0.0.1:{_free_port()}", timeout_s=0.5)


def test_journal_only_night_is_listed_and_gets_an_evening_window(fresh_store):
    from pipeline.store import connect, publish_snapshot

    con = connect(fresh_store)
    try:
        con.execute(
            "INSERT INTO journal (participant_id, time_utc, utc_offset_s, kind, severity)"
            " VALUES ('P01', TIMESTAMPTZ '2026-03-01 02:00:00+00', 3600, 'cramp', 5)"
        )
        publish_snapshot(con, fresh_store)
    finally:
        con.close()
    nights = queries.run(fresh_store, queries.nights, participant_id="P01")
    row = nights.row(0, named=True)
    assert (row["night_of"], row["has_sleep_data"], row["journal_cramp"]) == (
        date(2026, 2, 28),
        False,
        True,
    )
    assert row["sleep_start_local"] is None and row["asleep_h"] is None
    d = queries.run(
        fresh_store, queries.night_detail, participant_id="P01", night_of=date(2026, 2, 28)
    )
    assert d["sleep_period"] is None
    assert (d["window_start_local"], d["window_end_local"]) == (
        datetime(2026, 2, 28, 20),
        datetime(2026, 3, 1, 10),
    )
    assert d["journal"]["time_local"].to_list() == [datetime(2026, 3, 1, 3, 0)]
