"""NOAA ISD-Lite and LCD CSV importers (``pipeline.importers.noaa_isd_lite``).

No real ISD-Lite file exists in the shared data. ``725510-14939-2023`` is BUILT exactly to
NOAA's published *ISD-Lite format* (year, month, day, hour at columns 1-4, 6-7, 9-10, 12-13;
eight right-aligned 6-character integers; scaling factor 10; -9999 missing; trace -1) from the
REAL values of the NOAA LCD excerpt for the same station (Lincoln, NE airport, USAF 725510 /
WBAN 14939), 2023-01-01..03 local standard time (``make_station_fixtures.py``). The two LCD
fixtures are real files cut to whole days: Lincoln (v2 layout, metric) and Atlanta (older
layout, standard units, with trace ``T`` and suspect ``0.07s`` precipitation).

Expected values are computed here, independently of the importer: the ISD-Lite lines are cut
at NOAA's column positions; the LCD rows are read with :mod:`csv` and reduced to one report
per UTC hour as the module documents (routine FM-15 first, else the report nearest the hour).
"""

from __future__ import annotations

import csv
import gzip
import math
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from pipeline import ingest, store
from pipeline.importers import (
    ImportContext,
    ImportFormatError,
    noaa_isd_lite,
    read_head,
)
from tests.helpers import sniffing_formats

W2 = Path(__file__).resolve().parents[1] / "fixtures" / "weather2"
ISD = W2 / "725510-14939-2023"
LINCOLN = W2 / "LCD_USW00014939_LincolnNE_2023-01-01_03.csv"
ATLANTA = W2 / "LCD_72219013874_AtlantaGA_2020-01-01_02.csv"


def es(t: float) -> float:
    """Saturation vapour pressure, Magnus form with the BoM constants (research brief 1.1)."""
    return 6.105 * math.exp(17.27 * t / (237.7 + t))


def read(path: Path, ctx: ImportContext | None = None, reader=noaa_isd_lite.read) -> dict:
    out: dict[str, list[pl.DataFrame]] = {}
    for batch in reader(path, ctx or ImportContext(display_path=str(path))):
        out.setdefault(batch.table, []).append(batch.frame)
    return {table: pl.concat(frames) for table, frames in out.items()}


# ------------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("path", "fmt"),
    [(ISD, "noaa_isd_lite"), (LINCOLN, "noaa_lcd_csv"), (ATLANTA, "noaa_lcd_csv")],
    ids=lambda v: v.name if isinstance(v, Path) else v,
)
def test_each_sniff_recognises_only_its_own_fixture(path, fmt):
    head, name = read_head(path)
    assert sniffing_formats(head, name) == {fmt}


def test_fixture_lines_are_isd_lite_shaped():
    lines = ISD.read_text(encoding="ascii").splitlines()
    assert lines[1] == "2023 01 01 07   -33   -50 10102    10    26     0     0 -9999"
    assert {len(ln) for ln in lines} == {61}


# ------------------------------------------------------------------------------- ISD-Lite


def isd_expected() -> list[dict]:
    """The fixture cut at NOAA's column positions (1-based, inclusive)."""
    out = []
    for line in ISD.read_text(encoding="ascii").splitlines():

        def field(a: int, b: int, line: str = line) -> int:
            return int(line[a - 1 : b])

        vals = [field(a, a + 5) for a in range(14, 62, 6)]
        temp, dew, _slp, _wdir, wspd, _sky, p1, _p6 = (None if v == -9999 else v for v in vals)
        out.append(
            {
                "time_utc": datetime(
                    field(1, 4), field(6, 7), field(9, 10), field(12, 13), tzinfo=UTC
                ),
                "temp_c": temp / 10,
                "dew_point_c": dew / 10,
                "rh_pct": 100 * es(dew / 10) / es(temp / 10),
                "wind_speed_m_s": None if wspd is None else wspd / 10,
                "precipitation_mm": None if p1 is None else 0.0 if p1 == -1 else p1 / 10,
            }
        )
    return out


def _close(got: list, want: list) -> bool:
    return all(
        (g is None and w is None)
        or (g is not None and w is not None and math.isclose(g, w, abs_tol=1e-9))
        for g, w in zip(got, want, strict=True)
    )


def test_isd_lite_rows_match_the_fixed_width_fields():
    env = read(ISD)["environment"]
    exp = isd_expected()
    assert env.height == len(exp) == 73
    assert env["time_utc"].to_list() == [r["time_utc"] for r in exp]
    for col in ("temp_c", "dew_point_c", "rh_pct", "wind_speed_m_s", "precipitation_mm"):
        assert _close(env[col].to_list(), [r[col] for r in exp]), col
    assert set(env["location_id"]) == {"noaa:725510-14939"}
    assert set(env["source"]) == {"noaa-isd-lite"} and set(env["utc_offset_s"]) == {0}


def test_isd_lite_values_are_the_real_lcd_observations():
    """07Z is the 00:54 CST METAR (METAR KLNK 010654Z M03/M05): -3.3 / -5.0 °C, 2.6 m/s."""
    env = read(ISD)["environment"]
    row = env.filter(pl.col("time_utc") == datetime(2023, 1, 1, 7, tzinfo=UTC)).row(0, named=True)
    lcd = next(
        r
        for r in csv.DictReader(LINCOLN.open(encoding="utf-8"))
        if r["DATE"] == "2023-01-01T00:54:00"
    )
    assert (row["temp_c"], row["dew_point_c"], row["wind_speed_m_s"]) == (
        float(lcd["HourlyDryBulbTemperature"]),
        float(lcd["HourlyDewPointTemperature"]),
        float(lcd["HourlyWindSpeed"]),
    )


def test_isd_lite_gzip_and_zone(tmp_path):
    gz = tmp_path / "725510-14939-2023.gz"
    gz.write_bytes(gzip.compress(ISD.read_bytes()))
    assert noaa_isd_lite.sniff(*read_head(gz))
    ctx = ImportContext(participant_id="p01", tz="America/Chicago", display_path=str(gz))
    out = read(gz, ctx)
    assert (
        out["environment"]
        .drop("utc_offset_s")
        .equals(read(ISD)["environment"].drop("utc_offset_s"))
    )
    assert set(out["environment"]["utc_offset_s"]) == {-21600}
    assert out["participant_locations"].rows() == [("p01", "noaa:725510-14939")]


def test_isd_lite_rejects_with_reasons(tmp_path):
    lines = ISD.read_text(encoding="ascii").splitlines()[:4]
    lines[1] = lines[1][:13] + "   800" + lines[1][19:]  # 80.0 °C
    lines[2] = lines[2][:40]  # cut short
    lines.append("2023 13 01 10   -11   -28 10115   330    26     4     0 -9999")  # month 13
    lines.append("2023 01 01 11   -1x   -28 10115   330    26     4     0 -9999")
    lines.append(lines[0])  # the first hour again
    path = tmp_path / "725510-14939-2023"
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    out = read(path)
    assert out["environment"]["time_utc"].dt.hour().to_list() == [6, 9]
    reasons = dict(
        zip(out["rejected_rows"]["record_no"], out["rejected_rows"]["reason"], strict=True)
    )
    assert reasons[2] == "air_temperature = 800: temp_c 80.0 outside plausible range [-90, 60]"
    assert reasons[3].startswith("not an ISD-Lite line") and "found 40 characters" in reasons[3]
    assert reasons[5] == "time: 2023-13-01 10h is not a date and hour"
    assert reasons[6] == "air_temperature: -1x is not an integer"
    assert reasons[7] == "same hour as line 1"
    assert len(reasons) == 5


def test_isd_lite_needs_noaa_file_name(tmp_path):
    path = tmp_path / "lincoln.txt"
    shutil.copy(ISD, path)
    with pytest.raises(ImportFormatError, match=r"lincoln\.txt: .*<USAF>-<WBAN>-<year>"):
        read(path)


# ------------------------------------------------------------------------------------ LCD

F_TO_C = (5 / 9, -32 * 5 / 9)


def lcd_expected(path: Path, lst_h: int, metric: bool) -> list[dict]:
    """One row per UTC hour: FM-15 first, else the report nearest the hour (csv module)."""
    rows = list(csv.reader(path.open(encoding="utf-8")))
    head = rows[0]
    col = {h: head.index(h) for h in head}
    by_hour: dict[datetime, list] = {}
    for r in rows[1:]:
        if r[col["REPORT_TYPE"]].strip() in ("SOD", "SOM"):
            continue
        vals = {}
        for name, key in (
            ("temp_c", "HourlyDryBulbTemperature"),
            ("dew_point_c", "HourlyDewPointTemperature"),
            ("rh_pct", "HourlyRelativeHumidity"),
            ("precipitation_mm", "HourlyPrecipitation"),
            ("wind_speed_m_s", "HourlyWindSpeed"),
        ):
            text = r[col[key]].strip().removesuffix("s")
            if text in ("", "M"):
                vals[name] = None
            elif text == "T":
                vals[name] = 0.0
            else:
                v = float(text)
                if not metric:
                    v = {
                        "temp_c": (v - 32) * 5 / 9,
                        "dew_point_c": (v - 32) * 5 / 9,
                        "precipitation_mm": v * 25.4,
                        "wind_speed_m_s": v * 0.44704,
                    }.get(name, v)
                vals[name] = v
        if all(v is None for v in vals.values()):
            continue
        utc = (datetime.fromisoformat(r[col["DATE"]]) - timedelta(hours=lst_h)).replace(tzinfo=UTC)
        hour = (utc + timedelta(minutes=30)).replace(minute=0, second=0)
        rank = (r[col["REPORT_TYPE"]].strip() != "FM-15", abs(utc - hour))
        by_hour.setdefault(hour, []).append((rank, vals))
    return [{"time_utc": h, **min(c, key=lambda x: x[0])[1]} for h, c in sorted(by_hour.items())]


@pytest.mark.parametrize(
    ("path", "lst_h", "metric", "location", "n"),
    [
        (LINCOLN, -6, True, "noaa:USW00014939", 73),
        (ATLANTA, -5, False, "noaa:722190-13874", 48),
    ],
    ids=["lincoln-metric", "atlanta-standard"],
)
def test_lcd_hourly_rows_match_an_independent_reading(path, lst_h, metric, location, n):
    out = read(path, reader=noaa_isd_lite.read_lcd)
    env = out["environment"]
    exp = lcd_expected(path, lst_h, metric)
    assert env.height == len(exp) == n
    assert "rejected_rows" not in out
    assert env["time_utc"].to_list() == [r["time_utc"] for r in exp]
    for c in ("temp_c", "dew_point_c", "rh_pct", "precipitation_mm", "wind_speed_m_s"):
        assert _close(env[c].to_list(), [r[c] for r in exp]), c
    assert set(env["location_id"]) == {location}
    assert set(env["utc_offset_s"]) == {lst_h * 3600}  # the station's standard time


def test_lcd_units_flags_and_coordinates():
    lincoln = read(LINCOLN, reader=noaa_isd_lite.read_lcd)["environment"]
    assert (lincoln["latitude_deg"][0], lincoln["longitude_deg"][0]) == (40.8508, -96.7475)
    atlanta = read(ATLANTA, reader=noaa_isd_lite.read_lcd)["environment"]
    at = {r["time_utc"]: r for r in atlanta.iter_rows(named=True)}
    # 2020-01-02T21:52 EST = 03Z on the 3rd: "0.07s" (suspect flag) inches -> mm
    assert at[datetime(2020, 1, 3, 3, tzinfo=UTC)]["precipitation_mm"] == pytest.approx(0.07 * 25.4)
    # 04:52 EST = 10Z: trace precipitation "T" -> 0 mm
    assert at[datetime(2020, 1, 2, 10, tzinfo=UTC)]["precipitation_mm"] == 0.0
    # first hour: 40 °F, 9 mph
    first = at[datetime(2020, 1, 1, 6, tzinfo=UTC)]
    assert first["temp_c"] == pytest.approx((40 - 32) * 5 / 9)
    assert first["wind_speed_m_s"] == pytest.approx(9 * 0.44704)


def test_lcd_zone_used_only_when_it_is_the_stations(tmp_path):
    chicago = read(
        LINCOLN,
        ImportContext(tz="America/Chicago", display_path="x"),
        reader=noaa_isd_lite.read_lcd,
    )["environment"]
    assert set(chicago["utc_offset_s"]) == {-21600}  # CST in January, from the zone
    berlin = read(
        LINCOLN, ImportContext(tz="Europe/Berlin", display_path="x"), reader=noaa_isd_lite.read_lcd
    )["environment"]
    assert set(berlin["utc_offset_s"]) == {-21600}  # not the station's zone: LST kept


def test_lcd_without_metar_remarks_needs_a_zone(tmp_path):
    rows = list(csv.reader(LINCOLN.open(encoding="utf-8")))
    rem = rows[0].index("REM")
    path = tmp_path / "LCD_USW00014939.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        for r in rows:
            w.writerow(r[:rem] + ["" if r is not rows[0] else "REM"] + r[rem + 1 :])
    with pytest.raises(ImportFormatError, match=r"local standard time .* --timezone"):
        read(path, reader=noaa_isd_lite.read_lcd)
    out = read(
        path,
        ImportContext(tz="America/Chicago", display_path=str(path)),
        reader=noaa_isd_lite.read_lcd,
    )
    assert (
        out["environment"]["time_utc"].to_list()
        == read(LINCOLN, reader=noaa_isd_lite.read_lcd)["environment"]["time_utc"].to_list()
    )


def test_lcd_implausible_report_rejected_and_hour_filled_by_another(tmp_path):
    rows = list(csv.reader(LINCOLN.open(encoding="utf-8")))
    col = rows[0].index("HourlyDryBulbTemperature")
    hum = rows[0].index("HourlyRelativeHumidity")
    # 05:54 CST (12Z) METAR: 80 °C; 01:54 CST (08Z) METAR: 150 %
    i12 = next(i for i, r in enumerate(rows) if r[1] == "2023-01-01T05:54:00")
    i08 = next(i for i, r in enumerate(rows) if r[1] == "2023-01-01T01:54:00")
    synop = next(r for r in rows if r[1] == "2023-01-01T06:00:00" and r[6] == "FM-12")
    rows[i12][col] = "80"
    rows[i08][hum] = "150"
    path = tmp_path / "LCD_USW00014939.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    out = read(path, reader=noaa_isd_lite.read_lcd)
    rej = out["rejected_rows"]
    assert rej["record_no"].to_list() == [i08 + 1, i12 + 1]
    assert rej["reason"].to_list() == [
        "HourlyRelativeHumidity = 150: rh_pct 150.0 outside plausible range [0, 100]",
        "HourlyDryBulbTemperature = 80: temp_c 80.0 outside plausible range [-90, 60]",
    ]
    env = out["environment"]
    hours = env["time_utc"].to_list()
    assert env.height == 72 and datetime(2023, 1, 1, 8, tzinfo=UTC) not in hours
    # 12Z is filled by the 06:00 CST SYNOP instead of the rejected METAR
    at12 = env.filter(pl.col("time_utc") == datetime(2023, 1, 1, 12, tzinfo=UTC))
    assert at12["temp_c"].to_list() == [float(synop[col])]


# ------------------------------------------------------------------------ store round trip


def test_store_round_trip_reimport_adds_nothing(tmp_path):
    con = store.connect(tmp_path / "t.duckdb")
    isd = ingest.import_file(con, ISD, participant_id="p01")
    lcd = ingest.import_file(con, LINCOLN, participant_id="p01")
    assert (isd.format, isd.status, isd.rows_accepted) == ("noaa_isd_lite", "ok", 73)
    assert (lcd.format, lcd.status, lcd.rows_accepted) == ("noaa_lcd_csv", "ok", 73)
    counts = store.table_counts(con)
    for path in (ISD, LINCOLN):
        assert ingest.import_file(con, path, participant_id="p01").status == "already_imported"
    copy = tmp_path / "725510-14939-2023.gz"  # the same hours, other bytes
    copy.write_bytes(gzip.compress(ISD.read_bytes()))
    again = ingest.import_file(con, copy, participant_id="p01")
    assert (again.rows_accepted, again.rows_duplicate) == (0, 73)
    after = store.table_counts(con)
    assert {t: after[t] for t in after if t != "imports"} == {
        t: counts[t] for t in counts if t != "imports"
    }
    assert sorted(
        con.execute("SELECT participant_id, location_id FROM participant_locations").fetchall()
    ) == [("p01", "noaa:725510-14939"), ("p01", "noaa:USW00014939")]
