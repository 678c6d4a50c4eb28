"""Run the detectors for the participants and nights whose data changed since the last run.

The store keeps, in ``detection_runs``, the highest import id whose rows are reflected in
``sleep_periods`` and ``episodes``. A run finds the imports after it, the participants and
local dates they touched, loads those participants' data for the touched dates plus the
look-back the detectors' baselines need, runs the detectors (pure functions in
``detectors/``), and replaces the outputs for the affected dates only.
"""

from __future__ import annotations

import os
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
    from detectors.cramps import CrampParams

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
    "CRAMP_VERSION": ("detectors.cramps", "DETECTOR_VERSION"),
    "CrampParams": ("detectors.cramps", "CrampParams"),
    "EPISODE_SCHEMA": ("detectors.schema", "EPISODE_SCHEMA"),
    "SLEEP_PERIOD_SCHEMA": ("detectors.schema", "SLEEP_PERIOD_SCHEMA"),
}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    module, attr = _LAZY[name]
    mod = importlib.import_module(module)
    return mod if attr is None else getattr(mod, attr)


#: days of data loaded before the first changed date: the 28-day resting-HR baseline
#: (detectors-science.md 8.2) plus a margin for the 7-morning body-mass baseline
LOOKBACK_DAYS = 35
#: days after the last changed date whose outputs can change: a new morning weight
#: enters the next 7 mornings' body-mass baselines (detectors-science.md 8.2)
LOOKAHEAD_DAYS = 8


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
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Pure step: inputs -> (sleep_periods, episodes).

    ``raw`` = ``(sleep_periods, episodes)`` of the nights analysed from raw accelerometry
    (:func:`detect_raw`). Those nights take the raw sleep period and the raw cramp detector;
    the minute-level period of the same night, or one overlapping a raw period, is dropped
    before the minute-level cramp detector runs, so a night is never detected twice.
    """
    import detectors
    from detectors.cramps import CrampParams
    from detectors.schema import EPISODE_SCHEMA, SLEEP_PERIOD_SCHEMA

    samples, periods, segments = _sleep(inputs)
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
    cramps = detectors.detect_nocturnal_cramps(
        samples, segments, periods, cramp_params or CrampParams()
    )
    dehydration = detectors.detect_dehydration(
        inputs["samples"], inputs["workouts"], inputs["environment"], inputs["participants"]
    )
    parts = [cramps.select(list(EPISODE_SCHEMA)), dehydration.select(list(EPISODE_SCHEMA))]
    if raw is not None:
        parts.append(raw[1].select(list(EPISODE_SCHEMA)))
    episodes = pl.concat(parts, how="vertical")
    periods = pl.concat(
        [periods.select(list(SLEEP_PERIOD_SCHEMA)), raw_periods.select(list(SLEEP_PERIOD_SCHEMA))]
    ).sort("participant_id", "night_of")
    return periods, episodes


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
    (``detectors.calibration``). The fitted set becomes active only if its held-out F1 is at
    least the default's.
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
    from detectors.cramps import DETECTOR_VERSION as CRAMP_VERSION

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
    if not full:
        everyone = full_ranges(con)
        for pid in everyone:
            if (
                pid not in ranges
                and (participant_ids is None or pid in participant_ids)
                and labels.labels_changed(con, pid)
            ):
                ranges[pid] = everyone[pid]
    with store_outputs.transaction(con):
        for pid, (lo, hi) in ranges.items():
            out_lo, out_hi = lo - timedelta(days=1), hi + timedelta(days=LOOKAHEAD_DAYS)
            if full or _journal_changed(con, pid, last):
                calibrate_cramps(con, pid)
            inputs = load_inputs(con, pid, lo - timedelta(days=LOOKBACK_DAYS), out_hi)
            raw = detect_raw(con, pid, out_lo, out_hi, inputs["samples"], raw_dir)
            periods, episodes = run_detectors(inputs, active_cramp_params(con, pid), raw=raw)
            summary.nights += store_outputs.replace_range(
                con, "sleep_periods", "night_of", periods, pid, out_lo, out_hi
            )
            written = store_outputs.replace_range(
                con,
                "episodes",
                "local_date",
                episodes,
                pid,
                out_lo,
                out_hi,
                stamp_col="created_utc",
            )
            summary.episodes_written += written
            for kind, n in (
                episodes.filter(pl.col("local_date").is_between(out_lo, out_hi))
                .group_by("kind")
                .len()
                .iter_rows()
            ):
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
