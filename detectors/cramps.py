"""Likely nocturnal leg-cramp episodes from minute-level consumer exports (Apple Health).

Inputs are what an Apple Watch / iPhone export gives during a night: heart-rate point samples
about every 5 min, sleep-stage segments (or, in old exports, only ``in_bed``/``asleep``), step
counts and active energy over intervals. The method is variant (i) of the design brief
(section 7.1), adapted to those signals; every adaptation is listed in
:func:`detect_nocturnal_cramps` and every threshold in :class:`CrampParams` names its source.

Design rule (brief section 7): no trigger variable (heat, fluids, nutrients, medication) is
used here, otherwise the trigger statistics would be circular.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass

import numpy as np
import polars as pl
from scipy import ndimage, signal, stats

from detectors.frames import SAMPLES_SCHEMA, SLEEP_SEGMENTS_SCHEMA, prepare
from detectors.nights import from_epoch_us
from detectors.schema import EPISODE_SCHEMA, SLEEP_PERIOD_SCHEMA, UTC_DT, episode_id, label_for
from detectors.sleep import ASLEEP_STAGES, STAGED_STAGES

DETECTOR_VERSION = "cramp-0.1"
KIND = "nocturnal_cramp"

_US = 1_000_000
_MIN_US = 60 * _US

#: confounders every candidate is checked against (names used in ``evidence``)
CONFOUNDERS: tuple[str, ...] = (
    "watch_off",
    "rollover_or_phone",
    "restless_plm_like",
    "bathroom_trip",
)

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


@dataclass(frozen=True)
class CrampParams:
    """Thresholds and weights of :func:`detect_nocturnal_cramps`.

    Each field cites ``detectors.references.REFERENCES[key]``. ``crampwatch_brief`` values are
    from the design brief; those it grades **D** (engineering assumptions, no direct evidence:
    in particular all logistic weights) say "grade D".
    """

    #: identifier written to ``evidence["params"]``; change it whenever a value changes
    name: str = "cramp-brief-7.1-v1"

    # --- grid and heart-rate pre-processing (brief 7.1 "Inputs" and Step A) ---
    grid_s: int = 60  # [crampwatch_brief] 7.1: signals resampled to a 1-min grid
    hr_ffill_max_s: int = 300  # [crampwatch_brief] 7.1: "gaps of <= 5 min are forward-filled"
    hr_medfilt_samples: int = 3  # [crampwatch_brief] 7.1 Step A: medfilt(hr, 3) vs PPG artefacts
    #: [crampwatch_brief] 7.1 Step A: median of preceding 30 min non-wake
    baseline_window_s: int = 1800
    baseline_min_s: int = 300  # [crampwatch_brief] grade D: fewer valid minutes -> night median
    hr_spread_floor_bpm: float = 2.0  # [crampwatch_brief] 7.1 Step A: s_hr floor 2 bpm
    act_z_min: float = 3.0  # [crampwatch_brief] 7.1 Step B: (act - med_act)/s_act >= 3
    #: [crampwatch_brief] grade D: brief floors count-based s_act at 1 count; Apple gives active
    #: energy, so the floor is restated as 0.1 kcal/min (rest ~0, walking ~3-4 kcal/min)
    act_spread_floor_kcal_min: float = 0.1
    #: [crampwatch_brief] grade D: a minute takes a stage if >= half covered
    stage_min_cover_s: float = 30.0

    # --- candidate segments (Step B) ---
    #: [crampwatch_brief] 7.1 Step B: binary_closing(ones(3)) merges gaps <= 2 min
    closing_s: int = 180
    min_segment_s: int = 60  # [crampwatch_brief] 7.1 Step B: keep segments 1-30 min
    #: [crampwatch_brief] 7.1 Step B (longer = long_wake); [hallegraeff2017] cramps last <= 10 min
    max_segment_s: int = 1800

    # --- features (Step C) ---
    hr_peak_after_s: int = 180  # [crampwatch_brief] 7.1 Step C: dHR over [t_on, t_off + 3 min]
    sustain_window_s: int = 600  # [crampwatch_brief] 7.1 Step C: minutes in [t_off, t_off + 10]
    #: [crampwatch_brief] 7.1 Step C: hr_s - b_hr >= 5; [chouchou2011] brief nociceptive
    #: responses recover within ~7 beats, so minutes of elevation mean more than an arousal
    sustain_delta_bpm: float = 5.0
    walk_cadence_steps_min: float = 40.0  # [crampwatch_brief] 6.3 grade D: >= 40 steps/min
    walk_min_s: int = 120  # [crampwatch_brief] 6.3 grade D: >= 2 consecutive minutes
    walk_total_steps: float = 60.0  # [crampwatch_brief] 6.3 grade D: or >= 60 steps in total
    #: [crampwatch_brief] 7.1 Step D: 0 < steps_tot <= 30 (stretch/stand)
    few_steps_max: float = 30.0
    restless_window_s: int = 1800  # [crampwatch_brief] 7.1 Step C: restless density in +-30 min
    hr_missing_before_s: int = 300  # [crampwatch_brief] 7.1 Step C: hr_missing over [t_on - 5 min,
    hr_missing_after_s: int = 600  # [crampwatch_brief] 7.1 Step C: ... t_off + 10 min]

    # --- explicit confounder rules ---
    #: [crampwatch_brief] 7.2 "rise >= 10 bpm or >= 10 %"; [lavigne2001] brief experimental
    #: pain raised sleeping HR by only 4-7 %; below both => rollover / phone (no surge)
    hr_rise_min_bpm: float = 10.0
    hr_rise_min_frac: float = 0.10  # [crampwatch_brief] 7.2; [lavigne2001]
    #: [aasm_scoring] PLM = >= 4 consecutive movements (also [ferri2016]); restated for
    #: minute-level wake bouts: >= 4 short bouts within +-30 min (grade D adaptation)
    plm_min_bouts: int = 4
    plm_short_bout_max_s: int = 120  # [crampwatch_brief] grade D: "short" wake bout <= 2 min
    #: [crampwatch_brief] 7.1 Step D: if hr_missing > 0.5 drop HR terms and cap confidence at 0.5
    hr_missing_max_frac: float = 0.5
    hr_missing_confidence_cap: float = 0.5  # [crampwatch_brief] 7.1 Step D

    # --- Step D logistic confidence: starting weights to be refit once labels exist ---
    w_intercept: float = -4.0  # [crampwatch_brief] 7.1 Step D, grade D
    w_hr_rise: float = 1.2  # [crampwatch_brief] 7.1 Step D grade D: 1.2 * min(dHR / 10 bpm, 3)
    hr_rise_scale_bpm: float = 10.0  # [crampwatch_brief] 7.1 Step D grade D
    #: [crampwatch_brief] 7.1 Step D grade D: 0.5 * min(sustain / 3 min, 3)
    w_hr_sustain: float = 0.5
    hr_sustain_scale_min: float = 3.0  # [crampwatch_brief] 7.1 Step D grade D
    w_act_peak: float = 0.8  # [crampwatch_brief] 7.1 Step D grade D: 0.8 * min(act_peak / 5, 3)
    act_peak_scale: float = 5.0  # [crampwatch_brief] 7.1 Step D grade D
    term_cap: float = 3.0  # [crampwatch_brief] 7.1 Step D grade D: each scaled term capped at 3
    w_duration: float = 0.6  # [crampwatch_brief] 7.1 Step D grade D: 0.6 * ln(1 + dur_min)
    w_few_steps: float = 0.5  # [crampwatch_brief] 7.1 Step D grade D: 0.5 * [0 < steps <= 30]
    w_walk: float = -1.5  # [crampwatch_brief] 7.1 Step D grade D: -1.5 * walk
    w_restless: float = -1.0  # [crampwatch_brief] 7.1 Step D grade D: -1.0 * restless_density
    w_wake_after: float = 0.4  # [crampwatch_brief] 7.1 Step D grade D: 0.4 * ln(1 + wake_after_min)


def detect_nocturnal_cramps(
    samples: pl.DataFrame,
    sleep_segments: pl.DataFrame,
    sleep_periods: pl.DataFrame,
    params: CrampParams = CrampParams(),
) -> pl.DataFrame:
    """Detect likely nocturnal leg-cramp episodes within main sleep periods.

    Parameters
    ----------
    samples : polars.DataFrame
        Long samples (``participant_id, metric, start_utc, end_utc, utc_offset_s, value``).
        Used metrics: ``heart_rate_bpm`` (point samples; the start instant is used),
        ``steps`` and ``active_energy_kcal`` (counts over ``[start_utc, end_utc)``, spread
        uniformly over the minutes they cover). If a ``source`` column is present, steps and
        active energy are combined per minute by the *maximum* over sources (phone and watch
        both count the same steps); otherwise they are summed. Other metrics are ignored.
    sleep_segments : polars.DataFrame
        Recorded stages (see :func:`detectors.sleep.detect_sleep_periods`).
    sleep_periods : polars.DataFrame
        ``SLEEP_PERIOD_SCHEMA`` rows (output of ``detect_sleep_periods``); one per night.
    params : CrampParams
        Thresholds and logistic weights.

    Returns
    -------
    polars.DataFrame
        ``EPISODE_SCHEMA`` rows, ``kind="nocturnal_cramp"``, ``local_date`` = ``night_of``,
        confidence >= 0.4 only (label ``likely`` >= 0.7, else ``possible``), sorted by
        participant and start. Empty (same schema) when there is nothing to report.

    Notes
    -----
    Per night, on a 1-min grid over the main sleep period (with 30 min of context each side):

    A. Heart rate: median of the samples in each minute, forward-filled over gaps <= 5 min
       (longer gaps stay missing), then ``scipy.signal.medfilt`` (kernel 3) run on each
       contiguous stretch with edge padding (medfilt's zero padding would bias the ends).
       Local baseline ``b_hr`` = median of the filtered HR over the preceding 30 min of
       asleep, non-candidate minutes (falls back to the night's asleep median when fewer than
       5 such minutes exist); spread ``s_hr = max(median_abs_deviation(scale="normal"), 2)``.
       Activity = active energy per minute, robust z against the night's asleep minutes.
    B. Candidate minutes: recorded ``awake`` stage (staged nights) or, in old-style nights that
       only have ``in_bed``/``asleep``, minutes inside the period not covered by ``asleep``;
       or activity z >= 3; or any steps. ``scipy.ndimage.binary_closing`` (3 samples, on a
       padded array so segments touching the edges are not eroded) merges gaps <= 2 min;
       ``label`` + ``find_objects`` give the segments; 1-30 min segments are scored.
    C. Features (evidence keys): ``hr_rise_bpm`` (dHR = max HR over [t_on, t_off + 3 min]
       minus ``b_hr``; HR values sampled during walking minutes are excluded, because motion
       corrupts PPG and walking explains the rise), ``hr_rise_frac``, ``hr_sustain_min``
       (minutes in [t_off, t_off + 10) at >= b_hr + 5 bpm), abruptness
       (``hr_onset_slope_bpm_min`` between the last raw sample before the peak and the peak;
       ``hr_peak_prominence_bpm`` from ``scipy.signal.find_peaks``), ``act_peak_z``,
       ``steps`` and ``walk``, ``wake_s``, ``wake_after_s``, ``restless_frac``,
       ``hr_missing_frac``.
    D. Confidence: the brief's logistic score (weights grade D; see ``CrampParams``); if
       ``hr_missing_frac > 0.5`` the HR terms are dropped and confidence is capped at 0.5.

    Explicit confounders (each listed in ``confounders_ruled_out`` when checked and absent):

    * ``watch_off``: no raw HR sample inside the segment and HR missing over more than half of
      the window -> suppressed. Gaps with no stage and no HR are never candidates in staged
      nights, so a removed watch is neither sleep nor a cramp.
    * ``rollover_or_phone``: HR available but the rise is below 10 bpm and below 10 %
      (a wake without an HR surge) -> suppressed.
    * ``restless_plm_like``: the segment is made only of short (<= 2 min) wake bouts and
      belongs to >= 4 such bouts within +-30 min (periodic, PLM/RLS-like) -> suppressed.
      A cramp is single and non-periodic (brief 6.1).
    * ``bathroom_trip``: walking (>= 2 min at >= 40 steps/min, or >= 60 steps) is a *soft*
      negative (logit -1.5, HR during walking ignored): people relieving a cramp may also
      walk, so it is listed in ``confounders_present`` rather than vetoed.

    Adaptations to Apple data (grade D): Apple exports no activity counts, so active energy
    per minute stands in for ``act``; Apple has no "restless" stage, so restless density is
    the fraction of wake/candidate minutes; ``wake_after`` (delayed return to sleep) is
    measured inside the segment from the end of the arousal (later of the HR peak and the
    last movement minute) to the end of the wake, because stage-defined segments end exactly
    where wake ends. A cramp that causes the final awakening (segment reaching the period end)
    is not seen. With ~5 min HR sampling, a 3-min median cannot remove a single artefactual
    sample; such a sample only matters when it coincides with a wake segment. Consumer wake
    labels miss many short awakenings (Walch et al. 2019: wake specificity ~60 %), so brief
    cramps may be invisible.

    References
    ----------
    .. [1] crampwatch design brief, sections 6-7 (detectors-science.md).
    .. [2] Hallegraeff J et al. (2017). Criteria in diagnosing nocturnal leg cramps.
       BMC Fam Pract 18:29. doi:10.1186/s12875-017-0600-x
    .. [3] Lavigne G et al. (2001). Heart rate changes during sleep in response to
       experimental thermal (nociceptive) stimulations. Clin Neurophysiol 112:532-535.
    .. [4] Chouchou F et al. (2011). Autonomic pain responses during sleep. Eur J Pain 15:554-560.
    .. [5] Winkelman JW (1999). The evoked heart rate response to periodic leg movements of
       sleep. Sleep 22:575-580.
    .. [6] Walch O et al. (2019). Sleep stage prediction ... consumer wearable. Sleep 42:zsz180.
    """
    cand = score_cramp_candidates(samples, sleep_segments, sleep_periods, params=params)
    cand = cand.filter(pl.col("label").is_not_null())
    if cand.height == 0:
        return pl.DataFrame(schema=EPISODE_SCHEMA)
    ids = [
        episode_id(pid, KIND, start, DETECTOR_VERSION)
        for pid, start in zip(
            cand["participant_id"].to_list(), cand["start_utc"].to_list(), strict=True
        )
    ]
    return (
        cand.with_columns(
            episode_id=pl.Series(ids, dtype=pl.String),
            kind=pl.lit(KIND),
            local_date=pl.col("night_of"),
            detector_version=pl.lit(DETECTOR_VERSION),
        )
        .select(list(EPISODE_SCHEMA))
        .cast(EPISODE_SCHEMA)  # type: ignore[arg-type]
        .sort("participant_id", "start_utc")
    )


def score_cramp_candidates(
    samples: pl.DataFrame,
    sleep_segments: pl.DataFrame,
    sleep_periods: pl.DataFrame,
    *,
    params: CrampParams = CrampParams(),
) -> pl.DataFrame:
    """Every scored candidate segment, including discarded ones (for audit and calibration).

    Same inputs and method as :func:`detect_nocturnal_cramps`. Returns ``CANDIDATE_SCHEMA``:
    ``label`` is null below 0.4, ``suppressed_by`` names the confounder that vetoed a segment.
    """
    smp = prepare(samples, "samples", SAMPLES_SCHEMA)
    seg = prepare(sleep_segments, "sleep_segments", SLEEP_SEGMENTS_SCHEMA)
    per = prepare(
        sleep_periods,
        "sleep_periods",
        {
            k: SLEEP_PERIOD_SCHEMA[k]
            for k in ("participant_id", "night_of", "start_utc", "end_utc", "utc_offset_s")
        },
    )
    if per.height == 0:
        return pl.DataFrame(schema=CANDIDATE_SCHEMA)

    smp = smp.filter(pl.col("metric").is_in(["heart_rate_bpm", "steps", "active_energy_kcal"]))
    has_source = "source" in smp.columns
    smp = smp.select(
        "participant_id",
        "metric",
        s=pl.col("start_utc").dt.epoch("us"),
        e=pl.col("end_utc").dt.epoch("us"),
        v=pl.col("value"),
        src=(pl.col("source").cast(pl.String).fill_null("") if has_source else pl.lit("")),
    ).filter(pl.col("v").is_not_null() & pl.col("v").is_finite())
    seg = seg.select(
        "participant_id",
        "stage",
        s=pl.col("start_utc").dt.epoch("us"),
        e=pl.col("end_utc").dt.epoch("us"),
    ).filter(pl.col("e") > pl.col("s"))

    smp_by = {k[0]: v for k, v in smp.partition_by("participant_id", as_dict=True).items()}
    seg_by = {k[0]: v for k, v in seg.partition_by("participant_id", as_dict=True).items()}

    rows: list[dict] = []
    night_hr: list[np.ndarray] = []  # asleep HR per night, for one batched MAD call
    per = per.sort("participant_id", "start_utc")
    for (pid,), nights in per.partition_by(
        "participant_id", as_dict=True, maintain_order=True
    ).items():
        data = _ParticipantData.build(smp_by.get(pid), seg_by.get(pid))
        for night, ps, pe in zip(
            nights["night_of"].to_list(),
            nights["start_utc"].dt.epoch("us").to_list(),
            nights["end_utc"].dt.epoch("us").to_list(),
            strict=True,
        ):
            cands, sleep_hr = _score_night(data, int(ps), int(pe), params)
            for cand in cands:
                cand["participant_id"] = pid
                cand["night_of"] = night
                cand["night_idx"] = len(night_hr)
                rows.append(cand)
            night_hr.append(sleep_hr if cands else np.zeros(0))
    if not rows:
        return pl.DataFrame(schema=CANDIDATE_SCHEMA)
    spread = _robust_spreads(night_hr, params.hr_spread_floor_bpm)
    for r in rows:
        r["evidence"]["hr_spread_bpm"] = _r(spread[r["night_idx"]])
        r["evidence"] = json.dumps(r["evidence"])
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


# ----------------------------------------------------------------------------------------
# per-participant arrays


@dataclass
class _Intervals:
    s: np.ndarray  # int64 us, sorted
    e: np.ndarray
    v: np.ndarray
    src: np.ndarray  # int codes
    emax: np.ndarray  # running max of e (for window look-ups)

    @classmethod
    def from_frame(cls, df: pl.DataFrame | None) -> _Intervals:
        if df is None or df.height == 0:
            z = np.zeros(0, dtype=np.int64)
            return cls(z, z, np.zeros(0), z, z)
        df = df.sort("s", "e")
        s = df["s"].to_numpy().astype(np.int64)
        e = np.maximum(df["e"].to_numpy().astype(np.int64), s)
        src = df["src"].rank("dense").fill_null(0).to_numpy().astype(np.int64)
        return cls(s, e, df["v"].to_numpy().astype(float), src, np.maximum.accumulate(e))

    def window(self, lo: int, hi: int) -> np.ndarray:
        """Indices of intervals overlapping [lo, hi) (point samples at lo..hi included)."""
        if self.s.size == 0:
            return np.zeros(0, dtype=np.int64)
        i0 = int(np.searchsorted(self.emax, lo, side="left"))
        i1 = int(np.searchsorted(self.s, hi, side="left"))
        idx = np.arange(i0, max(i0, i1))
        keep = (self.e[idx] > lo) | ((self.e[idx] == self.s[idx]) & (self.s[idx] >= lo))
        return idx[keep]


@dataclass
class _ParticipantData:
    hr_t: np.ndarray
    hr_v: np.ndarray
    steps: _Intervals
    act: _Intervals
    asleep: _Intervals
    awake: _Intervals
    staged_t: np.ndarray  # starts of stage-only segments (awake/light/deep/rem), sorted

    @classmethod
    def build(cls, smp: pl.DataFrame | None, seg: pl.DataFrame | None) -> _ParticipantData:
        def metric(name: str) -> pl.DataFrame | None:
            return None if smp is None else smp.filter(pl.col("metric") == name)

        hr = metric("heart_rate_bpm")
        if hr is None or hr.height == 0:
            hr_t, hr_v = np.zeros(0, dtype=np.int64), np.zeros(0)
        else:
            hr = hr.filter(pl.col("v") > 0).sort("s")
            hr_t, hr_v = hr["s"].to_numpy().astype(np.int64), hr["v"].to_numpy().astype(float)

        def stages(names: tuple[str, ...]) -> pl.DataFrame | None:
            if seg is None:
                return None
            return seg.filter(pl.col("stage").is_in(names)).with_columns(
                v=pl.lit(1.0), src=pl.lit("")
            )

        staged = None if seg is None else seg.filter(pl.col("stage").is_in(STAGED_STAGES))
        staged_t = (
            np.zeros(0, dtype=np.int64)
            if staged is None or staged.height == 0
            else np.sort(staged["s"].to_numpy().astype(np.int64))
        )
        return cls(
            hr_t=hr_t,
            hr_v=hr_v,
            steps=_Intervals.from_frame(metric("steps")),
            act=_Intervals.from_frame(metric("active_energy_kcal")),
            asleep=_Intervals.from_frame(stages(ASLEEP_STAGES)),
            awake=_Intervals.from_frame(stages(("awake",))),
            staged_t=staged_t,
        )


# ----------------------------------------------------------------------------------------
# grid helpers (pure numpy)


def _merge(s: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Union of intervals as sorted, disjoint (start, end) arrays."""
    keep = e > s
    s, e = s[keep], e[keep]
    if s.size == 0:
        return s, e
    order = np.argsort(s, kind="stable")
    s, e = s[order], e[order]
    cm = np.maximum.accumulate(e)
    new = np.ones(s.size, dtype=bool)
    new[1:] = s[1:] > cm[:-1]
    idx = np.flatnonzero(new)
    return s[idx], np.maximum.reduceat(e, idx)


def _coverage_s(iv: _Intervals, edges: np.ndarray) -> np.ndarray:
    """Seconds of each grid cell covered by the union of the intervals."""
    idx = iv.window(int(edges[0]), int(edges[-1]))
    ms, me = _merge(iv.s[idx], iv.e[idx])
    if ms.size == 0:
        return np.zeros(edges.size - 1)
    knots = np.column_stack([ms, me]).ravel().astype(float)
    lengths = (me - ms).astype(float)
    cum_end = np.cumsum(lengths)
    values = np.column_stack([cum_end - lengths, cum_end]).ravel()
    cum = np.interp(edges.astype(float), knots, values, left=0.0, right=float(cum_end[-1]))
    return np.diff(cum) / _US


def _amount_per_cell(iv: _Intervals, edges: np.ndarray) -> tuple[np.ndarray, bool]:
    """Amount (steps, kcal) per grid cell; intervals spread uniformly over their span.

    Sources are combined by the per-cell maximum (duplicate devices), a single source sums.
    Returns the per-cell amounts and whether any interval touched the window.
    """
    n = edges.size - 1
    idx = iv.window(int(edges[0]), int(edges[-1]))
    if idx.size == 0:
        return np.zeros(n), False
    out = np.zeros(n)
    for code in np.unique(iv.src[idx]):
        j = idx[iv.src[idx] == code]
        s, e, v = iv.s[j], iv.e[j], iv.v[j]
        amt = np.zeros(n)
        point = e == s
        if point.any():
            cell = (s[point] - edges[0]) // (edges[1] - edges[0])
            ok = (cell >= 0) & (cell < n)
            np.add.at(amt, cell[ok], v[point][ok])
        span = ~point
        if span.any():
            s2, e2, v2 = s[span], e[span], v[span]
            rate = v2 / (e2 - s2)
            t = np.concatenate([s2, e2]).astype(float)
            d = np.concatenate([rate, -rate])
            order = np.argsort(t, kind="stable")
            t, d = t[order], d[order]
            slope = np.cumsum(d)
            cum = np.concatenate([[0.0], np.cumsum(slope[:-1] * np.diff(t))])
            a = np.interp(edges.astype(float), t, cum, left=0.0, right=float(cum[-1]))
            amt += np.diff(a)
        out = np.maximum(out, amt)
    return out, True


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start, stop) indices of the True runs of a boolean array."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


def _medfilt_runs(x: np.ndarray, kernel: int) -> np.ndarray:
    """``scipy.signal.medfilt`` on each finite stretch, edge-padded (NaN stays NaN)."""
    out = np.full_like(x, np.nan)
    pad = kernel // 2
    for a, b in zip(*_runs(np.isfinite(x)), strict=True):
        run = np.pad(x[a:b], pad, mode="edge")
        out[a:b] = signal.medfilt(run, kernel)[pad : pad + (b - a)]
    return out


def _robust_spread(x: np.ndarray, floor: float) -> float:
    x = x[np.isfinite(x)]
    if x.size < 2:
        return floor
    return max(float(stats.median_abs_deviation(x, scale="normal")), floor)


def _robust_spreads(arrays: list[np.ndarray], floor: float) -> np.ndarray:
    """``max(MAD_normal, floor)`` of many ragged arrays in one scipy call (NaN-padded)."""
    width = max((a.size for a in arrays), default=0)
    if width < 2:
        return np.full(len(arrays), floor)
    m = np.full((len(arrays), width), np.nan)
    for i, a in enumerate(arrays):
        m[i, : a.size] = a
    with np.errstate(all="ignore"):
        mad = stats.median_abs_deviation(m, axis=1, scale="normal", nan_policy="omit")
    n = np.array([a.size for a in arrays])
    mad = np.where((n >= 2) & np.isfinite(mad), mad, floor)
    return np.maximum(mad, floor)


# ----------------------------------------------------------------------------------------
# one night


def _score_night(
    data: _ParticipantData, ps: int, pe: int, p: CrampParams
) -> tuple[list[dict], np.ndarray]:
    step = p.grid_s * _US
    pad = 30 * _MIN_US
    g0 = (ps // step) * step - pad
    g1 = -(-pe // step) * step + pad
    n = int((g1 - g0) // step)
    edges = g0 + step * np.arange(n + 1, dtype=np.int64)
    cell_start = edges[:-1]
    in_period = (cell_start + step > ps) & (cell_start < pe)

    # stages
    asleep_cov = _coverage_s(data.asleep, edges)
    awake_cov = _coverage_s(data.awake, edges)
    i0, i1 = np.searchsorted(data.staged_t, [ps, pe])
    staged_night = bool(i1 > i0)
    half = p.stage_min_cover_s
    if staged_night:
        wake = in_period & (awake_cov >= half)
    else:  # old-style export: awakenings are the gaps between asleep segments
        wake = in_period & (asleep_cov < half)
    asleep = in_period & (asleep_cov >= half) & ~wake

    # heart rate: per-minute median, forward fill <= 5 min, medfilt(3)
    j0, j1 = np.searchsorted(data.hr_t, [g0, g1])
    hr_t, hr_v = data.hr_t[j0:j1], data.hr_v[j0:j1]
    hr_raw = np.full(n, np.nan)
    if hr_t.size:
        cell = ((hr_t - g0) // step).astype(np.int64)
        uniq, first, counts = np.unique(cell, return_index=True, return_counts=True)
        hr_raw[uniq] = hr_v[first]
        for u, f, c in zip(uniq[counts > 1], first[counts > 1], counts[counts > 1], strict=True):
            hr_raw[u] = float(np.median(hr_v[f : f + c]))
    has_raw = np.isfinite(hr_raw)
    last = np.maximum.accumulate(np.where(has_raw, np.arange(n), -1))
    ffill_cells = p.hr_ffill_max_s // p.grid_s
    ok = (last >= 0) & (np.arange(n) - last <= ffill_cells)
    src = np.where(ok, last, -1)
    hr_ff = np.where(ok, hr_raw[np.maximum(last, 0)], np.nan)
    hr_s = _medfilt_runs(hr_ff, p.hr_medfilt_samples)

    # steps and activity
    steps, has_steps = _amount_per_cell(data.steps, edges)
    act, has_act = _amount_per_cell(data.act, edges)
    act_z = np.full(n, np.nan)
    if has_act:
        ref = act[asleep] if asleep.any() else act[in_period]
        med_act = float(np.median(ref)) if ref.size else 0.0
        s_act = _robust_spread(ref, p.act_spread_floor_kcal_min)
        act_z = (act - med_act) / s_act
    walking_cell = steps >= p.walk_cadence_steps_min

    raw_mask = in_period & (wake | (np.nan_to_num(act_z, nan=-np.inf) >= p.act_z_min) | (steps > 0))
    k = max(1, p.closing_s // p.grid_s)
    padded = np.pad(raw_mask, k)
    closed = ndimage.binary_closing(padded, structure=np.ones(k, dtype=bool))[k : k + n] & in_period

    # night-level HR baseline and spread over asleep, non-candidate minutes
    sleep_hr = hr_s[asleep & ~closed]
    sleep_hr = sleep_hr[np.isfinite(sleep_hr)]
    night_med = float(np.median(sleep_hr)) if sleep_hr.size else math.nan

    bout_on, bout_off = _runs(raw_mask)
    bout_len_s = (bout_off - bout_on) * p.grid_s

    labels, _ = ndimage.label(closed)
    out: list[dict] = []
    for sl in ndimage.find_objects(labels):
        if sl is None:
            continue
        t_on, t_off = sl[0].start, sl[0].stop
        dur_s = (t_off - t_on) * p.grid_s
        if dur_s < p.min_segment_s or dur_s > p.max_segment_s:
            continue
        out.append(
            _score_segment(
                p,
                t_on,
                t_off,
                g0,
                step,
                n,
                hr_s,
                has_raw,
                src,
                asleep,
                closed,
                raw_mask,
                in_period,
                steps,
                has_steps,
                act_z,
                has_act,
                walking_cell,
                night_med,
                bout_on,
                bout_len_s,
                staged_night,
                hr_raw,
            )
        )
    return out, sleep_hr


def _score_segment(
    p: CrampParams,
    t_on: int,
    t_off: int,
    g0: int,
    step: int,
    n: int,
    hr_s: np.ndarray,
    has_raw: np.ndarray,
    src: np.ndarray,
    asleep: np.ndarray,
    closed: np.ndarray,
    raw_mask: np.ndarray,
    in_period: np.ndarray,
    steps: np.ndarray,
    has_steps: bool,
    act_z: np.ndarray,
    has_act: bool,
    walking_cell: np.ndarray,
    night_med: float,
    bout_on: np.ndarray,
    bout_len_s: np.ndarray,
    staged_night: bool,
    hr_raw: np.ndarray,
) -> dict:
    cells = lambda sec: int(sec // p.grid_s)  # noqa: E731
    dur_min = (t_off - t_on) * p.grid_s / 60.0

    # --- baseline at onset: preceding 30 min of asleep, non-candidate minutes
    b0 = max(0, t_on - cells(p.baseline_window_s))
    pre = hr_s[b0:t_on][(asleep & ~closed)[b0:t_on]]
    pre = pre[np.isfinite(pre)]
    if pre.size >= cells(p.baseline_min_s):
        b_hr = float(np.median(pre))
    else:
        b_hr = night_med

    # --- HR missing and watch-off
    m0, m1 = (
        max(0, t_on - cells(p.hr_missing_before_s)),
        min(n, t_off + cells(p.hr_missing_after_s)),
    )
    hr_missing_frac = float(np.mean(~np.isfinite(hr_s[m0:m1])))
    raw_in_segment = bool(has_raw[t_on:t_off].any())

    # --- dHR: max over [t_on, t_off + 3), ignoring HR sampled during walking minutes
    w1 = min(n, t_off + cells(p.hr_peak_after_s))
    win = hr_s[t_on:w1].copy()
    win_src = src[t_on:w1]
    walk_sourced = np.where(win_src >= 0, walking_cell[np.maximum(win_src, 0)], False)
    win[walk_sourced] = np.nan
    dhr = math.nan
    peak_idx = None
    if math.isfinite(b_hr) and np.isfinite(win).any():
        rel = int(np.nanargmax(win))
        peak_idx = t_on + rel
        dhr = float(win[rel] - b_hr)

    # HR terms are used only with enough HR, a baseline and a rise measured at rest
    hr_usable = hr_missing_frac <= p.hr_missing_max_frac and math.isfinite(dhr)

    # --- sustained elevation after the segment
    s1 = min(n, t_off + cells(p.sustain_window_s))
    post = hr_s[t_off:s1]
    hr_sustain_min = (
        float(np.sum(np.isfinite(post) & (post - b_hr >= p.sustain_delta_bpm))) * p.grid_s / 60.0
        if math.isfinite(b_hr)
        else math.nan
    )

    # --- abruptness: slope from the last raw sample before the peak to the peak's sample
    slope = math.nan
    prominence = math.nan
    if peak_idx is not None:
        peak_src = int(src[peak_idx])
        prev_raw = np.flatnonzero(has_raw[:peak_src])
        if prev_raw.size and peak_src > prev_raw[-1]:
            slope = float(
                (hr_raw[peak_src] - hr_raw[prev_raw[-1]])
                / ((peak_src - prev_raw[-1]) * p.grid_s / 60.0)
            )
        lo = max(0, t_on - cells(p.sustain_window_s))
        x = np.nan_to_num(hr_s[lo:s1] - b_hr, nan=0.0)
        pk, props = signal.find_peaks(x, prominence=0.0, width=1)
        near = (pk + lo >= t_on) & (pk + lo < w1)
        if near.any():
            prominence = float(np.max(props["prominences"][near]))

    # --- movement
    seg_steps = steps[t_on:t_off]
    steps_tot = float(seg_steps.sum()) if has_steps else math.nan
    walk_run = 0
    for a, b in zip(*_runs(walking_cell[t_on:t_off]), strict=True):
        walk_run = max(walk_run, b - a)
    walk = bool(
        has_steps and (walk_run * p.grid_s >= p.walk_min_s or steps_tot >= p.walk_total_steps)
    )
    act_peak = float(np.nanmax(act_z[t_on:t_off])) if has_act else math.nan
    moving = np.flatnonzero(
        (seg_steps > 0) | (np.nan_to_num(act_z[t_on:t_off], nan=-np.inf) >= p.act_z_min)
    )
    arousal_end = t_on
    if moving.size:
        arousal_end = max(arousal_end, t_on + int(moving[-1]))
    if peak_idx is not None and hr_usable:
        arousal_end = max(arousal_end, min(peak_idx, t_off - 1))
    wake_after_min = max(0.0, (t_off - arousal_end - 1) * p.grid_s / 60.0)

    # --- background restlessness and PLM-like periodicity
    r0, r1 = max(0, t_on - cells(p.restless_window_s)), min(n, t_off + cells(p.restless_window_s))
    around = in_period[r0:r1].copy()
    around[t_on - r0 : t_off - r0] = False
    restless_frac = float(raw_mask[r0:r1][around].mean()) if around.any() else 0.0
    in_win = (bout_on >= r0) & (bout_on < r1)
    short = bout_len_s <= p.plm_short_bout_max_s
    n_short = int(np.sum(in_win & short))
    in_seg = (bout_on >= t_on) & (bout_on < t_off)
    seg_longest_s = int(bout_len_s[in_seg].max()) if in_seg.any() else 0

    # --- confounders
    suppressed_by = None
    present: list[str] = []
    if not raw_in_segment and hr_missing_frac > p.hr_missing_max_frac:
        suppressed_by = "watch_off"
    elif n_short >= p.plm_min_bouts and seg_longest_s <= p.plm_short_bout_max_s:
        suppressed_by = "restless_plm_like"
    elif hr_usable and dhr < p.hr_rise_min_bpm and dhr / b_hr < p.hr_rise_min_frac:
        suppressed_by = "rollover_or_phone"
    if walk:
        present.append("bathroom_trip")

    # --- Step D
    terms: dict[str, float] = {"intercept": p.w_intercept}
    if hr_usable:
        terms["hr_rise"] = p.w_hr_rise * min(max(dhr, 0.0) / p.hr_rise_scale_bpm, p.term_cap)
        terms["hr_sustain"] = p.w_hr_sustain * min(
            hr_sustain_min / p.hr_sustain_scale_min, p.term_cap
        )
    if has_act and math.isfinite(act_peak):
        terms["act_peak"] = p.w_act_peak * min(max(act_peak, 0.0) / p.act_peak_scale, p.term_cap)
    terms["duration"] = p.w_duration * math.log1p(dur_min)
    if has_steps and 0 < steps_tot <= p.few_steps_max:
        terms["few_steps"] = p.w_few_steps
    if walk:
        terms["walk"] = p.w_walk
    terms["restless"] = p.w_restless * restless_frac
    terms["wake_after"] = p.w_wake_after * math.log1p(wake_after_min)
    logit = sum(terms.values())
    confidence = 1.0 / (1.0 + math.exp(-logit))
    caps: list[str] = []
    if not hr_usable:  # HR missing, no baseline, or HR only while walking: HR terms dropped
        confidence = min(confidence, p.hr_missing_confidence_cap)
        caps.append("hr_missing")
    if suppressed_by is not None:
        confidence = 0.0
    label = label_for(confidence)

    ruled_out = [c for c in CONFOUNDERS if c != suppressed_by and c not in present]
    evidence = {
        "method": "brief7.1_minute_export",
        "params": p.name,
        "night_staged": staged_night,
        "hr_rise_bpm": _r(dhr),
        "hr_rise_frac": _r(dhr / b_hr if math.isfinite(dhr) and b_hr else math.nan, 3),
        "hr_baseline_bpm": _r(b_hr),
        "hr_spread_bpm": None,  # filled in by the caller (batched MAD over the night)
        "hr_sustain_min": _r(hr_sustain_min),
        "hr_onset_slope_bpm_min": _r(slope),
        "hr_peak_prominence_bpm": _r(prominence),
        "hr_missing_frac": _r(hr_missing_frac, 3),
        "act_peak_z": _r(act_peak),
        "steps": _r(steps_tot, 1),
        "walk": walk,
        "wake_s": _r(dur_min * 60.0, 0),
        "wake_after_s": _r(wake_after_min * 60.0, 0),
        "restless_frac": _r(restless_frac, 3),
        "short_wake_bouts_count": n_short,
        "logit": _r(logit, 3),
        "logit_terms": {k: _r(v, 3) for k, v in terms.items()},
        "confidence_caps": caps,
        "confounders_ruled_out": ruled_out,
        "confounders_present": present,
        "suppressed_by": suppressed_by,
    }
    return {
        "start_us": int(g0 + t_on * step),
        "end_us": int(g0 + t_off * step),
        "confidence": round(confidence, 4),
        "label": label,
        "suppressed_by": suppressed_by,
        "evidence": evidence,
    }


def _r(x: float, nd: int = 2) -> float | None:
    """Round for evidence; NaN/inf become JSON null (missing is null, never zero)."""
    if x is None or not math.isfinite(x):
        return None
    return round(float(x), nd)


def params_table(params: CrampParams = CrampParams()) -> list[tuple[str, object]]:
    """``(field, value)`` pairs of a parameter set (for docs and the dashboard)."""
    return list(asdict(params).items())
