"""Files: an Apple Health ``export.zip`` (times with the offset of the zone the phone is in)
and a Fitabase folder (``*_merged.csv``, local wall clock without offset, CRLF, as the real
files). Fitbit intraday series are keyed by local time: in the repeated autumn hour the second
occurrence of a local time is not written (one value per local time, as Fitbit's day series)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import polars as pl

from simulators.apple_export.layout import DTD
from simulators.nocturne.ranges import draw

APPLE_TIME = "%Y-%m-%d %H:%M:%S %z"
FITABASE_TIME = "%-m/%-d/%Y %-I:%M:%S %p"
APPLE_STAGE = {0: "Awake", 1: "AsleepCore", 3: "AsleepDeep", 4: "AsleepREM"}


def local_strings(utc_s: np.ndarray, zones: np.ndarray | str, fmt: str) -> pl.Series:
    """``utc_s`` (epoch seconds) as local strings in ``zones`` (one zone or one per value)."""
    t = pl.from_epoch(pl.Series(np.asarray(utc_s, np.int64)), time_unit="s")
    if isinstance(zones, str):
        return t.dt.replace_time_zone("UTC").dt.convert_time_zone(zones).dt.strftime(fmt)
    out = pl.Series([""] * len(t))
    for z in np.unique(zones):
        m = zones == z
        s = t.filter(pl.Series(m)).dt.replace_time_zone("UTC").dt.convert_time_zone(str(z))
        out = out.scatter(np.flatnonzero(m), s.dt.strftime(fmt))
    return out


# ------------------------------------------------------------------------------ Apple
def apple_export(path: Path, person, t0: int, hr, steps, phone_steps, sleep, workouts, rng) -> None:
    """``hr`` (idx, values), ``steps`` and ``phone_steps`` (Watch, iPhone) [(a, b, n)],
    ``sleep`` [(a, b, stage)], ``workouts`` [(a, b, kind)]; indices are timeline seconds from
    ``t0``. The file opens as a real one: XML declaration and HealthKit Export Version 14
    internal DTD, ``<ExportDate>``, ``<Me>``."""
    zone_of = person.extra["zone_of"]  # utc seconds array -> zone names array
    src = f"{person.pid} Apple Watch"
    dev = (
        f"&lt;&lt;HKDevice: 0x{int(rng.integers(1 << 32, 1 << 35)):09x}&gt;, name:Apple Watch, manufacturer:Apple Inc., "
        "model:Watch, hardware:Watch6,2, software:10.6&gt;"
    )
    head = f'type="{{}}" sourceName="{src}" sourceVersion="10.6" device="{dev}" unit="{{}}"'
    phone = (
        f"&lt;&lt;HKDevice: 0x{int(rng.integers(1 << 32, 1 << 35)):09x}&gt;, name:iPhone, "
        "manufacturer:Apple Inc., model:iPhone, hardware:iPhone14,7, software:17.6.1&gt;"
    )
    phone_head = (
        f'type="{{}}" sourceName="{person.pid} iPhone" sourceVersion="17.6.1" '
        f'device="{phone}" unit="{{}}"'
    )

    def dates(a, b):
        a, b = np.asarray(a) + t0, np.asarray(b) + t0
        lag = draw(rng, "apple_creation_lag_s", len(b)).astype(np.int64)
        c = b + lag
        return (
            local_strings(c, zone_of(c), APPLE_TIME),
            local_strings(a, zone_of(a), APPLE_TIME),
            local_strings(b, zone_of(b), APPLE_TIME),
        )

    parts = []
    idx, v = hr
    c, s, e = dates(idx, idx)
    hr_head = head.format("HKQuantityTypeIdentifierHeartRate", "count/min")
    vals = [f"{x:g}" for x in v]
    parts += [
        (
            int(i),
            f' <Record {hr_head} creationDate="{cc}" startDate="{ss}" endDate="{ee}" value="{x}"/>',
        )
        for i, cc, ss, ee, x in zip(idx, c, s, e, vals, strict=True)
    ]
    for recs, h in ((steps, head), (phone_steps, phone_head)):
        if not recs:
            continue
        a, b, n = (np.array(x) for x in zip(*recs, strict=True))
        c, s, e = dates(a, b)
        st_head = h.format("HKQuantityTypeIdentifierStepCount", "count")
        parts += [
            (
                int(i),
                f' <Record {st_head} creationDate="{cc}" startDate="{ss}" endDate="{ee}" '
                f'value="{int(k)}"/>',
            )
            for i, cc, ss, ee, k in zip(a, c, s, e, n, strict=True)
        ]
    if sleep:
        a, b, g = (np.array(x) for x in zip(*sleep, strict=True))
        c, s, e = dates(a, b)
        sl = f'type="HKCategoryTypeIdentifierSleepAnalysis" sourceName="{src}" sourceVersion="10.6" device="{dev}"'
        parts += [
            (
                int(i),
                f' <Record {sl} creationDate="{cc}" startDate="{ss}" endDate="{ee}" '
                f'value="HKCategoryValueSleepAnalysis{APPLE_STAGE[int(k)]}"/>',
            )
            for i, cc, ss, ee, k in zip(a, c, s, e, g, strict=True)
        ]
    for a, b, kind in workouts:
        c, s, e = dates([a], [b])
        km = (b - a) / 60 * (0.08 if kind == "walking" else 0.3)
        kcal = (b - a) / 60 * (4.5 if kind == "walking" else 6.0)
        parts.append(
            (
                int(a),
                f' <Workout workoutActivityType="HKWorkoutActivityType{kind.title()}" '
                f'duration="{(b - a) / 60:.4f}" durationUnit="min" totalDistance="{km:.3f}" '
                f'totalDistanceUnit="km" totalEnergyBurned="{kcal:.1f}" totalEnergyBurnedUnit="kcal" '
                f'sourceName="{src}" sourceVersion="10.6" device="{dev}" creationDate="{c[0]}" '
                f'startDate="{s[0]}" endDate="{e[0]}"/>',
            )
        )
    parts.sort(key=lambda x: x[0])
    sex = {"female": "Female", "male": "Male"}.get(person.sex, "Other")
    body = "\n".join(x for _, x in parts)
    last = max(int(t0 + parts[-1][0]), t0) if parts else t0
    export_date = local_strings(np.array([last + 86400]), person.home, APPLE_TIME)[0]
    xml = (
        DTD + '<HealthData locale="en_US">\n'
        f' <ExportDate value="{export_date}"/>\n'
        f' <Me HKCharacteristicTypeIdentifierDateOfBirth="{person.birth_year}-06-15" '
        f'HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSex{sex}" '
        'HKCharacteristicTypeIdentifierBloodType="HKBloodTypeNotSet" '
        'HKCharacteristicTypeIdentifierFitzpatrickSkinType="HKFitzpatrickSkinTypeNotSet" '
        'HKCharacteristicTypeIdentifierCardioFitnessMedicationsUse="None"/>\n'
        f"{body}\n</HealthData>\n"
    )
    info = zipfile.ZipInfo("apple_health_export/export.xml", date_time=(2025, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(info, xml.encode("utf-8"))


# ------------------------------------------------------------------------------ Fitabase
def _csv(path: Path, df: pl.DataFrame, key: str) -> None:
    df = df.unique(subset=[key], keep="first", maintain_order=True)
    df.write_csv(path, line_terminator="\r\n")


def fitabase_folder(folder: Path, person, t0: int, n: int, hr, counted, nights_sleep) -> None:
    """``hr`` (idx, values); ``counted`` steps per second; ``nights_sleep`` per night
    (a, device minute values 1/2/3 array, log id)."""
    fid, zone = int(person.fitabase_id), person.home
    idx, v = hr
    _csv(
        folder / "heartrate_seconds_merged.csv",
        pl.DataFrame({"Id": fid, "Time": local_strings(idx + t0, zone, FITABASE_TIME), "Value": v}),
        "Time",
    )
    # minute steps for whole local days: from the first to the last local midnight covered
    first = (t0 // 60) * 60
    mins = np.arange(first, t0 + n - 60, 60, dtype=np.int64)
    cs = np.concatenate([[0.0], np.cumsum(counted, dtype=np.float64)])
    lo = np.clip(mins - t0, 0, n)
    hi = np.clip(mins - t0 + 60, 0, n)
    steps = np.round(cs[hi] - cs[lo]).astype(np.int64)
    _csv(
        folder / "minuteStepsNarrow_merged.csv",
        pl.DataFrame(
            {"Id": fid, "ActivityMinute": local_strings(mins, zone, FITABASE_TIME), "Steps": steps}
        ),
        "ActivityMinute",
    )
    rows_t, rows_v, rows_l, days = [], [], [], {}
    for a, vals, log_id in nights_sleep:
        t = a + t0 + 30 + 60 * np.arange(len(vals))
        rows_t.append(t)
        rows_v.append(vals)
        rows_l.append(np.full(len(vals), log_id))
        end_day = local_strings(np.array([t[-1]]), zone, "%-m/%-d/%Y 12:00:00 AM")[0]
        asleep, bed = days.get(end_day, (0, 0))
        days[end_day] = (asleep + int((vals == 1).sum()), bed + len(vals))
    if rows_t:
        t = np.concatenate(rows_t)
        _csv(
            folder / "minuteSleep_merged.csv",
            pl.DataFrame(
                {
                    "Id": fid,
                    "date": local_strings(t, zone, FITABASE_TIME),
                    "value": np.concatenate(rows_v),
                    "logId": np.concatenate(rows_l),
                }
            ),
            "date",
        )
    _csv(
        folder / "sleepDay_merged.csv",
        pl.DataFrame(
            {
                "Id": [fid] * len(days),
                "SleepDay": list(days),
                "TotalSleepRecords": [1] * len(days),
                "TotalMinutesAsleep": [x[0] for x in days.values()],
                "TotalTimeInBed": [x[1] for x in days.values()],
            },
            schema={
                "Id": pl.Int64,
                "SleepDay": pl.String,
                "TotalSleepRecords": pl.Int64,
                "TotalMinutesAsleep": pl.Int64,
                "TotalTimeInBed": pl.Int64,
            },
        ),
        "SleepDay",
    )
