"""Run the detectors for the participants and nights whose data changed since the last run.

The store keeps, in ``detection_runs``, the highest import id whose rows are reflected in
``sleep_periods`` and ``episodes``. A run finds the imports after it, the participants and
local dates they touched, loads those participants' data for the touched dates plus the
look-back the detectors' baselines need, runs the detectors (pure functions in
``detectors/``), and replaces the outputs for the affected dates only.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from pipeline import store_inputs, store_outputs
from pipeline.store_inputs import (  # noqa: F401 (re-exported: callers import them from here)
    SAMPLE_METRICS,
    changed_ranges,
    full_ranges,
    load_inputs,
    store_data_dir,
)

# The detectors (scipy and all) are imported where they are used, not here: a run with
# nothing new never loads them, which keeps `crampwatch detect`/`run` with nothing to do fast
# (importing `detectors` costs 1.5-3 s on a 2-core machine).
if TYPE_CHECKING:
    from detectors import cramps_raw
    from detectors.calibration import CalibrationResult
    from detectors.cramp_params import CrampParams

#: the names this module used to import at the top, still reachable as attributes
_LAZY = {
    "detectors": ("detectors", None),
    "cramps_raw": ("detectors.cramps_raw", None),
    "CalibrationResult": ("detectors.calibration", "CalibrationResult"),
    "calibrate_participant": ("detectors.calibration", "calibrate_participant"),
    "journal_cramps": ("detectors.calibration", "journal_cramps"),
    "nights_of_labels": ("detectors.calibration", "nights_of_labels"),
    "params_from_json": ("detectors.calibration", "params_from_json"),
    "params_to_json": ("detectors.calibration", "params_to_json"),
    "CRAMP_VERSION": ("detectors.cramp_params", "DETECTOR_VERSION"),
    "CrampParams": ("detectors.cramp_params", "CrampParams"),
    "EPISODE_SCHEMA": ("detectors.schema", "EPISODE_SCHEMA"),
    "SLEEP_PERIOD_SCHEMA": ("detectors.schema", "SLEEP_PERIOD_SCHEMA"),
}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attr = _LAZY[name]
    mod = importlib.import_module(module)
    return mod if attr is None else getattr(mod, attr)


#: how far the day-level detector (dehydration) reads: a day's fluid-model bias is the median
#: deficit of the 28 days before it, and each of those days' "partial log" test reads the
#: typical intake of the 28 days before that (detectors.dehydration_params), so 57 days back;
#: since dehydration-0.3.3 a day without a measurement reads the body-water state over the
#: 7 days before it (``BodyWaterParams.window_back_days``), whose first day reads those 57:
#: 64 days back. The same chain makes a changed day reach the rows of the 64 days after it
DAILY_REACH_DAYS = 2 * 28 + 1 + 7
#: days before a changed date whose outputs can change: the day before reads its next
#: morning's weight, and the body-water state of a day reads the day after it
#: (``BodyWaterParams.window_ahead_days``, dehydration-0.3.3), so 2
DAILY_REACH_BACK_DAYS = 2
#: days of data loaded after the last recomputed date, for the same reason: the body-water
#: state of that date reads the day after it and that day's next morning
DAILY_LOAD_AHEAD_DAYS = DAILY_REACH_BACK_DAYS
#: days of data loaded before the first recomputed date (the reach, and 3 days more for the
#: night before and time zones)
LOOKBACK_DAYS = DAILY_REACH_DAYS + 3
#: days after the last changed date whose outputs can change (the reach forward; a new morning
#: weight also enters the next 7 mornings' body-mass baselines, detectors-science.md 8.2).
#: Nightly runs append at the end of the data, where there is nothing after to recompute
LOOKAHEAD_DAYS = DAILY_REACH_DAYS

# A long history is detected in chunks of local nights, so memory holds one chunk's inputs
# (a 3.8-year Apple history: 2.95 M samples). A chunk's outputs equal those of one pass over
# the whole range (tests/pipeline/test_detect_chunks.py) because each chunk loads the context
# its nights and days read:
# - dehydration (day d): trailing windows of 28 days (typical intake, fluid-model bias,
#   14-day HR, 7 mornings' mass) over days whose "partial log" test reads the 28 days before
#   them, so 57 days back, and the body-water state over the 7 days before d (0.3.3): 64
#   days back (:data:`DAILY_REACH_DAYS`); the next morning's weight, resting HR and the
#   sleeping HR of the night after, and the state's day after d with its next morning, so
#   3 days ahead; each day's body mass is the nearest weighing however far, so body mass
#   is loaded for the whole range in every chunk (a few rows a week);
# - sleep from minute data (night n): Cole-Kripke, Webster rescoring, the 10-min HR median
#   and non-wear runs reach at most 60 min around a minute, a flat day without HR 36 h, and
#   a night's HR reference is its noon-to-noon window: 37 h beyond the window on each side.
#   Where a data gap spans a chunk's margin, the chunk is widened to the data beyond it;
# - device-stage sleep chains segments across gaps < 60 min however long the chain: the
#   (small) sleep_segments are loaded once for the whole range;
# - the cramp detector reads the night's period with 30 min of margin and 12 h around each
#   segment for the movement channel;
# - whole-range decisions (which sources are coarser copies, whether there is an HR channel)
#   are computed once in SQL (:func:`pipeline.store_inputs.history_facts`).

#: local nights per chunk
CHUNK_DAYS = 92
#: days of data loaded before a chunk's first night (see above: 64 for dehydration, and 3
#: days more for the night before and time zones, as :data:`LOOKBACK_DAYS`)
CHUNK_LOOKBACK_DAYS = DAILY_REACH_DAYS + 3
#: days loaded after a chunk's last night (see above)
CHUNK_LOOKAHEAD_DAYS = 4
#: metrics loaded over the whole range in every chunk (nearest weighing of each day)
WHOLE_RANGE_METRICS = ("body_mass_kg",)
#: metrics of the minute-level sleep grid (activity proxy and heart rate)
_GRID_METRICS = ("steps", "intensity_level", "met", "heart_rate_bpm")


@dataclass
class DetectSummary:
    participants: int = 0
    nights: int = 0
    episodes_written: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    max_import_id: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def _sleep(inputs: dict[str, pl.DataFrame]) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    import detectors

    # finest resolution per metric (Fitabase stores minute, hourly and daily steps)
    samples = detectors.keep_finest_resolution(inputs["samples"])
    # device stages where a night has them, else Cole-Kripke on minute activity + HR; the
    # returned segments add the actigraphy nights' asleep/awake minutes for the cramp detector
    periods, segments = detectors.detect_sleep(inputs["sleep_segments"], samples)
    return samples, periods, segments


def run_detectors(
    inputs: dict[str, pl.DataFrame],
    cramp_params: CrampParams | None = None,
    raw: tuple[pl.DataFrame, pl.DataFrame] | None = None,
    daily_inputs: dict[str, pl.DataFrame] | None = None,
    nights: tuple[date, date] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Pure step: inputs -> (sleep_periods, episodes, cramp_candidates).

    ``cramp_candidates``: every candidate the minute-level cramp detector scored
    (``detectors.cramps.score_cramp_candidates``, reported or not) with the id of the parameter
    set it was scored with and the detector version (table ``cramp_candidates``; nights
    analysed from raw accelerometry have none).

    ``daily_inputs``: the inputs of the day-level detector (dehydration) when they are not
    ``inputs`` (a chunk of a long history reads more days for it than for the nights).
    ``nights``: only the sleep periods (and so the cramps) of these nights are kept and
    analysed (a chunk whose sleep segments cover the whole history).

    ``raw`` = ``(sleep_periods, episodes)`` of the nights analysed from raw accelerometry
    (:func:`detect_raw`). Those nights take the raw sleep period and the raw cramp detector;
    the minute-level period of the same night, or one overlapping a raw period, is dropped
    before the minute-level cramp detector runs, so a night is never detected twice.
    """
    import detectors
    from detectors.cramp_params import DETECTOR_VERSION as CRAMP_DETECTOR_VERSION
    from detectors.cramp_params import CrampParams, _params_id
    from detectors.schema import EPISODE_SCHEMA, SLEEP_PERIOD_SCHEMA

    samples, periods, segments = _sleep(inputs)
    if nights is not None:
        periods = periods.filter(pl.col("night_of").is_between(*nights))
    raw_periods = raw[0] if raw is not None else pl.DataFrame(schema=SLEEP_PERIOD_SCHEMA)
    if raw_periods.height:
        periods = periods.join(
            raw_periods.select("participant_id", "night_of"),
            on=["participant_id", "night_of"],
            how="anti",
        )
        overlap = periods.join(
            raw_periods.select("participant_id", s2="start_utc", e2="end_utc"),
            on="participant_id",
            how="inner",
        ).filter((pl.col("start_utc") < pl.col("e2")) & (pl.col("end_utc") > pl.col("s2")))
        periods = periods.join(
            overlap.select("participant_id", "night_of").unique(),
            on=["participant_id", "night_of"],
            how="anti",
        )
    params = cramp_params or CrampParams()
    candidates = detectors.score_cramp_candidates(samples, segments, periods, params=params)
    cramps = detectors.episodes_from_candidates(candidates)
    candidates = candidates.with_columns(
        params_id=pl.lit(_params_id(params)), detector_version=pl.lit(CRAMP_DETECTOR_VERSION)
    )
    days = inputs if daily_inputs is None else daily_inputs
    dehydration = detectors.detect_dehydration(
        days["samples"], days["workouts"], days["environment"], days["participants"]
    )
    parts = [cramps.select(list(EPISODE_SCHEMA)), dehydration.select(list(EPISODE_SCHEMA))]
    if raw is not None:
        parts.append(raw[1].select(list(EPISODE_SCHEMA)))
    episodes = pl.concat(parts, how="vertical")
    periods = pl.concat(
        [periods.select(list(SLEEP_PERIOD_SCHEMA)), raw_periods.select(list(SLEEP_PERIOD_SCHEMA))]
    ).sort("participant_id", "night_of")
    return periods, episodes, candidates


def detect_raw(
    con: duckdb.DuckDBPyConnection,
    participant_id: str,
    lo: date,
    hi: date,
    samples: pl.DataFrame,
    data_dir: str | os.PathLike | None,
    params: cramps_raw.RawCrampParams | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Raw-accelerometry sleep periods and cramp episodes for the nights ``lo``..``hi``.

    The participant's ``accelerometry_files`` that overlap those nights are read night by
    night (local noon to noon, the file's own offset) straight from their Parquet files, for
    that night's time range only (row groups outside it are skipped by their min/max), so
    memory holds one night. Heart rate comes from ``samples`` (``heart_rate_bpm``). A night
    whose raw data yields no HDCZA period is left to the minute-level detectors.
    """
    from detectors import cramps_raw
    from detectors.schema import EPISODE_SCHEMA, SLEEP_PERIOD_SCHEMA

    empty = (pl.DataFrame(schema=SLEEP_PERIOD_SCHEMA), pl.DataFrame(schema=EPISODE_SCHEMA))
    if data_dir is None:
        return empty
    root = Path(data_dir)
    t_lo = datetime(lo.year, lo.month, lo.day, tzinfo=UTC) - timedelta(days=1)
    t_hi = datetime(hi.year, hi.month, hi.day, tzinfo=UTC) + timedelta(days=2)
    files = store_inputs.accelerometry_files(con, participant_id, t_lo, t_hi)
    files = [f for f in files if (root / f[0]).is_file()]
    if not files:
        return empty
    # nights in the participant's IANA zone when known (DST-correct windows and offsets);
    # else the recording's own offset at its start
    zone = store_inputs.participant_zone(con, participant_id)
    nights: dict[date, tuple[int, int, int]] = {}
    for _, start_us, end_us, off in files:
        windows = (
            cramps_raw.night_windows_tz(start_us, end_us, zone)
            if zone is not None
            else [(n, a, b, off) for n, a, b in cramps_raw.night_windows(start_us, end_us, off)]
        )
        for night_of, w_lo, w_hi, w_off in windows:
            d = night_of.astype(object)
            if lo <= d <= hi:
                nights.setdefault(d, (w_lo, w_hi, w_off))
    hr = samples.filter(
        (pl.col("participant_id") == participant_id) & (pl.col("metric") == "heart_rate_bpm")
    ).sort("start_utc")
    hr_t = hr["start_utc"].dt.epoch("us").to_numpy()
    hr_v = hr["value"].to_numpy()
    p = params or cramps_raw.RawCrampParams()
    periods, episodes = [empty[0]], [empty[1]]
    for night_of, (w_lo, w_hi, off) in sorted(nights.items()):
        paths = [str(root / f[0]) for f in files if f[2] >= w_lo and f[1] < w_hi]
        lo_dt = datetime.fromtimestamp(w_lo / 1e6, UTC)
        hi_dt = datetime.fromtimestamp(w_hi / 1e6, UTC)
        acc = (
            pl.scan_parquet(paths, hive_partitioning=False)
            .filter((pl.col("time_utc") >= lo_dt) & (pl.col("time_utc") < hi_dt))
            .select("time_utc", "x_g", "y_g", "z_g")
            .collect()
        )
        if len(paths) > 1:  # overlapping recordings: one sample per instant
            acc = acc.unique("time_utc", keep="first").sort("time_utc")
        if acc.height == 0:
            continue
        t = acc["time_utc"].dt.epoch("us").to_numpy()
        j0, j1 = hr_t.searchsorted([w_lo, w_hi])
        night = cramps_raw.analyse_night(
            t, acc.select("x_g", "y_g", "z_g").to_numpy(), hr_t[j0:j1], hr_v[j0:j1], params=p
        )
        per, eps, _ = cramps_raw.night_frames(participant_id, night_of, night, off)
        periods.append(per)
        episodes.append(eps)
    return pl.concat(periods), pl.concat(episodes)


def calibrate_cramps(
    con: duckdb.DuckDBPyConnection, participant_id: str
) -> CalibrationResult | None:
    """Fit the participant's cramp parameters on their journal and labels and store them.

    Labelled nights are the participant's sleep periods from the first to the last journalled
    cramp (within the span someone keeps a cramp journal, a night without an entry is taken
    as a night without a cramp, an assumption; ``no_cramp`` entries are not required), plus
    every night with a current episode label (``episode_labels``; queued labels are merged
    first, :mod:`pipeline.store_labels`). Held-out scoring is leave-one-night-out
    (``detectors.calibration``). The fitted set becomes active only if its held-out F1 is
    higher than the default's (a tie keeps the defaults).
    """
    import detectors
    from detectors.calibration import (
        calibrate_participant,
        journal_cramps,
        nights_of_labels,
        params_to_json,
    )
    from detectors.cramps import DETECTOR_VERSION as CRAMP_VERSION
    from pipeline import store_labels as episode_labels

    episode_labels.merge_pending(con)
    journal = store_inputs.journal(con, participant_id)
    cramps = journal_cramps(journal)
    current = episode_labels.current_labels(con, participant_id)
    if (cramps.height == 0 and current.height == 0) or participant_id not in (
        ranges := full_ranges(con)
    ):
        return None
    lo, hi = ranges[participant_id]
    samples, periods, segments = _sleep(load_inputs(con, participant_id, lo, hi))
    labelled: set = set()
    if cramps.height:
        first, last = cramps["night_of"].min(), cramps["night_of"].max()
        labelled |= set(periods.filter(pl.col("night_of").is_between(first, last))["night_of"])
    current = nights_of_labels(current, periods)
    labelled |= set(current["night_of"].to_list()) & set(periods["night_of"].to_list())
    if not labelled:
        return None
    candidates = detectors.score_cramp_candidates(samples, segments, periods)
    res = calibrate_participant(
        candidates, cramps, sorted(labelled), participant_id=participant_id, labels=current
    )
    store_inputs.save_cramp_param_set(
        con,
        params_id=res.params_id,
        participant_id=participant_id,
        name=res.params.name,
        params_json=params_to_json(res.params),
        detector_version=CRAMP_VERSION,
        n_nights=res.n_nights,
        n_events=res.n_events,
        heldout_f1=_finite(res.fitted_heldout.f1),
        default_heldout_f1=_finite(res.default_heldout.f1),
        active=res.use_fitted,
        n_labels=res.n_labels,
        labels_through_seq=episode_labels.labels_through_seq(con, participant_id) or 0,
    )
    return res


def _finite(x: float) -> float | None:
    return x if x == x else None  # NaN -> NULL


def active_cramp_params(con: duckdb.DuckDBPyConnection, participant_id: str) -> CrampParams | None:
    from detectors.calibration import params_from_json
    from detectors.cramp_params import DETECTOR_VERSION as CRAMP_VERSION

    text = store_inputs.active_cramp_params_json(con, participant_id, CRAMP_VERSION)
    return params_from_json(text) if text else None


def _journal_changed(con, participant_id: str, since_import_id: int) -> bool:
    """New journal rows since the last run, or episode labels the latest fit has not seen
    (queued labels are merged into ``episode_labels`` first: the writer run is where the
    queue lands, :mod:`pipeline.store_labels`)."""
    from pipeline import store_labels as episode_labels

    episode_labels.merge_pending(con)
    if episode_labels.labels_changed(con, participant_id):
        return True
    return store_inputs.journal_changed(con, participant_id, since_import_id)


def output_window(
    con: duckdb.DuckDBPyConnection,
    pid: str,
    lo: date,
    hi: date,
    lookahead_days: int,
    span: tuple[date, date] | None = None,
) -> tuple[date, date, tuple[date, date]]:
    """``(out_lo, out_hi, span)``: the dates whose outputs a change of ``lo``..``hi`` can
    move (:data:`DAILY_REACH_BACK_DAYS` before, ``lookahead_days`` after, and the days whose
    nearest weighing may now be a new one, :func:`pipeline.store_inputs.body_mass_reach`,
    with the same reach around them), within the participant's ``span`` of data (first,
    last local date; :func:`full_ranges`, looked up when not given), over which body mass is
    always loaded."""
    if span is None:
        span = store_inputs.changed_ranges(con, -1, [pid]).get(pid, (lo, hi))
    out_lo = lo - timedelta(days=DAILY_REACH_BACK_DAYS)
    out_hi = hi + timedelta(days=lookahead_days)
    reach = store_inputs.body_mass_reach(con, pid, lo, hi)
    if reach is not None:
        # the days whose body mass changes, and the days that read them (the fluid-model
        # bias is a median in % of body mass; the body-water state reads 7 days back and
        # the day ahead)
        back = timedelta(days=DAILY_REACH_BACK_DAYS - 1)
        out_lo = min(out_lo, span[0] if reach[0] is None else reach[0] - back)
        out_hi = max(
            out_hi, span[1] if reach[1] is None else reach[1] + timedelta(days=lookahead_days)
        )
    return max(out_lo, span[0] - timedelta(days=DAILY_REACH_BACK_DAYS)), out_hi, span


def _chunks(out_lo: date, out_hi: date, days: int) -> list[tuple[date, date]]:
    """``out_lo``..``out_hi`` as consecutive ranges of at most ``days`` nights."""
    out, a = [], out_lo
    while a <= out_hi:
        b = min(a + timedelta(days=days - 1), out_hi)
        out.append((a, b))
        a = b + timedelta(days=1)
    return out


def _detect_participant(con, pid, load_lo, out_lo, out_hi, params, raw_dir, span=None):
    """Detect ``pid``'s nights ``out_lo``..``out_hi`` (data from ``load_lo``; body mass over
    ``span``, the participant's whole history, default the loaded range) and replace their
    outputs, one chunk of :data:`CHUNK_DAYS` nights at a time; yields per chunk
    ``(sleep periods written, episodes written, [(kind, episodes)])``."""
    span = span or (load_lo, out_hi)
    from detectors.actigraphy import HistoryFacts, history_facts

    load_hi = out_hi + timedelta(days=DAILY_LOAD_AHEAD_DAYS)
    chunks = _chunks(out_lo, out_hi, CHUNK_DAYS)
    facts = None
    segments = None
    if len(chunks) > 1:
        finest, hr_minutes = store_inputs.history_facts(con, pid, load_lo, out_hi)
        facts = HistoryFacts(finest, {pid: hr_minutes})
        segments = load_inputs(con, pid, load_lo, out_hi, tables=("sleep_segments",))
    for a, b in chunks:
        daily = None
        if facts is None:
            inputs = load_inputs(
                con, pid, load_lo, load_hi, whole_metrics=WHOLE_RANGE_METRICS, whole=span
            )
        else:
            # the days' detectors read the whole chunk; the nights' only a few days around it
            daily, nightly = _load_chunk(con, pid, a, b, load_lo, load_hi, facts.finest, span)
            daily["sleep_segments"] = segments["sleep_segments"]
            inputs = {**daily, "samples": nightly}
        # raw nights one beyond the chunk: a raw period of the next night can overlap this
        # chunk's last minute-level period
        r_lo, r_hi = max(a - timedelta(days=1), out_lo), min(b + timedelta(days=1), out_hi)
        raw = detect_raw(con, pid, r_lo, r_hi, inputs["samples"], raw_dir)
        with history_facts(facts):
            periods, episodes, candidates = run_detectors(
                inputs, params, raw=raw, daily_inputs=daily, nights=(r_lo, r_hi)
            )
        del inputs, daily, raw
        nights = store_outputs.replace_range(con, "sleep_periods", "night_of", periods, pid, a, b)
        store_outputs.replace_range(
            con, "cramp_candidates", "night_of", candidates, pid, a, b, stamp_col="computed_utc"
        )
        written = store_outputs.replace_range(
            con, "episodes", "local_date", episodes, pid, a, b, stamp_col="created_utc"
        )
        by_kind = (
            episodes.filter(pl.col("local_date").is_between(a, b)).group_by("kind").len().rows()
        )
        yield nights, written, by_kind


def _load_chunk(
    con: duckdb.DuckDBPyConnection,
    pid: str,
    a: date,
    b: date,
    load_lo: date,
    load_hi: date,
    finest: pl.DataFrame | None,
    span: tuple[date, date] | None = None,
) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """The inputs (but sleep segments) of the chunk of nights ``a``..``b``, within the whole
    run's ``load_lo``..``load_hi``: :data:`CHUNK_LOOKBACK_DAYS` before and
    :data:`CHUNK_LOOKAHEAD_DAYS` after; and the samples the nights' detectors read.

    With ``finest`` (the sources kept, :func:`pipeline.store_inputs.history_facts`) the chunk
    is widened across a gap in the minute data so that its minute grid starts >= 3 days
    before ``a`` and ends >= 4 days after ``b`` (37 h beyond the nights' noon-to-noon windows
    in any zone), or where the whole run's does; the nights' samples are those from one
    day before the grid's first such minute to one day after the last (the whole chunk's
    samples without ``finest``). Body mass (:data:`WHOLE_RANGE_METRICS`) comes from ``span``
    (default the whole run's range): each day takes the nearest weighing however far."""
    span = span or (load_lo, load_hi)
    if finest is None:
        c_lo = max(load_lo, a - timedelta(days=CHUNK_LOOKBACK_DAYS))
        c_hi = min(load_hi, b + timedelta(days=CHUNK_LOOKAHEAD_DAYS))
        inputs = load_inputs(
            con,
            pid,
            c_lo,
            c_hi,
            tables=("samples", "workouts", "environment", "participants", "sleep_segments"),
            whole_metrics=WHOLE_RANGE_METRICS,
            whole=span,
        )
        return inputs, inputs["samples"]
    keys = [f"{m}\x00{s}" for m, s in finest.select("metric", "_src").iter_rows()]
    c_lo = max(load_lo, a - timedelta(days=CHUNK_LOOKBACK_DAYS))
    c_hi = min(load_hi, b + timedelta(days=CHUNK_LOOKAHEAD_DAYS))
    need_lo, need_hi = _utc(a - timedelta(days=3)), _utc(b + timedelta(days=4))
    while True:
        inputs = load_inputs(
            con,
            pid,
            c_lo,
            c_hi,
            tables=("samples", "workouts", "environment", "participants"),
            whole_metrics=WHOLE_RANGE_METRICS,
            whole=span,
        )
        grid = inputs["samples"].filter(
            pl.col("metric").is_in(_GRID_METRICS)
            & pl.col("value").is_finite()
            & (pl.col("metric") + "\x00" + pl.col("source")).is_in(keys)
        )
        new_lo, new_hi = c_lo, c_hi
        if c_lo > load_lo and (grid.height == 0 or grid["start_utc"].min() > need_lo):
            t = store_inputs.grid_sample_edge(con, pid, _GRID_METRICS, keys, before=need_lo)
            new_lo = load_lo if t is None else max(load_lo, min(c_lo, t.date()))
        if c_hi < load_hi and (grid.height == 0 or grid["end_utc"].max() < need_hi):
            t = store_inputs.grid_sample_edge(con, pid, _GRID_METRICS, keys, after=need_hi)
            new_hi = load_hi if t is None else min(load_hi, max(c_hi, t.date()))
        if (new_lo, new_hi) == (c_lo, c_hi):
            break
        c_lo, c_hi = new_lo, new_hi
    smp = inputs["samples"]
    before = grid.filter(pl.col("start_utc") <= need_lo)["start_utc"].max()
    if before is not None:  # else the grid starts where the whole run's does
        smp = smp.filter(pl.col("start_utc") >= min(before, need_lo - timedelta(days=1)))
    after = grid.filter(pl.col("end_utc") >= need_hi)["start_utc"].min()
    if after is not None:  # else the grid ends where the whole run's does
        smp = smp.filter(pl.col("start_utc") <= max(after, need_hi + timedelta(days=1)))
    return inputs, smp


def _utc(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


#: the detectors that write each output table, as (module in ``detectors/``, constant): a
#: row whose ``detector_version`` is none of theirs was written by an older crampwatch, and
#: its participant is re-detected whole at the next run (as ``daily_exposures``)
OUTPUT_VERSIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "episodes": (
        ("cramp_params", "DETECTOR_VERSION"),
        ("cramps_raw", "DETECTOR_VERSION"),
        ("dehydration", "DETECTOR_VERSION"),
    ),
    "sleep_periods": (("sleep", "DETECTOR_VERSION"), ("actigraphy", "DETECTOR_VERSION")),
}


def detector_constant(module: str, name: str) -> str:
    """A string constant of ``detectors.<module>``, read from the module's source when the
    module is not loaded yet (a run with nothing new must not import the detectors)."""
    full = f"detectors.{module}"
    if full in sys.modules:
        return getattr(sys.modules[full], name)
    spec = importlib.util.find_spec("detectors")  # locates the package without importing it
    if spec is not None and spec.submodule_search_locations:
        src = Path(next(iter(spec.submodule_search_locations))) / f"{module}.py"
        if src.is_file():
            m = re.search(
                rf"""^{name}\s*=\s*["']([^"'\\]+)["']\s*(#.*)?$""",
                src.read_text(encoding="utf-8"),
                re.M,
            )
            if m:
                return m.group(1)
    return getattr(importlib.import_module(full), name)


def current_versions(table: str) -> tuple[str, ...]:
    """The detector versions this crampwatch writes into ``table``."""
    return tuple(detector_constant(m, n) for m, n in OUTPUT_VERSIONS[table])


def detect_changed(
    con: duckdb.DuckDBPyConnection,
    *,
    full: bool = False,
    participant_ids: list[str] | None = None,
    data_dir: str | os.PathLike | None = None,
) -> DetectSummary:
    """Recompute outputs for what changed since the last run (everything if ``full``).

    ``data_dir`` is the store's data folder (raw accelerometry Parquet); by default the one
    beside the store's file (:func:`pipeline.config.data_dir`).
    """
    t0 = time.perf_counter()
    raw_dir = Path(data_dir) if data_dir is not None else store_data_dir(con)
    summary = DetectSummary()
    last, run_id = store_outputs.last_run(con, "detection_runs")
    newest = store_outputs.newest_import_id(con)
    ranges = changed_ranges(con, -1 if full else last, participant_ids)
    # labels queued while another writer held the store, then participants whose labels are
    # newer than their last fit: their whole range is refit and re-detected (labels are rare)
    from pipeline import store_labels as labels

    labels.merge_pending(con, compact=True)
    stale: set[str] = set()
    versions = {table: current_versions(table) for table in OUTPUT_VERSIONS}
    cramp_version = detector_constant("cramp_params", "DETECTOR_VERSION")
    if not full:
        everyone = full_ranges(con)
        for pid in everyone:
            if (
                pid not in ranges
                and (participant_ids is None or pid in participant_ids)
                and labels.labels_changed(con, pid)
            ):
                ranges[pid] = everyone[pid]
        # participants with outputs of an older detector version (an upgrade): whole range
        for table, current in versions.items():
            stale.update(store_outputs.participants_of_other_versions(con, table, current))
        # and those whose active fitted cramp set names an older cramp detector: it no longer
        # counts (``active_cramp_params``), also for someone with no cramp episode to mark them
        stale.update(store_inputs.participants_with_other_version_active_sets(con, cramp_version))
        for pid in sorted(stale):  # whole range, also when new data touched part of it
            if pid in everyone and (participant_ids is None or pid in participant_ids):
                ranges[pid] = everyone[pid]
    spans = full_ranges(con) if ranges else {}  # one pass over the store for everyone
    with store_outputs.transaction(con):
        for pid in sorted(stale & set(ranges)):  # rows of an older version outside the range too
            for table, current in versions.items():
                store_outputs.delete_other_versions(con, table, pid, current)
        for pid, (lo, hi) in ranges.items():
            out_lo, out_hi, span = output_window(
                con, pid, lo, hi, LOOKAHEAD_DAYS, spans.get(pid, (lo, hi))
            )
            # an upgrade (stale) drops the participant's fitted set (it names the old
            # version): refit it on the journal and labels, as a changed journal would; the
            # old set is no longer active whatever the refit gives (the next run converges)
            if pid in stale:
                store_inputs.deactivate_other_version_sets(con, pid, cramp_version)
            if full or pid in stale or _journal_changed(con, pid, last):
                calibrate_cramps(con, pid)
            params = active_cramp_params(con, pid)
            load_lo = out_lo - timedelta(days=LOOKBACK_DAYS)
            for nights, written, by_kind in _detect_participant(
                con, pid, load_lo, out_lo, out_hi, params, raw_dir, span
            ):
                summary.nights += nights
                summary.episodes_written += written
                for kind, n in by_kind:
                    summary.by_kind[kind] = summary.by_kind.get(kind, 0) + n
            summary.participants += 1
        summary.max_import_id = newest
        summary.seconds = time.perf_counter() - t0
        store_outputs.record_run(
            con,
            "detection_runs",
            run_id,
            summary.seconds,
            newest,
            summary.participants,
            summary.nights,
            summary.episodes_written,
        )
    return summary
