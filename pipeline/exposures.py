"""Keep ``daily_exposures`` up to date for the participants and dates whose data changed.

Mirrors :mod:`pipeline.detect`: the store keeps, in ``exposure_runs``, the highest import id
whose rows are reflected in ``daily_exposures``. :func:`update_exposures` finds the imports
after it, the participants and local dates they touched (``pipeline.detect.changed_ranges``),
loads those participants' inputs with the look-back the baselines need
(``pipeline.detect.load_inputs``), computes the table with the pure
``detectors.exposures.compute_daily_exposures`` and replaces the rows of the affected dates,
all in one transaction. It is independent of the detection bookkeeping, so it can run
before or after ``detect_changed`` and catches up by itself after a failure.

The flow calls::

    from pipeline.exposures import update_exposures
    update_exposures(con)            # or update_exposures(con, full=True)

:func:`compute_changed_exposures` is the lower-level step for explicit ranges.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import duckdb

from pipeline import detect, store_outputs
from pipeline.detect import changed_ranges, load_inputs

if TYPE_CHECKING:
    from detectors.exposures import ExposureParams

#: names taken from ``detectors.exposures`` when first needed (importing the detectors costs
#: 1.5-3 s, which a run with nothing new does not pay); a value set on this module first
#: (a test's monkeypatch) is kept
_LAZY = ("DAILY_EXPOSURES_SCHEMA", "EXPOSURES_VERSION", "ExposureParams", "compute_daily_exposures")


def _load_detectors() -> None:
    from detectors import exposures as de

    g = globals()
    for name in _LAZY:
        g.setdefault(name, getattr(de, name))


def _detectors_name(name: str):
    _load_detectors()
    return globals()[name]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    _load_detectors()
    return globals()[name]


def exposures_version() -> str:
    """``detectors.exposures.EXPOSURES_VERSION``, read from the module's source when the
    detectors are not loaded yet (a run with nothing new needs only this constant)."""
    return detect.detector_constant("exposures", "EXPOSURES_VERSION")


#: days loaded before the first recomputed date, and days after the last changed date whose
#: rows can change: the dehydration table's reach (``pipeline.detect.DAILY_REACH_DAYS``: the
#: 28-day model-bias window over days whose partial-log rule reads the 28 days before them),
#: which also covers the 14-day HR/HRV baselines, the 7 previous mornings of the body-mass
#: baseline and the 7-day nutrient window; the same windows as detection, which writes the
#: dehydration episodes from the same table
LOOKBACK_DAYS = detect.LOOKBACK_DAYS
LOOKAHEAD_DAYS = detect.LOOKAHEAD_DAYS


@dataclass
class ExposureSummary:
    participants: int = 0
    days_written: int = 0
    max_import_id: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def compute_changed_exposures(
    con: duckdb.DuckDBPyConnection,
    ranges: dict[str, tuple[date, date]],
    params: ExposureParams | None = None,
) -> int:
    """Recompute ``daily_exposures`` for each participant's changed local dates.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Read-write store connection (``pipeline.store.connect``). No transaction is opened
        here: wrap the call in one (as :func:`update_exposures` does) to make it atomic.
    ranges : dict
        ``participant_id -> (first, last)`` local dates whose *inputs* changed, as returned by
        ``pipeline.detect.changed_ranges``.
    params : ExposureParams, optional
        Passed to ``compute_daily_exposures`` (default ``ExposureParams()``).

    Returns
    -------
    int
        Rows written. Rows of ``[first - 2 days, last + 64 days]`` are replaced: the two
        days before (the next-morning columns; the body-water state reads the day after)
        and the days whose trailing baselines or state window include a changed day,
        directly or through another day's (:data:`LOOKAHEAD_DAYS`); with a
        weighing in the range, also the days whose nearest weighing it may now be
        (``pipeline.detect.output_window``).
    """
    if not ranges:
        return 0
    compute_daily_exposures = _detectors_name("compute_daily_exposures")
    schema = _detectors_name("DAILY_EXPOSURES_SCHEMA")
    params = params or _detectors_name("ExposureParams")()
    written = 0
    spans = detect.full_ranges(con)  # one pass over the store for everyone
    for pid, (lo, hi) in sorted(ranges.items()):
        # and the days whose nearest weighing may be a new one; body mass over the whole span
        out_lo, out_hi, span = detect.output_window(
            con, pid, lo, hi, LOOKAHEAD_DAYS, spans.get(pid, (lo, hi))
        )
        load_lo = out_lo - timedelta(days=LOOKBACK_DAYS)
        # a long history in chunks of days, as detection does (pipeline.detect): each chunk
        # loads the days its trailing baselines read, the next morning, and body mass over
        # the whole range; its rows equal those of one pass (tests/pipeline/test_detect_chunks.py)
        # (twice detection's chunk: a day's row needs far less memory than a night's)
        load_hi = out_hi + timedelta(days=detect.DAILY_LOAD_AHEAD_DAYS)
        chunks = detect._chunks(out_lo, out_hi, 2 * detect.CHUNK_DAYS)
        for a, b in chunks:
            if len(chunks) == 1:
                inputs = load_inputs(
                    con, pid, load_lo, load_hi, whole_metrics=detect.WHOLE_RANGE_METRICS, whole=span
                )
            else:
                inputs = detect._load_chunk(con, pid, a, b, load_lo, load_hi, None, span)[0]
            frame = compute_daily_exposures(
                inputs["samples"],
                inputs["workouts"],
                inputs["environment"],
                inputs["participants"],
                inputs["sleep_segments"],
                params=params,
            )
            del inputs
            written += store_outputs.replace_range(
                con,
                "daily_exposures",
                "local_date",
                frame.select(list(schema)),
                pid,
                a,
                b,
                stamp_col="computed_utc",
            )
    return written


def update_exposures(
    con: duckdb.DuckDBPyConnection,
    *,
    full: bool = False,
    participant_ids: list[str] | None = None,
    params: ExposureParams | None = None,
) -> ExposureSummary:
    """Bring ``daily_exposures`` up to date with every import (all dates if ``full``).

    Participants with rows of another ``detector_version`` (written before an upgrade)
    are recomputed over all their dates. One transaction: on error nothing is written and
    ``exposure_runs`` is unchanged, so the next call retries the same ranges.
    """
    t0 = time.perf_counter()
    summary = ExposureSummary()
    last, run_id = store_outputs.last_run(con, "exposure_runs")
    newest = store_outputs.newest_import_id(con)
    ranges = changed_ranges(con, -1 if full else last, participant_ids)
    # rows written by another version of the table (an upgrade): recompute those people whole
    stale = [
        pid
        for pid in store_outputs.participants_of_other_versions(
            con, "daily_exposures", exposures_version()
        )
        if participant_ids is None or pid in participant_ids
    ]
    if stale:
        ranges.update(changed_ranges(con, -1, stale))
    with store_outputs.transaction(con):
        for pid in stale:  # rows of the old version outside the recomputed dates go too
            store_outputs.delete_other_versions(con, "daily_exposures", pid, exposures_version())
        summary.days_written = compute_changed_exposures(con, ranges, params)
        summary.participants = len(ranges)
        summary.max_import_id = newest
        summary.seconds = time.perf_counter() - t0
        store_outputs.record_run(
            con,
            "exposure_runs",
            run_id,
            summary.seconds,
            newest,
            summary.participants,
            summary.days_written,
        )
    return summary
