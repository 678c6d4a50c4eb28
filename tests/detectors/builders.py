"""Hand-built detector inputs with answers known by construction.

Times are given as local wall-clock on a night or day and converted to UTC with an explicit
``utc_offset_s``, so each test states the local story it tells ("a cramp at 03:00").
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl

from detectors.frames import (
    ENVIRONMENT_SCHEMA,
    PARTICIPANTS_SCHEMA,
    SAMPLES_SCHEMA,
    SLEEP_SEGMENTS_SCHEMA,
    WORKOUTS_SCHEMA,
)

NIGHT = date(2024, 6, 10)
OFFSET = 7200  # Europe/Berlin summer time


def local(hhmm: str, night: date = NIGHT, offset_s: int = OFFSET) -> datetime:
    """UTC instant of local ``hh:mm`` during ``night`` (times before noon are the next day)."""
    h, m = (int(x) for x in hhmm.split(":"))
    d = night if h >= 12 else night + timedelta(days=1)
    naive = datetime(d.year, d.month, d.day, h, m)
    return (naive - timedelta(seconds=offset_s)).replace(tzinfo=UTC)


def at(day: date, hhmm: str, offset_s: int = OFFSET) -> datetime:
    """UTC instant of local ``hh:mm`` on calendar ``day``."""
    h, m = (int(x) for x in hhmm.split(":"))
    return (datetime(day.year, day.month, day.day, h, m) - timedelta(seconds=offset_s)).replace(
        tzinfo=UTC
    )


def segments(rows: list[tuple], pid: str = "p1") -> pl.DataFrame:
    """rows: (start_utc, end_utc, stage[, utc_offset_s])."""
    out = [
        {
            "participant_id": pid,
            "start_utc": r[0],
            "end_utc": r[1],
            "utc_offset_s": r[3] if len(r) > 3 else OFFSET,
            "stage": r[2],
        }
        for r in rows
    ]
    return pl.DataFrame(out, schema=SLEEP_SEGMENTS_SCHEMA)


def samples(rows: list[tuple], pid: str = "p1") -> pl.DataFrame:
    """rows: (metric, start_utc, end_utc, value[, utc_offset_s])."""
    out = [
        {
            "participant_id": pid,
            "metric": r[0],
            "start_utc": r[1],
            "end_utc": r[2],
            "utc_offset_s": r[4] if len(r) > 4 else OFFSET,
            "value": float(r[3]),
        }
        for r in rows
    ]
    return pl.DataFrame(out, schema=SAMPLES_SCHEMA)


def concat(frames: list[pl.DataFrame]) -> pl.DataFrame:
    return pl.concat([f for f in frames if f.height], how="vertical")


def staged_night(
    awake: list[tuple[str, str]] = (),
    onset: str = "23:00",
    wake: str = "07:00",
    night: date = NIGHT,
    pid: str = "p1",
    offset_s: int = OFFSET,
    gaps: list[tuple[str, str]] = (),
) -> pl.DataFrame:
    """Watch-style night: light/deep alternating, explicit awake segments, no-data ``gaps``."""
    cuts = sorted(
        {
            onset,
            wake,
            *[a for a, _ in awake],
            *[b for _, b in awake],
            *[a for a, _ in gaps],
            *[b for _, b in gaps],
        },
        key=lambda t: local(t, night, offset_s),
    )
    rows = []
    stage_cycle = ["light", "deep", "rem"]
    k = 0
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        if (a, b) in list(gaps):
            continue
        if any(a == x and b == y for x, y in awake):
            rows.append((local(a, night, offset_s), local(b, night, offset_s), "awake", offset_s))
        else:
            rows.append(
                (local(a, night, offset_s), local(b, night, offset_s), stage_cycle[k % 3], offset_s)
            )
            k += 1
    rows.append(
        (local("22:45", night, offset_s), local("07:10", night, offset_s), "in_bed", offset_s)
    )
    return segments(rows, pid)


def old_style_night(
    gaps: list[tuple[str, str]] = (),
    onset: str = "23:00",
    wake: str = "07:00",
    night: date = NIGHT,
    pid: str = "p1",
    offset_s: int = OFFSET,
) -> pl.DataFrame:
    """Old export: phone in_bed plus asleep segments; awakenings are the gaps."""
    pts = [onset] + [t for g in gaps for t in g] + [wake]
    rows = [
        (local(pts[i], night, offset_s), local(pts[i + 1], night, offset_s), "asleep", offset_s)
        for i in range(0, len(pts), 2)
    ]
    rows.append(
        (local("22:45", night, offset_s), local("07:10", night, offset_s), "in_bed", offset_s)
    )
    return segments(rows, pid)


def heart_rate(
    overrides: dict[str, float] | None = None,
    start: str = "22:32",
    end: str = "07:30",
    every_min: int = 5,
    base_bpm: float = 55.0,
    night: date = NIGHT,
    pid: str = "p1",
    offset_s: int = OFFSET,
    skip: list[tuple[str, str]] = (),
) -> pl.DataFrame:
    """5-min point samples with a small deterministic wobble; ``overrides`` by local hh:mm.

    ``skip`` removes samples in [a, b) (watch off). Overrides at times off the 5-min phase
    are added as extra samples.
    """
    overrides = dict(overrides or {})
    wobble = [0.0, 1.0, -1.0, 0.5, -0.5, 1.5, -1.5]
    t = local(start, night, offset_s)
    t_end = local(end, night, offset_s)
    skip_utc = [(local(a, night, offset_s), local(b, night, offset_s)) for a, b in skip]
    by_time: dict[datetime, float] = {}
    i = 0
    while t <= t_end:
        by_time[t] = base_bpm + wobble[i % len(wobble)]
        t += timedelta(minutes=every_min)
        i += 1
    for hhmm, bpm in overrides.items():
        by_time[local(hhmm, night, offset_s)] = bpm
    rows = [
        ("heart_rate_bpm", ts, ts, v, offset_s)
        for ts, v in sorted(by_time.items())
        if not any(a <= ts < b for a, b in skip_utc)
    ]
    return samples(rows, pid)


def steps(
    intervals: list[tuple[str, str, float]],
    night: date = NIGHT,
    pid: str = "p1",
    offset_s: int = OFFSET,
) -> pl.DataFrame:
    return samples(
        [
            ("steps", local(a, night, offset_s), local(b, night, offset_s), v, offset_s)
            for a, b, v in intervals
        ],
        pid,
    )


def participants(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=PARTICIPANTS_SCHEMA)


def workouts(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=WORKOUTS_SCHEMA)


def environment(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=ENVIRONMENT_SCHEMA)
