"""Export files: Apple Health export.zip, Fitabase ``*_merged.csv`` folder, Open-Meteo hourly
CSV, participants.csv. Formats follow ``pipeline/importers`` and the real files in
``/work/shared/real_data`` (Fitabase: local wall-clock ``M/D/YYYY h:mm:ss AM/PM`` without an
offset; Apple: ``YYYY-MM-DD HH:MM:SS +ZZZZ``; Open-Meteo: one offset for the whole file).

Fitabase and the autumn DST hour: its local times carry no offset, so a repeated local hour
cannot be written twice without clashing; the writer keeps the first occurrence and drops the
rows of the repeated hour (a one-hour device gap; the truth stays in UTC).
"""

from __future__ import annotations

import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from simulators.physio.devices import runs
from simulators.physio.people import Person

APPLE_SOURCE = (
    'sourceName="Apple Watch" sourceVersion="10.2" device="&lt;&lt;HKDevice: '
    "0x600001&gt;, name:Apple Watch, manufacturer:Apple Inc., model:Watch, "
    'hardware:Watch6,2, software:10.2&gt;"'
)
STAGE_VALUES = {-2: "InBed", 0: "Awake", 2: "AsleepCore", 3: "AsleepDeep", 4: "AsleepREM"}
ZIP_TIME = (2024, 1, 1, 0, 0, 0)


def _local(epochs, tz: str) -> pl.Series:
    return (
        pl.from_epoch(pl.Series(np.asarray(epochs, np.int64)), "s")
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone(tz)
    )


def apple_time(epochs, tz: str) -> pl.Series:
    return _local(epochs, tz).dt.strftime("%Y-%m-%d %H:%M:%S %z")


def fitabase_time(epochs, tz: str) -> pl.Series:
    return _local(epochs, tz).dt.strftime("%-m/%-d/%Y %-I:%M:%S %p")


def first_local_occurrence(epochs, tz: str) -> np.ndarray:
    """Mask of instants whose local wall time is later than every earlier instant's (sorted)."""
    naive = _local(epochs, tz).dt.replace_time_zone(None).dt.epoch("s").to_numpy()
    if len(naive) == 0:
        return np.ones(0, bool)
    prev = np.maximum.accumulate(np.r_[np.iinfo(np.int64).min, naive[:-1]])
    return naive > prev


def _write_zip(path: Path, member: str, data: bytes) -> None:
    info = zipfile.ZipInfo(member, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(info, data)


def _records(
    kind: str, unit: str | None, start, end, values, tz: str, source: str = APPLE_SOURCE
) -> list[str]:
    if len(start) == 0:
        return []
    st, en = apple_time(start, tz), apple_time(end, tz)
    unit_attr = f' unit="{unit}"' if unit else ""
    f = pl.DataFrame({"s": st, "e": en, "v": pl.Series([str(v) for v in values])})
    return f.select(
        pl.format(
            f' <Record type="{kind}" {source}{unit_attr} creationDate="{{}}" '
            'startDate="{}" endDate="{}" value="{}"/>',
            "e",
            "s",
            "e",
            "v",
        )
    )[:, 0].to_list()


def write_apple(
    path: Path,
    person: Person,
    t0: int,
    hr_t: np.ndarray,
    hr_v: np.ndarray,
    steps_min: np.ndarray,
    met_min: np.ndarray,
    bmr_kcal_d: float,
    sleep_segments: list[tuple[int, int, int]],
    workouts: list[dict],
    logs: dict,
    export_epoch: int,
) -> dict:
    tz = person.tz
    q = "HKQuantityTypeIdentifier"
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<!DOCTYPE HealthData [",
        "<!-- HealthKit Export Version: 14 -->",
        "<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout)*)>",
        "]>",
        '<HealthData locale="en_US">',
        f' <ExportDate value="{apple_time([export_epoch], tz)[0]}"/>',
        f' <Me HKCharacteristicTypeIdentifierDateOfBirth="{person.birth_year}-06-15" '
        f'HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSex'
        f'{person.sex.capitalize()}" HKCharacteristicTypeIdentifierBloodType='
        '"HKBloodTypeNotSet" HKCharacteristicTypeIdentifierFitzpatrickSkinType='
        '"HKFitzpatrickSkinTypeNotSet" '
        'HKCharacteristicTypeIdentifierCardioFitnessMedicationsUse="None"/>',
    ]
    counts = {}
    t = t0 + hr_t
    recs = _records(q + "HeartRate", "count/min", t, t, hr_v, tz)
    counts["heart_rate"] = len(recs)
    lines += recs
    # steps: runs of walking minutes, cut into samples of at most 5 min
    idx = np.flatnonzero(steps_min > 0)
    starts, ends, vals = [], [], []
    if len(idx):
        breaks = np.flatnonzero(np.diff(idx) > 1) + 1
        for grp in np.split(idx, breaks):
            for k in range(0, len(grp), 5):
                g = grp[k : k + 5]
                starts.append(t0 + 60 * int(g[0]))
                ends.append(t0 + 60 * int(g[-1] + 1))
                vals.append(int(steps_min[g].sum()))
    recs = _records(q + "StepCount", "count", starts, ends, vals, tz)
    counts["steps"] = len(recs)
    lines += recs
    # active energy per 15 min where > 0.5 kcal
    active = np.clip(met_min - 1.0, 0, None) * bmr_kcal_d / 1440
    n15 = len(active) // 15
    per15 = active[: n15 * 15].reshape(n15, 15).sum(1)
    k = np.flatnonzero(per15 > 0.5)
    recs = _records(
        q + "ActiveEnergyBurned",
        "kcal",
        t0 + 900 * k,
        t0 + 900 * (k + 1),
        [f"{v:.3f}" for v in per15[k]],
        tz,
    )
    counts["active_energy"] = len(recs)
    lines += recs
    # sleep analysis: InBed from the phone, stages from the watch
    for phone in (True, False):
        segs = [x for x in sleep_segments if (x[2] == -2) == phone]
        src = 'sourceName="iPhone" sourceVersion="17.3"' if phone else APPLE_SOURCE
        lines += _records(
            "HKCategoryTypeIdentifierSleepAnalysis",
            None,
            [x[0] for x in segs],
            [x[1] for x in segs],
            [f"HKCategoryValueSleepAnalysis{STAGE_VALUES[x[2]]}" for x in segs],
            tz,
            src,
        )
    counts["sleep_segments"] = len(sleep_segments)
    mass = logs["mass"]
    lines += _records(
        q + "BodyMass",
        "kg",
        [m["time"] for m in mass],
        [m["time"] for m in mass],
        [f"{m['kg']:.1f}" for m in mass],
        tz,
        'sourceName="Withings" sourceVersion="6.2"',
    )
    water = logs["water"]
    lines += _records(
        q + "DietaryWater",
        "mL",
        [w["time"] for w in water],
        [w["time"] for w in water],
        [w["ml"] for w in water],
        tz,
        'sourceName="WaterMinder" sourceVersion="5.1"',
    )
    counts.update(body_mass=len(mass), water=len(water), workouts=len(workouts))
    for w in workouts:
        s, e = apple_time([w["start"], w["end"]], tz)
        lines.append(
            f' <Workout workoutActivityType="HKWorkoutActivityType{w["type"]}" '
            f'duration="{(w["end"] - w["start"]) / 60:.4f}" durationUnit="min" '
            f'totalDistance="{w["distance_m"] / 1000:.3f}" totalDistanceUnit="km" '
            f'totalEnergyBurned="{w["kcal"]:.2f}" totalEnergyBurnedUnit="kcal" {APPLE_SOURCE} '
            f'creationDate="{e}" startDate="{s}" endDate="{e}">'
        )
        lines.append(f'  <MetadataEntry key="HKIndoorWorkout" value="{0 if w["outdoor"] else 1}"/>')
        lines.append(" </Workout>")
    lines.append("</HealthData>")
    _write_zip(path, "apple_health_export/export.xml", ("\n".join(lines) + "\n").encode())
    return counts


def _csv(path: Path, frame: pl.DataFrame) -> int:
    frame.write_csv(path, line_terminator="\r\n", quote_style="never")
    return frame.height


def write_fitabase(
    folder: Path,
    person: Person,
    t0: int,
    hr_t: np.ndarray,
    hr_v: np.ndarray,
    steps_min: np.ndarray,
    met_min: np.ndarray,
    bmr_kcal_d: float,
    sleep_logs: list[dict],
    days: list[dict],
    logs: dict,
) -> dict:
    tz, fid = person.tz, int(person.fitabase_id)
    folder.mkdir(parents=True, exist_ok=True)
    counts = {}
    t = t0 + hr_t
    keep = first_local_occurrence(t, tz)
    counts["heartrate_seconds"] = _csv(
        folder / "heartrate_seconds_merged.csv",
        pl.DataFrame({"Id": fid, "Time": fitabase_time(t[keep], tz), "Value": hr_v[keep]}),
    )
    tm = t0 + 60 * np.arange(len(steps_min))
    keep = first_local_occurrence(tm, tz)
    level = np.select([met_min < 1.5, met_min < 3.0, met_min < 6.0], [0, 1, 2], 3)
    times = fitabase_time(tm[keep], tz)
    counts["minute_steps"] = _csv(
        folder / "minuteStepsNarrow_merged.csv",
        pl.DataFrame({"Id": fid, "ActivityMinute": times, "Steps": steps_min[keep]}),
    )
    counts["minute_intensities"] = _csv(
        folder / "minuteIntensitiesNarrow_merged.csv",
        pl.DataFrame({"Id": fid, "ActivityMinute": times, "Intensity": level[keep]}),
    )
    # minute sleep: one row per recorded minute of each sleep log
    st, val, lid = [], [], []
    for log in sleep_logs:
        st.append(log["minute_starts"])
        val.append(log["values"])
        lid.append(np.full(len(log["values"]), log["log_id"], np.int64))
    if st:
        s, v, li = np.concatenate(st), np.concatenate(val), np.concatenate(lid)
        order = np.argsort(s, kind="stable")
        s, v, li = s[order], v[order], li[order]
        keep = first_local_occurrence(s, tz)
        counts["minute_sleep"] = _csv(
            folder / "minuteSleep_merged.csv",
            pl.DataFrame(
                {"Id": fid, "date": fitabase_time(s[keep], tz), "value": v[keep], "logId": li[keep]}
            ),
        )
    # sleepDay: per date the sleep ended
    per_day: dict[date, list[int]] = {}
    zi = ZoneInfo(tz)
    for log in sleep_logs:
        end_day = datetime.fromtimestamp(int(log["minute_starts"][-1]), zi).date()
        agg = per_day.setdefault(end_day, [0, 0, 0])
        agg[0] += 1
        agg[1] += int((log["values"] == 1).sum())
        agg[2] += len(log["values"])
    sd = sorted(per_day)
    counts["sleep_day"] = _csv(
        folder / "sleepDay_merged.csv",
        pl.DataFrame(
            {
                "Id": fid,
                "SleepDay": [f"{d.month}/{d.day}/{d.year} 12:00:00 AM" for d in sd],
                "TotalSleepRecords": [per_day[d][0] for d in sd],
                "TotalMinutesAsleep": [per_day[d][1] for d in sd],
                "TotalTimeInBed": [per_day[d][2] for d in sd],
            }
        ),
    )
    # dailyActivity per local day
    rows = []
    for day in days:
        a, b = (day["day_start"] - t0) // 60, (day["day_end"] - t0) // 60
        s, m = steps_min[a:b], met_min[a:b]
        lv = level[a:b]
        km = s.sum() * 0.7 / 1000
        rows.append(
            {
                "Id": fid,
                "ActivityDate": f"{day['local_date'].month}/"
                f"{day['local_date'].day}/{day['local_date'].year}",
                "TotalSteps": int(s.sum()),
                "TotalDistance": round(km, 2),
                "TrackerDistance": round(km, 2),
                "LoggedActivitiesDistance": 0,
                "VeryActiveDistance": round(s[lv == 3].sum() * 0.7 / 1000, 2),
                "ModeratelyActiveDistance": round(s[lv == 2].sum() * 0.7 / 1000, 2),
                "LightActiveDistance": round(s[lv == 1].sum() * 0.7 / 1000, 2),
                "SedentaryActiveDistance": 0,
                "VeryActiveMinutes": int((lv == 3).sum()),
                "FairlyActiveMinutes": int((lv == 2).sum()),
                "LightlyActiveMinutes": int((lv == 1).sum()),
                "SedentaryMinutes": int((lv == 0).sum()),
                "Calories": int(round(bmr_kcal_d / 1440 * m.sum())),
            }
        )
    counts["daily_activity"] = _csv(folder / "dailyActivity_merged.csv", pl.DataFrame(rows))
    mass = logs["mass"]
    if mass:
        wt = np.array([m["time"] for m in mass])
        naive = _local(wt, tz).dt.replace_time_zone(None).dt.epoch("ms").to_numpy()
        kg = np.array([m["kg"] for m in mass])
        bmi = kg / (person.height_cm / 100) ** 2
        counts["weight_log"] = _csv(
            folder / "weightLogInfo_merged.csv",
            pl.DataFrame(
                {
                    "Id": fid,
                    "Date": fitabase_time(wt, tz),
                    "WeightKg": kg,
                    "WeightPounds": np.round(kg / 0.45359237, 6),
                    "Fat": pl.Series([None] * len(kg), dtype=pl.String),
                    "BMI": np.round(bmi, 6),
                    "IsManualReport": "False",
                    "LogId": naive,
                }
            ),
        )
    return counts


def write_open_meteo(path: Path, person: Person, wx: dict) -> int:
    """Open-Meteo hourly CSV: one offset (the zone's at the first hour) for the whole file."""
    zi = ZoneInfo(person.tz)
    first = datetime.fromtimestamp(int(wx["time_utc"][0]), zi)
    off = int(first.utcoffset().total_seconds())
    h, m = divmod(abs(off) // 60, 60)
    abbr = "GMT" + ("+" if off >= 0 else "-") + (f"{h}" if m == 0 else f"{h}:{m:02d}")
    if off == 0:
        abbr = "GMT"
    head = (
        "latitude,longitude,elevation,utc_offset_seconds,timezone,timezone_abbreviation\n"
        f"{person.lat},{person.lon},{person.elevation},{off},{person.tz},{abbr}\n\n"
    )
    local = [
        (datetime(1970, 1, 1) + timedelta(seconds=int(t) + off)).strftime("%Y-%m-%dT%H:%M")
        for t in wx["time_utc"]
    ]
    body = pl.DataFrame(
        {
            "time": local,
            "temperature_2m (°C)": np.round(wx["temp_c"], 1),
            "relative_humidity_2m (%)": np.round(wx["rh_pct"]).astype(int),
            "dew_point_2m (°C)": np.round(wx["dew_point_c"], 1),
            "apparent_temperature (°C)": np.round(wx["apparent_temp_c"], 1),
            "precipitation (mm)": np.round(wx["precipitation_mm"], 2),
            "wind_speed_10m (km/h)": np.round(wx["wind_m_s"] * 3.6, 1),
            "shortwave_radiation (W/m²)": np.round(wx["radiation_w_m2"], 1),
        }
    ).write_csv(quote_style="never")
    path.write_text(head + body, encoding="utf-8")
    return len(local)


def write_participants(path: Path, people: list[Person]) -> None:
    lines = [
        "participant_id,sex,birth_year,tz,home_lat_deg,home_lon_deg,height_cm,conditions,"
        "medications"
    ]
    for p in people:
        lines.append(
            f"{p.participant_id},{p.sex},{p.birth_year},{p.tz},{p.lat},{p.lon},{p.height_cm:.1f},,"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def apple_sleep_segments(bed: int, out_of_bed: int, labels: np.ndarray) -> list:
    segs = [(bed, out_of_bed, -2)]
    segs += [(bed + 30 * a, bed + 30 * b, v) for a, b, v in runs(labels)]
    return segs
