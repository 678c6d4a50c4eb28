"""What the cramp detector hands out: the candidate frame, episodes and the per-minute view.

:func:`_candidate_frame` turns the scored rows into ``CANDIDATE_SCHEMA`` (every candidate,
for audit and calibration), :func:`_episodes` the reported ones into ``EPISODE_SCHEMA``, and
:func:`_night_features` builds the per-minute night view of
:func:`detectors.cramps.compute_night_features` (the dashboard) on detection's chunked path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from detectors.cramp_grid import _coverage_s, _robust_spread
from detectors.cramp_prep import _arrays_by_participant, _ParticipantData
from detectors.cramp_segments import _Night, _prepare_nights
from detectors.frames import SAMPLES_SCHEMA, SLEEP_SEGMENTS_SCHEMA, prepare
from detectors.nights import from_epoch_us
from detectors.schema import EPISODE_SCHEMA, SLEEP_PERIOD_SCHEMA, UTC_DT, episode_id

if TYPE_CHECKING:
    from detectors.cramps import CrampParams

CANDIDATE_SCHEMA: dict[str, pl.DataType] = {
    "participant_id": pl.String,
    "night_of": pl.Date,
    "start_utc": UTC_DT,
    "end_utc": UTC_DT,
    "confidence": pl.Float64,
    "label": pl.String,  # likely | possible | null (kept for audit only)
    "suppressed_by": pl.String,  # confounder that vetoed the segment, or null
    "evidence": pl.String,
}


def _candidate_frame(rows: list[dict]) -> pl.DataFrame:
    """Scored rows (:func:`detectors.cramp_score._score_segment`) as ``CANDIDATE_SCHEMA``,
    sorted by participant and start."""
    out = pl.DataFrame(
        {
            "participant_id": [r["participant_id"] for r in rows],
            "night_of": [r["night_of"] for r in rows],
            "start_utc": [from_epoch_us(r["start_us"]) for r in rows],
            "end_utc": [from_epoch_us(r["end_us"]) for r in rows],
            "confidence": [r["confidence"] for r in rows],
            "label": [r["label"] for r in rows],
            "suppressed_by": [r["suppressed_by"] for r in rows],
            "evidence": [r["evidence"] for r in rows],
        },
        schema=CANDIDATE_SCHEMA,
    )
    return out.sort("participant_id", "start_utc")


def _episodes(cand: pl.DataFrame, kind: str, version: str) -> pl.DataFrame:
    """The reported candidates (label not null) as ``EPISODE_SCHEMA`` rows."""
    cand = cand.filter(pl.col("label").is_not_null())
    if cand.height == 0:
        return pl.DataFrame(schema=EPISODE_SCHEMA)
    ids = [
        episode_id(pid, kind, start, version)
        for pid, start in zip(
            cand["participant_id"].to_list(), cand["start_utc"].to_list(), strict=True
        )
    ]
    return (
        cand.with_columns(
            episode_id=pl.Series(ids, dtype=pl.String),
            kind=pl.lit(kind),
            local_date=pl.col("night_of"),
            detector_version=pl.lit(version),
        )
        .select(list(EPISODE_SCHEMA))
        .cast(EPISODE_SCHEMA)  # type: ignore[arg-type]
        .sort("participant_id", "start_utc")
    )


NIGHT_FEATURES_SCHEMA: dict[str, pl.DataType] = {
    "participant_id": pl.String,
    "night_of": pl.Date,
    "minute_utc": UTC_DT,
    "in_period": pl.Boolean,  # inside the main sleep period (else the 30-min margins)
    "stage": pl.String,  # asleep | awake | null (no record: watch off / unknown)
    "hr_bpm": pl.Float64,  # median of the minute's HR samples; null = gap
    "hr_filtered_bpm": pl.Float64,  # Step A filtered HR (forward fill <= 5 min, medfilt 3)
    "hr_baseline_bpm": pl.Float64,  # the night's sleeping baseline (median, asleep minutes)
    "hr_rel_bpm": pl.Float64,  # filtered HR - baseline
    "hr_z": pl.Float64,  # hr_rel_bpm / s_hr (robust SD of the night's asleep HR)
    "steps": pl.Float64,  # steps in the minute; null when the night has no step data
    "act_z": pl.Float64,  # activity robust z against asleep minutes; null without activity
    "candidate": pl.Boolean,  # Step B candidate minute (after closing)
}


def _night_frame(
    pid: str, night, c: _Night, data: _ParticipantData, params: CrampParams
) -> pl.DataFrame:
    """One night's prepared arrays (:class:`detectors.cramp_segments._Night`) as its
    ``NIGHT_FEATURES_SCHEMA`` rows (before the final cast): stage, HR against the night's
    sleeping baseline, steps, activity z, candidate minutes."""
    s_hr = _robust_spread(c.sleep_hr, params.hr_spread_floor_bpm)
    edges = c.g0 + c.step * np.arange(c.n + 1, dtype=np.int64)
    awake_cov = _coverage_s(data.awake, edges) >= params.stage_min_cover_s
    stage = np.where(
        c.asleep,
        "asleep",
        np.where(c.in_period & ~c.asleep & (awake_cov | ~c.staged), "awake", None),
    )
    base = c.night_med
    return pl.DataFrame(
        {
            "participant_id": [pid] * c.n,
            "night_of": [night] * c.n,
            "minute_utc": pl.Series(edges[:-1], dtype=pl.Int64).cast(UTC_DT),
            "in_period": c.in_period,
            "stage": pl.Series(stage.tolist(), dtype=pl.String),
            "hr_bpm": pl.Series(c.hr_raw, dtype=pl.Float64).fill_nan(None),
            "hr_filtered_bpm": pl.Series(c.hr_s, dtype=pl.Float64).fill_nan(None),
            "hr_baseline_bpm": np.full(c.n, base),
            "hr_rel_bpm": pl.Series(c.hr_s - base, dtype=pl.Float64).fill_nan(None),
            "hr_z": pl.Series((c.hr_s - base) / s_hr, dtype=pl.Float64).fill_nan(None),
            "steps": c.steps if c.has_steps else np.full(c.n, np.nan),
            "act_z": np.where(np.isfinite(c.act_z), c.act_z, np.nan)
            if c.has_act
            else np.full(c.n, np.nan),
            "candidate": c.closed,
        }
    ).with_columns(
        pl.col("steps", "act_z", "hr_baseline_bpm").fill_nan(None),
    )


def _night_features(
    samples: pl.DataFrame,
    sleep_segments: pl.DataFrame,
    sleep_periods: pl.DataFrame,
    params: CrampParams,
) -> pl.DataFrame:
    """:func:`detectors.cramps.compute_night_features`: the per-minute arrays of the
    detector's own chunked pass (:func:`detectors.cramp_segments._prepare_nights`, the path
    detection runs), so the night view shows exactly what detection saw."""
    smp = prepare(samples, "samples", SAMPLES_SCHEMA)
    seg = prepare(sleep_segments, "sleep_segments", SLEEP_SEGMENTS_SCHEMA)
    per = prepare(
        sleep_periods,
        "sleep_periods",
        {k: SLEEP_PERIOD_SCHEMA[k] for k in ("participant_id", "night_of", "start_utc", "end_utc")},
    )
    if per.height == 0:
        return pl.DataFrame(schema=NIGHT_FEATURES_SCHEMA)
    smp_by, seg_by = _arrays_by_participant(smp, seg)
    parts = []
    for (pid,), nights in (
        per.sort("participant_id", "start_utc")
        .partition_by("participant_id", as_dict=True, maintain_order=True)
        .items()
    ):
        data = _ParticipantData.build(smp_by.get(pid), seg_by.get(pid))
        ps_all = nights["start_utc"].dt.epoch("us").to_numpy().astype(np.int64)
        pe_all = nights["end_utc"].dt.epoch("us").to_numpy().astype(np.int64)
        prepared = _prepare_nights(data, ps_all, pe_all, params)
        for night, c in zip(nights["night_of"].to_list(), prepared, strict=True):
            parts.append(_night_frame(pid, night, c, data, params))
    if not parts:
        return pl.DataFrame(schema=NIGHT_FEATURES_SCHEMA)
    return pl.concat(parts).cast(NIGHT_FEATURES_SCHEMA).sort("participant_id", "minute_utc")  # type: ignore[arg-type]
