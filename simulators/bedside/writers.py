"""Export files in the layouts ``pipeline/importers`` reads.

* Apple Health ``export.zip`` (``apple_health_export/export.xml``): times
  ``YYYY-MM-DD HH:MM:SS +ZZZZ`` in the zone the phone was in at that instant (the traveller's
  records carry Chicago offsets while away). HeartRate points, StepCount intervals (runs of
  walking minutes cut into samples of at most 10 min), SleepAnalysis (InBed from the iPhone,
  stages from the watch), Workouts.
* Fitabase folder (``*_merged.csv``, CRLF, no quoting): local wall-clock
  ``M/D/YYYY h:mm:ss AM/PM`` without an offset, like the real 2016 files. The repeated hour
  of an autumn DST change cannot be told apart in such a file: the rows of its second pass
  are left out (the device's clock jumps back; a one-hour gap in the export).
* ``participants.csv`` with the physio column set.
"""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

ZIP_TIME = (2024, 1, 1, 0, 0, 0)
WATCH = (
    'sourceName="Apple Watch" sourceVersion="10.6" device="&lt;&lt;HKDevice: 0x6000021&gt;, '
    "name:Apple Watch, manufacturer:Apple Inc., model:Watch, hardware:Watch7,3, "
    'software:10.6&gt;"'
)
PHONE = 'sourceName="iPhone" sourceVersion="17.6"'


def _local(epochs, tz: str) -> pl.Series:
    s = pl.Series(np.asarray(epochs, np.int64))
    return pl.from_epoch(s, "s").dt.replace_time_zone("UTC").dt.convert_time_zone(tz)


def apple_times(epochs, person) -> list[str]:
    """``YYYY-MM-DD HH:MM:SS +ZZZZ`` in the zone the person was in at each instant."""
    e = np.asarray(epochs, np.int64)
    out = np.empty(len(e), object)
    bounds = [z[0] for z in person.zones[1:]] + [np.iinfo(np.int64).max]
    lo = np.iinfo(np.int64).min
    for (_, tz), hi in zip(person.zones, bounds, strict=True):
        m = (e >= lo) & (e < hi)
        if m.any():
            out[m] = _local(e[m], tz).dt.strftime("%Y-%m-%d %H:%M:%S %z").to_numpy()
        lo = hi
    return out.tolist()


def fitabase_times(epochs, tz: str) -> tuple[pl.Series, np.ndarray]:
    """Local wall-clock strings and the mask of rows to keep (first pass of a repeated hour)."""
    loc = _local(epochs, tz)
    naive = loc.dt.replace_time_zone(None).dt.epoch("s").to_numpy()
    prev = np.maximum.accumulate(np.r_[np.iinfo(np.int64).min, naive[:-1]]) if len(naive) else naive
    keep = naive > prev
    return loc.dt.strftime("%-m/%-d/%Y %-I:%M:%S %p"), keep


def _records(kind, unit, start, end, values, person, source=WATCH) -> list[str]:
    if len(start) == 0:
        return []
    st, en = apple_times(start, person), apple_times(end, person)
    u = f' unit="{unit}"' if unit else ""
    return [
        f' <Record type="{kind}" {source}{u} creationDate="{e}" startDate="{s}" '
        f'endDate="{e}" value="{v}"/>'
        for s, e, v in zip(st, en, values, strict=True)
    ]


def step_intervals(t0: int, steps_min: np.ndarray, max_min: int = 10):
    idx = np.flatnonzero(steps_min > 0)
    starts, ends, vals = [], [], []
    if len(idx):
        for grp in np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1):
            for k in range(0, len(grp), max_min):
                g = grp[k : k + max_min]
                starts.append(t0 + 60 * int(g[0]))
                ends.append(t0 + 60 * int(g[-1] + 1))
                vals.append(int(steps_min[g].sum()))
    return starts, ends, vals


def write_apple(path: Path, person, t0, hr_t, hr_v, steps_min, sleep_segs, workouts, export_t):
    q = "HKQuantityTypeIdentifier"
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<!DOCTYPE HealthData [",
        "<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout)*)>",
        "]>",
        '<HealthData locale="en_US">',
        f' <ExportDate value="{apple_times([export_t], person)[0]}"/>',
        f' <Me HKCharacteristicTypeIdentifierDateOfBirth="{person.birth_year}-03-01" '
        f'HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSex'
        f'{person.sex.capitalize()}" HKCharacteristicTypeIdentifierBloodType="HKBloodTypeNotSet" '
        'HKCharacteristicTypeIdentifierFitzpatrickSkinType="HKFitzpatrickSkinTypeNotSet" '
        'HKCharacteristicTypeIdentifierCardioFitnessMedicationsUse="None"/>',
    ]
    counts = {}
    recs = _records(q + "HeartRate", "count/min", hr_t, hr_t, hr_v.tolist(), person)
    counts["heart_rate"] = len(recs)
    lines += recs
    s, e, v = step_intervals(t0, steps_min)
    recs = _records(q + "StepCount", "count", s, e, v, person)
    counts["steps"] = len(recs)
    lines += recs
    for phone in (True, False):
        segs = [x for x in sleep_segs if (x[2] == "InBed") == phone]
        lines += _records(
            "HKCategoryTypeIdentifierSleepAnalysis",
            None,
            [x[0] for x in segs],
            [x[1] for x in segs],
            [f"HKCategoryValueSleepAnalysis{x[2]}" for x in segs],
            person,
            PHONE if phone else WATCH,
        )
    counts["sleep_segments"] = len(sleep_segs)
    for a, b in workouts:
        sa, sb = apple_times([a, b], person)
        lines.append(
            f' <Workout workoutActivityType="HKWorkoutActivityTypeWalking" '
            f'duration="{(b - a) / 60:.4f}" durationUnit="min" {WATCH} '
            f'creationDate="{sb}" startDate="{sa}" endDate="{sb}">'
        )
        lines.append(" </Workout>")
    counts["workouts"] = len(workouts)
    lines.append("</HealthData>")
    info = zipfile.ZipInfo("apple_health_export/export.xml", date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(info, ("\n".join(lines) + "\n").encode())
    return counts


def _csv(path: Path, frame: pl.DataFrame) -> int:
    frame.write_csv(path, line_terminator="\r\n", quote_style="never")
    return frame.height


def write_fitabase(folder: Path, person, t0, hr_t, hr_v, steps_min, sleep_logs) -> dict:
    tz, fid = person.tz, person.fitabase_id
    folder.mkdir(parents=True, exist_ok=True)
    counts = {}
    times, keep = fitabase_times(hr_t, tz)
    counts["heartrate_seconds"] = _csv(
        folder / "heartrate_seconds_merged.csv",
        pl.DataFrame({"Id": fid, "Time": times.filter(keep), "Value": hr_v[keep]}),
    )
    tm = t0 + 60 * np.arange(len(steps_min), dtype=np.int64)
    times, keep = fitabase_times(tm, tz)
    counts["minute_steps"] = _csv(
        folder / "minuteStepsNarrow_merged.csv",
        pl.DataFrame({"Id": fid, "ActivityMinute": times.filter(keep), "Steps": steps_min[keep]}),
    )
    rows_t, rows_v, rows_id = [], [], []
    per_day: dict = {}
    zi = ZoneInfo(tz)
    for i, (starts, vals) in enumerate(sleep_logs):
        log_id = 11_000_000_000 + 10_000 * person.index + i
        rows_t.append(starts)
        rows_v.append(vals)
        rows_id.append(np.full(len(vals), log_id, np.int64))
        day = datetime.fromtimestamp(int(starts[-1]) + 60, zi).date()
        agg = per_day.setdefault(day, [0, 0, 0])
        agg[0] += 1
        agg[1] += int((vals == 1).sum())
        agg[2] += len(vals)
    if rows_t:
        st, v, li = np.concatenate(rows_t), np.concatenate(rows_v), np.concatenate(rows_id)
        times, keep = fitabase_times(st, tz)
        counts["minute_sleep"] = _csv(
            folder / "minuteSleep_merged.csv",
            pl.DataFrame(
                {"Id": fid, "date": times.filter(keep), "value": v[keep], "logId": li[keep]}
            ),
        )
    days = sorted(per_day)
    counts["sleep_day"] = _csv(
        folder / "sleepDay_merged.csv",
        pl.DataFrame(
            {
                "Id": fid,
                "SleepDay": [f"{d.month}/{d.day}/{d.year} 12:00:00 AM" for d in days],
                "TotalSleepRecords": [per_day[d][0] for d in days],
                "TotalMinutesAsleep": [per_day[d][1] for d in days],
                "TotalTimeInBed": [per_day[d][2] for d in days],
            }
        ),
    )
    return counts


def write_participants(path: Path, people) -> None:
    lines = [
        "participant_id,sex,birth_year,tz,home_lat_deg,home_lon_deg,height_cm,conditions,"
        "medications"
    ]
    for p in people:
        lines.append(
            f"{p.participant_id},{p.sex},{p.birth_year},{p.tz},{p.lat},{p.lon},{p.height_cm:.1f},,"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
