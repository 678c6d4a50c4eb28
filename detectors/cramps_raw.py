"""Sleep period and nocturnal leg-cramp episodes from raw accelerometry with heart rate.

Variant (ii) of the design brief (detectors-science.md section 7.2): a wrist (or ankle)
accelerometer sampled at 10-100 Hz in g, plus heart rate at ~1 Hz or every few seconds.
Pure functions over numpy arrays and polars frames (no I/O); one night at a time, so memory
is bounded by one noon-to-noon window. Every threshold is a field of :class:`RawCrampParams`
with its source; grade D = engineering assumption (no direct evidence).

Per night (local noon to noon):

1. **Grid.** Samples are put on a regular grid at their own median rate (linear
   interpolation absorbs timestamp jitter, e.g. the Apple Watch's); gaps longer than
   ``max_gap_s`` are marked invalid (no data is never sleep and never movement).
2. **Sleep period.** 5-s z-angle (:func:`detectors.actigraphy.epoch_z_angle`), van Hees 2013
   non-wear (:func:`detectors.actigraphy.nonwear_raw`, HR presence vetoes non-wear), then the
   van Hees 2018 HDCZA window (:func:`detectors.actigraphy.hdcza`). Asleep epochs inside it
   are van Hees 2015 sustained-inactivity bouts (:func:`detectors.actigraphy.sustained_inactivity`).
3. **Movement envelope** inside the period: ``butter(4, [0.5, 15] Hz)`` band-pass with
   ``sosfiltfilt``, Euclidean norm, 1-s RMS (``uniform_filter1d``) on a 10 Hz envelope grid;
   threshold ``theta = median(r) + max(5 MAD_normal(r), 0.010 g)`` over the period.
4. **Movement events**: ``r > theta``, ``binary_closing`` 1 s, ``label``, drop < 0.5 s;
   each with duration, peak, z-angle change (5-s medians of the 1-s z-angle before/after).
   Tags: PLM series (AASM/WASM), rollover (|dz| >= 30 deg, <= 15 s), large movement
   (3-45 s, IRLSSG).
5. **Activity episodes**: events merged across gaps <= 30 s. A cramp candidate is an
   episode >= 10 s inside the period. Features: HR rise (>= 10 bpm or 10 %, and >= 3 robust
   SD of sleeping HR, reached within 30 s of onset and sustained >= 60 s), walking by cadence
   (``find_peaks`` on the 0.5-3 Hz magnitude), non-sleep after the episode (time to the next
   sustained-inactivity bout), PLM density around it.
6. **Confidence**: the brief's logistic form (7.1 Step D, restated for 7.2), weights grade D.

No raw accelerometry with cramp labels exists anywhere we looked (shared real data:
SOURCES.md section 2, Walch 2019 files not found; section 7 is a per-minute PLM night): the
thresholds are the brief's and the published ones, checked only on simulated nights
(``simulators/rawgen.py``).

Design rule (brief section 7): no trigger variable is used here.

Layout: this module is the public API (every name below is importable from here) and holds
the noon-to-noon windows and the frames over many nights; the parts live beside it:
``raw_params`` (:class:`RawCrampParams` with the source of every threshold), ``raw_signal``
(array building blocks, steps 1 and 3-5), ``raw_night`` (:func:`analyse_night`, one night)
and ``raw_score`` (step 6: features, vetoes and confidence of an episode).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from detectors.actigraphy import ActigraphyParams
from detectors.nights import NIGHT_START_HOUR
from detectors.raw_night import RawNight, analyse_night

# a private helper re-exported for the tests
from detectors.raw_night import _nonwear_possible as _nonwear_possible
from detectors.raw_params import _US, METHOD, RawCrampParams
from detectors.raw_score import CONFOUNDERS
from detectors.raw_signal import (
    EVENT_SCHEMA,
    activity_episodes,
    heart_rate_grid,
    movement_envelope,
    movement_events,
    movement_threshold,
    plm_series,
    regular_grid,
    second_z_angle,
    still_bouts,
    walking_steps,
)
from detectors.schema import EPISODE_SCHEMA, SLEEP_PERIOD_SCHEMA, UTC_DT, episode_id

DETECTOR_VERSION = "cramp-raw-0.2"  # 0.2: raw periods must have a night-time midpoint
KIND = "nocturnal_cramp"

CANDIDATE_SCHEMA: dict[str, pl.DataType] = {
    "participant_id": pl.String,
    "night_of": pl.Date,
    "start_utc": UTC_DT,
    "end_utc": UTC_DT,
    "confidence": pl.Float64,
    "label": pl.String,  # likely | possible | null (kept for audit only)
    "suppressed_by": pl.String,
    "evidence": pl.String,
}

__all__ = [
    "CANDIDATE_SCHEMA",
    "CONFOUNDERS",
    "DETECTOR_VERSION",
    "EVENT_SCHEMA",
    "KIND",
    "METHOD",
    "RawCrampParams",
    "RawNight",
    "activity_episodes",
    "analyse_night",
    "detect_raw_nights",
    "heart_rate_grid",
    "movement_envelope",
    "movement_events",
    "movement_threshold",
    "night_frames",
    "night_windows",
    "night_windows_tz",
    "plm_series",
    "regular_grid",
    "second_z_angle",
    "still_bouts",
    "walking_steps",
]


# ----------------------------------------------------------------------------------------
# noon-to-noon windows


def night_windows(
    t_first_us: int, t_last_us: int, utc_offset_s: int
) -> list[tuple[np.datetime64, int, int]]:
    """Noon-to-noon local windows ``(night_of, lo_us, hi_us)`` covering ``[first, last]``."""
    shift = (NIGHT_START_HOUR * 3600 - int(utc_offset_s)) * _US
    d0 = (int(t_first_us) - shift) // (86400 * _US)
    d1 = (int(t_last_us) - shift) // (86400 * _US)
    return [
        (
            np.datetime64(int(d), "D"),
            int(d * 86400 * _US + shift),
            int((d + 1) * 86400 * _US + shift),
        )
        for d in range(d0, d1 + 1)
    ]


def night_windows_tz(
    t_first_us: int, t_last_us: int, zone: ZoneInfo
) -> list[tuple[np.datetime64, int, int, int]]:
    """Noon-to-noon windows in the participant's IANA ``zone``: ``(night_of, lo_us, hi_us,
    utc_offset_s)``, each from local noon to the next local noon (23 or 25 h across a DST
    change), with the zone's offset at the window's middle (the night itself). Use this when
    the zone is known: a recording's own offset holds only at its start."""

    def local_noon_us(d: date) -> int:
        return int(
            datetime(d.year, d.month, d.day, NIGHT_START_HOUR, tzinfo=zone).timestamp() * _US
        )

    first = datetime.fromtimestamp(t_first_us / _US, zone)
    d = first.date() - timedelta(days=1 if first.hour < NIGHT_START_HOUR else 0)
    out = []
    while True:
        lo, hi = local_noon_us(d), local_noon_us(d + timedelta(days=1))
        if lo > t_last_us:
            return out
        mid = datetime.fromtimestamp((lo + hi) / 2 / _US, zone)
        out.append((np.datetime64(d, "D"), lo, hi, int(mid.utcoffset().total_seconds())))
        d += timedelta(days=1)


# ----------------------------------------------------------------------------------------
# frames


def night_frames(
    participant_id: str, night_of, night: RawNight, utc_offset_s: int
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """``(sleep_periods, episodes, candidates)`` frames of one analysed night.

    A period whose local midpoint is not between 21:00 and 09:00 (the minute-level rule,
    ``ActigraphyParams.night_midpoint_*``, [roenneberg2007] grade D) is not a night's main
    sleep (e.g. 45 still minutes in the afternoon tail of a recording that ends at 13:30): the
    night gets no raw period and no raw episodes, and stays with the minute-level detectors.
    """
    if night.period_us is not None and not _midpoint_at_night(night.period_us, utc_offset_s):
        night = RawNight(t0_us=night.t0_us, fs_hz=night.fs_hz)
    if night.period_us is None:
        return (
            pl.DataFrame(schema=SLEEP_PERIOD_SCHEMA),
            pl.DataFrame(schema=EPISODE_SCHEMA),
            pl.DataFrame(schema=CANDIDATE_SCHEMA),
        )
    night_of = np.datetime64(night_of, "D").astype(object)
    periods = (
        pl.DataFrame(
            {
                "participant_id": [participant_id],
                "night_of": [night_of],
                "start_utc": [night.period_us[0]],
                "end_utc": [night.period_us[1]],
                "utc_offset_s": [int(utc_offset_s)],
                "asleep_s": [night.asleep_s],
                "awake_s": [night.awake_s],
                "method": [METHOD],
                "detector_version": [DETECTOR_VERSION],
            }
        )
        .with_columns(
            pl.col("start_utc", "end_utc").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
        )
        .cast(SLEEP_PERIOD_SCHEMA)
    )  # type: ignore[arg-type]
    rows = night.candidates
    cand = pl.DataFrame(
        {
            "participant_id": [participant_id] * len(rows),
            "night_of": [night_of] * len(rows),
            "start_utc": [r["start_us"] for r in rows],
            "end_utc": [r["end_us"] for r in rows],
            "confidence": [r["confidence"] for r in rows],
            "label": [r["label"] for r in rows],
            "suppressed_by": [r["suppressed_by"] for r in rows],
            "evidence": [r["evidence"] for r in rows],
        },
        schema={**CANDIDATE_SCHEMA, "start_utc": pl.Int64, "end_utc": pl.Int64},
    ).with_columns(
        pl.col("start_utc", "end_utc").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    )
    return periods, _episodes(cand), cand.cast(CANDIDATE_SCHEMA)  # type: ignore[arg-type]


def _midpoint_at_night(period_us: tuple[int, int], utc_offset_s: int) -> bool:
    """Local midpoint of the period in [night_midpoint_earliest_h, 24) or [0, latest_h)."""
    ap = ActigraphyParams()
    mid_s = (period_us[0] + period_us[1]) // 2 // _US + int(utc_offset_s)
    hour = (mid_s % 86400) / 3600.0
    return hour >= ap.night_midpoint_earliest_h or hour < ap.night_midpoint_latest_h


def _episodes(cand: pl.DataFrame) -> pl.DataFrame:
    keep = cand.filter(pl.col("label").is_not_null())
    if keep.height == 0:
        return pl.DataFrame(schema=EPISODE_SCHEMA)
    ids = [
        episode_id(pid, KIND, s, DETECTOR_VERSION)
        for pid, s in zip(
            keep["participant_id"].to_list(), keep["start_utc"].to_list(), strict=True
        )
    ]
    return (
        keep.with_columns(
            episode_id=pl.Series(ids, dtype=pl.String),
            kind=pl.lit(KIND),
            local_date=pl.col("night_of"),
            detector_version=pl.lit(DETECTOR_VERSION),
        )
        .select(list(EPISODE_SCHEMA))
        .cast(EPISODE_SCHEMA)
    )  # type: ignore[arg-type]


def detect_raw_nights(
    accel: pl.DataFrame,
    samples: pl.DataFrame,
    *,
    utc_offset_s: int,
    params: RawCrampParams = RawCrampParams(),
    nights: list | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Sleep periods, cramp episodes and all scored candidates from raw accelerometry.

    Parameters
    ----------
    accel : polars.DataFrame
        ``participant_id, time_utc, x_g, y_g, z_g`` (the ``accelerometry`` view's columns).
    samples : polars.DataFrame
        Long samples; ``heart_rate_bpm`` rows are used (point samples, ``start_utc``).
    utc_offset_s : int
        Local offset used for the noon-to-noon nights (the recording's, from
        ``accelerometry_files``).
    nights : list of dates, optional
        Only these nights (``night_of``); default every night the data touches.

    Returns
    -------
    ``(sleep_periods, episodes, candidates)``: ``SLEEP_PERIOD_SCHEMA`` rows with ``method``
    ``vanhees2018_hdcza``; ``EPISODE_SCHEMA`` rows (``kind`` ``nocturnal_cramp``,
    ``detector_version`` ``cramp-raw-0.2``, confidence >= 0.4); ``CANDIDATE_SCHEMA`` rows
    (every scored activity episode, with ``suppressed_by``). One night at a time.
    """
    outs: tuple[list, list, list] = ([], [], [])
    if accel.height == 0:
        return (
            pl.DataFrame(schema=SLEEP_PERIOD_SCHEMA),
            pl.DataFrame(schema=EPISODE_SCHEMA),
            pl.DataFrame(schema=CANDIDATE_SCHEMA),
        )
    hr_all = samples.filter(pl.col("metric") == "heart_rate_bpm") if samples.height else samples
    want = None if nights is None else {np.datetime64(d, "D") for d in nights}
    for (pid,), acc in (
        accel.sort("participant_id", "time_utc")
        .partition_by("participant_id", as_dict=True, maintain_order=True)
        .items()
    ):
        t = acc["time_utc"].dt.epoch("us").to_numpy()
        hr = (
            hr_all.filter(pl.col("participant_id") == pid).sort("start_utc")
            if hr_all.height
            else hr_all
        )
        hr_t = hr["start_utc"].dt.epoch("us").to_numpy() if hr.height else np.zeros(0, np.int64)
        hr_v = hr["value"].to_numpy() if hr.height else np.zeros(0)
        xyz = acc.select("x_g", "y_g", "z_g").to_numpy()
        for night_of, lo, hi in night_windows(int(t[0]), int(t[-1]), utc_offset_s):
            if want is not None and night_of not in want:
                continue
            i0, i1 = np.searchsorted(t, [lo, hi])
            j0, j1 = np.searchsorted(hr_t, [lo, hi]) if hr_t.size else (0, 0)
            night = analyse_night(t[i0:i1], xyz[i0:i1], hr_t[j0:j1], hr_v[j0:j1], params=params)
            for acc_list, frame in zip(
                outs, night_frames(pid, night_of, night, utc_offset_s), strict=True
            ):
                acc_list.append(frame)
    schemas = (SLEEP_PERIOD_SCHEMA, EPISODE_SCHEMA, CANDIDATE_SCHEMA)
    return tuple(  # type: ignore[return-value]
        pl.concat(parts).sort("participant_id", "start_utc") if parts else pl.DataFrame(schema=s)
        for parts, s in zip(outs, schemas, strict=True)
    )
