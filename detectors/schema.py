"""Shared output schemas of the detectors (the `episodes` and `sleep_periods` tables)."""

from __future__ import annotations

import hashlib
from datetime import datetime

import polars as pl

UTC_DT = pl.Datetime("us", "UTC")

EPISODE_SCHEMA: dict[str, pl.DataType] = {
    "episode_id": pl.String,
    "participant_id": pl.String,
    "kind": pl.String,  # nocturnal_cramp | dehydration
    "start_utc": UTC_DT,
    "end_utc": UTC_DT,
    "local_date": pl.Date,  # night_of for cramps, local calendar day for dehydration
    "confidence": pl.Float64,  # 0-1
    "label": pl.String,  # likely | possible
    "evidence": pl.String,  # JSON object, unit-suffixed keys
    "detector_version": pl.String,
}

SLEEP_PERIOD_SCHEMA: dict[str, pl.DataType] = {
    "participant_id": pl.String,
    "night_of": pl.Date,
    "start_utc": UTC_DT,
    "end_utc": UTC_DT,
    "utc_offset_s": pl.Int32,
    "asleep_s": pl.Float64,
    "awake_s": pl.Float64,
    "method": pl.String,
    "detector_version": pl.String,
}

#: confidence bands shared by all detectors (detectors-science.md section 7.1, Step D)
LIKELY_MIN = 0.7
POSSIBLE_MIN = 0.4


def episode_id(participant_id: str, kind: str, start_utc: datetime, detector_version: str) -> str:
    """Deterministic id so that re-running a detector on the same data gives the same ids."""
    key = f"{participant_id}|{kind}|{start_utc.isoformat()}|{detector_version}"
    return hashlib.sha1(key.encode()).hexdigest()[:16]


def label_for(confidence: float) -> str | None:
    """'likely', 'possible', or None (discard) for a confidence in [0, 1]."""
    if confidence >= LIKELY_MIN:
        return "likely"
    if confidence >= POSSIBLE_MIN:
        return "possible"
    return None


def empty_episodes() -> pl.DataFrame:
    return pl.DataFrame(schema=EPISODE_SCHEMA)
