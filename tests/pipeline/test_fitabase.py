"""Fitabase importer (``pipeline.importers.fitabase``).

``tests/fixtures/fitabase/`` holds byte-for-byte slices of the real Fitabase export of the
"FitBit Fitness Tracker Data" study (original headers and CRLF endings; cut by
``make_slices.py``): three participants, minute/hourly files for 2016-04-20..21, daily files
for the whole month, seconds heart rate of two participants for 2016-04-21 00:00-04:00, the
whole weight log. Expected values are computed here with the ``csv`` module and
:mod:`zoneinfo`, independently of the importer.

Built here, not real (no such file exists in the shared data): the narrow minute-steps layout
(from the real wide slice, same values), minute sleep, minute METs and minute calories
(hand-written), and the files with injected bad values. The 2016 data does not cross a DST
change, so the DST tests RELABEL the real heart-rate, minute, hourly and daily slices to
2016-03-13 and 2016-11-06, the days America/New_York changed clocks.

The participants' zone is not published (US Amazon MTurk users); America/New_York is the
brief's assumption for this data set.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from pipeline import store
from pipeline.importers import ImportContext, ImportFormatError, detect_format, fitabase
from pipeline.ingest import import_file

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "fitabase"
REAL = Path("/work/shared/real_data/fitabase_fitbit_2016")
TZ = "America/New_York"
NY = ZoneInfo(TZ)
CTX = ImportContext(tz=TZ)
CSV_FILES = sorted(FIXTURES.glob("*.csv"))
HR = FIXTURES / "heartrate_seconds_merged.csv"
WIDE_STEPS = FIXTURES / "minuteStepsWide_merged.csv"
FMT = "%m/%d/%Y %I:%M:%S %p"
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


# --------------------------------------------------------------------------- helpers


def read(path: Path, ctx: ImportContext = CTX) -> dict[str, pl.DataFrame]:
    out: dict[str, list[pl.DataFrame]] = {}
    for batch in fitabase.read(path, ctx):
        out.setdefault(batch.table, []).append(batch.frame)
    return {table: pl.concat(frames) for table, frames in out.items()}


def csv_lines(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and ``(line_no, fields)`` of every data line, read with the csv module."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows[0], [(i, r) for i, r in enumerate(rows[1:], start=2) if r]


def local(text: str) -> datetime:
    return datetime.strptime(text.strip(), FMT if " " in text.strip() else "%m/%d/%Y")


def utc(naive_local: datetime) -> datetime:
    """zoneinfo's reading of a local time (fold=0: first of two equal local times)."""
    return naive_local.replace(tzinfo=NY).astimezone(UTC)


def offset_s(naive_local: datetime) -> int:
    return int(naive_local.replace(tzinfo=NY).utcoffset().total_seconds())


def fitabase_time(dt: datetime) -> str:
    return (
        f"{dt.month}/{dt.day}/{dt.year} {dt.strftime('%I').lstrip('0')}:{dt.strftime('%M:%S %p')}"
    )


def write(path: Path, header: str, lines: list[str]) -> Path:
    path.write_bytes(("\r\n".join([header, *lines]) + "\r\n").encode())
    return path


def relabel(src: Path, dst: Path, old_day: str, new_day: str) -> Path:
    """Copy ``src`` with every time on ``old_day`` moved to ``new_day`` (other lines dropped)."""
    raw = src.read_bytes().decode().split("\r\n")
    keep = [raw[0]] + [
        line.replace(f",{old_day} ", f",{new_day} ").replace(f",{old_day},", f",{new_day},")
        for line in raw[1:]
        if f",{old_day}" in line
    ]
    dst.write_bytes(("\r\n".join(keep) + "\r\n").encode())
    return dst


def rows_of(frame: pl.DataFrame, *cols: str) -> list[tuple]:
    return sorted(frame.select(cols).rows())


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize("path", CSV_FILES, ids=lambda p: p.name)
def test_every_fixture_is_detected_as_fitabase(path):
    head = path.read_bytes()[:65536]
    assert fitabase.sniff(head, "any-name.csv")
    assert detect_format(path).FORMAT == "fitabase_csv"


def test_other_headers_are_not_fitabase():
    for head in (
        b"Id,Time,Value,Extra\r\n",
        b"participant_id,time,kind\n",
        b"",
        b"Id,ActivityHour," + b",".join(b"Steps%02d" % i for i in range(59)) + b"\r\n",
        b'[{"dateTime" : "12/31/17 16:42:00", "value" : "0"}]',
    ):
        assert not fitabase.sniff(head, "x.csv")


# --------------------------------------------------------------------------- real slices

#: file -> [(column, metric, resolution, factor)]; wide files: (prefix, ...)
EXPECT = {
    "heartrate_seconds_merged.csv": [("Value", "heart_rate_bpm", "seconds", 1.0)],
    "minuteStepsWide_merged.csv": [("Steps", "steps", "minute", 1.0)],
    "minuteIntensitiesWide_merged.csv": [("Intensity", "intensity_level", "minute", 1.0)],
    "hourlySteps_merged.csv": [("StepTotal", "steps", "hourly", 1.0)],
    "hourlyCalories_merged.csv": [("Calories", "energy_kcal", "hourly", 1.0)],
    "hourlyIntensities_merged.csv": [("TotalIntensity", "intensity_level", "hourly", 1 / 60)],
    "dailyActivity_merged.csv": [
        ("TotalSteps", "steps", "daily", 1.0),
        ("TotalDistance", "distance_m", "daily", 1000.0),
        ("VeryActiveMinutes", "very_active_min", "daily", 1.0),
        ("FairlyActiveMinutes", "fairly_active_min", "daily", 1.0),
        ("LightlyActiveMinutes", "lightly_active_min", "daily", 1.0),
        ("SedentaryMinutes", "sedentary_min", "daily", 1.0),
        ("Calories", "energy_kcal", "daily", 1.0),
    ],
    "3.12.16-4.11.16_dailyActivity_merged.csv": [("TotalSteps", "steps", "daily", 1.0)],
    "dailyCalories_merged.csv": [("Calories", "energy_kcal", "daily", 1.0)],
    "dailySteps_merged.csv": [("StepTotal", "steps", "daily", 1.0)],
    "dailyIntensities_merged.csv": [
        ("SedentaryMinutes", "sedentary_min", "daily", 1.0),
        ("LightlyActiveMinutes", "lightly_active_min", "daily", 1.0),
        ("FairlyActiveMinutes", "fairly_active_min", "daily", 1.0),
        ("VeryActiveMinutes", "very_active_min", "daily", 1.0),
    ],
    "sleepDay_merged.csv": [
        ("TotalMinutesAsleep", "sleep_asleep_min", "daily", 1.0),
        ("TotalTimeInBed", "time_in_bed_min", "daily", 1.0),
    ],
    "weightLogInfo_merged.csv": [("WeightKg", "body_mass_kg", "log", 1.0)],
}


def expected_cells(path: Path, column: str, factor: float) -> list[tuple[str, float]]:
    """(participant_id, value) per cell of ``column`` (or the 60 wide columns ``column``NN)."""
    header, lines = csv_lines(path)
    idx = (
        [header.index(f"{column}{i:02d}") for i in range(60)]
        if f"{column}00" in header
        else [header.index(column)]
    )
    return [(f"fitabase-{r[0]}", float(r[i]) * factor) for _, r in lines for i in idx]


@pytest.mark.parametrize("name", list(EXPECT))
def test_real_slice_counts_and_sums(name):
    path = FIXTURES / name
    got = read(path)
    samples = got["samples"]
    assert "rejected_rows" not in got  # the real slices are clean
    header, lines = csv_lines(path)
    assert sorted(got["participants"]["participant_id"].to_list()) == sorted(
        {f"fitabase-{r[0]}" for _, r in lines}
    )
    assert got["participants"]["tz"].unique().to_list() == [TZ]
    for column, metric, resolution, factor in EXPECT[name]:
        want = expected_cells(path, column, factor)
        part = samples.filter(pl.col("metric") == metric)
        assert part.height == len(want), metric
        assert part["source"].unique().to_list() == [f"fitabase:{resolution}"]
        assert part["value"].sum() == pytest.approx(sum(v for _, v in want), rel=1e-12)
        per_pid: dict[str, float] = {}
        for pid, v in want:
            per_pid[pid] = per_pid.get(pid, 0.0) + v
        assert dict(
            part.group_by("participant_id").agg(pl.col("value").sum()).rows()
        ) == pytest.approx(per_pid, rel=1e-12)
    assert samples["device"].unique().to_list() == [""]


def test_real_heart_rate_rows_whole():
    header, lines = csv_lines(HR)
    want = [
        (
            f"fitabase-{r[0]}",
            utc(local(r[1])),
            utc(local(r[1])),
            offset_s(local(r[1])),
            float(r[2]),
            "count/min",
            float(r[2]),
            "count/min",
        )
        for _, r in lines
    ]
    got = read(HR)["samples"]
    assert got.schema == pl.Schema(fitabase.SAMPLES_SCHEMA)
    assert rows_of(
        got,
        "participant_id",
        "start_utc",
        "end_utc",
        "utc_offset_s",
        "value",
        "unit",
        "original_value",
        "original_unit",
    ) == sorted(want)
    # 4/21/2016 12:00:00 AM EDT is 04:00 UTC
    first = (
        got.filter(pl.col("participant_id") == "fitabase-4388161847")
        .sort("start_utc")
        .row(0, named=True)
    )
    assert first["start_utc"] == datetime(2016, 4, 21, 4, 0, tzinfo=UTC)
    assert first["utc_offset_s"] == -4 * 3600


def test_real_wide_minutes_whole():
    header, lines = csv_lines(WIDE_STEPS)
    want = []
    for _, r in lines:
        hour = local(r[1])
        for i in range(60):
            t = utc(hour + i * MINUTE)
            want.append((f"fitabase-{r[0]}", t, t + MINUTE, float(r[2 + i])))
    got = read(WIDE_STEPS)["samples"]
    assert rows_of(got, "participant_id", "start_utc", "end_utc", "value") == sorted(want)
    assert got["utc_offset_s"].unique().to_list() == [-14400]


def test_real_hourly_and_daily_intervals():
    hourly = read(FIXTURES / "hourlyIntensities_merged.csv")["samples"]
    header, lines = csv_lines(FIXTURES / "hourlyIntensities_merged.csv")
    got = hourly.with_columns(pl.col("value").round(12))
    assert rows_of(
        got, "participant_id", "start_utc", "end_utc", "value", "original_value", "original_unit"
    ) == sorted(
        (
            f"fitabase-{r[0]}",
            utc(local(r[1])),
            utc(local(r[1])) + HOUR,
            round(float(r[2]) / 60, 12),
            float(r[2]),
            "level_min",
        )
        for _, r in lines
    )
    # AverageIntensity is TotalIntensity / 60 rounded to 6 digits
    assert all(abs(float(r[3]) - float(r[2]) / 60) < 1e-6 for _, r in lines)

    sleep = read(FIXTURES / "sleepDay_merged.csv")["samples"]
    _, sleep_lines = csv_lines(FIXTURES / "sleepDay_merged.csv")
    first_day = local(next(r[1] for _, r in sleep_lines if r[0] == "4558609924"))
    assert first_day == datetime(2016, 4, 21)  # "4/21/2016 12:00:00 AM"
    day = (
        sleep.filter(
            (pl.col("participant_id") == "fitabase-4558609924")
            & (pl.col("metric") == "time_in_bed_min")
        )
        .sort("start_utc")
        .row(0, named=True)
    )
    assert (day["start_utc"], day["end_utc"]) == (
        datetime(2016, 4, 21, 4, tzinfo=UTC),
        datetime(2016, 4, 22, 4, tzinfo=UTC),
    )

    daily = read(FIXTURES / "dailyActivity_merged.csv")["samples"]
    dist = daily.filter(
        (pl.col("metric") == "distance_m") & (pl.col("participant_id") == "fitabase-4388161847")
    ).sort("start_utc")
    assert dist.row(0, named=True)["original_unit"] == "km"
    assert dist["value"].to_list() == pytest.approx(
        [dist["original_value"][i] * 1000 for i in range(dist.height)]
    )


def test_real_weight_log():
    header, lines = csv_lines(FIXTURES / "weightLogInfo_merged.csv")
    got = read(FIXTURES / "weightLogInfo_merged.csv")["samples"]
    assert rows_of(
        got, "participant_id", "start_utc", "end_utc", "value", "unit", "original_unit", "source"
    ) == sorted(
        (
            f"fitabase-{r[0]}",
            utc(local(r[1])),
            utc(local(r[1])),
            float(r[2]),
            "kg",
            "kg",
            "fitabase:log",
        )
        for _, r in lines
    )
    # LogId is the local wall-clock time read as UTC epoch ms: the file carries no offset
    assert all(
        int(r[7]) // 1000 == int(local(r[1]).replace(tzinfo=UTC).timestamp()) for _, r in lines
    )


def test_weight_in_pounds_when_kg_missing(tmp_path):
    f = write(
        tmp_path / "w.csv",
        "Id,Date,WeightKg,WeightPounds,Fat,BMI,IsManualReport,LogId",
        ["1,5/2/2016 11:59:59 PM,,150,,22.5,True,1", "1,5/3/2016 11:59:59 PM,,,,22.5,True,2"],
    )
    got = read(f)
    assert got["samples"].select("value", "original_value", "original_unit").rows() == [
        (pytest.approx(150 * 0.45359237), 150.0, "lb")
    ]
    assert got["rejected_rows"].select("record_no", "reason").rows() == [(3, "WeightKg: empty")]


# --------------------------------------------------------------------------- layouts


def narrow_from_wide(wide: Path, out: Path) -> Path:
    header, lines = csv_lines(wide)
    rows = [
        f"{r[0]},{fitabase_time(local(r[1]) + i * MINUTE)},{r[2 + i]}"
        for _, r in lines
        for i in range(60)
    ]
    return write(out, "Id,ActivityMinute,Steps", rows)


def test_wide_and_narrow_layouts_give_identical_rows(tmp_path):
    narrow = narrow_from_wide(WIDE_STEPS, tmp_path / "minuteStepsNarrow_merged.csv")
    a, b = read(WIDE_STEPS)["samples"], read(narrow)["samples"]
    assert a.height == 144 * 60
    assert a.sort("participant_id", "start_utc").equals(b.sort("participant_id", "start_utc"))

    con = store.connect(tmp_path / "s.duckdb")
    first = import_file(con, WIDE_STEPS, tz=TZ)
    second = import_file(con, narrow, tz=TZ)
    assert (first.status, second.status) == ("ok", "ok")
    assert second.rows_duplicate == a.height
    assert second.rows_accepted == 3  # the participants' upserts, no sample
    assert con.execute("SELECT count(*) FROM samples").fetchone()[0] == a.height


def test_handmade_minute_mets_and_calories(tmp_path):
    mets = write(
        tmp_path / "m.csv",
        "Id,ActivityMinute,METs",
        ["7,4/20/2016 12:00:00 AM,10", "7,4/20/2016 12:01:00 AM,35", "7,4/20/2016 12:02:00 AM,-1"],
    )
    got = read(mets)
    assert got["samples"].select(
        "metric", "value", "unit", "original_value", "original_unit"
    ).rows() == [("met", 1.0, "MET", 10.0, "MET_x10"), ("met", 3.5, "MET", 35.0, "MET_x10")]
    assert got["rejected_rows"]["reason"].to_list() == [
        "METs: met: value -0.1 outside plausible range [0, 30]"
    ]
    cal = write(
        tmp_path / "c.csv",
        "Id,ActivityMinute,Calories",
        ["7,4/20/2016 12:00:00 AM,0.7865", "7,4/20/2016 12:01:00 AM,1.2"],
    )
    got = read(cal)["samples"]
    assert got.select("metric", "value", "source").rows() == [
        ("energy_kcal", 0.7865, "fitabase:minute"),
        ("energy_kcal", 1.2, "fitabase:minute"),
    ]
    assert (got["end_utc"] - got["start_utc"]).unique().to_list() == [MINUTE]


def test_handmade_minute_sleep(tmp_path):
    f = write(
        tmp_path / "minuteSleep_merged.csv",
        "Id,date,value,logId",
        [
            "9,4/20/2016 10:47:30 PM,3,11380564589",
            "9,4/20/2016 10:48:30 PM,2,11380564589",
            "9,4/20/2016 10:49:30 PM,1,11380564589",
            "9,4/20/2016 10:49:30 PM,1,11380564589",  # exact repeat: kept (driver: duplicate)
            "9,4/20/2016 10:50:30 PM,1,11380564589",
            "9,4/20/2016 10:50:30 PM,3,11380564589",  # same minute, other value: rejected
            "9,4/20/2016 10:51:30 PM,4,11380564589",  # not a sleep value
        ],
    )
    got = read(f)
    t0 = datetime(2016, 4, 21, 2, 47, 30, tzinfo=UTC)
    assert got["sleep_segments"].schema == pl.Schema(fitabase.SLEEP_SCHEMA)
    assert got["sleep_segments"].select(
        "participant_id", "start_utc", "end_utc", "stage", "source", "utc_offset_s"
    ).rows() == [
        ("fitabase-9", t0, t0 + MINUTE, "awake", "fitabase:minute", -14400),
        ("fitabase-9", t0 + MINUTE, t0 + 2 * MINUTE, "awake", "fitabase:minute:restless", -14400),
        ("fitabase-9", t0 + 2 * MINUTE, t0 + 3 * MINUTE, "asleep", "fitabase:minute", -14400),
        ("fitabase-9", t0 + 2 * MINUTE, t0 + 3 * MINUTE, "asleep", "fitabase:minute", -14400),
        ("fitabase-9", t0 + 3 * MINUTE, t0 + 4 * MINUTE, "asleep", "fitabase:minute", -14400),
    ]
    assert got["rejected_rows"].select("record_no", "reason").rows() == [
        (7, "same participant and minute as line 6 with a different value (1 there, 3 here)"),
        (8, "value: 4 is not a Fitabase sleep value (1 asleep, 2 restless, 3 awake)"),
    ]

    con = store.connect(tmp_path / "s.duckdb")
    res = import_file(con, f, tz=TZ)
    assert (res.status, res.rows_rejected, res.rows_duplicate) == ("partial", 2, 1)
    assert con.execute("SELECT count(*) FROM sleep_segments").fetchone()[0] == 4


# --------------------------------------------------------------------------- DST


def test_dst_spring_gap_rejected_rest_converted(tmp_path):
    """Real 4/21 00:00-04:00 heart rate relabelled to 3/13/2016 (EST -> EDT at 02:00)."""
    f = relabel(HR, tmp_path / "hr.csv", "4/21/2016", "3/13/2016")
    header, lines = csv_lines(f)
    in_gap = [(n, r) for n, r in lines if local(r[1]).hour == 2]
    outside = [(n, r) for n, r in lines if local(r[1]).hour != 2]
    assert in_gap and outside
    got = read(f)
    assert got["rejected_rows"]["record_no"].to_list() == [n for n, _ in in_gap]
    assert got["rejected_rows"]["reason"][0] == (
        f"Time: local time 2016-03-13 {local(in_gap[0][1][1]).strftime('%H:%M:%S')} does not "
        "exist in America/New_York (skipped when clocks went forward for daylight saving time)"
    )
    want = sorted((f"fitabase-{r[0]}", utc(local(r[1])), float(r[2])) for _, r in outside)
    assert rows_of(got["samples"], "participant_id", "start_utc", "value") == want
    offsets = dict(
        got["samples"]
        .group_by(pl.col("start_utc") < datetime(2016, 3, 13, 7, tzinfo=UTC))
        .agg(pl.col("utc_offset_s").unique())
        .rows()
    )
    assert offsets == {True: [-18000], False: [-14400]}


def test_dst_spring_minute_hourly_daily(tmp_path):
    wide = read(relabel(WIDE_STEPS, tmp_path / "w.csv", "4/20/2016", "3/13/2016"))
    rej = wide["rejected_rows"]
    assert rej.height == 3 * 60  # the 2 AM row of each participant, cell by cell
    assert rej["reason"][0].startswith(
        "ActivityHour (Steps00): local time 2016-03-13 02:00:00 does not exist"
    )
    assert wide["samples"].height == 3 * 23 * 60

    hourly = read(
        relabel(FIXTURES / "hourlySteps_merged.csv", tmp_path / "h.csv", "4/20/2016", "3/13/2016")
    )
    assert hourly["rejected_rows"].height == 3
    starts = (
        hourly["samples"]
        .filter(pl.col("participant_id") == "fitabase-4388161847")["start_utc"]
        .sort()
    )
    assert starts.diff().drop_nulls().unique().to_list() == [HOUR]  # 23 contiguous hours

    daily = read(
        relabel(FIXTURES / "dailySteps_merged.csv", tmp_path / "d.csv", "4/20/2016", "3/13/2016")
    )["samples"]
    assert (daily["end_utc"] - daily["start_utc"]).unique().to_list() == [23 * HOUR]
    assert daily["start_utc"].unique().to_list() == [datetime(2016, 3, 13, 5, tzinfo=UTC)]


def test_dst_autumn_first_occurrence(tmp_path):
    """Real heart rate relabelled to 11/6/2016 (EDT -> EST at 02:00, 01:xx happens twice)."""
    f = relabel(HR, tmp_path / "hr.csv", "4/21/2016", "11/6/2016")
    header, lines = csv_lines(f)
    got = read(f)
    assert "rejected_rows" not in got
    s = got["samples"]
    assert s.height == len(lines)
    assert rows_of(s, "participant_id", "start_utc", "utc_offset_s") == sorted(
        (f"fitabase-{r[0]}", utc(local(r[1])), offset_s(local(r[1]))) for _, r in lines
    )
    one_am = s.filter(
        pl.col("start_utc").is_between(
            datetime(2016, 11, 6, 5, tzinfo=UTC),
            datetime(2016, 11, 6, 6, tzinfo=UTC),
            closed="left",
        )
    )
    assert one_am.height == sum(local(r[1]).hour == 1 for _, r in lines)  # 01:xx read as EDT
    assert one_am["utc_offset_s"].unique().to_list() == [-14400]
    # nothing lands in the second 01:00-02:00 (06:00-07:00 UTC)
    assert (
        s.filter(
            pl.col("start_utc").is_between(
                datetime(2016, 11, 6, 6, tzinfo=UTC),
                datetime(2016, 11, 6, 7, tzinfo=UTC),
                closed="left",
            )
        ).height
        == 0
    )
    daily = read(
        relabel(FIXTURES / "dailySteps_merged.csv", tmp_path / "d.csv", "4/20/2016", "11/6/2016")
    )["samples"]
    assert (daily["end_utc"] - daily["start_utc"]).unique().to_list() == [25 * HOUR]


# --------------------------------------------------------------------------- bad input


def test_rejected_rows_with_line_and_reason(tmp_path):
    lines = HR.read_bytes().decode().split("\r\n")
    f = write(
        tmp_path / "hr.csv",
        lines[0],
        lines[1:4]
        + [
            "4388161847,4/21/2016 5:00:00 AM,0",
            "4388161847,4/21/2016 5:00:05 AM,300",
            "abc,4/21/2016 5:00:10 AM,70",
            "4388161847,4/31/2016 5:00:15 AM,70",
            "4388161847,4/21/2016 5:00:20 AM",
            "4388161847,4/21/2016 5:00:25 AM,70",
        ],
    )
    got = read(f)
    assert got["samples"].height == 4
    assert got["rejected_rows"].select("record_no", "reason").rows() == [
        (5, "Value: heart_rate_bpm: value 0.0 outside plausible range [25, 240]"),
        (6, "Value: heart_rate_bpm: value 300.0 outside plausible range [25, 240]"),
        (7, "Id: abc is not a Fitabase participant id (digits)"),
        (8, "Time: 4/31/2016 5:00:15 AM is not a time like 4/12/2016 7:21:00 AM"),
        (9, "expected 3 fields, found 2"),
    ]
    assert got["rejected_rows"]["raw"][0] == "4388161847,4/21/2016 5:00:00 AM,0"

    steps = write(
        tmp_path / "steps.csv",
        "Id,ActivityMinute,Steps",
        ["1,4/20/2016 12:00:00 AM,5", "1,4/20/2016 12:01:00 AM,-3"],
    )
    assert read(steps)["rejected_rows"].select("record_no", "reason").rows() == [
        (3, "Steps: steps: value -3.0 outside plausible range [0, 100000]")
    ]

    wide_lines = WIDE_STEPS.read_bytes().decode().split("\r\n")
    cells = wide_lines[1].split(",")
    cells[2 + 17] = "-5"
    wide = write(tmp_path / "wide.csv", wide_lines[0], [",".join(cells)])
    got = read(wide)
    assert got["samples"].height == 59
    assert got["rejected_rows"].select("record_no", "reason").rows() == [
        (2, "Steps17: steps: value -5.0 outside plausible range [0, 100000]")
    ]

    con = store.connect(tmp_path / "s.duckdb")
    res = import_file(con, f, tz=TZ)
    assert (res.status, res.rows_rejected) == ("partial", 5)
    assert con.execute("SELECT record_no, reason FROM rejected_rows ORDER BY 1").fetchall()[0] == (
        5,
        "Value: heart_rate_bpm: value 0.0 outside plausible range [25, 240]",
    )


def test_no_time_zone_is_a_clear_error(tmp_path):
    with pytest.raises(ImportFormatError) as err:
        read(HR, ImportContext(display_path="inbox/hr.csv"))
    msg = str(err.value)
    assert msg.startswith("inbox/hr.csv: Fitabase (heartrate_seconds) times are local")
    assert "--timezone" in msg
    con = store.connect(tmp_path / "s.duckdb")
    res = import_file(con, HR)
    assert res.status == "failed"
    assert str(HR) in res.error and "--timezone" in res.error
    with pytest.raises(ImportFormatError, match="unknown time zone 'Mars/Olympus'"):
        read(HR, ImportContext(tz="Mars/Olympus"))


# --------------------------------------------------------------------------- idempotency


def test_reimport_adds_nothing(tmp_path):
    con = store.connect(tmp_path / "s.duckdb")
    first = [import_file(con, p, tz=TZ) for p in CSV_FILES]
    assert {r.status for r in first} == {"ok"}
    before = store.table_counts(con)
    again = [import_file(con, p, tz=TZ) for p in CSV_FILES]
    assert {r.status for r in again} == {"already_imported"}
    # same content, other bytes (LF endings): read again, every row already stored
    lf = tmp_path / "lf"
    lf.mkdir()
    for p in CSV_FILES:
        (lf / p.name).write_bytes(p.read_bytes().replace(b"\r\n", b"\n"))
    third = [import_file(con, lf / p.name, tz=TZ) for p in CSV_FILES]
    assert {r.status for r in third} == {"ok"}
    after = store.table_counts(con)
    for table in ("samples", "sleep_segments", "rejected_rows", "participants"):
        assert after[table] == before[table], table
    n_participants = {p.name: read(p)["participants"].height for p in CSV_FILES}
    assert {r.path: r.rows_accepted for r in third} == {
        str(lf / name): n for name, n in n_participants.items()
    }
    assert sum(r.rows_duplicate for r in third) == sum(read(p)["samples"].height for p in CSV_FILES)
    # daily totals: dailySteps repeats dailyActivity's TotalSteps, and the two exports
    # overlap on 4/12: each participant-day is stored once
    days = {
        (r[0], local(r[1]))
        for name in (
            "dailyActivity_merged.csv",
            "dailySteps_merged.csv",
            "3.12.16-4.11.16_dailyActivity_merged.csv",
        )
        for _, r in csv_lines(FIXTURES / name)[1]
    }
    assert con.execute(
        "SELECT count(*) FROM samples WHERE metric = 'steps' AND source = 'fitabase:daily'"
    ).fetchone()[0] == len(days)


def test_other_tables_untouched_and_participants_zone(tmp_path):
    con = store.connect(tmp_path / "s.duckdb")
    import_file(con, FIXTURES / "sleepDay_merged.csv", tz=TZ)
    assert con.execute("SELECT participant_id, tz FROM participants ORDER BY 1").fetchall() == [
        ("fitabase-2026352035", TZ),
        ("fitabase-4388161847", TZ),
        ("fitabase-4558609924", TZ),
    ]


# --------------------------------------------------------------------------- whole real export


def _expected_real(paths: list[Path]) -> dict[tuple[str, str], tuple[int, float]]:
    """(metric, source) -> (rows, sum) from the csv module, first row per natural key wins."""
    layouts = {tuple(layout.header): layout for layout in fitabase.LAYOUTS}
    kept: dict[tuple, float] = {}
    for path in paths:
        header, lines = csv_lines(path)
        wide = header[2:3] and header[2].endswith("00") and len(header) == 62
        if wide:
            prefix = header[2][:-2]
            metric = {"Steps": "steps", "Intensity": "intensity_level"}[prefix]
            for _, r in lines:
                for i in range(60):
                    kept.setdefault((metric, "fitabase:minute", r[0], r[1], i), float(r[2 + i]))
            continue
        layout = layouts[tuple(header)]
        for v in layout.values:
            i = header.index(v.column)
            for _, r in lines:
                key = (v.metric, layout.source, r[0], local(r[1]).isoformat(), 0)
                kept.setdefault(key, float(r[i]) * v.scale)
    out: dict[tuple[str, str], list] = {}
    for (metric, source, *_), value in kept.items():
        acc = out.setdefault((metric, source), [0, 0.0])
        acc[0] += 1
        acc[1] += value
    return {k: (n, s) for k, (n, s) in out.items()}


@pytest.mark.slow
@pytest.mark.skipif(not REAL.is_dir(), reason="the shared real Fitabase export is not present")
def test_whole_real_export_imports(tmp_path):
    paths = sorted(p for p in REAL.rglob("*.csv"))
    con = store.connect(tmp_path / "real.duckdb")
    results = [import_file(con, p, tz=TZ) for p in paths]
    assert {(r.status, r.format) for r in results} == {("ok", "fitabase_csv")}
    assert sum(r.rows_rejected for r in results) == 0
    got = {
        (m, s): (n, total)
        for m, s, n, total in con.execute(
            "SELECT metric, source, count(*), sum(value) FROM samples GROUP BY ALL"
        ).fetchall()
    }
    want = _expected_real(paths)
    assert set(got) == set(want)
    for key, (n, total) in want.items():
        assert got[key][0] == n, key
        assert got[key][1] == pytest.approx(total, rel=1e-9), key
    # 33 + 35 participants over both exports: 35 distinct ids
    assert con.execute("SELECT count(*) FROM participants").fetchone()[0] == 35
    assert con.execute("SELECT count(*) FROM sleep_segments").fetchone()[0] == 0


def test_fixture_folder_is_small():
    sizes = {p.name: p.stat().st_size for p in FIXTURES.iterdir()}
    assert max(sizes.values()) < 200_000
    assert sum(sizes.values()) < 1_000_000


def test_helper_round_trip():
    assert fitabase_time(datetime(2016, 4, 21, 0, 5, 7)) == "4/21/2016 12:05:07 AM"
    assert local("4/21/2016 1:05:07 PM") == datetime(2016, 4, 21, 13, 5, 7)


def test_vectorised_split_equals_split_csv():
    from pipeline.importers.journal_csv import read_lines, split_csv

    for path in (HR, WIDE_STEPS, FIXTURES / "weightLogInfo_merged.csv"):
        lines = read_lines(path, path.name).slice(1)
        header = tuple(read_lines(path, path.name)["text"][0].split(","))
        fast, fast_bad = fitabase.split_fields(lines, header)
        slow, slow_bad = split_csv(lines, header)
        assert fast.equals(slow) and fast_bad.equals(slow_bad)
    odd = pl.DataFrame(
        {
            "line_no": [2, 3, 4],
            "text": ['1,"4/21/2016 1:00:00 AM",70', "1,2", "1, 4/21/2016 1:00:05 AM ,"],
        }
    )
    fast, fast_bad = fitabase.split_fields(odd, ("Id", "Time", "Value"))
    slow, slow_bad = split_csv(odd, ("Id", "Time", "Value"))
    assert fast.equals(slow) and fast_bad.equals(slow_bad)
    assert fast["Time"].to_list() == ["4/21/2016 1:00:00 AM", "4/21/2016 1:00:05 AM"]
    unquoted = odd.filter(pl.col("line_no") > 2)
    fast, fast_bad = fitabase.split_fields(unquoted, ("Id", "Time", "Value"))
    slow, slow_bad = split_csv(unquoted, ("Id", "Time", "Value"))
    assert fast.equals(slow) and fast_bad.equals(slow_bad)
    assert fast_bad.rows() == [(3, "expected 3 fields, found 2", "1,2")]


@pytest.mark.parametrize("chunk_bytes", [97, 4096])
def test_chunked_reading_gives_the_same_rows(monkeypatch, chunk_bytes):
    whole = {p.name: read(p) for p in (HR, WIDE_STEPS, FIXTURES / "dailyActivity_merged.csv")}
    monkeypatch.setattr(fitabase, "CHUNK_BYTES", chunk_bytes * 16)
    for p in (HR, WIDE_STEPS, FIXTURES / "dailyActivity_merged.csv"):
        got = read(p)
        assert set(got) == set(whole[p.name])
        for table, frame in got.items():  # same rows; the order may differ (unpivot)
            assert frame.sort(frame.columns).equals(whole[p.name][table].sort(frame.columns)), (
                p.name,
                table,
            )


def test_bom_lf_blank_lines_header_only_and_empty(tmp_path):
    text = HR.read_bytes().decode().replace("\r\n", "\n").split("\n")
    messy = tmp_path / "messy.csv"
    messy.write_bytes(
        b"\xef\xbb\xbf\n" + "\n".join([text[0], text[1], "", " ", *text[2:6]]).encode()
    )  # BOM, a blank first line, blank lines, no final newline
    got = read(messy)
    assert got["samples"].height == 5
    assert "rejected_rows" not in got
    header_only = tmp_path / "h.csv"
    header_only.write_bytes(b"Id,Time,Value\r\n")
    got = read(header_only)
    assert got.get("samples", pl.DataFrame()).height == 0
    assert got["participants"].height == 0
    (tmp_path / "e.csv").write_bytes(b"\r\n  \r\n")
    with pytest.raises(ImportFormatError, match="e.csv: the file is empty"):
        read(tmp_path / "e.csv", ImportContext(tz=TZ, display_path=str(tmp_path / "e.csv")))
    latin = tmp_path / "l.csv"
    latin.write_bytes(b"Id,Time,Value\r\n1,4/21/2016 1:00:00 AM,7\xe90\r\n")
    with pytest.raises(
        ImportFormatError, match=r"not UTF-8 text \(undecodable byte at offset 39\)"
    ):
        read(latin)


def test_conflicting_repeat_rejects_only_that_cell(tmp_path):
    wide_lines = WIDE_STEPS.read_bytes().decode().split("\r\n")
    cells = wide_lines[1].split(",")
    cells[2 + 3] = str(int(cells[2 + 3]) + 1)
    narrow = write(
        tmp_path / "n.csv",
        "Id,ActivityMinute,Steps",
        [f"{cells[0]},{fitabase_time(local(cells[1]) + 3 * MINUTE)},7"],
    )
    wide = write(tmp_path / "wide.csv", wide_lines[0], [wide_lines[1], ",".join(cells)])
    got = read(wide)
    # the 59 exact repeats stay (the driver counts them as duplicates); the changed cell goes
    assert got["samples"].height == 60 + 59
    assert got["rejected_rows"].select("record_no", "reason").rows() == [
        (
            3,
            f"same participant, metric and time as line 2 with a different value "
            f"({float(cells[2 + 3]) - 1} there, {float(cells[2 + 3])} here)",
        )
    ]
    assert read(narrow)["samples"].height == 1
    con = store.connect(tmp_path / "s.duckdb")
    res = import_file(con, wide, tz=TZ)
    assert (res.status, res.rows_accepted, res.rows_duplicate, res.rows_rejected) == (
        "partial",
        60 + 1,
        59,
        1,
    )  # + 1 participant upsert
