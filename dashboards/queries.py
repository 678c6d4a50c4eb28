"""Every SQL statement the dashboard runs, as functions returning polars frames.

Rules kept here:

- bound parameters only (``$name``), never string formatting of values into SQL;
- a query function takes an open connection; :func:`run` opens a short-lived reader through
  :func:`pipeline.store.connect_reader` (the published snapshot if there is one, else the store
  read-only), runs one query and closes it again. A long-lived connection would pin an old
  snapshot, or block the writer when no snapshot exists;
- instants are stored in UTC; every ``*_local`` column is the row's UTC instant shifted by its own
  ``utc_offset_s`` and returned as a naive timestamp (wall-clock time of the participant);
- missing values stay NULL (shown as gaps), never coalesced to 0.

The nights of the ``sleep_periods`` table are noon-to-noon: ``night_of`` is the local date of the
evening a night starts. Journal entries are attached to nights with the same rule, and the
dehydration day that precedes a night has ``local_date = night_of``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import duckdb
import polars as pl

from pipeline.config import snapshot_path
from pipeline.store import connect_reader

T = TypeVar("T")

CRAMP = "nocturnal_cramp"
DEHYDRATION = "dehydration"
HEART_RATE = "heart_rate_bpm"

#: labels the detectors write (detectors/schema.py); anything else is ignored by the dashboard
REPORTED_LABELS = ("likely", "possible")


def run(db_path: str | os.PathLike, query: Callable[..., T], /, **params: Any) -> T:
    """Open a short-lived reader on ``db_path``, run ``query(con, **params)``, close."""
    con = connect_reader(db_path)
    try:
        return query(con, **params)
    finally:
        con.close()


def data_version(db_path: str | os.PathLike) -> tuple | None:
    """Identity of the data a reader would see now: changes with every publish.

    ``None`` when neither the snapshot nor the store exists. Used as a cache key, so cached
    results are dropped as soon as a new snapshot is swapped in (new inode and mtime).
    """
    out = []
    for p in (snapshot_path(db_path), db_path):
        try:
            st = os.stat(p)
        except FileNotFoundError:
            out.append(None)
            continue
        out.append((str(p), st.st_ino, st.st_mtime_ns, st.st_size))
    if out == [None, None]:
        return None
    return tuple(out)


def _local(col: str, offset: str = "utc_offset_s") -> str:
    """SQL expression: UTC instant ``col`` as naive local wall-clock time (trusted names only)."""
    return f"(({col}) AT TIME ZONE 'UTC') + to_seconds({offset})"


# --------------------------------------------------------------------------------------------
# participants and headline numbers

PARTICIPANTS_SQL = """
WITH known AS (
    SELECT participant_id FROM participants
    UNION SELECT participant_id FROM sleep_periods
    UNION SELECT participant_id FROM episodes
)
SELECT k.participant_id, p.tz
FROM known k LEFT JOIN participants p USING (participant_id)
ORDER BY k.participant_id
"""


def participants(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """``participant_id, tz`` of everyone with a profile or detector output."""
    return con.sql(PARTICIPANTS_SQL).pl()


SUMMARY_SQL = """
SELECT
    (SELECT count(*) FROM sleep_periods WHERE participant_id = $pid)
        AS nights_with_sleep,
    (SELECT count(DISTINCT local_date) FROM episodes
      WHERE participant_id = $pid AND kind = $cramp AND label IN ('likely', 'possible'))
        AS nights_with_cramp_episodes,
    (SELECT count(DISTINCT local_date) FROM episodes
      WHERE participant_id = $pid AND kind = $cramp AND label = 'likely')
        AS nights_with_likely_cramp,
    (SELECT count(DISTINCT local_date) FROM episodes
      WHERE participant_id = $pid AND kind = $dehydration AND label IN ('likely', 'possible'))
        AS dehydration_days,
    (SELECT count(*) FROM journal WHERE participant_id = $pid AND kind = 'cramp')
        AS journal_cramps,
    (SELECT min(night_of) FROM sleep_periods WHERE participant_id = $pid) AS first_night,
    (SELECT max(night_of) FROM sleep_periods WHERE participant_id = $pid) AS last_night
"""


def summary(con: duckdb.DuckDBPyConnection, participant_id: str) -> dict[str, Any]:
    """Headline counts for one participant (one dict)."""
    frame = con.sql(
        SUMMARY_SQL, params={"pid": participant_id, "cramp": CRAMP, "dehydration": DEHYDRATION}
    ).pl()
    return frame.row(0, named=True)


# --------------------------------------------------------------------------------------------
# nights table

NIGHTS_SQL = f"""
WITH
sp AS (
    SELECT night_of, start_utc, end_utc, utc_offset_s, asleep_s, awake_s, method
    FROM sleep_periods WHERE participant_id = $pid
),
cramps AS (
    SELECT local_date AS night_of, count(*) AS cramp_episodes,
           max(confidence) AS max_confidence, arg_max(label, confidence) AS cramp_label
    FROM episodes
    WHERE participant_id = $pid AND kind = $cramp AND label IN ('likely', 'possible')
    GROUP BY 1
),
jr AS (
    SELECT CAST({_local("time_utc")} - INTERVAL 12 HOUR AS DATE) AS night_of,
           count(*) AS journal_cramps, max(severity) AS journal_max_severity
    FROM journal WHERE participant_id = $pid AND kind = 'cramp'
    GROUP BY 1
),
dehy AS (
    SELECT local_date AS night_of, max(confidence) AS dehydration_confidence,
           arg_max(label, confidence) AS dehydration_label
    FROM episodes
    WHERE participant_id = $pid AND kind = $dehydration AND label IN ('likely', 'possible')
    GROUP BY 1
),
nights AS (
    SELECT night_of FROM sp UNION SELECT night_of FROM cramps UNION SELECT night_of FROM jr
)
SELECT
    n.night_of,
    {_local("sp.start_utc", "sp.utc_offset_s")} AS sleep_start_local,
    {_local("sp.end_utc", "sp.utc_offset_s")} AS sleep_end_local,
    sp.asleep_s / 3600.0 AS asleep_h,
    sp.awake_s / 60.0 AS awake_min,
    sp.method AS sleep_method,
    coalesce(c.cramp_episodes, 0) AS cramp_episodes,
    c.max_confidence,
    c.cramp_label,
    coalesce(j.journal_cramps, 0) > 0 AS journal_cramp,
    j.journal_max_severity,
    d.dehydration_label IS NOT NULL AS dehydration_day_before,
    d.dehydration_label,
    d.dehydration_confidence,
    sp.start_utc IS NOT NULL AS has_sleep_data
FROM nights n
LEFT JOIN sp USING (night_of)
LEFT JOIN cramps c USING (night_of)
LEFT JOIN jr j USING (night_of)
LEFT JOIN dehy d USING (night_of)
ORDER BY n.night_of DESC
"""


def nights(con: duckdb.DuckDBPyConnection, participant_id: str) -> pl.DataFrame:
    """One row per night (sleep data, cramp episodes or journal cramp), newest first.

    ``cramp_episodes`` counts likely/possible episodes (0 when none were detected, which is a
    real zero); sleep columns are NULL for nights without sleep data.
    """
    return con.sql(
        NIGHTS_SQL, params={"pid": participant_id, "cramp": CRAMP, "dehydration": DEHYDRATION}
    ).pl()


# --------------------------------------------------------------------------------------------
# one night in detail

SLEEP_PERIOD_SQL = f"""
SELECT night_of, start_utc, end_utc, utc_offset_s,
       {_local("start_utc")} AS start_local, {_local("end_utc")} AS end_local,
       asleep_s, awake_s, method, detector_version
FROM sleep_periods WHERE participant_id = $pid AND night_of = $night
"""


def sleep_period(
    con: duckdb.DuckDBPyConnection, participant_id: str, night_of: date
) -> dict[str, Any] | None:
    """The main sleep period of a night, or ``None``."""
    frame = con.sql(SLEEP_PERIOD_SQL, params={"pid": participant_id, "night": night_of}).pl()
    return frame.row(0, named=True) if frame.height else None


NIGHT_ANCHOR_SQL = f"""
SELECT utc_offset_s FROM (
    SELECT utc_offset_s, time_utc AS t, 0 AS prio FROM journal WHERE participant_id = $pid
    UNION ALL
    SELECT s.utc_offset_s, s.start_utc AS t, 1 AS prio
    FROM episodes e JOIN samples s
      ON s.participant_id = e.participant_id
     AND s.start_utc BETWEEN e.start_utc - INTERVAL 2 HOUR AND e.end_utc + INTERVAL 2 HOUR
    WHERE e.participant_id = $pid AND e.kind = $cramp AND e.local_date = $night
)
WHERE prio = 1 OR CAST({_local("t")} - INTERVAL 12 HOUR AS DATE) = $night
ORDER BY prio LIMIT 1
"""


def night_window(
    con: duckdb.DuckDBPyConnection,
    participant_id: str,
    night_of: date,
    margin: timedelta = timedelta(hours=1),
) -> tuple[datetime, datetime] | None:
    """UTC window to plot for a night: the sleep period +- ``margin``.

    A night known only from a journal entry or an episode (no sleep period) gets local
    20:00 to 10:00, in the offset of its journal entry or of the samples around the episode.
    """
    period = sleep_period(con, participant_id, night_of)
    if period is not None:
        return period["start_utc"] - margin, period["end_utc"] + margin
    rows = con.sql(
        NIGHT_ANCHOR_SQL, params={"pid": participant_id, "night": night_of, "cramp": CRAMP}
    ).fetchall()
    if not rows:
        return None
    row = rows[0]
    start_local = datetime.combine(night_of, datetime.min.time()) + timedelta(hours=20)
    start_utc = (start_local - timedelta(seconds=row[0])).replace(tzinfo=UTC)
    return start_utc, start_utc + timedelta(hours=14)


HEART_RATE_SQL = f"""
SELECT start_utc,
       {_local("start_utc")} AS time_local,
       avg(value) AS heart_rate_bpm,
       count(*) AS n_sources
FROM samples
WHERE participant_id = $pid AND metric = $metric
  AND start_utc >= $t0 AND start_utc < $t1
GROUP BY start_utc, utc_offset_s
ORDER BY start_utc
"""


def heart_rate(
    con: duckdb.DuckDBPyConnection, participant_id: str, start_utc: datetime, end_utc: datetime
) -> pl.DataFrame:
    """Heart-rate samples (bpm) in ``[start_utc, end_utc)``; duplicate sources averaged."""
    return con.sql(
        HEART_RATE_SQL,
        params={"pid": participant_id, "metric": HEART_RATE, "t0": start_utc, "t1": end_utc},
    ).pl()


SLEEP_SEGMENTS_SQL = f"""
SELECT stage,
       greatest(start_utc, $t0) AS start_utc, least(end_utc, $t1) AS end_utc,
       {_local("greatest(start_utc, $t0)")} AS start_local,
       {_local("least(end_utc, $t1)")} AS end_local,
       source
FROM sleep_segments
WHERE participant_id = $pid AND end_utc > $t0 AND start_utc < $t1
ORDER BY start_utc, stage
"""


def sleep_segments(
    con: duckdb.DuckDBPyConnection, participant_id: str, start_utc: datetime, end_utc: datetime
) -> pl.DataFrame:
    """Sleep-stage segments overlapping the window, clipped to it."""
    return con.sql(
        SLEEP_SEGMENTS_SQL, params={"pid": participant_id, "t0": start_utc, "t1": end_utc}
    ).pl()


EPISODES_IN_WINDOW_SQL = f"""
SELECT e.episode_id, e.kind, e.start_utc, e.end_utc,
       {_local("e.start_utc", "CAST($offset AS INTEGER)")} AS start_local,
       {_local("e.end_utc", "CAST($offset AS INTEGER)")} AS end_local,
       e.local_date, e.confidence, e.label, CAST(e.evidence AS VARCHAR) AS evidence,
       e.detector_version
FROM episodes e
WHERE e.participant_id = $pid AND e.kind = $cramp AND e.label IN ('likely', 'possible')
  AND e.end_utc > $t0 AND e.start_utc < $t1
ORDER BY e.start_utc
"""


def cramp_episodes(
    con: duckdb.DuckDBPyConnection,
    participant_id: str,
    start_utc: datetime,
    end_utc: datetime,
    utc_offset_s: int,
) -> pl.DataFrame:
    """Likely/possible cramp episodes overlapping the window.

    ``episodes`` has no offset column; the night's offset (of its sleep period) is used.
    """
    return con.sql(
        EPISODES_IN_WINDOW_SQL,
        params={
            "pid": participant_id,
            "cramp": CRAMP,
            "t0": start_utc,
            "t1": end_utc,
            "offset": utc_offset_s,
        },
    ).pl()


JOURNAL_SQL = f"""
SELECT time_utc, {_local("time_utc")} AS time_local, kind, severity, body_side, muscle,
       duration_s, note
FROM journal
WHERE participant_id = $pid AND time_utc >= $t0 AND time_utc < $t1
ORDER BY time_utc
"""


def journal(
    con: duckdb.DuckDBPyConnection, participant_id: str, start_utc: datetime, end_utc: datetime
) -> pl.DataFrame:
    """Journal entries (any kind) in the window."""
    return con.sql(JOURNAL_SQL, params={"pid": participant_id, "t0": start_utc, "t1": end_utc}).pl()


def night_offset(
    con: duckdb.DuckDBPyConnection, participant_id: str, start_utc: datetime, end_utc: datetime
) -> int:
    """UTC offset (s) to show a night window in: of the sleep period, else of the samples."""
    row = con.sql(
        """
        SELECT utc_offset_s FROM (
            SELECT utc_offset_s, 0 AS prio FROM sleep_periods
            WHERE participant_id = $pid AND start_utc < $t1 AND end_utc > $t0
            UNION ALL
            SELECT utc_offset_s, 1 FROM samples
            WHERE participant_id = $pid AND start_utc >= $t0 AND start_utc < $t1
            UNION ALL
            SELECT utc_offset_s, 2 FROM journal
            WHERE participant_id = $pid AND time_utc >= $t0 AND time_utc < $t1
        ) ORDER BY prio LIMIT 1
    """,
        params={"pid": participant_id, "t0": start_utc, "t1": end_utc},
    ).fetchall()
    return int(row[0][0]) if row else 0


def night_detail(
    con: duckdb.DuckDBPyConnection,
    participant_id: str,
    night_of: date,
    margin: timedelta = timedelta(hours=1),
) -> dict[str, Any] | None:
    """Everything the night view needs, read on one connection (one consistent snapshot).

    Keys: ``night_of, window_start_utc, window_end_utc, window_start_local, window_end_local,
    utc_offset_s, sleep_period (dict|None), heart_rate, stages, episodes, journal`` (frames).
    """
    window = night_window(con, participant_id, night_of, margin)
    if window is None:
        return None
    t0, t1 = window
    offset = night_offset(con, participant_id, t0, t1)
    shift = timedelta(seconds=offset)
    return {
        "night_of": night_of,
        "window_start_utc": t0,
        "window_end_utc": t1,
        "window_start_local": (t0 + shift).replace(tzinfo=None),
        "window_end_local": (t1 + shift).replace(tzinfo=None),
        "utc_offset_s": offset,
        "sleep_period": sleep_period(con, participant_id, night_of),
        "heart_rate": heart_rate(con, participant_id, t0, t1),
        "stages": sleep_segments(con, participant_id, t0, t1),
        "episodes": cramp_episodes(con, participant_id, t0, t1, offset),
        "journal": journal(con, participant_id, t0, t1),
    }


# --------------------------------------------------------------------------------------------
# dehydration days

DEHYDRATION_SQL = """
WITH env AS (
    SELECT CAST((e.time_utc AT TIME ZONE 'UTC') + to_seconds(e.utc_offset_s) AS DATE) AS day,
           max(e.temp_c) AS outdoor_temp_max_c,
           max(e.apparent_temp_c) AS outdoor_apparent_temp_max_c,
           avg(e.rh_pct) AS outdoor_rh_mean_pct
    FROM environment e
    JOIN participant_locations pl ON pl.location_id = e.location_id
    WHERE pl.participant_id = $pid AND e.setting = 'outdoor'
    GROUP BY 1
)
SELECT d.local_date, d.label, d.confidence, CAST(d.evidence AS VARCHAR) AS evidence,
       d.start_utc, d.end_utc, d.detector_version,
       env.outdoor_temp_max_c, env.outdoor_apparent_temp_max_c, env.outdoor_rh_mean_pct
FROM episodes d
LEFT JOIN env ON env.day = d.local_date
WHERE d.participant_id = $pid AND d.kind = $dehydration AND d.label IN ('likely', 'possible')
ORDER BY d.local_date DESC, d.start_utc
"""


def dehydration_days(con: duckdb.DuckDBPyConnection, participant_id: str) -> pl.DataFrame:
    """Dehydration-condition episodes, newest first, with the day's outdoor weather if known."""
    return con.sql(DEHYDRATION_SQL, params={"pid": participant_id, "dehydration": DEHYDRATION}).pl()


# --------------------------------------------------------------------------------------------
# days and triggers (daily_exposures, docs/data-model.md)

#: the daily_exposures columns the Days page shows (units in the names, as in the table)
DAY_COLUMNS = (
    "local_date",
    "outdoor_temp_max_c",
    "outdoor_hi_max_c",
    "outdoor_hi_ge_80f_h",
    "outdoor_hi_ge_91f_h",
    "outdoor_wbgt_max_c",
    "indoor_temp_max_c",
    "indoor_hi_max_c",
    "indoor_hi_ge_80f_h",
    "sweat_loss_ml",
    "sweat_loss_pct_bm",
    "fluid_need_ml",
    "fluid_log_status",
    "fluid_logged_ml",
    "fluid_balance_ml",
    "fluid_deficit_pct_bm",
    "workouts_count",
    "workout_min",
    "active_energy_kcal",
    "steps",
    "magnesium_7d_pct_rda",
    "calcium_7d_pct_rda",
    "potassium_7d_pct_ai",
    "vitamin_d_7d_pct_rda",
    "magnesium_adequacy",
    "calcium_adequacy",
    "potassium_adequacy",
    "vitamin_d_adequacy",
    "time_in_daylight_min",
    "blood_glucose_mean_mg_dl",
    "next_morning_mass_change_pct",
    "sleeping_hr_delta_bpm",
    "resting_hr_delta_bpm",
    "dehydration_level",
    "dehydration_confidence",
)

DAYS_SQL = f"""
WITH
cramps AS (
    SELECT local_date, count(*) AS cramp_episodes, max(confidence) AS cramp_max_confidence,
           arg_max(label, confidence) AS cramp_label
    FROM episodes
    WHERE participant_id = $pid AND kind = $cramp AND label IN ('likely', 'possible')
    GROUP BY 1
),
jr AS (
    SELECT CAST({_local("time_utc")} - INTERVAL 12 HOUR AS DATE) AS local_date,
           count(*) AS journal_cramps
    FROM journal WHERE participant_id = $pid AND kind = 'cramp'
    GROUP BY 1
),
dehy AS (
    SELECT local_date, arg_max(label, confidence) AS dehydration_label,
           max(confidence) AS dehydration_episode_confidence
    FROM episodes
    WHERE participant_id = $pid AND kind = $dehydration AND label IN ('likely', 'possible')
    GROUP BY 1
)
SELECT {", ".join("x." + c for c in DAY_COLUMNS)},
       d.dehydration_label, d.dehydration_episode_confidence,
       coalesce(c.cramp_episodes, 0) AS cramp_episodes_night_after,
       c.cramp_label AS cramp_label_night_after,
       c.cramp_max_confidence AS cramp_max_confidence_night_after,
       coalesce(j.journal_cramps, 0) AS journal_cramps_night_after
FROM daily_exposures x
LEFT JOIN cramps c USING (local_date)
LEFT JOIN jr j USING (local_date)
LEFT JOIN dehy d USING (local_date)
WHERE x.participant_id = $pid
ORDER BY x.local_date
"""


def missing_day_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The :data:`DAY_COLUMNS` a database's ``daily_exposures`` lacks (written by an older
    crampwatch, before the migration that added them)."""
    have = {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = 'daily_exposures'").fetchall()}  # fmt: skip
    return [c for c in DAY_COLUMNS if c not in have]


def days(con: duckdb.DuckDBPyConnection, participant_id: str) -> pl.DataFrame:
    """One row per local day of ``daily_exposures``, oldest first, with the night that follows.

    ``*_night_after``: likely/possible cramp episodes and journal cramps of the night that
    starts on the evening of ``local_date`` (noon-to-noon nights, as in :func:`nights`);
    ``dehydration_label`` / ``dehydration_episode_confidence``: the day's dehydration episode,
    NULL when none was written (``dehydration_level`` is the detector's level for every day).
    Missing exposures stay NULL.
    """
    return con.sql(
        DAYS_SQL, params={"pid": participant_id, "cramp": CRAMP, "dehydration": DEHYDRATION}
    ).pl()


PROFILE_SQL = """
SELECT p.participant_id, p.sex, p.birth_year, p.conditions, p.medications,
       (SELECT cramp_drug_classes FROM daily_exposures x
         WHERE x.participant_id = p.participant_id ORDER BY local_date DESC LIMIT 1)
           AS cramp_drug_classes,
       (SELECT cramp_condition_classes FROM daily_exposures x
         WHERE x.participant_id = p.participant_id ORDER BY local_date DESC LIMIT 1)
           AS cramp_condition_classes
FROM participants p WHERE p.participant_id = $pid
"""


def profile(con: duckdb.DuckDBPyConnection, participant_id: str) -> dict[str, Any] | None:
    """The participant's listed conditions and medications, with the cramp-associated drug
    and condition classes the exposures detector flagged (``None`` without a profile)."""
    frame = con.sql(PROFILE_SQL, params={"pid": participant_id}).pl()
    return frame.row(0, named=True) if frame.height else None
