"""Sleep/wake and non-wear from activity: published actigraphy algorithms as pure functions.

Two families, both pure (numpy in, numpy out; polars wrappers at the end):

* **1-min counts** (or a documented proxy for them): Cole-Kripke 1992 with Webster's
  rescoring rules, Sadeh 1994. Consumer exports (Fitbit, Garmin) give minute *steps*,
  *intensity levels* or *METs*, not counts; :func:`activity_counts_proxy` maps them onto the
  count scale with published anchors (Freedson 1998 cut-points, 100 steps/min ~ 1952
  counts/min). Running the count algorithms on that proxy is **our adaptation**, not a
  validated method: steps are zero for arm movements in bed, so the proxy under-reports
  wake. Heart rate, when present, adds a second wake criterion (night-relative, grade D).
* **Raw tri-axial acceleration**: the z-angle, van Hees 2015 sustained inactivity bouts,
  van Hees 2018 HDCZA sleep-period-time window, and van Hees 2013 non-wear.

Non-wear is always excluded from sleep: a watch on the charger is never "deep sleep".

Layout: this module is the public API (every name below is importable from here) and holds
the main sleep period and its segments per night; the parts live beside it:
``actigraphy_params`` (method names, :class:`ActigraphyParams` with the sources of every
threshold), ``actigraphy_counts`` (count algorithms, minute non-wear, block rules),
``actigraphy_raw`` (z-angle, sustained inactivity, HDCZA, raw non-wear), ``actigraphy_minutes``
(per participant-minute classification, whole-history facts) and ``actigraphy_hr`` (the
heart-rate wake criterion).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from detectors.actigraphy_counts import (
    _sleep_block_bounds,
    activity_counts_proxy,
    cole_kripke_1992,
    nonwear_flat_daytime,
    nonwear_minutes,
    sadeh_1994,
    sleep_blocks,
    webster_rescore,
)

# private helpers re-exported for the equivalence tests and benchmarks
from detectors.actigraphy_hr import _hr_wake as _hr_wake
from detectors.actigraphy_hr import _nan_rolling_median as _nan_rolling_median
from detectors.actigraphy_hr import _percentile_sorted as _percentile_sorted
from detectors.actigraphy_hr import _rolling_median_above as _rolling_median_above
from detectors.actigraphy_minutes import (
    MINUTE_SCHEMA,
    HistoryFacts,
    MinuteGrid,
    _grids_from_minutes,
    _hr_minutes,
    cell_medians,
    classify_minute_grid,
    classify_minutes,
    history_facts,
    keep_finest_resolution,
    spread_spans,
)
from detectors.actigraphy_params import (
    _MIN_US,
    _US,
    ACTIVITY_METRICS,
    COARSE_SOURCE_RATIO,
    METHOD_COLE_KRIPKE,
    METHOD_HDCZA,
    METHOD_SADEH,
    ActigraphyParams,
)
from detectors.actigraphy_raw import (
    epoch_z_angle,
    hdcza,
    nonwear_raw,
    sustained_inactivity,
    z_angle_deg,
)
from detectors.frames import SLEEP_SEGMENTS_SCHEMA
from detectors.nights import NIGHT_START_HOUR
from detectors.schema import SLEEP_PERIOD_SCHEMA

DETECTOR_VERSION = "actigraphy-0.2"  # 0.2: noon cut, flat-daytime non-wear without HR, 16 h ceiling

__all__ = [
    "ACTIVITY_METRICS",
    "COARSE_SOURCE_RATIO",
    "DETECTOR_VERSION",
    "METHOD_COLE_KRIPKE",
    "METHOD_HDCZA",
    "METHOD_SADEH",
    "MINUTE_SCHEMA",
    "ActigraphyParams",
    "HistoryFacts",
    "MinuteGrid",
    "activity_counts_proxy",
    "cell_medians",
    "spread_spans",
    "classify_minute_grid",
    "classify_minutes",
    "cole_kripke_1992",
    "detect_sleep_periods_actigraphy",
    "epoch_z_angle",
    "hdcza",
    "history_facts",
    "keep_finest_resolution",
    "nonwear_flat_daytime",
    "nonwear_minutes",
    "nonwear_raw",
    "sadeh_1994",
    "segments_from_grid",
    "sleep_blocks",
    "sleep_periods_from_grid",
    "sustained_inactivity",
    "webster_rescore",
    "z_angle_deg",
]


# ----------------------------------------------------------------------------------------
# main sleep period and its segments per night


def detect_sleep_periods_actigraphy(
    samples: pl.DataFrame,
    *,
    method: str = METHOD_COLE_KRIPKE,
    params: ActigraphyParams = ActigraphyParams(),
    minutes: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Main sleep period per participant and noon-to-noon night from minute activity + HR.

    Minutes are classified with :func:`classify_minutes`; asleep runs > 30 min are kept and
    runs separated by < 60 min merged (van Hees 2018 block rules); blocks whose local midpoint
    falls between 09:00 and 21:00 are dropped (grade D); the merged block with the most asleep
    minutes in each night (night of its onset, noon-to-noon, onset's own offset)
    is the main period. ``asleep_s`` counts asleep minutes inside it; ``awake_s`` the other
    minutes inside it that are worn and have data (non-wear is neither). ``method`` is
    ``"cole1992"`` or ``"sadeh1994"``, with ``"+hr"`` when the HR criterion was active.
    Pass ``minutes`` (the output of :func:`classify_minutes`) to avoid recomputing it.
    """
    if minutes is None:
        grids = classify_minute_grid(samples, method=method, params=params)
    else:
        grids = _grids_from_minutes(minutes)
    return sleep_periods_from_grid(grids, method=method, params=params).select(
        list(SLEEP_PERIOD_SCHEMA)
    )


def sleep_periods_from_grid(
    grids: list[MinuteGrid],
    *,
    method: str = METHOD_COLE_KRIPKE,
    params: ActigraphyParams = ActigraphyParams(),
) -> pl.DataFrame:
    """:func:`detect_sleep_periods_actigraphy` on :class:`MinuteGrid` s, plus where each
    period lies in them: ``grid`` (index in ``grids``), rows ``grid_start:grid_stop``.

    A grid's rows are taken as consecutive minutes (classification makes them so): the
    blocks are index runs.
    """
    parts = [_grid_periods(k, g, method, params) for k, g in enumerate(grids)]
    parts = [p for p in parts if p is not None]
    if not parts:
        return pl.DataFrame(
            schema={
                **SLEEP_PERIOD_SCHEMA,
                "grid": pl.Int64,
                "grid_start": pl.Int64,
                "grid_stop": pl.Int64,
            }
        )
    return pl.concat(parts).sort("participant_id", "night_of")


def _grid_periods(
    k: int, g: MinuteGrid, method: str, params: ActigraphyParams
) -> pl.DataFrame | None:
    """The main period of each night of one participant's grid (None: no period)."""
    sleep, t = g.sleep, g.minute_us
    window = None
    if params.night_window_clip:  # [vanhees2018] noon-to-noon windows
        window = (t // _US + g.utc_offset_s - NIGHT_START_HOUR * 3600) // 86400
    a, b = _sleep_block_bounds(
        sleep,
        60,
        min_block_s=params.block_min_s,
        merge_gap_s=params.block_merge_gap_s,
        window=window,
    )
    off = g.utc_offset_s[a].astype(np.int64)
    mid_local_h = ((t[a] + t[b - 1]) // 2 // _US + off) % 86400 / 3600
    night_time = ~(
        (params.night_midpoint_latest_h <= mid_local_h)
        & (mid_local_h < params.night_midpoint_earliest_h)
    )
    a, b, off = a[night_time], b[night_time], off[night_time]
    if a.size == 0:
        return None
    asleep = _range_sums(sleep, a, b)
    awake = _range_sums(~sleep & ~g.nonwear & g.has_data, a, b)
    night = (t[a] // _US + off - NIGHT_START_HOUR * 3600) // 86400
    # main block per night: most asleep minutes, ties to the earlier one
    order = np.lexsort((a, -asleep, night))
    main = order[np.concatenate([[True], np.diff(night[order]) != 0])]
    if params.max_main_sleep_s > 0:  # grade D ceiling: the night gets no period
        main = main[(b[main] - a[main]) * 60 <= params.max_main_sleep_s]
        if main.size == 0:
            return None
    hr_used = (
        bool(g.hr_wake.any())
        or _hr_minutes(g.participant_id, int(g.hr_present.sum())) >= params.hr_min_minutes
    )
    a, b = a[main], b[main]
    return pl.DataFrame(
        {
            "participant_id": pl.repeat(g.participant_id, a.size, dtype=pl.String, eager=True),
            "night_of": pl.Series(night[main]).cast(pl.Int32).cast(pl.Date),
            "start_utc": pl.Series(t[a]).cast(SLEEP_PERIOD_SCHEMA["start_utc"]),
            "end_utc": pl.Series(t[b - 1] + _MIN_US).cast(SLEEP_PERIOD_SCHEMA["end_utc"]),
            "utc_offset_s": off[main].astype(np.int32),
            "asleep_s": asleep[main] * 60.0,
            "awake_s": awake[main] * 60.0,
            "method": method + ("+hr" if hr_used else ""),
            "detector_version": DETECTOR_VERSION,
            "grid": k,
            "grid_start": a,
            "grid_stop": b,
        }
    ).cast({**SLEEP_PERIOD_SCHEMA, "grid": pl.Int64})  # type: ignore[arg-type]


def segments_from_grid(
    grids: list[MinuteGrid], periods: pl.DataFrame, *, source: str
) -> pl.DataFrame:
    """``asleep`` / ``awake`` segments inside ``periods`` (rows of
    :func:`sleep_periods_from_grid` on the same ``grids``).

    A minute is ``asleep`` when classified asleep, ``awake`` when it is worn, has data and
    the activity proxy (not only the HR criterion) says wake; other minutes get no segment.
    Runs of one stage inside one period become one segment; ``source`` names them.
    """
    schema = {**SLEEP_SEGMENTS_SCHEMA, "source": pl.String}
    parts = [
        _grid_segments(grids[k], per["grid_start"].to_numpy(), per["grid_stop"].to_numpy())
        for (k,), per in periods.partition_by("grid", as_dict=True).items()
    ]
    parts = [p for p in parts if p.height]
    if not parts:
        return pl.DataFrame(schema=schema)
    return (
        pl.concat(parts)
        .with_columns(source=pl.lit(source, pl.String))
        .cast(schema)  # type: ignore[arg-type]
        .sort("participant_id", "start_utc")
    )


def _grid_segments(g: MinuteGrid, a: np.ndarray, b: np.ndarray) -> pl.DataFrame:
    size = b - a
    total = int(size.sum())
    of = np.repeat(np.arange(a.size), size)  # period of each minute inside a period
    rows = a[of] + np.arange(total) - np.repeat(np.cumsum(size) - size, size)
    awake = ~g.nonwear[rows] & ~g.hr_wake[rows] & g.has_data[rows]
    stage = np.where(g.sleep[rows], 1, np.where(awake, 2, 0))
    new = np.ones(total, bool)
    new[1:] = (stage[1:] != stage[:-1]) | (of[1:] != of[:-1])
    first = np.flatnonzero(new)
    last = np.concatenate([first[1:], [total]]) - 1
    keep = stage[first] > 0
    code = stage[first[keep]]
    first, last = rows[first[keep]], rows[last[keep]]
    return pl.DataFrame(
        {
            "participant_id": pl.repeat(g.participant_id, first.size, dtype=pl.String, eager=True),
            "start_utc": pl.Series(g.minute_us[first]).cast(SLEEP_SEGMENTS_SCHEMA["start_utc"]),
            "end_utc": pl.Series(g.minute_us[last] + _MIN_US).cast(
                SLEEP_SEGMENTS_SCHEMA["end_utc"]
            ),
            "utc_offset_s": g.utc_offset_s[first].astype(np.int32),
            "stage": pl.Series(["", "asleep", "awake"], dtype=pl.String).gather(code),
        }
    )


def _range_sums(mask: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Number of True in ``mask[a[i]:b[i]]`` for every i."""
    c = np.concatenate([[0], np.cumsum(mask, dtype=np.int64)])
    return c[b] - c[a]
