"""Per participant-minute classification: sample frames to one minute grid per participant.

Part of :mod:`detectors.actigraphy` (which re-exports every public name). Samples are read
into numpy columns once; each participant's minutes get the activity-counts proxy, the
count algorithm's sleep/wake (:mod:`detectors.actigraphy_counts`), non-wear and, with a
heart-rate channel, the HR wake criterion (:mod:`detectors.actigraphy_hr`). Coarser copies of
a metric are dropped first (:func:`keep_finest_resolution`); a caller that runs a history in
chunks fixes the whole-history decisions with :func:`history_facts`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import numpy as np
import polars as pl

from detectors.actigraphy_counts import (
    activity_counts_proxy,
    cole_kripke_1992,
    nonwear_flat_daytime,
    nonwear_minutes,
    sadeh_1994,
)
from detectors.actigraphy_hr import _hr_wake
from detectors.actigraphy_params import (
    _MIN_US,
    _US,
    COARSE_SOURCE_RATIO,
    METHOD_COLE_KRIPKE,
    METHOD_SADEH,
    ActigraphyParams,
)
from detectors.frames import SAMPLES_SCHEMA, prepare


@dataclass(frozen=True)
class HistoryFacts:
    """Facts about a participant's whole history that a night's result depends on.

    Two decisions of the minute-level detectors look at everything they are given, not at the
    night: which sources of a metric are coarser copies (:func:`keep_finest_resolution`,
    from each source's median interval) and whether the participant has a heart-rate channel
    at all (>= ``hr_min_minutes`` minutes with HR). A caller that runs a long history in
    chunks of nights (``pipeline.detect``) computes both once over the whole range and sets
    them with :func:`history_facts`, so each chunk decides exactly as one pass over the whole
    range would.
    """

    #: ``participant_id``, ``metric``, ``_src`` (source, null as "") of the sources kept
    finest: pl.DataFrame
    #: participant -> minutes with at least one heart-rate sample (value > 0, finite)
    hr_minutes: Mapping[str, int]


_HISTORY: ContextVar[HistoryFacts | None] = ContextVar("crampwatch_history_facts", default=None)


@contextmanager
def history_facts(facts: HistoryFacts | None) -> Iterator[None]:
    """Within the block, :func:`keep_finest_resolution` and the HR-channel test use
    ``facts`` (whole-history decisions) instead of the frames they are given."""
    token = _HISTORY.set(facts)
    try:
        yield
    finally:
        _HISTORY.reset(token)


def _hr_minutes(pid: str, local: int) -> int:
    """HR minutes of ``pid``: the whole history's when :func:`history_facts` is set."""
    facts = _HISTORY.get()
    return local if facts is None else int(facts.hr_minutes.get(pid, local))


# ----------------------------------------------------------------------------------------
# minute grids


MINUTE_SCHEMA: dict[str, pl.DataType] = {
    "participant_id": pl.String,
    "minute_utc": pl.Datetime("us", "UTC"),
    "utc_offset_s": pl.Int32,
    "counts_proxy": pl.Float64,  # counts/min proxy (NaN: no activity record)
    "hr_bpm": pl.Float64,  # median of the minute's HR samples (null: none)
    "sleep": pl.Boolean,  # asleep by the method (False for non-wear)
    "nonwear": pl.Boolean,
    "hr_wake": pl.Boolean,  # the HR criterion said wake
}

#: integer code of each metric the minute classification reads (-1: any other metric)
_METRIC_CODE: dict[str, int] = {"steps": 0, "intensity_level": 1, "met": 2, "heart_rate_bpm": 3}


@dataclass(frozen=True)
class MinuteGrid:
    """One participant's rows of :data:`MINUTE_SCHEMA` as numpy arrays.

    ``has_data`` (an activity proxy or an HR median) and ``hr_present`` (an HR median) are
    kept beside the columns so that periods and segments need no frame.
    """

    participant_id: str
    minute_us: np.ndarray  # minute start, epoch microseconds
    utc_offset_s: np.ndarray
    counts: np.ndarray  # counts/min proxy, NaN: no activity record
    hr_bpm: np.ndarray  # minute median HR, NaN: none
    hr_present: np.ndarray
    has_data: np.ndarray
    sleep: np.ndarray
    nonwear: np.ndarray
    hr_wake: np.ndarray

    def frame(self) -> pl.DataFrame:
        """The :data:`MINUTE_SCHEMA` rows."""
        return pl.DataFrame(
            {
                "participant_id": pl.repeat(
                    self.participant_id, self.minute_us.size, dtype=pl.String, eager=True
                ),
                "minute_utc": pl.Series(self.minute_us).cast(MINUTE_SCHEMA["minute_utc"]),
                "utc_offset_s": self.utc_offset_s,
                "counts_proxy": self.counts,
                "hr_bpm": pl.Series(np.where(self.hr_present, self.hr_bpm, np.nan)).fill_nan(None),
                "sleep": self.sleep,
                "nonwear": self.nonwear,
                "hr_wake": self.hr_wake,
            }
        ).cast(MINUTE_SCHEMA)  # type: ignore[arg-type]


def classify_minutes(
    samples: pl.DataFrame,
    *,
    method: str = METHOD_COLE_KRIPKE,
    params: ActigraphyParams = ActigraphyParams(),
) -> pl.DataFrame:
    """Per participant-minute sleep/wake and non-wear from minute activity and heart rate.

    Parameters
    ----------
    samples : polars.DataFrame
        Long samples. Activity: ``steps`` (interval totals, spread over the minutes they
        cover), ``intensity_level`` (Fitbit level 0-3, per-minute maximum), ``met``
        (per-minute mean); level and MET rows longer than 2 min are ignored, and coarser
        copies of a metric are dropped first (:func:`keep_finest_resolution`).
        ``heart_rate_bpm`` point samples (minute median). Other metrics are ignored.
    method : str
        ``"cole1992"`` (Cole-Kripke with Webster rescoring) or ``"sadeh1994"``.

    Returns
    -------
    polars.DataFrame
        ``MINUTE_SCHEMA``, one row per participant-minute from the first to the last minute
        with any activity or HR record. A minute is asleep when the count algorithm says
        sleep, it is not non-wear, and (where the HR criterion applies) HR does not say wake.
    """
    grids = classify_minute_grid(samples, method=method, params=params)
    if not grids:
        return pl.DataFrame(schema=MINUTE_SCHEMA)
    return pl.concat([g.frame() for g in grids])


def classify_minute_grid(
    samples: pl.DataFrame,
    *,
    method: str = METHOD_COLE_KRIPKE,
    params: ActigraphyParams = ActigraphyParams(),
) -> list[MinuteGrid]:
    """:func:`classify_minutes` as one :class:`MinuteGrid` per participant, sorted by id.

    The samples are read once into numpy columns; each participant's rows are a contiguous
    slice of them (the flow loads one participant at a time; other inputs are grouped by one
    stable sort), so no per-participant frame is built.
    """
    if method not in (METHOD_COLE_KRIPKE, METHOD_SADEH):
        raise ValueError(f"method must be {METHOD_COLE_KRIPKE!r} or {METHOD_SADEH!r}")
    smp = prepare(samples, "samples", SAMPLES_SCHEMA)
    code = _metric_codes(smp["metric"])
    # the metrics read here with a finite value (a null value reads as NaN: dropped too)
    keep = (code >= 0) & np.isfinite(smp["value"].to_numpy())
    read = smp
    if not keep.all():
        smp = smp.filter(pl.Series(keep))
    smp = keep_finest_resolution(smp)
    if smp.height == 0:
        return []
    smp, pids, bounds = _participant_slices(smp)
    if smp is not read:  # rows dropped or regrouped: code them again
        code = _metric_codes(smp["metric"])
    s = smp["start_utc"].dt.epoch("us").to_numpy()
    e = smp["end_utc"].dt.epoch("us").to_numpy()
    v = smp["value"].to_numpy()
    off = smp["utc_offset_s"].to_numpy()
    grids = []
    for k in pl.Series(pids, dtype=pl.String).arg_sort().to_list():
        sl = slice(bounds[k], bounds[k + 1])
        grids.append(
            _classify_participant(pids[k], code[sl], s[sl], e[sl], v[sl], off[sl], method, params)
        )
    return grids


def _grids_from_minutes(minutes: pl.DataFrame) -> list[MinuteGrid]:
    """:class:`MinuteGrid` per participant from a :data:`MINUTE_SCHEMA` frame (rows of a
    participant in frame order, as they were classified)."""
    if minutes.height == 0:
        return []
    mins, pids, bounds = _participant_slices(minutes)
    cols = {
        "minute_us": mins["minute_utc"].dt.epoch("us").to_numpy(),
        "utc_offset_s": mins["utc_offset_s"].to_numpy(),
        "counts": mins["counts_proxy"].to_numpy(),
        "hr_bpm": mins["hr_bpm"].fill_null(np.nan).to_numpy(),
        "hr_present": mins["hr_bpm"].is_not_null().to_numpy(),
        "has_data": mins.select(
            pl.col("counts_proxy").is_not_nan().fill_null(False) | pl.col("hr_bpm").is_not_null()
        )
        .to_series()
        .to_numpy(),
        "sleep": mins["sleep"].to_numpy(),
        "nonwear": mins["nonwear"].to_numpy(),
        "hr_wake": mins["hr_wake"].to_numpy(),
    }
    return [
        MinuteGrid(pid, **{c: v[bounds[k] : bounds[k + 1]] for c, v in cols.items()})
        for k, pid in enumerate(pids)
    ]


def _participant_slices(frame: pl.DataFrame) -> tuple[pl.DataFrame, list, np.ndarray]:
    """``frame`` with each participant's rows contiguous (frame order kept within a
    participant), the participants in that order and their row bounds.

    Frames already grouped by participant are returned as they are; others are grouped by
    a stable sort, which keeps each participant's rows exactly as ``partition_by`` would.
    """
    runs = frame["participant_id"].rle()
    if runs.struct.field("value").n_unique() != runs.len():
        frame = frame.sort("participant_id", maintain_order=True)
        runs = frame["participant_id"].rle()
    lens = runs.struct.field("len").to_numpy()
    bounds = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    return frame, runs.struct.field("value").to_list(), bounds


def _metric_codes(metric: pl.Series) -> np.ndarray:
    """``_METRIC_CODE`` of every row (-1 for other metrics), as int8."""
    runs = metric.rle()
    if runs.len() * 8 <= metric.len():  # sorted or grouped by metric: code each run once
        codes = [_METRIC_CODE.get(m, -1) for m in runs.struct.field("value").to_list()]
        return np.repeat(np.asarray(codes, np.int8), runs.struct.field("len").to_numpy())
    out = np.full(metric.len(), -1, np.int8)
    for name, c in _METRIC_CODE.items():
        out[(metric == name).fill_null(False).to_numpy()] = c
    return out


def keep_finest_resolution(samples: pl.DataFrame) -> pl.DataFrame:
    """Drop coarser copies of the same signal: per participant and metric, rows of a
    ``source`` whose median interval length is >= 20 x that of the metric's finest source.

    Fitabase stores minute, hourly and daily steps as separate sources; adding or taking the
    maximum across them would spread daily totals over the night. Sources of similar
    resolution (an Apple phone and watch, both minutes) are all kept. Point metrics (heart
    rate) have length 0 everywhere and are unaffected. Frames without ``source`` are returned
    unchanged.
    """
    if "source" not in samples.columns or samples.height == 0:
        return samples
    facts = _HISTORY.get()
    if facts is not None:  # decided once over the whole history (chunked runs)
        src = pl.col("source").cast(pl.String).fill_null("")
        return (
            samples.with_columns(_src=src)
            .join(facts.finest, on=["participant_id", "metric", "_src"], how="semi")
            .drop("_src")
        )
    if (
        samples["participant_id"].null_count() == 0
        and samples["metric"].null_count() == 0
        and _single_value(samples["source"])
    ):
        # one source everywhere: nothing is a coarser copy, and the semi join below would
        # keep every row (it drops only null keys, excluded here); skip the grouped pass
        return samples
    src = pl.col("source").cast(pl.String).fill_null("")
    dur = (pl.col("end_utc") - pl.col("start_utc")).dt.total_microseconds()
    res = (
        samples.group_by("participant_id", "metric", src.alias("_src"))
        .agg(_med=dur.median())
        .with_columns(_fin=pl.col("_med").min().over("participant_id", "metric"))
        .filter(
            (pl.col("_med") <= 0)
            | (pl.col("_med") < COARSE_SOURCE_RATIO * pl.col("_fin").clip(lower_bound=1))
        )
        .select("participant_id", "metric", "_src")
    )
    return (
        samples.with_columns(_src=src)
        .join(res, on=["participant_id", "metric", "_src"], how="semi")
        .drop("_src")
    )


def _single_value(col: pl.Series) -> bool:
    """True when every row of ``col`` holds the same value (all null counts as one value),
    as ``n_unique() == 1`` but by one comparison with the first row instead of hashing."""
    nulls = col.null_count()
    if nulls:
        return nulls == col.len()
    return bool((col == col[0]).all())


def _classify_participant(
    pid: str,
    code: np.ndarray,
    s: np.ndarray,
    e: np.ndarray,
    value: np.ndarray,
    offset_s: np.ndarray,
    method: str,
    p: ActigraphyParams,
) -> MinuteGrid:
    """One participant's minute grid from the rows of its samples (``code`` from
    ``_METRIC_CODE``, ``s`` / ``e`` epoch microseconds, rows in input order)."""
    g0 = int(s.min()) // _MIN_US * _MIN_US
    g1 = (int(e.max()) // _MIN_US + 1) * _MIN_US
    n = int((g1 - g0) // _MIN_US)
    cell = lambda t: ((np.asarray(t, np.int64) - g0) // _MIN_US).clip(0, n - 1)  # noqa: E731
    short = e - s <= 120 * _US  # level and MET rows longer than 2 min are ignored

    # steps: amounts spread uniformly over [s, e) (point records land in their minute)
    st = code == _METRIC_CODE["steps"]
    steps = None
    if st.any():
        steps = np.zeros(n)
        s1, e1, v = s[st], e[st], value[st]
        e1 = np.maximum(e1, s1)
        edges = g0 + _MIN_US * np.arange(n + 1, dtype=np.int64)
        point = e1 == s1
        np.add.at(steps, cell(s1[point]), v[point])
        if (~point).any():
            steps += spread_spans(s1[~point], e1[~point], v[~point], edges)
    intensity = None
    it = (code == _METRIC_CODE["intensity_level"]) & short
    if it.any():
        intensity = np.full(n, np.nan)
        c = cell(s[it])
        if c.size < 2 or bool((np.diff(c) > 0).all()):  # one row per minute: no maximum
            intensity[c] = value[it]
        else:
            np.fmax.at(intensity, c, value[it])
    met = None
    mt = (code == _METRIC_CODE["met"]) & short
    if mt.any():
        tot, cnt = np.zeros(n), np.zeros(n)
        c = cell(s[mt])
        np.add.at(tot, c, value[mt])
        np.add.at(cnt, c, 1)
        met = np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan)
    has_activity = steps is not None or intensity is not None or met is not None
    if has_activity:
        counts = activity_counts_proxy(steps, intensity, met, params=p)
        if steps is not None:  # step exports omit zero intervals: missing steps are zero
            counts = np.where(np.isnan(counts), 0.0, counts)
    else:
        counts = np.full(n, np.nan)

    hr = (code == _METRIC_CODE["heart_rate_bpm"]) & (value > 0)
    hr_min = cell_medians(cell(s[hr]), value[hr], n)
    hr_present = np.isfinite(hr_min)
    has_hr_channel = _hr_minutes(pid, int(hr_present.sum())) >= p.hr_min_minutes

    # offsets per minute: forward-filled from the records
    minute_t = g0 + _MIN_US * np.arange(n, dtype=np.int64)
    if offset_s.size and offset_s.min() == offset_s.max():  # one offset: nothing to fill
        off = np.full(n, offset_s[0], dtype=np.int64)
    else:
        off = np.full(n, np.iinfo(np.int32).min, dtype=np.int64)
        off[cell(s)] = offset_s
        idx = np.maximum.accumulate(np.where(off != np.iinfo(np.int32).min, np.arange(n), 0))
        off = off[idx]
        off = np.where(off == np.iinfo(np.int32).min, int(offset_s[0]), off)

    if method == METHOD_COLE_KRIPKE:
        sleep, _ = cole_kripke_1992(counts, params=p)
    else:
        sleep, _ = sadeh_1994(counts, params=p)
    nonwear = nonwear_minutes(counts, hr_present if has_hr_channel else None, params=p)
    if not has_hr_channel and p.nonwear_flat_daytime:
        nonwear |= nonwear_flat_daytime(counts, minute_t // _US + off, params=p)

    hr_wake = np.zeros(n, bool)
    if has_hr_channel:
        hr_wake = _hr_wake(hr_min, hr_present, minute_t, off, p)
    has_data = np.isfinite(counts) | hr_present
    return MinuteGrid(
        participant_id=pid,
        minute_us=minute_t,
        utc_offset_s=off.astype(np.int32),
        counts=counts,
        hr_bpm=hr_min,
        hr_present=hr_present,
        has_data=has_data,
        sleep=sleep & ~nonwear & ~hr_wake & has_data,
        nonwear=nonwear,
        hr_wake=hr_wake,
    )


def spread_spans(s: np.ndarray, e: np.ndarray, v: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Amount per grid cell (``edges``: cell bounds, same unit as ``s`` / ``e``) of intervals
    ``[s, e)`` with ``e > s`` whose amounts ``v`` (steps, kcal) are spread uniformly over
    their span: the piecewise-linear cumulative amount, read at the cell edges. Amounts
    outside the grid are dropped at the left and folded into the last edge at the right.
    Used by the minute grid here and by the cramp detector's cells (``cramp_grid``)."""
    rate = v / (e - s)
    t = np.concatenate([s, e]).astype(float)
    d = np.concatenate([rate, -rate])
    order = np.argsort(t, kind="stable")
    t, d = t[order], d[order]
    slope = np.cumsum(d)
    cum = np.concatenate([[0.0], np.cumsum(slope[:-1] * np.diff(t))])
    return np.diff(np.interp(edges.astype(float), t, cum, left=0.0, right=float(cum[-1])))


def cell_medians(cell: np.ndarray, value: np.ndarray, n: int) -> np.ndarray:
    """Median of the values falling in each of ``n`` cells (NaN for an empty cell).

    A cell's median is the mean of its sorted values at positions ``(c - 1) // 2`` and
    ``c // 2`` (``c`` values), as ``np.median``. Rows already in cell order (samples sorted
    by time) are sorted within their cell in one ``np.sort`` per distinct cell size;
    otherwise all rows are sorted by (cell, value).
    """
    out = np.full(n, np.nan)
    if cell.size == 0:
        return out
    step = np.diff(cell)
    if (step >= 0).all():
        first = np.flatnonzero(np.concatenate([[True], step != 0]))
        size = np.diff(np.concatenate([first, [cell.size]]))
        sizes = np.flatnonzero(np.bincount(size))
        if sizes.size <= 32:
            for c in sizes.tolist():
                at = first[size == c]
                if c == 1:
                    v = value[at]
                    out[cell[at]] = 0.5 * (v + v)
                    continue
                block = np.sort(value[at[:, None] + np.arange(c)], axis=1)
                out[cell[at]] = 0.5 * (block[:, (c - 1) // 2] + block[:, c // 2])
            return out
    order = np.lexsort((value, cell))
    cell, value = cell[order], value[order]
    uniq, first, cnts = np.unique(cell, return_index=True, return_counts=True)
    out[uniq] = 0.5 * (value[first + (cnts - 1) // 2] + value[first + cnts // 2])
    return out
