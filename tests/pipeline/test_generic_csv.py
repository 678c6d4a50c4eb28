"""Generic measurement CSV importer: real Fitbit values (Fitabase) in the generic layout, and a
hand-made file with every awkward case.

The real fixture's expectations are computed here from the CSV with the ``csv`` module and
``zoneinfo`` (local wall-clock times in America/New_York, the zone assumed for the Fitabase
data); unit factors are written out; canonical units are read from ``docs/data-model.md``.
"""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from pipeline import normalize, store
from pipeline.importers import ImportContext, ImportFormatError, detect_format, generic_csv
from pipeline.importers.open_meteo import METRICS as ENVIRONMENT_METRICS
from pipeline.ingest import import_file

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "generic_csv" / "fitabase_8877689391_generic.csv"
NY = "America/New_York"
CTX = ImportContext(participant_id="p01", tz=NY)
LB_KG = 0.45359237  # exact by definition


def read_all(path: Path, ctx: ImportContext = CTX) -> dict[str, pl.DataFrame]:
    frames: dict[str, list[pl.DataFrame]] = {}
    for batch in generic_csv.read(path, ctx):
        frames.setdefault(batch.table, []).append(batch.frame)
    return {t: pl.concat(f) for t, f in frames.items()}


def write(tmp_path: Path, text: str, name: str = "g.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------ metric tables


def test_sample_units_agree_with_the_data_model():
    doc = (REPO / "docs" / "data-model.md").read_text(encoding="utf-8")
    table = doc.split("Metrics:", 1)[1].split("\n## ", 1)[0]
    documented = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.split("|")[1:-1]]
        if len(cells) >= 2 and cells[0] not in ("metric", "---") and not cells[0].startswith("-"):
            for name in re.findall(r"[a-z_0-9]+", cells[0]):
                documented[name] = cells[1]
    for name, unit in documented.items():
        if name in generic_csv.SAMPLE_UNITS:
            assert generic_csv.SAMPLE_UNITS[name] == unit, name
    # every sample metric with a plausible range has a canonical unit, and vice versa
    body = set(normalize.PLAUSIBLE_RANGES) - set(ENVIRONMENT_METRICS)
    assert body <= set(generic_csv.SAMPLE_UNITS)
    assert set(generic_csv.sample_metrics()) == set(generic_csv.SAMPLE_UNITS)


# ------------------------------------------------------------------------------ detection


def test_sniff_accepts_any_column_order_and_only_known_columns():
    for header in (
        "timestamp,metric,value,unit",
        "metric,value,unit,timestamp,source",
        "timestamp,metric,value,unit,end_timestamp,source,device",
        '\ufeff"timestamp","metric","value","unit"',
    ):
        assert generic_csv.sniff((header + "\r\n").encode(), "x.csv"), header
    for header in (
        "timestamp,metric,value",
        "timestamp,metric,value,unit,extra",
        "timestamp,metric,value,unit,unit",
        "time,kind",
    ):
        assert not generic_csv.sniff((header + "\n").encode(), "x.csv"), header
    assert detect_format(FIXTURE) is generic_csv


# ------------------------------------------------------------------------------ real values


def test_fitabase_values_in_the_generic_layout():
    zi = ZoneInfo(NY)
    with open(FIXTURE, newline="") as fh:
        rows = list(csv.DictReader(fh))

    def utc(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=zi).astimezone(UTC)

    out = read_all(FIXTURE)
    assert "rejected_rows" not in out
    smp = out["samples"]
    assert smp.height == len(rows) == 1248
    for metric_name in ("heart_rate_bpm", "steps", "body_mass_kg"):
        want = [r for r in rows if r["metric"] == metric_name]
        got = smp.filter(pl.col("metric") == metric_name).sort("start_utc")
        want.sort(key=lambda r: utc(r["timestamp"]))
        assert got["start_utc"].to_list() == [utc(r["timestamp"]) for r in want]
        assert got["end_utc"].to_list() == [utc(r["end_timestamp"] or r["timestamp"]) for r in want]
        factor = LB_KG if metric_name == "body_mass_kg" else 1.0
        assert got["value"].to_list() == pytest.approx(
            [float(r["value"]) * factor for r in want], rel=1e-12
        )
        assert got["original_value"].to_list() == [float(r["value"]) for r in want]
        assert set(got["original_unit"]) == {want[0]["unit"]}
    assert set(smp["utc_offset_s"]) == {-4 * 3600}  # EDT, April-May 2016
    units = dict(smp.select("metric", "unit").unique().iter_rows())
    assert units == {"heart_rate_bpm": "count/min", "steps": "count", "body_mass_kg": "kg"}
    assert set(smp["source"]) == {"fitabase"} and set(smp["device"]) == {"Fitbit"}


def test_local_times_need_a_zone():
    with pytest.raises(
        ImportFormatError,
        match=rf"{FIXTURE}:2: time '2016-05-10T06:55:26' has "
        "no UTC offset",
    ):
        read_all(FIXTURE, ImportContext(participant_id="p01"))


def test_every_documented_metric_is_accepted(tmp_path):
    """docs/data-model.md lists the Fitbit metrics (energy_kcal, sleep_asleep_min, ...): a
    generic CSV that carries them imports them (issue 13: they were rejected)."""
    rows = [
        "timestamp,metric,value,unit,end_timestamp",
        "2025-07-03T00:00:00+02:00,energy_kcal,2310,kcal,2025-07-04T00:00:00+02:00",
        "2025-07-03T00:00:00+02:00,sleep_asleep_min,412,min,2025-07-04T00:00:00+02:00",
        "2025-07-03T00:00:00+02:00,time_in_bed_min,455,min,2025-07-04T00:00:00+02:00",
        "2025-07-03T07:00:00+02:00,intensity_level,2,level,2025-07-03T07:01:00+02:00",
        "2025-07-03T07:00:00+02:00,met,4.5,MET,2025-07-03T07:01:00+02:00",
        "2025-07-03T00:00:00+02:00,very_active_min,31,min,2025-07-04T00:00:00+02:00",
        "2025-07-03T00:00:00+02:00,sleep_asleep_min,2000,min,2025-07-04T00:00:00+02:00",
    ]
    out = read_all(write(tmp_path, "\n".join(rows) + "\n"))
    got = dict(out["samples"].select("metric", "value").iter_rows())
    assert got == {
        "energy_kcal": 2310.0,
        "sleep_asleep_min": 412.0,
        "time_in_bed_min": 455.0,
        "intensity_level": 2.0,
        "met": 4.5,
        "very_active_min": 31.0,
    }
    # out of range (a day has 1440 minutes): rejected with its reason, the rest imported
    rej = out["rejected_rows"]
    assert rej.height == 1 and "sleep_asleep_min" in rej["reason"][0]


def test_participant_is_required():
    with pytest.raises(ImportFormatError, match="generic CSV files carry no participant id"):
        read_all(FIXTURE, ImportContext(tz=NY))


# ------------------------------------------------------------------------------ every case

HANDMADE = """\
metric,timestamp,value,unit,end_timestamp,source
heart_rate_bpm,2025-07-03T03:15:00+02:00,58,bpm,,polar
heart_rate_bpm,2025-07-03T01:16:00Z,59,count/min,,polar
heart_rate_bpm,2025-07-03T03:17+0200,61,/min,,polar
active_energy_kcal,2025-07-03T07:00:00+02:00,418.4,kJ,2025-07-03T08:00:00+02:00,bike
wrist_temperature_c,2025-07-03T04:00:00+02,96.8,degF,,ring
blood_glucose_mg_dl,2025-07-03T08:00:00+02:00,5.5,mmol/L,,cgm
steps,2025-07-03T09:00:00+02:00,412,steps,2025-07-03T10:00:00+02:00,
hrv_rmssd_ms,2025-07-03T03:00:00+02:00,41,ms,2025-07-03T03:05:00+02:00,ring
heart_rate_bpm,2025-07-03T03:15:00+02:00,58,bpm,,polar
heart_rate_bpm,2025-07-03T03:18:00+02:00,300,bpm,,polar
pulse,2025-07-03T03:19:00+02:00,60,bpm,,polar
temp_c,2025-07-03T03:19:00+02:00,21,degC,,
steps,2025-07-03T03:20:00+02:00,12,kg,,
steps,2025-07-03T03:21:00+02:00,twelve,count,,
steps,2025-07-03T03:22:00+02:00,12,count,2025-07-03T03:00:00+02:00,
heart_rate_bpm,2025-07-03 25:00,60,bpm,,
heart_rate_bpm,,60,bpm,,
heart_rate_bpm,2025-07-03T03:23:00+02:00,60,bpm
"""


def test_every_case(tmp_path):
    out = read_all(write(tmp_path, HANDMADE), ImportContext(participant_id="p01"))
    smp = out["samples"].sort("start_utc", "metric")
    got = {(r["metric"], r["start_utc"]): r for r in smp.iter_rows(named=True)}
    t = lambda h, m: datetime(2025, 7, 3, h, m, tzinfo=UTC)  # noqa: E731
    assert [got[("heart_rate_bpm", t(1, m))]["value"] for m in (15, 16, 17)] == [58, 59, 61]
    assert {got[("heart_rate_bpm", t(1, m))]["utc_offset_s"] for m in (15, 17)} == {7200}
    assert got[("heart_rate_bpm", t(1, 16))]["utc_offset_s"] == 0
    kcal = got[("active_energy_kcal", t(5, 0))]
    assert (kcal["value"], kcal["original_value"], kcal["original_unit"]) == (
        pytest.approx(100.0),
        418.4,
        "kJ",
    )
    assert kcal["end_utc"] == t(6, 0)
    assert got[("wrist_temperature_c", t(2, 0))]["value"] == pytest.approx(36.0)
    assert got[("blood_glucose_mg_dl", t(6, 0))]["value"] == pytest.approx(5.5 * 18.0156)
    steps = got[("steps", t(7, 0))]
    assert (steps["value"], steps["unit"], steps["source"]) == (412.0, "count", "")
    assert got[("hrv_rmssd_ms", t(1, 0))]["end_utc"] == t(1, 5)
    assert smp.height == 8

    reasons = dict(out["rejected_rows"].select("record_no", "reason").iter_rows())
    assert (
        reasons[10] == "duplicate of line 2 (same metric, timestamp, end_timestamp, "
        "source and device)"
    )
    assert reasons[11] == "heart_rate_bpm: value 300.0 outside plausible range [25, 240]"
    assert reasons[12].startswith("metric: pulse is not a known metric (one of heart_rate_bpm,")
    assert "hrv_rmssd_ms" in reasons[12] and "steps" in reasons[12]
    assert reasons[13].startswith("metric: temp_c is a weather variable")
    assert reasons[14] == "unit: kg is not count or a unit convertible to it"
    assert reasons[15] == "value: twelve is not a number"
    assert reasons[16].startswith("end_timestamp: 2025-07-03T03:00:00+02:00 is before")
    assert reasons[17].startswith("timestamp: 2025-07-03 25:00 is not an ISO 8601 date-time")
    assert reasons[18] == "timestamp: empty"
    assert reasons[19] == "expected 6 fields, found 4"
    assert len(reasons) == 10
    assert out["rejected_rows"].filter(pl.col("record_no") == 15)["raw"].to_list() == [
        "steps,2025-07-03T03:21:00+02:00,twelve,count,,"
    ]


def test_header_errors(tmp_path):
    with pytest.raises(ImportFormatError, match="the header must name timestamp,metric,value"):
        read_all(write(tmp_path, "timestamp,metric,value\n2025-07-03T00:00Z,steps,1\n"))
    with pytest.raises(ImportFormatError, match="the file is empty"):
        read_all(write(tmp_path, "\n\n"))
    with pytest.raises(ImportFormatError, match="unknown time zone 'Mars/Olympus'"):
        read_all(FIXTURE, ImportContext(participant_id="p01", tz="Mars/Olympus"))


# ------------------------------------------------------------------------------ into the store


def test_import_into_store_is_idempotent(tmp_path):
    con = store.connect(tmp_path / "s.duckdb")
    try:
        res = import_file(con, FIXTURE, participant_id="p01", tz=NY)
        assert (res.format, res.status, res.rows_accepted) == ("generic_csv", "ok", 1248)
        assert import_file(con, FIXTURE, participant_id="p01", tz=NY).status == "already_imported"
        # the same rows with the columns in another order: a new file, nothing new
        with open(FIXTURE, newline="") as fh:
            rows = list(csv.DictReader(fh))
        order = ["device", "source", "end_timestamp", "unit", "value", "metric", "timestamp"]
        other = tmp_path / "reordered.csv"
        with open(other, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=order, lineterminator="\r\n")
            w.writeheader()
            w.writerows(rows)
        again = import_file(con, other, participant_id="p01", tz=NY)
        assert (again.status, again.rows_accepted, again.rows_duplicate) == ("ok", 0, 1248)
        assert store.table_counts(con)["samples"] == 1248
        (n_conv,) = con.execute(
            "SELECT count(*) FROM samples WHERE original_unit = 'lb' "
            "AND abs(value - original_value * ?) < 1e-9",
            [LB_KG],
        ).fetchone()
        assert n_conv == 24
    finally:
        con.close()
