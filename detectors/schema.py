"""Shared output schemas of the detectors (the `episodes` and `sleep_periods` tables, taken
from :mod:`detectors.tables`; ``kind`` nocturnal_cramp | dehydration, ``local_date`` the
night for cramps and the local day for dehydration, ``confidence`` 0-1, ``label`` likely |
possible, ``evidence`` a JSON object with unit-suffixed keys)."""

from __future__ import annotations

import hashlib
from datetime import datetime

import polars as pl

from detectors import tables
from detectors.tables import UTC_DT

__all__ = [
    "EPISODE_SCHEMA",
    "LIKELY_MIN",
    "POSSIBLE_MIN",
    "SLEEP_PERIOD_SCHEMA",
    "UTC_DT",
    "empty_episodes",
    "episode_id",
    "label_for",
]

EPISODE_SCHEMA: dict[str, pl.DataType] = tables.columns(
    "episodes",
    [
        "episode_id",
        "participant_id",
        "kind",
        "start_utc",
        "end_utc",
        "local_date",
        "confidence",
        "label",
        "evidence",
        "detector_version",
    ],
)

SLEEP_PERIOD_SCHEMA: dict[str, pl.DataType] = tables.rows("sleep_periods")

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
