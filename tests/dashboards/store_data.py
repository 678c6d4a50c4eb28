"""A small crampwatch store whose dashboard numbers are known by construction.

P01 (Europe/Berlin, UTC+1 in January): 5 nights 2026-01-05..09 with stages and heart rate every
5 min; a 45-min heart-rate gap on the night of 01-07; one *likely* cramp episode on the night of
01-08 (03:10-03:18 local) with a journal cramp at 03:25; a *possible* dehydration day 01-08
(the day before that night) with weather for that day.
-> nights 5, cramp nights 1, dehydration days 1, journal cramps 1.

P02 (America/New_York, UTC-5): 4 nights 2026-01-04..07; a likely episode on 01-05 and a
possible one on 01-07; journal cramps on the nights of 01-05 and 01-06; one ``no_cramp`` entry.
-> nights 4, cramp nights 2, dehydration days 0, journal cramps 2.

Days and triggers (``daily_exposures``): P01 has the 6 days 2026-01-04..09 of ``P01_DAYS``
(conditions type 2 diabetes; medications hydrochlorothiazide + atorvastatin, flagged thiazide
and statin); P02 has none (the page's empty state).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl

from pipeline.store import connect, publish_snapshot

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "dashboards" / "app.py"


@dataclass(frozen=True)
class Participant:
    pid: str
    tz: str
    offset_s: int
    nights: tuple[date, ...]


P01 = Participant("P01", "Europe/Berlin", 3600, tuple(date(2026, 1, d) for d in range(5, 10)))
P02 = Participant(
    "P02", "America/New_York", -5 * 3600, tuple(date(2026, 1, d) for d in range(4, 8))
)

EXPECTED = {
    "P01": {"nights": 5, "cramp_nights": 1, "dehydration_days": 1, "journal_cramps": 1},
    "P02": {"nights": 4, "cramp_nights": 2, "dehydration_days": 0, "journal_cramps": 2},
}

#: night (P01) with the cramp episode, and the night with a heart-rate gap
P01_CRAMP_NIGHT = date(2026, 1, 8)
P01_GAP_NIGHT = date(2026, 1, 7)

#: P01's daily_exposures: (day, heat index max °C, hours HI >= 80 °F, fluid log status,
#: logged mL, need mL, sweat mL, next-morning mass change %, magnesium 7-d % RDA)
P01_DAYS = [
    (date(2026, 1, 4), 20.0, 0, "logged", 2100.0, 2000.0, 0.0, 0.2, None),
    (date(2026, 1, 5), 24.5, 0, "logged", 1900.0, 2150.0, 150.0, -0.3, None),
    (date(2026, 1, 6), 25.0, 0, "not_logged", None, 2000.0, 0.0, None, None),
    (date(2026, 1, 7), 28.1, 2, "logged", 2300.0, 2600.0, 600.0, 0.1, 82.0),
    (date(2026, 1, 8), 32.9, 3, "logged", 1500.0, 3100.0, 1100.0, -1.1, 78.0),
    (date(2026, 1, 9), None, None, "partial", 800.0, 2000.0, None, None, 75.0),
]

STAGE_CYCLE = [("light", 25), ("deep", 30), ("light", 15), ("rem", 20)]  # minutes


def _utc(p: Participant, local: datetime) -> datetime:
    return (local - timedelta(seconds=p.offset_s)).replace(tzinfo=UTC)


def _sleep_window(p: Participant, night: date) -> tuple[datetime, datetime]:
    """Local 22:30 + 10 min per night index, 8 h long."""
    i = p.nights.index(night)
    start = datetime.combine(night, datetime.min.time()) + timedelta(hours=22, minutes=30 + 10 * i)
    return start, start + timedelta(hours=8)


def _episode(
    con,
    p: Participant,
    kind: str,
    start_local: datetime,
    minutes: int,
    local_date: date,
    confidence: float,
    label: str,
    evidence: dict,
) -> None:
    start = _utc(p, start_local)
    con.execute(
        "INSERT INTO episodes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'test-1', now())",
        [
            f"{p.pid}-{kind}-{local_date}",
            p.pid,
            kind,
            start,
            start + timedelta(minutes=minutes),
            local_date,
            confidence,
            label,
            json.dumps(evidence),
        ],
    )


def _journal(
    con,
    p: Participant,
    local: datetime,
    kind: str,
    severity=None,
    side=None,
    muscle=None,
    note=None,
) -> None:
    con.execute(
        "INSERT INTO journal (participant_id, time_utc, utc_offset_s, kind, severity, "
        "body_side, muscle, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [p.pid, _utc(p, local), p.offset_s, kind, severity, side, muscle, note],
    )


def _night(
    p: Participant,
    night: date,
    rows: dict[str, list],
    *,
    cramp_at: datetime | None = None,
    gap: tuple[datetime, datetime] | None = None,
) -> None:
    """Append one night's sleep period, stage segments and heart rate to ``rows``."""
    start, end = _sleep_window(p, night)
    asleep = timedelta()
    segs = []
    t = start
    k = 0
    while t < end:
        stage, minutes = STAGE_CYCLE[k % len(STAGE_CYCLE)]
        seg_end = min(t + timedelta(minutes=minutes), end)
        if cramp_at is not None and t <= cramp_at < seg_end:
            # an awake bout around the cramp
            segs.append((stage, t, cramp_at))
            segs.append(("awake", cramp_at, cramp_at + timedelta(minutes=15)))
            seg_end = max(seg_end, cramp_at + timedelta(minutes=15))
        else:
            segs.append((stage, t, seg_end))
        t, k = seg_end, k + 1
    segs.append(("in_bed", start - timedelta(minutes=10), end + timedelta(minutes=5)))
    for stage, a, b in segs:
        if a >= b:
            continue
        rows["sleep_segments"].append((p.pid, _utc(p, a), _utc(p, b), p.offset_s, stage, "watch"))
        if stage not in ("awake", "in_bed"):
            asleep += b - a
    awake = (end - start) - asleep
    rows["sleep_periods"].append(
        (
            p.pid,
            night,
            _utc(p, start),
            _utc(p, end),
            p.offset_s,
            asleep.total_seconds(),
            awake.total_seconds(),
            "device_stages",
            "test-1",
        )
    )
    t = start - timedelta(hours=1, minutes=30)
    while t < end + timedelta(hours=1, minutes=30):
        if gap is None or not (gap[0] <= t < gap[1]):
            bpm = 56 + 4 * math.sin((t - start).total_seconds() / 3600)
            if cramp_at is not None and cramp_at <= t < cramp_at + timedelta(minutes=15):
                bpm += 22
            u = _utc(p, t)
            rows["samples"].append(
                (p.pid, "heart_rate_bpm", u, u, p.offset_s, round(bpm, 1), "count/min", "watch")
            )
        t += timedelta(minutes=5)


_COLUMNS = {
    "sleep_segments": ["participant_id", "start_utc", "end_utc", "utc_offset_s", "stage", "source"],
    "sleep_periods": [
        "participant_id",
        "night_of",
        "start_utc",
        "end_utc",
        "utc_offset_s",
        "asleep_s",
        "awake_s",
        "method",
        "detector_version",
    ],
    "samples": [
        "participant_id",
        "metric",
        "start_utc",
        "end_utc",
        "utc_offset_s",
        "value",
        "unit",
        "source",
    ],
}


def _insert_rows(con, rows: dict[str, list]) -> None:
    """Bulk insert (one statement per table) through an Arrow table."""
    for table, cols in _COLUMNS.items():
        frame = pl.DataFrame(rows[table], schema=cols, orient="row")
        con.register("_rows", frame.to_arrow())
        try:
            con.execute(f"INSERT INTO {table} ({', '.join(cols)}) SELECT * FROM _rows")
        finally:
            con.unregister("_rows")


def _daily_exposures(con, p: Participant) -> None:
    for day, hi, hi80, status, logged, need, sweat, mass, mg in P01_DAYS:
        con.execute(
            "INSERT INTO daily_exposures (participant_id, local_date, outdoor_hi_max_c, "
            "outdoor_hi_ge_80f_h, fluid_log_status, fluid_logged, fluid_logged_ml, "
            "fluid_need_ml, sweat_loss_ml, next_morning_mass_change_pct, magnesium_7d_pct_rda, "
            "magnesium_adequacy, cramp_drug_classes, cramp_condition_classes, "
            "detector_version, computed_utc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "['thiazide_diuretic', 'statin'], ['type2_diabetes'], 'test', now())",
            [
                p.pid,
                day,
                hi,
                hi80,
                status,
                status == "logged",
                logged,
                need,
                sweat,
                mass,
                mg,
                None if mg is None else "uncertain",
            ],
        )


def build_store(path: Path) -> Path:
    """Create the store at ``path`` with the data above and publish its snapshot."""
    con = connect(path)
    try:
        con.execute(
            "INSERT INTO participants (participant_id, tz, conditions, medications) "
            "VALUES (?, ?, ['type 2 diabetes'], ['hydrochlorothiazide', 'atorvastatin']),"
            " (?, ?, NULL, NULL)",
            [P01.pid, P01.tz, P02.pid, P02.tz],
        )
        _daily_exposures(con, P01)
        # --- P01
        rows: dict[str, list] = {table: [] for table in _COLUMNS}
        cramp_local = datetime(2026, 1, 9, 3, 10)
        for night in P01.nights:
            gap = None
            if night == P01_GAP_NIGHT:
                gap = (datetime(2026, 1, 8, 1, 0), datetime(2026, 1, 8, 1, 45))
            _night(
                P01,
                night,
                rows,
                cramp_at=cramp_local if night == P01_CRAMP_NIGHT else None,
                gap=gap,
            )
        _episode(
            con,
            P01,
            "nocturnal_cramp",
            cramp_local,
            8,
            P01_CRAMP_NIGHT,
            0.82,
            "likely",
            {
                "hr_rise_bpm": 21.5,
                "hr_sustain_min": 6,
                "act_peak_z": 4.2,
                "duration_min": 8,
                "steps_total": 12,
                "wake_after_min": 14,
                "hr_missing_pct": 0.0,
            },
        )
        _episode(
            con,
            P01,
            "dehydration",
            datetime(2026, 1, 8, 0, 0),
            24 * 60,
            date(2026, 1, 8),
            0.55,
            "possible",
            {
                "heat_index_max_f": 91.2,
                "hours_hi_ge_80f": 3,
                "sweat_loss_pct_bm": 1.4,
                "fluid_deficit_pct_bm": 1.2,
                "body_mass_change_pct": -1.1,
            },
        )
        _journal(
            con,
            P01,
            datetime(2026, 1, 9, 3, 25),
            "cramp",
            6,
            "right",
            "calf",
            "woke with right calf cramp",
        )
        con.execute(
            "INSERT INTO participant_locations (participant_id, location_id) VALUES ('P01', '52.52,13.41')"
        )
        for h in range(24):
            t = _utc(P01, datetime(2026, 1, 8, h))
            con.execute(
                "INSERT INTO environment (location_id, time_utc, utc_offset_s, setting, "
                "temp_c, rh_pct, apparent_temp_c) VALUES ('52.52,13.41', ?, 3600, "
                "'outdoor', ?, 60, ?)",
                [t, 20 + 12 * math.sin(h / 24 * math.pi), 22 + 12 * math.sin(h / 24 * math.pi)],
            )
        # --- P02
        for night in P02.nights:
            _night(P02, night, rows)
        _insert_rows(con, rows)
        _episode(
            con,
            P02,
            "nocturnal_cramp",
            datetime(2026, 1, 6, 2, 0),
            6,
            date(2026, 1, 5),
            0.74,
            "likely",
            {"hr_rise_bpm": 14.0, "duration_min": 6},
        )
        _episode(
            con,
            P02,
            "nocturnal_cramp",
            datetime(2026, 1, 8, 4, 40),
            4,
            date(2026, 1, 7),
            0.45,
            "possible",
            {"hr_rise_bpm": 9.0, "duration_min": 4},
        )
        _journal(con, P02, datetime(2026, 1, 6, 7, 30), "cramp", 4, "left", "foot")
        _journal(con, P02, datetime(2026, 1, 7, 1, 10), "cramp", 7, "both", "calf")
        _journal(con, P02, datetime(2026, 1, 8, 7, 0), "no_cramp")
        publish_snapshot(con, path)
    finally:
        con.close()
    return path
