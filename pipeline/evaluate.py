"""Score detected episodes against a ground-truth or journal file.

Event matching follows detectors-science.md section 7.3: a detected and a reference interval
form a candidate pair if their intersection-over-union is at least ``min_iou`` (0.1) or their
onsets differ by at most ``tolerance_s``; pairs are assigned one-to-one with the Hungarian
method (``scipy.optimize.linear_sum_assignment``), maximising overlap and then closeness of
onsets. Tolerances: 5 min for minute-level exports against exact truth, 30 min for a morning
journal ("woke with a cramp around 3"), as the brief recommends (Ward, Lukowicz & Gellersen
2011 for event-level metrics).

Dehydration is scored per participant-day: a day is positive if any episode's ``local_date``
is that day.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import polars as pl

EXACT_TOLERANCE_S = 5 * 60
JOURNAL_TOLERANCE_S = 30 * 60
MIN_IOU = 0.1


@dataclass
class EventScore:
    participant_id: str
    true_positives: int
    false_positives: int
    false_negatives: int
    nights: int
    onset_errors_s: list[float]

    @property
    def precision(self) -> float:
        d = self.true_positives + self.false_positives
        return self.true_positives / d if d else float("nan")

    @property
    def recall(self) -> float:
        d = self.true_positives + self.false_negatives
        return self.true_positives / d if d else float("nan")

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r > 0 else float("nan")

    @property
    def false_alarms_per_night(self) -> float:
        return self.false_positives / self.nights if self.nights else float("nan")

    @property
    def onset_error_median_s(self) -> float:
        return float(np.median(self.onset_errors_s)) if self.onset_errors_s else float("nan")

    def as_dict(self) -> dict:
        d = asdict(self)
        d.pop("onset_errors_s")
        d.update(
            precision=self.precision,
            recall=self.recall,
            f1=self.f1,
            false_alarms_per_night=self.false_alarms_per_night,
            onset_error_median_s=self.onset_error_median_s,
        )
        return d


def _assign(cost: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The allowed pairs (``ok``) of the minimum-cost one-to-one assignment.

    When no detected interval has two allowed partners and no reference interval has two,
    the allowed pairs are already one-to-one and each lowers the cost, so the assignment is
    exactly those pairs: no solver is needed (and scipy is not imported, which keeps
    ``crampwatch evaluate`` fast). Otherwise the Hungarian method decides
    (``scipy.optimize.linear_sum_assignment``)."""
    if not ok.any():
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if (ok.sum(axis=1) <= 1).all() and (ok.sum(axis=0) <= 1).all():
        rows, cols = np.nonzero(ok)
        return rows, cols
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(cost)
    keep = ok[rows, cols]
    return rows[keep], cols[keep]


def _epoch_s(col: pl.Series) -> np.ndarray:
    return col.dt.epoch("us").to_numpy().astype(np.float64) / 1e6


def match_events(
    detected: pl.DataFrame, truth: pl.DataFrame, *, tolerance_s: float, min_iou: float = MIN_IOU
) -> tuple[int, int, int, list[float]]:
    """One-to-one matching of intervals (``start_utc``, ``end_utc``) of one participant.

    Returns ``(tp, fp, fn, onset_errors_s)``.
    """
    if detected.height == 0 or truth.height == 0:
        return 0, detected.height, truth.height, []
    ds, de = _epoch_s(detected["start_utc"]), _epoch_s(detected["end_utc"])
    ts, te = _epoch_s(truth["start_utc"]), _epoch_s(truth["end_utc"])
    inter = np.clip(
        np.minimum(de[:, None], te[None, :]) - np.maximum(ds[:, None], ts[None, :]), 0, None
    )
    union = np.maximum(de[:, None], te[None, :]) - np.minimum(ds[:, None], ts[None, :])
    iou = np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)
    onset = np.abs(ds[:, None] - ts[None, :])
    ok = (iou >= min_iou) | (onset <= tolerance_s)
    # maximise IoU first, then prefer closer onsets; forbidden pairs get a prohibitive cost
    cost = np.where(ok, -(iou + 1.0 - np.minimum(onset / max(tolerance_s, 1.0), 1.0)), 1e6)
    rows, cols = _assign(cost, ok)
    pairs = list(zip(rows.tolist(), cols.tolist(), strict=True))
    tp = len(pairs)
    return tp, detected.height - tp, truth.height - tp, [float(onset[r, c]) for r, c in pairs]


def score_events(
    detected: pl.DataFrame,
    truth: pl.DataFrame,
    *,
    tolerance_s: float,
    nights: dict[str, int] | None = None,
) -> list[EventScore]:
    """Per-participant event scores plus an ``'overall'`` row (last)."""
    pids = sorted(
        set(detected["participant_id"].to_list()) | set(truth["participant_id"].to_list())
    )
    out = []
    for pid in pids:
        tp, fp, fn, errs = match_events(
            detected.filter(pl.col("participant_id") == pid),
            truth.filter(pl.col("participant_id") == pid),
            tolerance_s=tolerance_s,
        )
        out.append(EventScore(pid, tp, fp, fn, (nights or {}).get(pid, 0), errs))
    out.append(
        EventScore(
            "overall",
            sum(s.true_positives for s in out),
            sum(s.false_positives for s in out),
            sum(s.false_negatives for s in out),
            sum(s.nights for s in out),
            [e for s in out for e in s.onset_errors_s],
        )
    )
    return out


def score_days(
    detected_days: pl.DataFrame, truth_days: pl.DataFrame, all_days: pl.DataFrame
) -> EventScore:
    """Day-level confusion counts; frames have ``participant_id`` and ``local_date``."""
    key = ["participant_id", "local_date"]
    det = detected_days.select(key).unique()
    tru = truth_days.select(key).unique()
    tp = det.join(tru, on=key, how="inner").height
    return EventScore(
        "overall", tp, det.height - tp, tru.height - tp, all_days.select(key).unique().height, []
    )


#: confidence bands of the reliability table (``possible`` 0.4-0.7, ``likely`` >= 0.7)
RELIABILITY_BANDS: tuple[float, ...] = (0.4, 0.55, 0.7, 0.85, 1.0)


def reliability(
    detected: pl.DataFrame,
    truth: pl.DataFrame,
    *,
    tolerance_s: float,
    bands: tuple[float, ...] = RELIABILITY_BANDS,
) -> list[dict]:
    """Predicted vs observed by confidence band (issue 10: "confidence that means what it
    says"): for each band, the episodes' mean confidence and the share of them that match a
    true event (one-to-one matching as :func:`match_events`, done once over all episodes so
    a band cannot claim a true event another band's episode already matched).

    ``detected`` needs ``participant_id, start_utc, end_utc, confidence``.
    """
    matched = np.zeros(detected.height, bool)
    det = detected.with_row_index("_r")
    for (pid,), d in det.partition_by("participant_id", as_dict=True).items():
        t = truth.filter(pl.col("participant_id") == pid)
        if t.height == 0 or d.height == 0:
            continue
        ds, de = _epoch_s(d["start_utc"]), _epoch_s(d["end_utc"])
        ts, te = _epoch_s(t["start_utc"]), _epoch_s(t["end_utc"])
        inter = np.clip(
            np.minimum(de[:, None], te[None, :]) - np.maximum(ds[:, None], ts[None, :]), 0, None
        )
        union = np.maximum(de[:, None], te[None, :]) - np.minimum(ds[:, None], ts[None, :])
        iou = np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)
        dist = np.abs(ds[:, None] - ts[None, :])
        ok = (iou >= MIN_IOU) | (dist <= tolerance_s)
        if not ok.any():
            continue
        cost = np.where(ok, -(iou + 1.0 / (1.0 + dist)), 1e6)
        r, _ = _assign(cost, ok)
        matched[d["_r"].to_numpy()[r]] = True
    conf = detected["confidence"].to_numpy()
    out = []
    for lo, hi in zip(bands[:-1], bands[1:], strict=True):
        m = (conf >= lo) & ((conf < hi) if hi < bands[-1] else (conf <= hi))
        out.append(
            {
                "band": f"{lo:.2f}-{hi:.2f}",
                "episodes": int(m.sum()),
                "predicted": float(conf[m].mean()) if m.any() else float("nan"),
                "observed": float(matched[m].mean()) if m.any() else float("nan"),
            }
        )
    return out


# --------------------------------------------------------------------------------------------
# reading the truth file

#: columns a ground-truth CSV must have (``local_date`` too for dehydration rows)
TRUTH_COLUMNS = ("participant_id", "kind", "start_utc", "end_utc")
#: the kinds ``crampwatch evaluate`` scores
SCORED_KINDS = ("nocturnal_cramp", "dehydration")


class TruthError(ValueError):
    """The truth file cannot be used (one line naming the file and what is wrong)."""


def _expected() -> str:
    from pipeline.importers.journal_csv import HEADER

    return (
        f"expected a ground-truth CSV ({','.join(TRUTH_COLUMNS)}[,local_date]) or a cramp "
        f"journal ({','.join(HEADER)})"
    )


@dataclass
class Truth:
    """A truth file read for scoring."""

    frame: pl.DataFrame  # participant_id, kind, start_utc, end_utc[, local_date]
    source: str  # "ground_truth" | "journal"
    rejected: list[str]  # "FILE:LINE: reason" of journal rows that could not be read

    @property
    def is_journal(self) -> bool:
        return self.source == "journal"


def _header_fields(path: Path) -> tuple[str, ...]:
    from pipeline.importers import ImportFormatError
    from pipeline.importers._common import blank_line, read_lines

    try:
        lines = read_lines(path, str(path)).filter(~blank_line())
    except ImportFormatError as exc:  # empty, not UTF-8: the message names the file
        raise TruthError(f"{exc}; {_expected()}") from exc
    if lines.height == 0:
        raise TruthError(f"{path}: no header line; {_expected()}")
    text = lines["text"][0]
    return tuple(f.strip().strip('"').strip() for f in text.split(","))


def _looks_like_journal(fields: tuple[str, ...]) -> bool:
    from pipeline.importers import journal_csv

    return (
        fields == journal_csv.HEADER
        or journal_csv.near_miss(fields)
        or ("time" in fields and "start_utc" not in fields)
    )


def read_truth_file(
    path: str | Path,
    *,
    tz: str | None = None,
    participant_id: str | None = None,
    stored_zones: dict[str, str | None] | None = None,
) -> Truth:
    """The truth rows of ``path``: a ground-truth CSV (:func:`read_truth`) or a cramp
    journal, read by the journal importer's own parser (same time and offset rules as
    ``crampwatch ingest``): its ``cramp`` rows become ``nocturnal_cramp`` truth at the
    written time (start = end). Journal times without an offset are read in ``tz``, else in
    the stored zone of the file's participants (``stored_zones``) when they share one.

    Raises :class:`TruthError` (one line naming the file) for an empty or unreadable file,
    missing or misnamed columns, or a value that cannot be read.
    """
    path = Path(path)
    fields = _header_fields(path)
    if _looks_like_journal(fields):
        return _read_journal_truth(path, fields, tz, participant_id, stored_zones or {})
    return Truth(read_truth(path, fields=fields), "ground_truth", [])


def _read_journal_truth(
    path: Path,
    fields: tuple[str, ...],
    tz: str | None,
    participant_id: str | None,
    stored_zones: dict[str, str | None],
) -> Truth:
    from pipeline.importers import ImportContext, ImportFormatError, journal_csv
    from pipeline.importers._common import read_header_and_records

    problem = journal_csv.header_problem(fields)
    if problem is not None:
        raise TruthError(f"{path}:1: {problem}")
    display = str(path)
    try:
        if tz is None:
            records, _ = read_header_and_records(
                path, display, journal_csv.HEADER, journal_csv.FORMAT
            )
            pids = set(records["participant_id"].drop_nulls().unique().to_list())
            if participant_id:
                pids.add(participant_id)
            zones = {stored_zones.get(p) for p in pids}
            if len(zones) == 1:
                tz = zones.pop()
        ctx = ImportContext(participant_id=participant_id, tz=tz, display_path=display)
        batches = list(journal_csv.read(path, ctx))
    except ImportFormatError as exc:
        raise TruthError(str(exc)) from exc
    journal = next((b.frame for b in batches if b.table == "journal"), None)
    rejected = [
        f"{display}:{n}: {r}"
        for b in batches
        if b.table == "rejected_rows"
        for n, r in zip(b.frame["record_no"], b.frame["reason"], strict=True)
    ]
    if journal is None:
        journal = pl.DataFrame(
            schema={
                "participant_id": pl.String,
                "kind": pl.String,
                "time_utc": pl.Datetime("us", "UTC"),
            }
        )
    frame = journal.filter(pl.col("kind") == "cramp").select(
        pl.col("participant_id").cast(pl.String),
        kind=pl.lit("nocturnal_cramp"),
        start_utc=pl.col("time_utc").dt.convert_time_zone("UTC"),
        end_utc=pl.col("time_utc").dt.convert_time_zone("UTC"),
    )
    return Truth(frame, "journal", rejected)


def read_truth(path: str | Path, *, fields: tuple[str, ...] | None = None) -> pl.DataFrame:
    """Ground truth CSV (``participant_id,kind,start_utc,end_utc[,local_date],...``): times
    in ISO 8601 with an offset (``2025-06-16T22:05:05Z``), ``local_date`` as YYYY-MM-DD.

    Raises :class:`TruthError` naming the file: missing columns (named), a time or date that
    cannot be read (with its line), a file that is not CSV.
    """
    path = Path(path)
    if fields is None:
        fields = _header_fields(path)
    missing = [c for c in TRUTH_COLUMNS if c not in fields]
    if missing:
        raise TruthError(
            f"{path}: not a ground-truth or journal CSV: missing column"
            f"{'s' if len(missing) > 1 else ''} {', '.join(missing)} (found "
            f"{','.join(fields)[:200]}); {_expected()}"
        )
    try:
        raw = pl.read_csv(path, infer_schema=False)
    except (pl.exceptions.PolarsError, OSError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise TruthError(f"{path}: cannot be read as CSV ({first[:200]})") from exc
    parsed = raw.with_columns(
        pl.col("participant_id").cast(pl.String),
        pl.col("kind").cast(pl.String),
        start_utc=pl.col("start_utc")
        .str.strip_chars()
        .str.to_datetime(time_zone="UTC", strict=False),
        end_utc=pl.col("end_utc").str.strip_chars().str.to_datetime(time_zone="UTC", strict=False),
    )
    checks = [
        ("start_utc", "an ISO 8601 time with offset like 2025-06-16T22:05:05Z"),
        ("end_utc", "an ISO 8601 time with offset like 2025-06-16T22:05:05Z"),
    ]
    if "local_date" in raw.columns:
        parsed = parsed.with_columns(
            local_date=pl.col("local_date").str.strip_chars().str.to_date(strict=False)
        )
        checks.append(("local_date", "a date like 2025-06-16"))
    for col, what in checks:
        unread = (parsed[col].is_null() & raw[col].is_not_null()).arg_true()
        if unread.len():
            i = unread[0]
            raise TruthError(f"{path}:{i + 2}: {col} {raw[col][i]!r} is not {what}")
    for col in TRUTH_COLUMNS:
        empty = parsed[col].is_null().arg_true()
        if empty.len():
            raise TruthError(f"{path}:{empty[0] + 2}: {col} is empty")
    return parsed
