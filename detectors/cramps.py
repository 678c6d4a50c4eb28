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

import functools
import hashlib
import json
import math
import warnings
from dataclasses import asdict, dataclass

import numpy as np
import polars as pl
from scipy import ndimage, signal, stats

from detectors import cramp_model
from detectors.actigraphy import cell_medians, keep_finest_resolution
from detectors.frames import SAMPLES_SCHEMA, SLEEP_SEGMENTS_SCHEMA, prepare
from detectors.nights import from_epoch_us
from detectors.schema import EPISODE_SCHEMA, SLEEP_PERIOD_SCHEMA, UTC_DT, episode_id, label_for
from detectors.sleep import ASLEEP_STAGES, STAGED_STAGES

DETECTOR_VERSION = "cramp-0.4"
KIND = "nocturnal_cramp"

#: the brief's Step D intercept (7.1, grade D): origin of ``CrampParams.w_intercept``
_BRIEF_INTERCEPT = -4.0

_US = 1_000_000
_MIN_US = 60 * _US

#: confounders every candidate is checked against (names used in ``evidence``)
CONFOUNDERS: tuple[str, ...] = (
    "watch_off",
    "final_awakening",
    "rollover_or_phone",
    "restless_plm_like",
    "bathroom_trip",
    "movement_only_hr",
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
    name: str = "cramp-brief-7.1-v3"

    # --- grid and heart-rate pre-processing (brief 7.1 "Inputs" and Step A) ---
    grid_s: int = 60  # [crampwatch_brief] 7.1: signals resampled to a 1-min grid
    hr_ffill_max_s: int = 300  # [crampwatch_brief] 7.1: "gaps of <= 5 min are forward-filled"
    hr_medfilt_samples: int = 3  # [crampwatch_brief] 7.1 Step A: medfilt(hr, 3) vs PPG artefacts
    #: [crampwatch_brief] 7.1 Step A grade D adaptation: Apple samples HR every ~5 min, where a
    #: 3-minute median cannot remove one artefactual sample; the 3-point median is therefore
    #: also run over consecutive samples closer than this gap (brief: "removes single-sample
    #: PPG artefacts"), before they are placed on the grid
    hr_sample_medfilt_max_gap_s: int = 600
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

    # --- fine heart rate (seconds exports, e.g. Fitbit 1-15 s): brief 7.2 sustained-rise rule ---
    #: [crampwatch_brief] grade D: a night whose HR samples are at most this far apart
    #: (median spacing) takes the fine path; Apple's ~5-min sampling never does
    hr_fine_max_spacing_s: int = 30
    hr_fine_grid_s: int = 5  # [crampwatch_brief] grade D: 5-s cells (median of the samples)
    hr_fine_ffill_s: int = 30  # [crampwatch_brief] grade D: forward fill fine gaps <= 30 s
    #: [crampwatch_brief] 7.1 Step A medfilt(3), applied to 5-s cells (single PPG artefacts)
    hr_fine_medfilt_cells: int = 3
    #: [crampwatch_brief] 7.2: the rise (>= 10 bpm or >= 10 %) happens within 30 s ...
    hr_abrupt_window_s: int = 30
    #: [crampwatch_brief] 7.2: ... and is sustained >= 60 s; [chouchou2011] brief nociceptive
    #: responses recover within ~7 beats, [winkelman1999] PLM-related rises last ~10 beats
    hr_sustained_min_s: int = 60
    #: [crampwatch_brief] grade D: the abrupt rise is searched from 1 min before the segment
    hr_onset_search_before_s: int = 60
    #: [cole1999] HR is still elevated in the first minutes after exercise: fine HR during
    #: walking minutes and the 2 min after them is not read as a surge (grade D duration)
    walk_hr_recovery_s: int = 120
    #: [crampwatch_brief] grade D: a segment ending within 5 min of the sleep period's end is
    #: the final awakening (getting up raises HR and is followed by steps); a cramp that
    #: causes the final awakening cannot be told apart from it and is not reported
    final_wake_guard_s: int = 300

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
    #: [crampwatch_brief] 7.2 "negatives for ... long walk"; 6.3 bathroom trips take 60-150
    #: steps: grade D, a walk of >= 100 steps is a bathroom trip / getting up (vetoed); shorter
    #: walks stay a soft negative (cramp relief may take a few steps)
    walk_veto_steps: float = 100.0
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
    #: [leys2013] grade D: the rise must also exceed 3 robust SDs (s_hr, Step A) of the night's
    #: asleep HR, so the maximum of a few noisy 5-min samples is not read as a surge
    hr_rise_min_spread: float = 3.0
    #: [aasm_scoring] PLM = >= 4 consecutive movements (also [ferri2016]); restated for
    #: minute-level wake bouts: >= 4 short bouts within +-30 min (grade D adaptation)
    plm_min_bouts: int = 4
    plm_short_bout_max_s: int = 120  # [crampwatch_brief] grade D: "short" wake bout <= 2 min
    #: [crampwatch_brief] 7.1 Step D: if hr_missing > 0.5 drop HR terms and cap confidence at 0.5
    hr_missing_max_frac: float = 0.5
    hr_missing_confidence_cap: float = 0.5  # [crampwatch_brief] 7.1 Step D
    #: watch-off edge (issue 4, real Fitabase nights: HR resuming at 96-101 bpm after a
    #: 14-min gap, back to 55 within 2 min): [crampwatch_brief] 7.1 forward-fills HR gaps of
    #: <= 5 min only, so after a longer gap there is no measured level to rise from; grade D:
    #: an HR peak within this many seconds of the first sample after such a gap is the sensor
    #: re-acquiring (watch put back on / contact regained), not a surge -> ``watch_off``.
    #: 0 switches the rule off
    hr_gap_edge_s: int = 120
    #: movement-only HR (issue 4, real Fitabase nights: 5 of 14 detections were 2-4 min of
    #: steps with HR +30-50 bpm that was back at baseline in the minute after the steps):
    #: [crampwatch_brief] 7.1 Step A "motion corrupts PPG, trust post-movement HR more than HR
    #: during movement"; 6.1 a cramp's HR elevation is sustained; 6.3 a rollover returns to
    #: sleep within 1-2 min. Seconds-HR nights only (5-min HR cannot see the minute after):
    #: if HR in the minute after the segment's last movement minute is below baseline +
    #: ``sustain_delta_bpm`` (brief 7.1 Step C's "still elevated" margin), the rise was the
    #: movement's -> ``movement_only_hr``. False switches the rule off
    post_move_hr_check: bool = True
    #: bathroom trip split by an unstaged gap (issue 4, real Fitabase night: a 2-min surge
    #: with 17 steps, then 149 steps 4-10 min later): [crampwatch_brief] 6.3 a bathroom trip is
    #: a 3-15 min wake bout containing the walk, so a walk of >= ``walk_veto_steps`` steps
    #: starting within this many seconds after the segment makes it the trip's getting-up
    #: (grade D) -> ``bathroom_trip``. 0 switches the rule off
    bathroom_follow_s: int = 600
    #: movement channel missing (issue 4, real Fitabase night: an episode 1 h 44 min before
    #: the export's minute step / intensity files begin, HR only, in an hour the hourly file
    #: gives 1077 steps): [crampwatch_brief] 7.1 Step D drops the HR terms and caps
    #: confidence when HR is missing; the symmetric case (grade D): the movement channel
    #: (steps, active energy, intensity level, METs, Garmin intensity, each at the finest
    #: resolution the participant has; absent, not zero) exists at a segment only if it has a
    #: sample within this many seconds *before* and one within this many seconds *after* it
    #: (a sample during the segment counts for both). Otherwise the channel has not started
    #: yet / has ended, the movement terms (steps, walk, activity) cannot be evaluated, and
    #: confidence is capped at ``movement_missing_confidence_cap``. A night without steps
    #: but with steps the evening before and the morning after (Apple writes sparse step
    #: samples) is not missing. 0 switches the rule off
    movement_channel_window_s: int = 43200
    #: [crampwatch_brief] grade D: below the 0.4 "possible" threshold of
    #: ``detectors.schema.label_for`` (kept for audit in ``score_cramp_candidates``)
    movement_missing_confidence_cap: float = 0.35

    # --- confidence scorer ---
    #: ``"model"``: the logistic model refit on simulator families' development seeds
    #: (``detectors/cramp_model.py``, ``cramp_model.json``; brief 7.1 Step D: "to be refit by
    #: logistic regression once labels exist"); the physiological rules below (bathroom
    #: trip, PLM-like, movement-only HR, no surge) enter it as features instead of vetoes,
    #: only ``watch_off`` and ``final_awakening`` (data quality) still veto.
    #: ``"brief"``: the brief's grade-D starting weights below with every rule a veto
    #: (cramp-0.3 behaviour)
    scorer: str = "model"  # [crampwatch_brief] 7.1 Step D: weights refit once labels exist

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
        both count the same steps); otherwise they are summed. ``intensity_level``, ``met``
        and ``activity_intensity`` are read only for whether the movement channel exists
        around a segment (their times, not their values). Other metrics are ignored.
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

    A. Heart rate: median of the samples in each minute; ``scipy.signal.medfilt`` (kernel 3)
       over consecutive *samples* (Apple samples every ~5 min, where a 3-minute median could
       not remove a single artefactual sample); forward fill over gaps <= 5 min (longer gaps
       stay missing); then medfilt (kernel 3) on each contiguous stretch of the minute grid,
       as the brief specifies, with edge padding (medfilt's zero padding biases the ends).
       Local baseline ``b_hr`` = median of the filtered HR over the preceding 30 min of
       asleep, non-candidate minutes (falls back to the night's asleep median when fewer than
       5 such minutes exist); spread ``s_hr = max(median_abs_deviation(scale="normal"), 2)``
       over the night's asleep minutes (one batched ``scipy.stats.median_abs_deviation`` call
       for all nights). Activity = active energy per minute, robust z (same MAD formula)
       against the night's asleep minutes.
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
       ``hr_missing_frac > 0.5`` (or no HR at rest) the HR terms are dropped and confidence is
       capped at 0.5. When walking fired, the activity term is dropped too: walking explains
       the active energy (Apple's active energy rises 15-20 robust SDs while walking, which
       would otherwise cancel the walk penalty the brief relies on for bathroom trips).
       If the movement channel (steps, active energy, intensity level, METs, Garmin
       intensity; finest resolution per metric) has no sample within 12 h before or none
       within 12 h after the segment, the movement terms cannot be evaluated and confidence
       is capped at 0.35, below "possible" (cramp-0.3, grade D; evidence
       ``movement_channel_missing``).

    Explicit confounders (each listed in ``confounders_ruled_out`` when checked and absent):

    * ``watch_off``: no raw HR sample inside the segment and HR missing over more than half of
      the window -> suppressed. Gaps with no stage and no HR are never candidates in staged
      nights, so a removed watch is neither sleep nor a cramp.
    * ``rollover_or_phone``: HR available but no surge: the rise is below 10 bpm and below
      10 % of baseline (brief 7.2), or below 3 x ``s_hr`` (grade D: the maximum of a few noisy
      samples over a long phone-reading wake is not a surge) -> suppressed.
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
    is not seen. A surge seen in a single 5-min sample between two normal ones is treated as an
    artefact (the brief's discriminator is a *sustained* rise). Consumer wake
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
    smp = all_samples = prepare(samples, "samples", SAMPLES_SCHEMA)
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

    smp = keep_finest_resolution(
        smp.with_columns(_metric=_metric_code()).filter(pl.col("_metric") < len(_USED_METRICS))
    )
    has_source = "source" in smp.columns
    smp = smp.select(
        "participant_id",
        "metric",
        "_metric",
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

    smp_by = _split_by_participant(smp)
    seg_by = {k[0]: v for k, v in seg.partition_by("participant_id", as_dict=True).items()}

    # phase 1: per-night grids and candidate segments; phase 2: one batched MAD call for the
    # nights' HR spreads (scipy's per-call overhead would dominate otherwise), then scoring
    prepared: list[tuple[str, object, _Night]] = []
    per = per.sort("participant_id", "start_utc")
    for (pid,), nights in per.partition_by(
        "participant_id", as_dict=True, maintain_order=True
    ).items():
        data = _ParticipantData.build(smp_by.get(pid), seg_by.get(pid))
        ps_all = nights["start_utc"].dt.epoch("us").to_numpy().astype(np.int64)
        pe_all = nights["end_utc"].dt.epoch("us").to_numpy().astype(np.int64)
        # 32 nights per pass: whole-year grids would leave the CPU caches (slower)
        ctxs = [
            ctx
            for k in range(0, ps_all.size, _PRE_NIGHTS)
            for ctx in _prepare_chunk(
                data, ps_all[k : k + _PRE_NIGHTS], pe_all[k : k + _PRE_NIGHTS], params
            )
        ]
        for night, ctx in zip(nights["night_of"].to_list(), ctxs, strict=True):
            if ctx.segments:
                prepared.append((pid, night, ctx))
    if not prepared:
        return pl.DataFrame(schema=CANDIDATE_SCHEMA)
    # s_hr per night: scipy's median_abs_deviation(scale="normal") (= _robust_spreads),
    # computed per night group without scipy's per-row overhead
    sleep_hr = [ctx.sleep_hr for _, _, ctx in prepared]
    spreads = _seg_scipy_spread(
        np.concatenate(sleep_hr),
        np.repeat(np.arange(len(sleep_hr)), [a.size for a in sleep_hr]),
        len(sleep_hr),
        params.hr_spread_floor_bpm,
    )
    _check_other_movement(all_samples, prepared, params)
    rows: list[dict] = []
    for (pid, night, ctx), s_hr in zip(prepared, spreads, strict=True):
        seen = ctx.movement_seen
        missing = [None] * len(ctx.segments) if seen is None else [x != 3 for x in seen]
        for (t_on, t_off), move_missing in zip(ctx.segments, missing, strict=True):
            cand = _score_segment(ctx, t_on, t_off, float(s_hr), params, move_missing)
            cand["participant_id"] = pid
            cand["night_of"] = night
            rows.append(cand)
    if params.scorer == "model":
        _finish_model_scores(rows, params)
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
class _SampleArrays:
    """One participant's samples as numpy columns (metric and source as integer codes)."""

    metric: np.ndarray
    s: np.ndarray
    e: np.ndarray
    v: np.ndarray
    src: np.ndarray
    metric_codes: dict[str, int]


#: the sample metrics the detector reads, in the order of their integer codes
_USED_METRICS: tuple[str, ...] = ("heart_rate_bpm", "steps", "active_energy_kcal")
#: movement-channel metrics read only for their existence (cramp-0.3 rule), and only for
#: segments with no steps or active energy within the window (few: one extra filter then)
_OTHER_MOVEMENT_METRICS: tuple[str, ...] = (
    "intensity_level",  # Fitbit activity level (minute rows; 0 = sedentary is still present)
    "met",
    "activity_intensity",  # Garmin monitoring intensity
)


def _metric_code() -> pl.Expr:
    """Code of ``metric`` in :data:`_USED_METRICS` (``len(_USED_METRICS)`` for any other)."""
    expr = pl.lit(len(_USED_METRICS), dtype=pl.Int64)
    for code in range(len(_USED_METRICS) - 1, -1, -1):
        expr = (
            pl.when(pl.col("metric") == _USED_METRICS[code])
            .then(pl.lit(code, dtype=pl.Int64))
            .otherwise(expr)
        )
    return expr


def _split_by_participant(smp: pl.DataFrame) -> dict[str, _SampleArrays]:
    """Samples per participant as numpy arrays: one pass instead of a partition and a
    filter + sort per metric (the polars copies of the string columns dominated).

    Rows of one participant usually come together (exports, the pipeline's queries): then
    the participants are the runs of equal ids (``rle_id``, one comparison per row) and no
    sort is needed; metric codes come from comparisons with the three metrics used, and a
    single ``src`` everywhere gets one code. Otherwise the columns are categorical-coded and
    the rows stably sorted by participant (same arrays in the same order)."""
    if smp.height == 0:
        return {}
    used = _USED_METRICS
    one_src = smp["src"].null_count() == 0 and bool((smp["src"] == smp["src"][0]).all())
    runs = smp["participant_id"].rle().struct.unnest()  # (len, value) per run
    run_len = runs["len"].to_numpy().astype(np.int64)
    run_pids = runs["value"].to_list()
    bounds = np.cumsum(run_len)[:-1]
    lo = np.concatenate([[0], bounds])
    metric = (
        smp["_metric"] if "_metric" in smp.columns else smp.select(_metric_code()).to_series()
    )
    metric = metric.to_numpy().astype(np.int64, copy=False)
    if one_src:
        src = np.zeros(smp.height, dtype=np.int64)
    else:
        src = smp.select(pl.col("src").cast(pl.Categorical).to_physical()).to_series()
        src = src.to_numpy().astype(np.int64)
    s = smp["s"].to_numpy().astype(np.int64, copy=False)
    e = smp["e"].to_numpy().astype(np.int64, copy=False)
    v = smp["v"].to_numpy().astype(float, copy=False)
    if len(set(run_pids)) != len(run_pids) or None in run_pids:
        # interleaved participants: group by a code per participant, stable within each
        pid = (
            smp.select(pl.col("participant_id").cast(pl.Categorical).to_physical())
            .to_series()
            .to_numpy()
            .astype(np.int64)
        )
        order = np.argsort(pid, kind="stable")
        pid = pid[order]
        metric, src, s, e, v = metric[order], src[order], s[order], e[order], v[order]
        bounds = np.flatnonzero(np.diff(pid)) + 1
        lo = np.concatenate([[0], bounds])
        run_pids = smp["participant_id"].gather(order[lo]).to_list()
    hi = np.concatenate([bounds, [smp.height]])
    mc = {name: code for code, name in enumerate(used)}
    return {
        str(pid): _SampleArrays(metric[a:b], s[a:b], e[a:b], v[a:b], src[a:b], mc)
        for pid, a, b in zip(run_pids, lo.tolist(), hi.tolist(), strict=True)
    }


def _intervals_np(s: np.ndarray, e: np.ndarray, v: np.ndarray, src: np.ndarray) -> _Intervals:
    """:meth:`_Intervals.from_frame` from numpy columns (sorted by start, then end)."""
    if s.size == 0:
        z = np.zeros(0, dtype=np.int64)
        return _Intervals(z, z, np.zeros(0), z, z)
    order = np.lexsort((e, s))
    s, e, v, src = s[order], e[order], v[order], src[order]
    e = np.maximum(e, s)
    return _Intervals(s, e, v, src, np.maximum.accumulate(e))


def _present(s: np.ndarray, emax: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Whether any interval (starts ``s`` sorted, ``emax`` running max of the ends) overlaps
    each ``[lo, hi]``: some start <= hi whose end (or an earlier one's) is >= lo."""
    lo, hi = np.asarray(lo), np.asarray(hi)
    if s.size == 0:
        return np.zeros(lo.shape, dtype=bool)
    i1 = np.searchsorted(s, hi, side="right")
    return (i1 > 0) & (emax[np.maximum(i1 - 1, 0)] >= lo)


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
    def build(
        cls, smp: pl.DataFrame | _SampleArrays | None, seg: pl.DataFrame | None
    ) -> _ParticipantData:
        if isinstance(smp, _SampleArrays):
            a = smp

            def sel(name: str) -> np.ndarray:
                code = a.metric_codes.get(name, -1)
                return np.flatnonzero(a.metric == code)

            h = sel("heart_rate_bpm")
            h = h[a.v[h] > 0]
            h = h[np.argsort(a.s[h], kind="stable")]
            hr_t, hr_v = a.s[h], a.v[h]
            st, ac = sel("steps"), sel("active_energy_kcal")
            steps_iv = _intervals_np(a.s[st], a.e[st], a.v[st], a.src[st])
            act_iv = _intervals_np(a.s[ac], a.e[ac], a.v[ac], a.src[ac])
        else:

            def metric(name: str) -> pl.DataFrame | None:
                return None if smp is None else smp.filter(pl.col("metric") == name)

            hr = metric("heart_rate_bpm")
            if hr is None or hr.height == 0:
                hr_t, hr_v = np.zeros(0, dtype=np.int64), np.zeros(0)
            else:
                hr = hr.filter(pl.col("v") > 0).sort("s")
                hr_t, hr_v = hr["s"].to_numpy().astype(np.int64), hr["v"].to_numpy().astype(float)
            steps_iv = _Intervals.from_frame(metric("steps"))
            act_iv = _Intervals.from_frame(metric("active_energy_kcal"))

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
            steps=steps_iv,
            act=act_iv,
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
    on, off = _runs(np.isfinite(x))
    if on.size:
        ok = np.isfinite(x)
        out[ok] = _medfilt_edge(x[ok], off - on, kernel)
    return out


def _medfilt_edge(v: np.ndarray, lengths: np.ndarray, kernel: int) -> np.ndarray:
    """``scipy.signal.medfilt(np.pad(run, kernel // 2, mode="edge"), kernel)`` (unpadded part)
    for consecutive runs of ``v`` with the given ``lengths``, all runs in one vectorised pass.

    Each output is the middle of the sorted ``kernel`` values around it, positions beyond its
    run clamped to the run's first/last value (= edge padding), which is exactly medfilt's
    result on an odd kernel. An even kernel goes to medfilt itself (which rejects it).
    """
    if kernel % 2 == 0 or kernel < 1:
        return signal.medfilt(v, kernel)
    pad = kernel // 2
    if pad == 0 or v.size == 0:
        return v.astype(float, copy=True)
    stops = np.cumsum(lengths)
    if kernel == 3:  # median of (left, self, right) by min/max, ends repeat themselves
        starts = stops[lengths > 0] - lengths[lengths > 0]
        left = np.concatenate([v[:1], v[:-1]])
        right = np.concatenate([v[1:], v[-1:]])
        left[starts] = v[starts]
        right[stops[lengths > 0] - 1] = v[stops[lengths > 0] - 1]
        return np.maximum(np.minimum(left, v), np.minimum(np.maximum(left, v), right))
    lo = np.repeat(stops - lengths, lengths)
    hi = np.repeat(stops - 1, lengths)
    win = np.arange(v.size)[:, None] + np.arange(-pad, pad + 1)
    win = np.clip(win, lo[:, None], hi[:, None])
    return np.sort(v[win], axis=1)[:, pad]


def _median(x: np.ndarray) -> float:
    """``float(np.median(x))`` for a 1-d array without its per-call overhead (this runs a few
    times per night and per segment): the mean of the two middle values of the sorted
    float64 array (the same element twice for an odd size); NaN if any value is NaN."""
    v = np.sort(np.asarray(x, dtype=float))
    n = v.size
    if n == 0 or np.isnan(v[-1]):  # NaN sorts last
        return math.nan
    return float((v[(n - 1) // 2] + v[n // 2]) / 2)


#: scipy.stats.median_abs_deviation(scale="normal") constant, 1 / Phi^-1(3/4)
_MAD_NORMAL = float(1.0 / stats.norm.ppf(0.75))


def _robust_spread(x: np.ndarray, floor: float) -> float:
    """``max(MAD_normal(x), floor)`` for one array: the closed form of
    ``scipy.stats.median_abs_deviation(x, scale="normal")`` without its per-call overhead
    (this runs once per night inside the candidate search)."""
    x = x[np.isfinite(x)]
    if x.size < 2:
        return floor
    return max(_MAD_NORMAL * _median(np.abs(x - _median(x))), floor)


def _medfilt_samples(
    hr_raw: np.ndarray, kernel: int, max_gap_cells: int, night_of_cell: np.ndarray | None = None
) -> np.ndarray:
    """``scipy.signal.medfilt`` over the sequence of sampled cells (not over minutes).

    Consecutive samples closer than ``max_gap_cells`` form a run; each run is filtered with
    edge padding, so an isolated artefactual sample between two normal ones is replaced by
    their neighbour value while two or more consecutive elevated samples survive.
    """
    idx = np.flatnonzero(np.isfinite(hr_raw))
    if idx.size < kernel:
        return hr_raw
    out = hr_raw.copy()
    gap = np.diff(idx) > max_gap_cells
    if night_of_cell is not None:  # concatenated nights: runs never cross a night boundary
        gap |= night_of_cell[idx[1:]] != night_of_cell[idx[:-1]]
    breaks = np.flatnonzero(gap) + 1
    lengths = np.diff(np.concatenate([[0], breaks, [idx.size]]))
    long_run = np.repeat(lengths >= kernel, lengths)  # shorter runs stay as they are
    if not long_run.any():
        return out
    filtered = _medfilt_edge(hr_raw[idx], lengths, kernel)
    out[idx[long_run]] = filtered[long_run]
    return out


def _robust_spreads(arrays: list[np.ndarray], floor: float) -> np.ndarray:
    """``max(MAD_normal, floor)`` of many ragged arrays in one scipy call (NaN-padded)."""
    width = max((a.size for a in arrays), default=0)
    if width < 2:
        return np.full(len(arrays), floor)
    m = np.full((len(arrays), width), np.nan)
    for i, a in enumerate(arrays):
        m[i, : a.size] = a
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rows with < 2 values: handled just below
        mad = stats.median_abs_deviation(m, axis=1, scale="normal", nan_policy="omit")
    n = np.array([a.size for a in arrays])
    mad = np.where((n >= 2) & np.isfinite(mad), mad, floor)
    return np.maximum(mad, floor)


# ----------------------------------------------------------------------------------------
# one night


@dataclass
class _Night:
    """Per-night 1-min grid arrays and candidate segments (phase 1 of scoring)."""

    g0: int
    step: int
    n: int
    staged: bool
    in_period: np.ndarray
    asleep: np.ndarray
    raw_mask: np.ndarray
    closed: np.ndarray
    hr_raw: np.ndarray
    has_raw: np.ndarray
    src: np.ndarray
    hr_s: np.ndarray
    night_med: float
    sleep_hr: np.ndarray
    steps: np.ndarray
    has_steps: bool
    walking_cell: np.ndarray
    walk_on: np.ndarray
    walk_off: np.ndarray
    act_z: np.ndarray
    has_act: bool
    bout_on: np.ndarray
    bout_len_s: np.ndarray
    peak_idx: np.ndarray
    peak_prom: np.ndarray
    segments: list[tuple[int, int]]
    fine: bool = False
    hr_spacing_s: float = math.nan
    hr_fine: np.ndarray | None = None  # filtered HR on the fine grid (NaN: gap)
    fine_per_cell: int = 1  # fine cells per grid cell
    surge_cells: np.ndarray | None = None  # grid cells where a fine abrupt sustained rise starts
    #: per segment: movement samples seen within movement_channel_window_s before (bit 1) and
    #: after (bit 2) it; None with the rule off
    movement_seen: list[int] | None = None
    # per-night arrays of the segment scoring, filled by _scoring_arrays (once per night)
    asleep_open: np.ndarray | None = None  # asleep and not a candidate minute
    period_start: int = 0  # first cell of the period
    period_end: int = 0  # cell after the last cell of the period
    hr_fine_still: np.ndarray | None = None  # fine HR, NaN during walking + its recovery
    rise_30s: np.ndarray | None = None  # fine HR minus its minimum over the 30 s before
    prev_raw: np.ndarray | None = None  # last cell < i with a raw HR sample (-1: none)
    raw_run_start: np.ndarray | None = None  # first cell of the raw-sample run holding i
    cum_hr_gap: np.ndarray | None = None  # cumulative counts (n + 1): HR missing,
    cum_raw: np.ndarray | None = None  # raw sample present,
    cum_in_period: np.ndarray | None = None  # in the period,
    cum_raw_mask: np.ndarray | None = None  # candidate minute (raw mask, inside the period)


def _minute_median(t: np.ndarray, v: np.ndarray, g0: int, step: int, n: int) -> np.ndarray:
    """Median of the samples in each grid cell of ``step`` us from ``g0`` (NaN where none):
    :func:`detectors.actigraphy.cell_medians` on the samples' cell numbers."""
    return cell_medians((np.asarray(t) - g0) // step, v, n)


@dataclass
class _NightPre:
    """The parts of a night's grids that can be computed for all nights of a participant at
    once: stage coverage (s per cell), Step A minute HR and the fine HR grid."""

    asleep_cov: np.ndarray
    awake_cov: np.ndarray
    staged: bool
    hr_raw: np.ndarray  # minute medians after the sample medfilt (NaN: no sample)
    src: np.ndarray  # index of the minute whose sample fills each cell, -1 if none
    hr_s: np.ndarray  # forward-filled, medfilt(3) per finite stretch
    spacing_s: float  # median spacing of the window's HR samples (NaN: <= 10 samples)
    hr_fine: np.ndarray | None  # fine grid HR, only for nights that take the fine path


def _night_pre(data: _ParticipantData, ps: int, pe: int, p: CrampParams) -> _NightPre:
    """:class:`_NightPre` of one night on its own (the reference for :func:`_participant_pre`)."""
    g0, step, n = _night_grid(ps, pe, p)
    edges = g0 + step * np.arange(n + 1, dtype=np.int64)
    i0, i1 = np.searchsorted(data.staged_t, [ps, pe])
    j0, j1 = np.searchsorted(data.hr_t, [g0, g0 + n * step])
    hr_raw = _minute_median(data.hr_t[j0:j1], data.hr_v[j0:j1], g0, step, n)
    hr_raw = _medfilt_samples(
        hr_raw, p.hr_medfilt_samples, p.hr_sample_medfilt_max_gap_s // p.grid_s
    )
    has_raw = np.isfinite(hr_raw)
    last = np.maximum.accumulate(np.where(has_raw, np.arange(n), -1))
    ok = (last >= 0) & (np.arange(n) - last <= p.hr_ffill_max_s // p.grid_s)
    src = np.where(ok, last, -1)
    hr_ff = np.where(ok, hr_raw[np.maximum(last, 0)], np.nan)
    hr_s = _medfilt_runs(hr_ff, p.hr_medfilt_samples)
    hr_t_win = data.hr_t[j0:j1]
    spacing = _median(np.diff(hr_t_win)) / _US if hr_t_win.size > 10 else math.nan
    hr_fine = None
    if math.isfinite(spacing) and spacing <= p.hr_fine_max_spacing_s:
        per_cell = max(1, p.grid_s // p.hr_fine_grid_s)
        hr_fine = _fine_hr(hr_t_win, data.hr_v[j0:j1], g0, n * per_cell, p)
    return _NightPre(
        asleep_cov=_coverage_s(data.asleep, edges),
        awake_cov=_coverage_s(data.awake, edges),
        staged=bool(i1 > i0),
        hr_raw=hr_raw,
        src=src,
        hr_s=hr_s,
        spacing_s=spacing,
        hr_fine=hr_fine,
    )


def _ragged(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated ``arange(lo[i], hi[i])`` and the ``i`` of each element."""
    lengths = np.maximum(hi - lo, 0)
    owner = np.repeat(np.arange(lo.size), lengths)
    first = np.cumsum(lengths) - lengths
    return lo[owner] + (np.arange(owner.size) - first[owner]), owner


def _runs_split(mask: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_runs`, with every run also cut at the indices ``starts`` (night boundaries)."""
    cut = np.zeros(mask.size + 1, dtype=bool)
    cut[starts] = True
    m = mask.astype(bool)
    prev = np.concatenate([[False], m[:-1]])
    nxt = np.concatenate([m[1:], [False]])
    on = np.flatnonzero(m & (~prev | cut[:-1]))
    off = np.flatnonzero(m & (~nxt | cut[1:])) + 1
    return on, off


def _medfilt_runs_split(x: np.ndarray, starts: np.ndarray, kernel: int) -> np.ndarray:
    """:func:`_medfilt_runs` on concatenated nights (finite stretches cut at ``starts``)."""
    if kernel == 3 and x.size:
        # in place on the grid: a neighbour outside the cell's finite stretch (NaN, or the
        # other side of a night boundary) is replaced by the cell itself (= edge padding),
        # then the median of three by min/max, as _medfilt_edge computes it; NaN stays NaN
        fin = np.isfinite(x)
        cut = np.zeros(x.size + 1, dtype=bool)
        cut[starts] = True
        left = np.empty_like(x)
        left[0] = x[0]
        left[1:] = x[:-1]
        bad = ~np.concatenate([[False], fin[:-1]]) | cut[:-1]
        left[bad] = x[bad]
        right = np.empty_like(x)
        right[-1] = x[-1]
        right[:-1] = x[1:]
        bad = ~np.concatenate([fin[1:], [False]]) | cut[1:]
        right[bad] = x[bad]
        med = np.maximum(np.minimum(left, x), np.minimum(np.maximum(left, x), right))
        med[~fin] = np.nan  # (inf cells too, as the stretch-wise filter leaves them)
        return med
    out = np.full_like(x, np.nan)
    ok = np.isfinite(x)
    on, off = _runs_split(ok, starts)
    if on.size:  # the runs tile the finite cells in order
        out[ok] = _medfilt_edge(x[ok], off - on, kernel)
    return out


def _ffill_split(x: np.ndarray, night_of_cell: np.ndarray, first: np.ndarray, max_cells: int):
    """Forward fill over gaps <= ``max_cells`` within each night: (filled, source index)."""
    n = x.size
    ok_raw = np.isfinite(x)
    last = np.maximum.accumulate(np.where(ok_raw, np.arange(n), -1))
    ok = (last >= first[night_of_cell]) & (np.arange(n) - last <= max_cells)
    return np.where(ok, x[np.maximum(last, 0)], np.nan), np.where(ok, last, -1)


def _cum_coverage(ms: np.ndarray, me: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Exact covered microseconds of the disjoint sorted intervals before each ``t``."""
    if ms.size == 0:
        return np.zeros(t.size, dtype=np.int64)
    cum = np.concatenate([[0], np.cumsum(me - ms)])
    k = np.searchsorted(ms, t, side="right")  # intervals starting at or before t
    kk = np.maximum(k - 1, 0)
    part = np.clip(t - ms[kk], 0, me[kk] - ms[kk])
    return np.where(k > 0, cum[kk] + part, 0)


#: nights per :func:`_prepare_chunk` pass (about 60 kB of fine-HR cells per night: 32 nights
#: stay within the CPU caches; benchmarks/detect.py measured 8 -> 32 about 5 % faster)
_PRE_NIGHTS = 32


@dataclass
class _ChunkPre:
    """:class:`_NightPre` of several nights, as arrays laid end to end (night ``i`` holds
    cells ``first[i] : first[i] + n[i]``)."""

    m: int
    step: int
    g0: np.ndarray
    n: np.ndarray
    first: np.ndarray
    total: int
    night_of_cell: np.ndarray
    cell_start: np.ndarray
    asleep_cov: np.ndarray
    awake_cov: np.ndarray
    staged: np.ndarray
    hr_raw: np.ndarray
    src: np.ndarray  # index within the night
    hr_s: np.ndarray
    spacing: np.ndarray
    fine_idx: np.ndarray  # nights on the fine path
    f_first: np.ndarray  # their offsets in hr_fine_cat
    f_n: np.ndarray
    hr_fine_cat: np.ndarray
    hr_fine: list  # per night: view into hr_fine_cat, or None


def _participant_pre(
    data: _ParticipantData, ps: np.ndarray, pe: np.ndarray, p: CrampParams
) -> list[_NightPre]:
    """:func:`_night_pre` for several nights of a participant in one vectorised pass."""
    c = _chunk_pre(data, ps, pe, p)
    out = []
    for i in range(c.m):
        a, b = c.first[i], c.first[i] + c.n[i]
        out.append(
            _NightPre(
                asleep_cov=c.asleep_cov[a:b],
                awake_cov=c.awake_cov[a:b],
                staged=bool(c.staged[i]),
                hr_raw=c.hr_raw[a:b],
                src=c.src[a:b],
                hr_s=c.hr_s[a:b],
                spacing_s=float(c.spacing[i]),
                hr_fine=c.hr_fine[i],
            )
        )
    return out


def _chunk_pre(data: _ParticipantData, ps: np.ndarray, pe: np.ndarray, p: CrampParams) -> _ChunkPre:
    """:func:`_night_pre` for all of a participant's nights in one vectorised pass.

    The nights' grids are laid end to end; every step that runs along the grid (sample
    medfilt, forward fill, medfilt per finite stretch) is cut at the night boundaries, so
    each night gets exactly the values it gets alone. Stage coverage is computed in exact
    integer microseconds (the per-night path's float interpolation is exact there too).
    """
    m = ps.size
    step = p.grid_s * _US
    pad = 30 * _MIN_US
    g0 = (ps // step) * step - pad
    n = ((-(-pe // step) * step + pad) - g0) // step
    first = np.concatenate([[0], np.cumsum(n)[:-1]])
    total = int(n.sum())
    night_of_cell = np.repeat(np.arange(m), n)
    cell_start = g0[night_of_cell] + step * (np.arange(total) - first[night_of_cell])

    def coverage(iv: _Intervals) -> np.ndarray:
        ms, me = _merge(iv.s, iv.e)
        return (_cum_coverage(ms, me, cell_start + step) - _cum_coverage(ms, me, cell_start)) / _US

    asleep_cov, awake_cov = coverage(data.asleep), coverage(data.awake)
    i0 = np.searchsorted(data.staged_t, ps)
    i1 = np.searchsorted(data.staged_t, pe)

    # minute HR: the samples of each night's window, as cells of the concatenated grid
    j0 = np.searchsorted(data.hr_t, g0)
    j1 = np.searchsorted(data.hr_t, g0 + n * step)
    idx, owner = _ragged(j0, j1)
    t, v = data.hr_t[idx], data.hr_v[idx]
    cells = first[owner] + (t - g0[owner]) // step
    hr_raw = _minute_median(cells, v, 0, 1, total)
    hr_raw = _medfilt_samples(
        hr_raw,
        p.hr_medfilt_samples,
        p.hr_sample_medfilt_max_gap_s // p.grid_s,
        night_of_cell=night_of_cell,
    )
    hr_ff, last = _ffill_split(hr_raw, night_of_cell, first, p.hr_ffill_max_s // p.grid_s)
    hr_s = _medfilt_runs_split(hr_ff, first, p.hr_medfilt_samples)
    src = np.where(last >= 0, last - first[night_of_cell], -1)

    # median sample spacing per night (windows of > 10 samples), as _median computes it
    cnt = j1 - j0
    spacing = np.full(m, np.nan)
    if idx.size > 1:
        same = owner[1:] == owner[:-1]
        d = np.diff(t).astype(float)[same]
        d_owner = owner[1:][same]
        nd = np.bincount(d_owner, minlength=m)
        has = (cnt > 10) & (nd > 0)
        spacing = np.where(has, _seg_medians(d, d_owner, m) / _US, np.nan)

    # fine HR grid for the nights that take the fine path
    fine = np.isfinite(spacing) & (spacing <= p.hr_fine_max_spacing_s)
    hr_fine: list[np.ndarray | None] = [None] * m
    fine_idx = np.flatnonzero(fine)
    f_first = f_n = np.zeros(0, dtype=np.int64)
    hr_fine_cat = np.zeros(0)
    if fine.any():
        per_cell = max(1, p.grid_s // p.hr_fine_grid_s)
        fstep = p.hr_fine_grid_s * _US
        fi = np.flatnonzero(fine)
        nf = n[fi] * per_cell
        ffirst = np.concatenate([[0], np.cumsum(nf)[:-1]])
        ftotal = int(nf.sum())
        fpos = np.full(m, -1)
        fpos[fi] = np.arange(fi.size)
        keep = fine[owner]
        fo = fpos[owner[keep]]
        fcells = ffirst[fo] + (t[keep] - g0[fi][fo]) // fstep
        x = _minute_median(fcells, v[keep], 0, 1, ftotal)
        f_night = np.repeat(np.arange(fi.size), nf)
        x, _ = _ffill_split(x, f_night, ffirst, p.hr_fine_ffill_s // p.hr_fine_grid_s)
        x = _medfilt_runs_split(x, ffirst, p.hr_fine_medfilt_cells)
        for k, i in enumerate(fi):
            hr_fine[i] = x[ffirst[k] : ffirst[k] + nf[k]]
        f_first, f_n, hr_fine_cat = ffirst, nf, x

    return _ChunkPre(
        m=m,
        step=step,
        g0=g0,
        n=n,
        first=first,
        total=total,
        night_of_cell=night_of_cell,
        cell_start=cell_start,
        asleep_cov=asleep_cov,
        awake_cov=awake_cov,
        staged=i1 > i0,
        hr_raw=hr_raw,
        src=src,
        hr_s=hr_s,
        spacing=spacing,
        fine_idx=fine_idx,
        f_first=f_first,
        f_n=f_n,
        hr_fine_cat=hr_fine_cat,
        hr_fine=hr_fine,
    )


def _night_grid(ps: int, pe: int, p: CrampParams) -> tuple[int, int, int]:
    """(g0, step, n): the night's 1-min grid over the period with 30 min of margin."""
    step = p.grid_s * _US
    pad = 30 * _MIN_US
    g0 = (ps // step) * step - pad
    g1 = -(-pe // step) * step + pad
    return g0, step, int((g1 - g0) // step)


def _prepare_night(
    data: _ParticipantData, ps: int, pe: int, p: CrampParams, pre: _NightPre | None = None
) -> _Night:
    """Per-night grids and candidate segments. ``pre`` carries the parts computed for all of
    the participant's nights at once (:func:`_participant_pre`); without it they are
    computed here for this night alone (the reference path, same values)."""
    g0, step, n = _night_grid(ps, pe, p)
    g1 = g0 + n * step
    edges = g0 + step * np.arange(n + 1, dtype=np.int64)
    cell_start = edges[:-1]
    in_period = (cell_start + step > ps) & (cell_start < pe)
    if pre is None:
        pre = _night_pre(data, ps, pe, p)

    # stages: staged nights read the awake stage; old-style nights read gaps between asleep
    asleep_cov = pre.asleep_cov
    staged = pre.staged
    half = p.stage_min_cover_s
    if staged:
        wake = in_period & (pre.awake_cov >= half)
    else:
        wake = in_period & (asleep_cov < half)
    asleep = in_period & (asleep_cov >= half) & ~wake

    # heart rate: per-minute median, forward fill <= 5 min, medfilt(3) per finite stretch
    j0, j1 = np.searchsorted(data.hr_t, [g0, g1])
    hr_raw, src, hr_s = pre.hr_raw, pre.src, pre.hr_s
    has_raw = np.isfinite(hr_raw)

    # steps and activity (active energy per minute, robust z against asleep minutes)
    steps, has_steps = _amount_per_cell(data.steps, edges)
    act, has_act = _amount_per_cell(data.act, edges)
    act_z = np.full(n, -np.inf)
    if has_act:
        ref = act[asleep] if asleep.any() else act[in_period]
        med_act = _median(ref) if ref.size else 0.0
        act_z = (act - med_act) / _robust_spread(ref, p.act_spread_floor_kcal_min)
    walking_cell = steps >= p.walk_cadence_steps_min
    walk_on, walk_off = _runs(walking_cell)

    # fine HR (seconds exports): 5-s cells, abrupt sustained rises become candidates too
    spacing = pre.spacing_s
    fine = math.isfinite(spacing) and spacing <= p.hr_fine_max_spacing_s
    hr_fine = surge_cells = None
    per_cell = max(1, p.grid_s // p.hr_fine_grid_s)
    if fine:
        hr_fine = pre.hr_fine
        if hr_fine is None:
            hr_fine = _fine_hr(data.hr_t[j0:j1], data.hr_v[j0:j1], g0, n * per_cell, p)
        ref = hr_s[asleep]
        ref = ref[np.isfinite(ref)]
        if ref.size:
            med = _median(ref)
            thr = _surge_threshold(med, _robust_spread(ref, p.hr_spread_floor_bpm), p)
            starts = _abrupt_sustained(hr_fine, np.full(hr_fine.size, med), thr, p)
            surge_cells = np.zeros(n, bool)
            surge_cells[np.unique(starts // per_cell)] = True
            surge_cells &= in_period

    # Step B: candidate minutes, closing (on a padded array: no erosion at the edges), label
    raw_mask = in_period & (wake | (act_z >= p.act_z_min) | (steps > 0))
    if surge_cells is not None:
        raw_mask |= surge_cells
    k = max(1, p.closing_s // p.grid_s)
    closed = (
        ndimage.binary_closing(np.pad(raw_mask, k), structure=np.ones(k, dtype=bool))[k : k + n]
        & in_period
    )
    labels, _ = ndimage.label(closed)
    segments = []
    for sl in ndimage.find_objects(labels):
        if sl is None:
            continue
        dur_s = (sl[0].stop - sl[0].start) * p.grid_s
        if p.min_segment_s <= dur_s <= p.max_segment_s:
            segments.append((sl[0].start, sl[0].stop))

    sleep_hr = hr_s[asleep & ~closed]
    sleep_hr = sleep_hr[np.isfinite(sleep_hr)]
    night_med = _median(sleep_hr) if sleep_hr.size else math.nan
    bout_on, bout_off = _runs(raw_mask)

    # abruptness evidence: HR peaks and prominences once per night (a constant baseline
    # shift does not change prominence; wlen bounds the search to +-10 min)
    peak_idx = peak_prom = np.zeros(0)
    if segments and np.isfinite(hr_s).any():
        fill = night_med if math.isfinite(night_med) else float(np.nanmedian(hr_s))
        x = np.where(np.isfinite(hr_s), hr_s, fill)
        wlen = 2 * (p.sustain_window_s // p.grid_s) + 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # PeakPropertyWarning: flat plateaus
            peak_idx, props = signal.find_peaks(x, prominence=0.0, width=1, wlen=wlen)
        peak_prom = props["prominences"]
    return _Night(
        g0=g0,
        step=step,
        n=n,
        staged=staged,
        in_period=in_period,
        asleep=asleep,
        raw_mask=raw_mask,
        closed=closed,
        hr_raw=hr_raw,
        has_raw=has_raw,
        src=src,
        hr_s=hr_s,
        night_med=night_med,
        sleep_hr=sleep_hr,
        steps=steps,
        has_steps=has_steps,
        walking_cell=walking_cell,
        walk_on=walk_on,
        walk_off=walk_off,
        act_z=act_z,
        has_act=has_act,
        bout_on=bout_on,
        bout_len_s=(bout_off - bout_on) * p.grid_s,
        peak_idx=peak_idx,
        peak_prom=peak_prom,
        segments=segments,
        movement_seen=_movement_seen(
            data,
            g0,
            step,
            np.array([a for a, _ in segments], dtype=np.int64),
            np.array([b for _, b in segments], dtype=np.int64),
            p,
        ),
        fine=fine,
        hr_spacing_s=spacing,
        hr_fine=hr_fine,
        fine_per_cell=per_cell,
        surge_cells=surge_cells,
    )


# ----------------------------------------------------------------------------------------
# all of a participant's nights at once (the per-night functions above are the reference)


def _seg_medians(v: np.ndarray, owner: np.ndarray, m: int) -> np.ndarray:
    """:func:`_median` of each group ``owner == i`` (``i < m``; ``owner`` non-decreasing, so
    each group is contiguous): NaN for an empty group or one holding a NaN, else the mean
    of the two middle values, found by ``np.partition`` (the sorted order's values)."""
    out = np.full(m, np.nan)
    if v.size == 0:
        return out
    cnt = np.bincount(owner, minlength=m)
    stops = np.cumsum(cnt)
    has_nan = np.bincount(owner[np.isnan(v)], minlength=m) > 0
    for i in np.flatnonzero((cnt > 0) & ~has_nan).tolist():
        k = int(cnt[i])
        lo, hi = (k - 1) // 2, k // 2
        part = np.partition(v[stops[i] - k : stops[i]], (lo, hi) if hi != lo else lo)
        out[i] = (part[lo] + part[hi]) / 2
    return out


def _seg_mad(x: np.ndarray, owner: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Per group: (median absolute deviation around the median, number of values)."""
    cnt = np.bincount(owner, minlength=m)
    med = _seg_medians(x, owner, m)
    return _seg_medians(np.abs(x - med[owner]), owner, m), cnt


def _seg_robust_spread(x: np.ndarray, owner: np.ndarray, m: int, floor: float) -> np.ndarray:
    """:func:`_robust_spread` of each group (finite values only)."""
    ok = np.isfinite(x)
    mad, cnt = _seg_mad(x[ok], owner[ok], m)
    return np.where(cnt >= 2, np.maximum(_MAD_NORMAL * mad, floor), floor)


#: scipy.stats.median_abs_deviation's divisor for scale="normal" (scipy 1.17: ndtri(0.75))
_SCIPY_NORMAL_SCALE = 0.6744897501960817


def _seg_scipy_spread(x: np.ndarray, owner: np.ndarray, m: int, floor: float) -> np.ndarray:
    """:func:`_robust_spreads` per group (finite values): ``median_abs_deviation(x,
    scale="normal")`` = MAD / 0.67449 (a division, as scipy computes it), floored."""
    mad, cnt = _seg_mad(x, owner, m)
    with np.errstate(invalid="ignore"):
        mad = mad / _SCIPY_NORMAL_SCALE
    return np.maximum(np.where((cnt >= 2) & np.isfinite(mad), mad, floor), floor)


def _close_gaps(mask: np.ndarray, starts: np.ndarray, k: int) -> np.ndarray:
    """``ndimage.binary_closing(np.pad(x, k), np.ones(k))[k:-k]`` of every night ``x`` of the
    concatenated ``mask`` (nights begin at ``starts``): a 1-d closing by ``k`` cells fills
    exactly the gaps shorter than ``k`` that have a True cell on both sides (the padding keeps
    gaps at the ends open)."""
    out = mask.copy()
    if k <= 1 or mask.size == 0:
        return out
    on, off = _runs_split(~mask, starts)  # gaps, cut at night boundaries
    cut = np.zeros(mask.size + 1, dtype=bool)
    cut[starts] = True
    cut[mask.size] = True
    inner = (~cut[on]) & (~cut[off]) & ((off - on) < k)  # True before and after, same night
    if inner.any():
        idx, _ = _ragged(on[inner], off[inner])
        out[idx] = True
    return out


def _abrupt_sustained_cat(
    x: np.ndarray,
    f_first: np.ndarray,
    f_n: np.ndarray,
    base: np.ndarray,
    thr: np.ndarray,
    p: CrampParams,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_abrupt_sustained` on concatenated fine nights (night ``j`` at ``f_first[j]``,
    ``f_n[j]`` cells, its own ``base`` and ``thr``). Returns (night, cell within the night)
    of every onset. An onset is above ``base + thr``, which few cells are, so the 30-s prior
    minimum and the 60-s run are evaluated at those cells only; the prior minimum reflects at
    the night's first cell, as ``minimum_filter1d``'s default boundary does for one night."""
    k = max(1, p.hr_abrupt_window_s // p.hr_fine_grid_s)
    m = max(1, p.hr_sustained_min_s // p.hr_fine_grid_s)
    none = np.zeros(0, dtype=np.int64)
    if x.size == 0:
        return none, none
    with np.errstate(invalid="ignore"):
        above = x >= np.repeat(base + thr, f_n)  # NaN cells are never above
    cand = np.flatnonzero(above)
    if cand.size == 0:
        return none, none
    night = np.searchsorted(f_first, cand, side="right") - 1
    local = cand - f_first[night]
    n_night = f_n[night]
    # above for the m cells starting at i (cand is strictly increasing)
    q = np.arange(cand.size)
    last = np.minimum(q + m - 1, cand.size - 1)
    run_ok = (q + m - 1 < cand.size) & (cand[last] - cand == m - 1) & (local <= n_night - m)
    # min of x[i-k .. i-1] within the night; positions before the night's start reflect
    # (position -1 -> 0, -2 -> 1, ...) as in minimum_filter1d(size=k, origin=(k-1)//2),
    # whose window ends at the cell itself, shifted by one
    pos = local[:, None] - np.arange(1, k + 1)[None, :]
    pos = np.where(pos < 0, -pos - 1, pos)
    pos = np.minimum(pos, np.maximum(n_night - 1, 0)[:, None])
    xs = x[f_first[night][:, None] + pos]
    prior_min = np.where(np.isfinite(xs), xs, np.inf).min(axis=1)
    prior_min[local == 0] = np.inf
    xi = x[cand]
    rise = np.isfinite(prior_min) & (xi - prior_min >= thr[night])
    onset = rise & run_ok & (n_night > k + m)
    prev = np.zeros(cand.size, dtype=bool)
    prev[1:] = onset[:-1] & (cand[1:] - cand[:-1] == 1)
    prev &= local > 0
    on = onset & ~prev
    return night[on], local[on]


def _prepare_chunk(
    data: _ParticipantData, ps: np.ndarray, pe: np.ndarray, p: CrampParams
) -> list[_Night]:
    """:func:`_prepare_night` for several nights of a participant in one vectorised pass
    (same values; every step along the grid is cut at the night boundaries, medians and
    spreads are per night, float sums keep the per-night order)."""
    c = _chunk_pre(data, ps, pe, p)
    m, n, first, noc, total, step = c.m, c.n, c.first, c.night_of_cell, c.total, c.step
    in_period = (c.cell_start + step > ps[noc]) & (c.cell_start < pe[noc])
    half = p.stage_min_cover_s
    wake = in_period & np.where(c.staged[noc], c.awake_cov >= half, c.asleep_cov < half)
    asleep = in_period & (c.asleep_cov >= half) & ~wake
    hr_s = c.hr_s

    # steps and activity: per night, because their float sums depend on the night's window
    steps = np.empty(total)
    act = np.empty(total)
    has_steps = np.zeros(m, dtype=bool)
    has_act = np.zeros(m, dtype=bool)
    for i in range(m):
        a, b = int(first[i]), int(first[i] + n[i])
        edges = c.cell_start[a:b]
        edges = np.append(edges, edges[-1] + step)
        steps[a:b], has_steps[i] = _amount_per_cell(data.steps, edges)
        act[a:b], has_act[i] = _amount_per_cell(data.act, edges)
    act_z = np.full(total, -np.inf)
    if has_act.any():
        any_asleep = np.bincount(noc[asleep], minlength=m) > 0
        ref = has_act[noc] & np.where(any_asleep[noc], asleep, in_period)
        med_act = _seg_medians(act[ref], noc[ref], m)
        med_act = np.where(np.bincount(noc[ref], minlength=m) > 0, med_act, 0.0)
        spread = _seg_robust_spread(act[ref], noc[ref], m, p.act_spread_floor_kcal_min)
        z = (act - med_act[noc]) / spread[noc]
        act_z = np.where(has_act[noc], z, act_z)
    walking_cell = steps >= p.walk_cadence_steps_min
    walk_on, walk_off = _runs_split(walking_cell, first)

    # fine HR: abrupt sustained rises against the night's asleep median
    fine = np.isfinite(c.spacing) & (c.spacing <= p.hr_fine_max_spacing_s)
    per_cell = max(1, p.grid_s // p.hr_fine_grid_s)
    surge = np.zeros(total, dtype=bool)
    has_surge = np.zeros(m, dtype=bool)
    if c.fine_idx.size:
        ref = asleep & np.isfinite(hr_s) & fine[noc]
        cnt = np.bincount(noc[ref], minlength=m)
        med = _seg_medians(hr_s[ref], noc[ref], m)
        spr = _seg_robust_spread(hr_s[ref], noc[ref], m, p.hr_spread_floor_bpm)
        thr = np.maximum(
            np.minimum(p.hr_rise_min_bpm, p.hr_rise_min_frac * med), p.hr_rise_min_spread * spr
        )
        fi = c.fine_idx
        use = cnt[fi] > 0
        base_f = np.where(use, med[fi], np.inf)
        thr_f = np.where(use, thr[fi], np.inf)
        j, cell = _abrupt_sustained_cat(c.hr_fine_cat, c.f_first, c.f_n, base_f, thr_f, p)
        surge[first[fi[j]] + cell // per_cell] = True
        surge &= in_period
        has_surge[fi[use]] = True

    # Step B: candidate minutes, closing, segments
    raw_mask = in_period & (wake | (act_z >= p.act_z_min) | (steps > 0)) | surge
    kc = max(1, p.closing_s // p.grid_s)
    closed = _close_gaps(raw_mask, first, kc) & in_period
    seg_on, seg_off = _runs_split(closed, first)
    dur_s = (seg_off - seg_on) * p.grid_s
    keep = (dur_s >= p.min_segment_s) & (dur_s <= p.max_segment_s)
    seg_on, seg_off = seg_on[keep], seg_off[keep]
    seg_night = noc[seg_on] if seg_on.size else np.zeros(0, dtype=np.int64)
    seg_seen = _movement_seen(data, 0, 1, c.cell_start[seg_on], c.cell_start[seg_off - 1] + step, p)
    sleep_mask = asleep & ~closed & np.isfinite(hr_s)
    sleep_owner = noc[sleep_mask]
    sleep_vals = hr_s[sleep_mask]
    night_med = _seg_medians(sleep_vals, sleep_owner, m)
    sleep_cnt = np.bincount(sleep_owner, minlength=m)
    sleep_first = np.cumsum(sleep_cnt) - sleep_cnt
    bout_on, bout_off = _runs_split(raw_mask, first)
    bout_night = noc[bout_on] if bout_on.size else np.zeros(0, dtype=np.int64)
    walk_night = noc[walk_on] if walk_on.size else np.zeros(0, dtype=np.int64)
    n_seg = np.bincount(seg_night, minlength=m)

    # HR peaks and prominences of the nights with segments, in one find_peaks call: the
    # nights are laid end to end with a separator higher than any HR, so no peak, base or
    # prominence window crosses a night boundary (windows stop at a higher value)
    peaks: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    fin_hr = np.bincount(noc[np.isfinite(hr_s)], minlength=m) > 0
    todo = np.flatnonzero((n_seg > 0) & fin_hr)
    if todo.size:
        xs = []
        for i in todo.tolist():
            x = hr_s[first[i] : first[i] + n[i]]
            fill = night_med[i]
            if not math.isfinite(fill):
                fill = float(np.nanmedian(x))
            xs.append(np.where(np.isfinite(x), x, fill))
        sep = max(float(np.max(np.concatenate(xs))), 0.0) * 2.0 + 1.0
        cat = np.concatenate([v for x in xs for v in (x, np.full(1, sep))])
        lens = n[todo] + 1
        off0 = np.cumsum(lens) - lens
        wlen = 2 * (p.sustain_window_s // p.grid_s) + 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # PeakPropertyWarning: flat plateaus
            pk, props = signal.find_peaks(cat, prominence=0.0, width=1, wlen=wlen)
        prom = props["prominences"]
        owner = np.searchsorted(off0, pk, side="right") - 1
        rel = pk - off0[owner]
        real = rel < n[todo][owner]  # drop the separators
        pk, prom, owner, rel = pk[real], prom[real], owner[real], rel[real]
        bounds = np.searchsorted(owner, np.arange(todo.size + 1))
        for t, i in enumerate(todo.tolist()):
            peaks[i] = (rel[bounds[t] : bounds[t + 1]], prom[bounds[t] : bounds[t + 1]])

    def by_night(night_of: np.ndarray) -> np.ndarray:
        return np.searchsorted(night_of, np.arange(m + 1))

    sb, bb, wb = by_night(seg_night), by_night(bout_night), by_night(walk_night)
    out = []
    empty = np.zeros(0)
    for i in range(m):
        a, b = int(first[i]), int(first[i] + n[i])
        fa = int(first[i])
        pk_i, prom_i = peaks.get(i, (empty, empty))
        segs = list(
            zip(
                (seg_on[sb[i] : sb[i + 1]] - fa).tolist(),
                (seg_off[sb[i] : sb[i + 1]] - fa).tolist(),
                strict=True,
            )
        )
        bo = bout_on[bb[i] : bb[i + 1]] - fa
        out.append(
            _Night(
                g0=int(c.g0[i]),
                step=step,
                n=int(n[i]),
                staged=bool(c.staged[i]),
                in_period=in_period[a:b],
                asleep=asleep[a:b],
                raw_mask=raw_mask[a:b],
                closed=closed[a:b],
                hr_raw=c.hr_raw[a:b],
                has_raw=np.isfinite(c.hr_raw[a:b]),
                src=c.src[a:b],
                hr_s=hr_s[a:b],
                night_med=float(night_med[i]),
                sleep_hr=sleep_vals[sleep_first[i] : sleep_first[i] + sleep_cnt[i]],
                steps=steps[a:b],
                has_steps=bool(has_steps[i]),
                walking_cell=walking_cell[a:b],
                walk_on=walk_on[wb[i] : wb[i + 1]] - fa,
                walk_off=walk_off[wb[i] : wb[i + 1]] - fa,
                act_z=act_z[a:b],
                has_act=bool(has_act[i]),
                bout_on=bo,
                bout_len_s=(bout_off[bb[i] : bb[i + 1]] - fa - bo) * p.grid_s,
                peak_idx=pk_i,
                peak_prom=prom_i,
                segments=segs,
                movement_seen=None if seg_seen is None else seg_seen[sb[i] : sb[i + 1]],
                fine=bool(fine[i]),
                hr_spacing_s=float(c.spacing[i]),
                hr_fine=c.hr_fine[i],
                fine_per_cell=per_cell,
                surge_cells=surge[a:b] if has_surge[i] else None,
            )
        )
    return out


def _check_other_movement(
    samples: pl.DataFrame, prepared: list[tuple[str, object, _Night]], p: CrampParams
) -> None:
    """Add the other movement metrics (intensity level, METs, Garmin intensity; finest
    source per metric) to ``movement_seen`` of the segments that steps and active energy
    do not bracket. One filter over the samples, and only when some segment needs it."""
    todo = [
        (pid, ctx, j)
        for pid, _, ctx in prepared
        if ctx.movement_seen
        for j, seen in enumerate(ctx.movement_seen)
        if seen != 3
    ]
    if not todo:
        return
    pids = sorted({pid for pid, _, _ in todo})
    other = keep_finest_resolution(
        samples.filter(
            pl.col("metric").is_in(_OTHER_MOVEMENT_METRICS) & pl.col("participant_id").is_in(pids)
        )
    ).select(
        "participant_id",
        s=pl.col("start_utc").dt.epoch("us"),
        e=pl.col("end_utc").dt.epoch("us"),
    )
    if other.height == 0:
        return
    by_pid = {}
    for (pid,), g in other.sort("s").partition_by("participant_id", as_dict=True).items():
        s_us = g["s"].to_numpy().astype(np.int64)
        e_us = np.maximum(g["e"].to_numpy().astype(np.int64), s_us)
        by_pid[pid] = (s_us, np.maximum.accumulate(e_us))
    w = p.movement_channel_window_s * _US
    for pid, ctx, j in todo:
        if pid in by_pid:
            t_on, t_off = ctx.segments[j]
            on = np.array([ctx.g0 + t_on * ctx.step])
            off = np.array([ctx.g0 + t_off * ctx.step])
            ctx.movement_seen[j] |= int(_seen_bits(*by_pid[pid], on, off, w)[0])


def _seen_bits(s: np.ndarray, emax: np.ndarray, on: np.ndarray, off: np.ndarray, w: int):
    """Bit 1: an interval overlaps ``[on - w, off]``; bit 2: one overlaps ``[on, off + w]``."""
    return _present(s, emax, on - w, off).astype(np.int64) | (
        _present(s, emax, on, off + w).astype(np.int64) << 1
    )


def _movement_seen(
    data: _ParticipantData, g0: int, step: int, on: np.ndarray, off: np.ndarray, p: CrampParams
) -> list[int] | None:
    """Per segment ``[on, off)`` (cells of a grid starting at ``g0``): whether a step or
    active-energy sample lies within ``movement_channel_window_s`` before (bit 1) and after
    (bit 2) it; the other movement metrics are added afterwards for segments not at 3."""
    if p.movement_channel_window_s <= 0:
        return None
    w = p.movement_channel_window_s * _US
    on_us = np.asarray(g0 + on * step, dtype=np.int64)
    off_us = np.asarray(g0 + off * step, dtype=np.int64)
    bits = _seen_bits(data.steps.s, data.steps.emax, on_us, off_us, w) | _seen_bits(
        data.act.s, data.act.emax, on_us, off_us, w
    )
    return bits.tolist()


def _surge_threshold(b_hr: float, s_hr: float, p: CrampParams) -> float:
    """Smallest rise that counts as a surge: 10 bpm or 10 % (whichever is smaller, brief 7.2
    says "or"), and never below 3 robust SDs of the night's asleep HR."""
    return max(min(p.hr_rise_min_bpm, p.hr_rise_min_frac * b_hr), p.hr_rise_min_spread * s_hr)


def _fine_hr(t: np.ndarray, v: np.ndarray, g0: int, n_fine: int, p: CrampParams) -> np.ndarray:
    """HR on the fine grid: per-cell median, forward fill <= ``hr_fine_ffill_s``, then a
    3-cell median filter on each finite stretch (removes single-cell PPG artefacts)."""
    step = p.hr_fine_grid_s * _US
    x = _minute_median(t, v, g0, step, n_fine)
    ok = np.isfinite(x)
    last = np.maximum.accumulate(np.where(ok, np.arange(n_fine), -1))
    keep = (last >= 0) & (np.arange(n_fine) - last <= p.hr_fine_ffill_s // p.hr_fine_grid_s)
    x = np.where(keep, x[np.maximum(last, 0)], np.nan)
    return _medfilt_runs(x, p.hr_fine_medfilt_cells)


def _abrupt_sustained(x: np.ndarray, base: np.ndarray, thr: float, p: CrampParams) -> np.ndarray:
    """Fine cells where HR has risen by >= ``thr`` within the last 30 s and then stays
    >= ``base + thr`` for >= 60 s (brief 7.2). Returns the cell indices (onsets)."""
    k = max(1, p.hr_abrupt_window_s // p.hr_fine_grid_s)
    m = max(1, p.hr_sustained_min_s // p.hr_fine_grid_s)
    if x.size <= k + m:
        return np.zeros(0, dtype=np.int64)
    filled = np.where(np.isfinite(x), x, np.inf)
    prior_min = ndimage.minimum_filter1d(filled, size=k, origin=(k - 1) // 2)
    prior_min = np.concatenate([np.full(1, np.inf), prior_min[:-1]])  # min of x[i-k .. i-1]
    above = np.isfinite(x) & (x >= base + thr)
    # above for the m cells starting at i
    c = np.concatenate([[0], np.cumsum(above)])
    run_ok = np.zeros(x.size, bool)
    run_ok[: x.size - m + 1] = (c[m:] - c[: x.size - m + 1]) == m
    rise = np.isfinite(x) & np.isfinite(prior_min) & (x - prior_min >= thr)
    onset = rise & run_ok
    on = np.flatnonzero(onset & ~np.concatenate([[False], onset[:-1]]))
    return on


def _scoring_arrays(c: _Night, p: CrampParams) -> None:
    """The per-night arrays :func:`_score_segment` reads, computed once per night (the
    values are those the per-segment slices gave: fine HR with walking minutes and the
    recovery after them removed, and its rise over the preceding 30 s, whose window only
    looks back, so a night-wide pass equals a pass over each segment's slice)."""
    c.asleep_open = c.asleep & ~c.closed
    c.period_start = int(np.flatnonzero(c.in_period)[0])
    c.period_end = int(np.flatnonzero(c.in_period)[-1]) + 1
    idx = np.arange(c.n)
    last_raw = np.maximum.accumulate(np.where(c.has_raw, idx, -1))
    c.prev_raw = np.concatenate([[-1], last_raw[:-1]])
    c.raw_run_start = np.maximum.accumulate(np.where(c.has_raw, -1, idx)) + 1

    def cum(x: np.ndarray) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(x)])

    c.cum_hr_gap = cum(~np.isfinite(c.hr_s))
    c.cum_raw = cum(c.has_raw)
    c.cum_in_period = cum(c.in_period)
    c.cum_raw_mask = cum(c.raw_mask)
    if c.fine and c.hr_fine is not None:
        k = c.fine_per_cell
        rec = max(0, p.walk_hr_recovery_s // p.grid_s)
        walk_ext = c.walking_cell.copy()
        for r in range(1, rec + 1):
            walk_ext[r:] |= c.walking_cell[:-r]
        xx = c.hr_fine.copy()
        xx[np.repeat(walk_ext, k)[: xx.size]] = np.nan
        kk = max(1, p.hr_abrupt_window_s // p.hr_fine_grid_s)
        filled = np.where(np.isfinite(xx), xx, np.inf)
        pm = ndimage.minimum_filter1d(filled, size=kk, origin=(kk - 1) // 2)
        pm = np.concatenate([np.full(1, np.inf), pm[:-1]])
        with np.errstate(invalid="ignore"):
            c.rise_30s = np.where(np.isfinite(xx) & np.isfinite(pm), xx - pm, -np.inf)
        c.hr_fine_still = xx


def _order_of_events(
    c: _Night, t_on: int, t_off: int, w1: int, first_step: int, b_hr: float, s_hr: float,
    p: CrampParams,
) -> dict[str, float]:
    """Heart rate while still lying vs after getting up (issue 10, brief 6.3 / 5.2).

    * ``rise_lying_bpm``: the highest HR *measured* (raw samples; seconds HR: the fine grid)
      from ``hr_onset_search_before_s`` before the segment up to the first minute with steps
      (getting up; movement in bed does not count), minus the baseline ``b_hr``. A cramp's pain surge starts
      while lying ([lavigne2001] HR rises with nociceptive stimuli in sleep); an orthostatic
      rise (about 10-20 bpm in the first minute of standing, brief 6.3) follows getting up.
    * ``rise_moving_bpm``: the same from the first step minute to ``w1``.
    * ``lead_s``: first step minute minus the onset of the HR rise (first measured HR
      at >= b_hr + max(``sustain_delta_bpm``, 2 s_hr), grade D), in seconds: positive when HR
      rose before anyone stood up. A segment without steps gives the lead to its end.
    * ``post_bpm``: median measured HR over the 10 min after the segment minus ``b_hr``
      (brief 6.1: a cramp's elevation is sustained, a PLM's or rollover's lasts ~10 beats,
      [winkelman1999] [chouchou2011]).

    NaN where no HR was measured in the window.
    """
    out = {"rise_lying_bpm": math.nan, "rise_moving_bpm": math.nan, "lead_s": math.nan,
           "post_bpm": math.nan}
    if not math.isfinite(b_hr):
        return out
    lo = max(0, t_on - int(p.hr_onset_search_before_s // p.grid_s))
    if c.fine and c.hr_fine is not None:
        k = c.fine_per_cell
        x, scale, step_s = c.hr_fine, k, p.hr_fine_grid_s
    else:
        x, scale, step_s = np.where(c.has_raw, c.hr_raw, np.nan), 1, p.grid_s
    a, m, b = lo * scale, min(first_step, w1) * scale, w1 * scale
    lying, moving = x[a:m], x[m:b]
    if np.isfinite(lying).any():
        out["rise_lying_bpm"] = float(np.nanmax(lying) - b_hr)
    if np.isfinite(moving).any():
        out["rise_moving_bpm"] = float(np.nanmax(moving) - b_hr)
    thr = max(p.sustain_delta_bpm, 2.0 * s_hr)
    over = np.flatnonzero(np.isfinite(x[a:b]) & (x[a:b] >= b_hr + thr))
    if over.size:
        out["lead_s"] = float((m - (a + int(over[0]))) * step_s)
    post = x[t_off * scale : min(x.size, (t_off + int(p.sustain_window_s // p.grid_s)) * scale)]
    post = post[np.isfinite(post)]
    if post.size:
        out["post_bpm"] = float(np.median(post) - b_hr)
    return out


def _score_segment(
    c: _Night,
    t_on: int,
    t_off: int,
    s_hr: float,
    p: CrampParams,
    movement_missing: bool | None = None,
) -> dict:
    if c.asleep_open is None:
        _scoring_arrays(c, p)

    def cells(sec: float) -> int:
        return int(sec // p.grid_s)

    n = c.n
    dur_min = (t_off - t_on) * p.grid_s / 60.0

    # --- Step A baseline at onset: preceding 30 min of asleep, non-candidate minutes
    b0 = max(0, t_on - cells(p.baseline_window_s))
    pre = c.hr_s[b0:t_on][c.asleep_open[b0:t_on]]
    pre = pre[np.isfinite(pre)]
    b_hr = _median(pre) if pre.size >= cells(p.baseline_min_s) else c.night_med

    # --- HR coverage
    m0, m1 = (
        max(0, t_on - cells(p.hr_missing_before_s)),
        min(n, t_off + cells(p.hr_missing_after_s)),
    )
    hr_missing_frac = int(c.cum_hr_gap[m1] - c.cum_hr_gap[m0]) / (m1 - m0)  # = np.mean
    raw_in_segment = bool(c.cum_raw[t_off] > c.cum_raw[t_on])

    # --- dHR over [t_on, t_off + 3 min], ignoring HR sampled during walking minutes
    w1 = min(n, t_off + cells(p.hr_peak_after_s))
    win = c.hr_s[t_on:w1]
    win_src = c.src[t_on:w1]
    walk_sourced = (win_src >= 0) & c.walking_cell[np.maximum(win_src, 0)]
    win = np.where(walk_sourced, np.nan, win)
    dhr, peak = math.nan, None
    win_ok = np.isfinite(win)
    if math.isfinite(b_hr) and win_ok.any():
        rel = int(np.argmax(np.where(win_ok, win, -np.inf)))  # = np.nanargmax (first max)
        peak = t_on + rel
        dhr = float(win[rel] - b_hr)
    hr_usable = hr_missing_frac <= p.hr_missing_max_frac and math.isfinite(dhr)

    # --- sustained elevation after the segment
    post = c.hr_s[t_off : min(n, t_off + cells(p.sustain_window_s))]
    hr_sustain_min = (
        float(np.sum(np.isfinite(post) & (post - b_hr >= p.sustain_delta_bpm))) * p.grid_s / 60.0
        if math.isfinite(b_hr)
        else math.nan
    )

    # --- abruptness (evidence): slope into the peak sample, prominence of peaks in the window
    slope = prominence = math.nan
    if peak is not None:
        peak_src = int(c.src[peak])
        prev = int(c.prev_raw[peak_src])  # last raw sample in the hour before the peak's
        if prev >= max(0, peak_src - 60):
            slope = float(
                (c.hr_raw[peak_src] - c.hr_raw[prev]) / ((peak_src - prev) * p.grid_s / 60.0)
            )
        i0, i1 = np.searchsorted(c.peak_idx, [t_on, w1])  # peaks in [t_on, w1), sorted
        if i1 > i0:
            prominence = float(c.peak_prom[i0:i1].max())

    # --- movement: steps, walking (>= 2 consecutive minutes at >= 40/min, or >= 60 steps)
    seg_steps = c.steps[t_on:t_off]
    steps_tot = float(seg_steps.sum()) if c.has_steps else math.nan
    overlap = np.minimum(c.walk_off, t_off) - np.maximum(c.walk_on, t_on)
    walk_run = int(overlap.max()) if overlap.size else 0
    walk = bool(
        c.has_steps and (walk_run * p.grid_s >= p.walk_min_s or steps_tot >= p.walk_total_steps)
    )
    seg_act = c.act_z[t_on:t_off]
    act_peak = float(seg_act.max()) if c.has_act else math.nan
    moving = np.flatnonzero((seg_steps > 0) | (seg_act >= p.act_z_min))
    arousal_end = t_on + int(moving[-1]) if moving.size else t_on
    if peak is not None and hr_usable:
        arousal_end = max(arousal_end, min(peak, t_off - 1))
    wake_after_min = max(0.0, (t_off - arousal_end - 1) * p.grid_s / 60.0)

    # --- order of events (issue 10; brief 6.3 "a pain surge that starts while still lying,
    # before any movement, vs a heart-rate rise that follows getting up"): HR read only
    # before the first movement minute of the segment, the onset of the HR rise against the
    # first movement, and HR after the movement ends
    stepping = np.flatnonzero(seg_steps > 0)
    first_step = t_on + int(stepping[0]) if stepping.size else t_off
    lying = _order_of_events(c, t_on, t_off, w1, first_step, b_hr, s_hr, p)
    steps_before_peak = (
        float(c.steps[t_on : max(t_on, peak)].sum()) if c.has_steps and peak is not None
        else math.nan
    )
    since_onset_min = float((t_on - c.period_start) * p.grid_s / 60.0)

    # --- background restlessness and PLM-like periodicity
    r0 = max(0, t_on - cells(p.restless_window_s))
    r1 = min(n, t_off + cells(p.restless_window_s))
    # fraction of the period's minutes around (not in) the segment that are candidates
    n_around = int(
        c.cum_in_period[r1] - c.cum_in_period[r0] - (c.cum_in_period[t_off] - c.cum_in_period[t_on])
    )
    n_restless = int(
        c.cum_raw_mask[r1] - c.cum_raw_mask[r0] - (c.cum_raw_mask[t_off] - c.cum_raw_mask[t_on])
    )
    restless_frac = n_restless / n_around if n_around else 0.0
    in_win = (c.bout_on >= r0) & (c.bout_on < r1)
    n_short = int(np.sum(in_win & (c.bout_len_s <= p.plm_short_bout_max_s)))
    in_seg = (c.bout_on >= t_on) & (c.bout_on < t_off)
    seg_longest_s = int(c.bout_len_s[in_seg].max()) if in_seg.any() else 0

    # --- fine HR (seconds exports): abrupt (<= 30 s) rise sustained >= 60 s, brief 7.2
    hr_sustained_s = hr_rise_30s = math.nan
    if c.fine and c.hr_fine is not None and math.isfinite(b_hr):
        k = c.fine_per_cell
        f0 = max(0, (t_on * k) - p.hr_onset_search_before_s // p.hr_fine_grid_s)
        f1 = min(c.hr_fine.size, w1 * k)
        # walking and the recovery after it explain HR (fine cells of those minutes dropped)
        xf = c.hr_fine_still[f0:f1]
        fin = np.isfinite(xf)
        if fin.any():
            thr = _surge_threshold(b_hr, s_hr, p)
            above = fin & (xf >= b_hr + thr)
            hr_sustained_s = 0.0
            if above.any():
                on, off = _runs(above)
                hr_sustained_s = float((off - on).max() * p.hr_fine_grid_s)
            d = c.rise_30s[f0:f1]
            d_max = float(d.max()) if d.size else -math.inf
            hr_rise_30s = d_max if math.isfinite(d_max) else math.nan

    # --- watch-off edge: HR gap longer than the forward fill just before the peak
    gap_before_s = math.nan
    if peak is not None and p.hr_gap_edge_s > 0:
        peak_src = int(c.src[peak])
        if peak_src >= 0:
            first = int(c.raw_run_start[peak_src])  # first raw sample of the peak's stretch
            prev = int(c.prev_raw[first])
            gap_cells = first - (prev + 1) if prev >= 0 else first
            gap_before_s = float(gap_cells * p.grid_s)
            if (peak_src - first) * p.grid_s > p.hr_gap_edge_s:
                gap_before_s = 0.0  # the peak is not at the edge of that gap

    # --- movement-only HR: seconds HR in the minute after the last movement minute
    hr_after_move = math.nan
    if c.fine and c.hr_fine is not None and moving.size and math.isfinite(b_hr):
        after = t_on + int(moving[-1]) + 1
        if after < n:
            k = c.fine_per_cell
            cell_hr = c.hr_fine[after * k : (after + 1) * k]
            cell_hr = cell_hr[np.isfinite(cell_hr)]
            if cell_hr.size:
                hr_after_move = _median(cell_hr)

    # --- steps of a walk following the segment (bathroom trip split off by a gap)
    steps_following = math.nan
    if c.has_steps and p.bathroom_follow_s > 0:
        f1 = min(n, t_off + cells(p.bathroom_follow_s))
        steps_following = float(c.steps[t_off:f1].sum())

    # --- explicit confounders
    surge = hr_usable and (
        (dhr >= p.hr_rise_min_bpm or dhr / b_hr >= p.hr_rise_min_frac)
        and dhr >= p.hr_rise_min_spread * s_hr
    )
    if c.fine and surge:  # seconds HR: the rise must also be abrupt and sustained >= 60 s
        thr = _surge_threshold(b_hr, s_hr, p)
        surge = (hr_sustained_s >= p.hr_sustained_min_s) and (hr_rise_30s >= thr)
    suppressed_by = None
    period_end = c.period_end
    if not raw_in_segment and hr_missing_frac > p.hr_missing_max_frac:
        suppressed_by = "watch_off"
    elif (period_end - t_off) * p.grid_s < p.final_wake_guard_s:
        suppressed_by = "final_awakening"
    elif (walk and steps_tot >= p.walk_veto_steps) or steps_following >= p.walk_veto_steps:
        suppressed_by = "bathroom_trip"
    elif gap_before_s > p.hr_ffill_max_s:
        suppressed_by = "watch_off"
    elif n_short >= p.plm_min_bouts and seg_longest_s <= p.plm_short_bout_max_s:
        suppressed_by = "restless_plm_like"
    elif p.post_move_hr_check and hr_after_move < b_hr + p.sustain_delta_bpm:
        suppressed_by = "movement_only_hr"
    elif hr_usable and not surge:
        suppressed_by = "rollover_or_phone"
    present = ["bathroom_trip"] if walk and suppressed_by != "bathroom_trip" else []
    # each physiological rule on its own (the chain above reports only the first that fires)
    rules = {
        "bathroom_trip": bool(
            (walk and steps_tot >= p.walk_veto_steps) or steps_following >= p.walk_veto_steps
        ),
        "restless_plm_like": bool(
            n_short >= p.plm_min_bouts and seg_longest_s <= p.plm_short_bout_max_s
        ),
        "movement_only_hr": bool(
            p.post_move_hr_check and hr_after_move < b_hr + p.sustain_delta_bpm
        ),
        "rollover_or_phone": bool(hr_usable and not surge),
    }
    model_mode = p.scorer == "model"
    if model_mode and suppressed_by not in (None, "watch_off", "final_awakening"):
        present.append(suppressed_by)
        suppressed_by = None

    # --- Step D logistic confidence
    terms: dict[str, float] = {"intercept": p.w_intercept}
    if model_mode:
        pass  # terms from the fitted model, below (they need the evidence dict)
    elif hr_usable:
        terms["hr_rise"] = p.w_hr_rise * min(max(dhr, 0.0) / p.hr_rise_scale_bpm, p.term_cap)
        terms["hr_sustain"] = p.w_hr_sustain * min(
            hr_sustain_min / p.hr_sustain_scale_min, p.term_cap
        )
    if not model_mode:
        if c.has_act and math.isfinite(act_peak) and not walk:  # walking explains activity
            terms["act_peak"] = p.w_act_peak * min(
                max(act_peak, 0.0) / p.act_peak_scale, p.term_cap
            )
        terms["duration"] = p.w_duration * math.log1p(dur_min)
        if c.has_steps and 0 < steps_tot <= p.few_steps_max:
            terms["few_steps"] = p.w_few_steps
        if walk:
            terms["walk"] = p.w_walk
        terms["restless"] = p.w_restless * restless_frac
        terms["wake_after"] = p.w_wake_after * math.log1p(wake_after_min)
    caps: list[str] = []
    evidence = {
        "method": "brief7.2_fine_hr" if c.fine else "brief7.1_minute_export",
        "scorer": p.scorer,
        "hr_sample_spacing_s": _r(c.hr_spacing_s, 1),
        "hr_sustained_s": _r(hr_sustained_s, 0),
        "hr_rise_30s_bpm": _r(hr_rise_30s),
        "params": p.name,
        "params_id": _params_id(p),
        "night_staged": c.staged,
        "hr_rise_bpm": _r(dhr),
        "hr_rise_frac": _r(dhr / b_hr if math.isfinite(dhr) and b_hr else math.nan, 3),
        "hr_rise_z": _r(dhr / s_hr if math.isfinite(dhr) else math.nan),
        "hr_baseline_bpm": _r(b_hr),
        "hr_spread_bpm": _r(s_hr),
        "hr_sustain_min": _r(hr_sustain_min),
        "hr_onset_slope_bpm_min": _r(slope),
        "hr_peak_prominence_bpm": _r(prominence),
        "hr_missing_frac": _r(hr_missing_frac, 3),
        "act_peak_z": _r(act_peak),
        "act_explained_by_walk": bool(walk and c.has_act),
        "steps": _r(steps_tot, 1),
        "walk": walk,
        "wake_s": _r(dur_min * 60.0, 0),
        "wake_after_s": _r(wake_after_min * 60.0, 0),
        "restless_frac": _r(restless_frac, 3),
        "short_wake_bouts_count": n_short,
        "hr_gap_before_onset_s": _r(gap_before_s, 0),
        "hr_after_move_bpm": _r(hr_after_move),
        "steps_following": _r(steps_following, 1),
        "hr_rise_lying_bpm": _r(lying["rise_lying_bpm"]),
        "hr_rise_moving_bpm": _r(lying["rise_moving_bpm"]),
        "hr_lead_s": _r(lying["lead_s"], 0),
        "hr_post_bpm": _r(lying["post_bpm"]),
        "stepped": bool(stepping.size),
        "steps_before_peak": _r(steps_before_peak, 1),
        "since_onset_min": _r(since_onset_min, 1),
        "rules": [k for k, v in rules.items() if v],
    }
    if model_mode:
        # filled in by _finish_model_scores (one vectorised pass over all candidates)
        terms["model"] = 0.0
    logit = sum(terms.values())
    confidence = 1.0 / (1.0 + math.exp(-logit))
    if not hr_usable:  # HR missing, no baseline, or HR only while walking: HR terms dropped
        confidence = min(confidence, p.hr_missing_confidence_cap)
        caps.append("hr_missing")
    if movement_missing:  # no movement channel around the segment: terms not evaluable
        confidence = min(confidence, p.movement_missing_confidence_cap)
        caps.append("movement_channel_missing")
    if suppressed_by is not None:
        confidence = 0.0

    evidence.update({
        "logit": _r(logit, 3),
        "logit_terms": {k: _r(v, 3) for k, v in terms.items()},
        "confidence_caps": caps,
        "movement_channel_missing": movement_missing,
        "confounders_ruled_out": [
            x for x in CONFOUNDERS if x != suppressed_by and x not in present
        ],
        "confounders_present": present,
        "suppressed_by": suppressed_by,
    })
    return {
        "start_us": int(c.g0 + t_on * c.step),
        "end_us": int(c.g0 + t_off * c.step),
        "confidence": round(confidence, 4),
        "label": label_for(confidence),
        "suppressed_by": suppressed_by,
        "evidence": evidence if model_mode else json.dumps(evidence),
    }


def _finish_model_scores(rows: list[dict], p: CrampParams) -> None:
    """Model scorer: the fitted model's log-odds for all candidates in one vectorised pass
    (:func:`detectors.cramp_model.raw_scores`), then the same caps and vetoes as the brief
    scorer. The model's log-odds enter as the term ``model`` = log-odds - (-4.0), so
    ``w_intercept`` keeps the brief's origin and per-participant calibration shifts it."""
    if not rows:
        return
    ev = [r["evidence"] for r in rows]
    raw = cramp_model.raw_scores(cramp_model.matrix(ev))
    for r, e, z in zip(rows, ev, raw, strict=True):
        terms = e["logit_terms"]
        terms["model"] = _r(float(z) - _BRIEF_INTERCEPT, 3)
        logit = p.w_intercept + float(z) - _BRIEF_INTERCEPT
        conf = 1.0 / (1.0 + math.exp(-logit))
        if "hr_missing" in e["confidence_caps"]:
            conf = min(conf, p.hr_missing_confidence_cap)
        if "movement_channel_missing" in e["confidence_caps"]:
            conf = min(conf, p.movement_missing_confidence_cap)
        if r["suppressed_by"] is not None:
            conf = 0.0
        e["logit"] = _r(logit, 3)
        r["confidence"] = round(conf, 4)
        r["label"] = label_for(conf)
        r["evidence"] = json.dumps(e)


@functools.lru_cache(maxsize=64)
def _params_id(p: CrampParams) -> str:
    """sha1 of the parameter values without ``name`` (same as calibration.params_id)."""
    d = asdict(p)
    d.pop("name", None)
    return hashlib.sha1(json.dumps(d, sort_keys=True).encode()).hexdigest()[:12]


def _r(x: float, nd: int = 2) -> float | None:
    """Round for evidence; NaN/inf become JSON null (missing is null, never zero)."""
    if x is None or not math.isfinite(x):
        return None
    return round(float(x), nd)


NIGHT_FEATURES_SCHEMA: dict[str, pl.DataType] = {
    "participant_id": pl.String,
    "night_of": pl.Date,
    "minute_utc": UTC_DT,
    "in_period": pl.Boolean,  # inside the main sleep period (else the 30-min margins)
    "stage": pl.String,  # asleep | awake | null (no record: watch off / unknown)
    "hr_bpm": pl.Float64,  # median of the minute's HR samples; null = gap
    "hr_filtered_bpm": pl.Float64,  # Step A filtered HR (forward fill <= 5 min, medfilt 3)
    "hr_baseline_bpm": pl.Float64,  # the night's sleeping baseline (median, asleep minutes)
    "hr_rel_bpm": pl.Float64,  # filtered HR - baseline
    "hr_z": pl.Float64,  # hr_rel_bpm / s_hr (robust SD of the night's asleep HR)
    "steps": pl.Float64,  # steps in the minute; null when the night has no step data
    "act_z": pl.Float64,  # activity robust z against asleep minutes; null without activity
    "candidate": pl.Boolean,  # Step B candidate minute (after closing)
}


def compute_night_features(
    samples: pl.DataFrame,
    sleep_segments: pl.DataFrame,
    sleep_periods: pl.DataFrame,
    *,
    params: CrampParams = CrampParams(),
) -> pl.DataFrame:
    """Per participant-minute night features, as the cramp detector sees them.

    Same inputs and Step A/B processing as :func:`detect_nocturnal_cramps`, over each main
    sleep period with 30 min of margin: HR relative to the night's sleeping baseline
    (median and MAD of asleep minutes), activity relative to its asleep baseline, stage,
    steps, candidate minutes. Gaps are explicit: ``hr_bpm`` null where the minute has no
    sample, ``stage`` null where nothing was recorded (watch off). For the dashboard.

    Returns ``NIGHT_FEATURES_SCHEMA`` rows sorted by participant and minute.
    """
    smp = prepare(samples, "samples", SAMPLES_SCHEMA)
    seg = prepare(sleep_segments, "sleep_segments", SLEEP_SEGMENTS_SCHEMA)
    per = prepare(
        sleep_periods,
        "sleep_periods",
        {k: SLEEP_PERIOD_SCHEMA[k] for k in ("participant_id", "night_of", "start_utc", "end_utc")},
    )
    if per.height == 0:
        return pl.DataFrame(schema=NIGHT_FEATURES_SCHEMA)
    smp = keep_finest_resolution(
        smp.filter(pl.col("metric").is_in(["heart_rate_bpm", "steps", "active_energy_kcal"]))
    ).select(
        "participant_id",
        "metric",
        s=pl.col("start_utc").dt.epoch("us"),
        e=pl.col("end_utc").dt.epoch("us"),
        v=pl.col("value"),
        src=(
            pl.col("source").cast(pl.String).fill_null("")
            if "source" in smp.columns
            else pl.lit("")
        ),
    )
    seg = seg.select(
        "participant_id",
        "stage",
        s=pl.col("start_utc").dt.epoch("us"),
        e=pl.col("end_utc").dt.epoch("us"),
    ).filter(pl.col("e") > pl.col("s"))
    smp_by = {k[0]: v for k, v in smp.partition_by("participant_id", as_dict=True).items()}
    seg_by = {k[0]: v for k, v in seg.partition_by("participant_id", as_dict=True).items()}
    parts = []
    for (pid,), nights in (
        per.sort("participant_id", "start_utc")
        .partition_by("participant_id", as_dict=True, maintain_order=True)
        .items()
    ):
        data = _ParticipantData.build(smp_by.get(pid), seg_by.get(pid))
        for night, ps, pe in zip(
            nights["night_of"].to_list(),
            nights["start_utc"].dt.epoch("us").to_list(),
            nights["end_utc"].dt.epoch("us").to_list(),
            strict=True,
        ):
            c = _prepare_night(data, int(ps), int(pe), params)
            s_hr = _robust_spread(c.sleep_hr, params.hr_spread_floor_bpm)
            edges = c.g0 + c.step * np.arange(c.n + 1, dtype=np.int64)
            awake_cov = _coverage_s(data.awake, edges) >= params.stage_min_cover_s
            stage = np.where(
                c.asleep,
                "asleep",
                np.where(c.in_period & ~c.asleep & (awake_cov | ~c.staged), "awake", None),
            )
            base = c.night_med
            parts.append(
                pl.DataFrame(
                    {
                        "participant_id": [pid] * c.n,
                        "night_of": [night] * c.n,
                        "minute_utc": pl.Series(edges[:-1], dtype=pl.Int64).cast(UTC_DT),
                        "in_period": c.in_period,
                        "stage": pl.Series(stage.tolist(), dtype=pl.String),
                        "hr_bpm": pl.Series(c.hr_raw, dtype=pl.Float64).fill_nan(None),
                        "hr_filtered_bpm": pl.Series(c.hr_s, dtype=pl.Float64).fill_nan(None),
                        "hr_baseline_bpm": np.full(c.n, base),
                        "hr_rel_bpm": pl.Series(c.hr_s - base, dtype=pl.Float64).fill_nan(None),
                        "hr_z": pl.Series((c.hr_s - base) / s_hr, dtype=pl.Float64).fill_nan(None),
                        "steps": c.steps if c.has_steps else np.full(c.n, np.nan),
                        "act_z": np.where(np.isfinite(c.act_z), c.act_z, np.nan)
                        if c.has_act
                        else np.full(c.n, np.nan),
                        "candidate": c.closed,
                    }
                ).with_columns(
                    pl.col("steps", "act_z", "hr_baseline_bpm").fill_nan(None),
                )
            )
    if not parts:
        return pl.DataFrame(schema=NIGHT_FEATURES_SCHEMA)
    return pl.concat(parts).cast(NIGHT_FEATURES_SCHEMA).sort("participant_id", "minute_utc")  # type: ignore[arg-type]
