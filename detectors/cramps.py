"""Likely nocturnal leg-cramp episodes from minute-level consumer exports (Apple Health).

Inputs are what an Apple Watch / iPhone export gives during a night: heart-rate point samples
about every 5 min, sleep-stage segments (or, in old exports, only ``in_bed``/``asleep``), step
counts and active energy over intervals. The method is variant (i) of the design brief
(section 7.1), adapted to those signals; every adaptation is listed in
:func:`detect_nocturnal_cramps` and every threshold in :class:`CrampParams` names its source.

Design rule (brief section 7): no trigger variable (heat, fluids, nutrients, medication) is
used here, otherwise the trigger statistics would be circular.

The detector is split along its steps; this module holds the parameters and the public
functions, and re-exports what other code imports from it:

* ``detectors/cramp_prep.py``: input frames -> per-participant arrays; per-night grids,
  stage coverage, Step A minute HR and the fine HR grid;
* ``detectors/cramp_grid.py``: the numpy helpers on the grid (medians, MADs, median filters,
  coverage, runs; per night and for nights laid end to end);
* ``detectors/cramp_segments.py``: Step B candidate segments (and the fine-HR surges);
* ``detectors/cramp_features.py``: Step C features of a segment (incl. the order of events);
* ``detectors/cramp_score.py``: Step D confounder rules, brief and model scorers, evidence;
* ``detectors/cramp_model.py``: the fitted logistic model read by the model scorer;
* ``detectors/cramp_output.py``: candidate frame, episodes, the per-minute night view.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import asdict, dataclass

import numpy as np
import polars as pl

from detectors.cramp_grid import _seg_scipy_spread
from detectors.cramp_output import (
    CANDIDATE_SCHEMA,
    NIGHT_FEATURES_SCHEMA,
    _candidate_frame,
    _episodes,
    _night_features,
)
from detectors.cramp_prep import _arrays_by_participant, _ParticipantData
from detectors.cramp_score import CONFOUNDERS, _finish_model_scores, _score_segment
from detectors.cramp_segments import _check_other_movement, _Night, _prepare_nights
from detectors.frames import SAMPLES_SCHEMA, SLEEP_SEGMENTS_SCHEMA, prepare
from detectors.schema import SLEEP_PERIOD_SCHEMA

__all__ = [
    "CANDIDATE_SCHEMA",
    "CONFOUNDERS",
    "DETECTOR_VERSION",
    "KIND",
    "NIGHT_FEATURES_SCHEMA",
    "CrampParams",
    "compute_night_features",
    "detect_nocturnal_cramps",
    "score_cramp_candidates",
]

DETECTOR_VERSION = "cramp-0.4"
KIND = "nocturnal_cramp"


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
    return _episodes(cand, KIND, DETECTOR_VERSION)


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

    smp_by, seg_by = _arrays_by_participant(smp, seg)

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
        ctxs = _prepare_nights(data, ps_all, pe_all, params)
        for night, ctx in zip(nights["night_of"].to_list(), ctxs, strict=True):
            if ctx.segments:
                prepared.append((pid, night, ctx))
    if not prepared:
        return pl.DataFrame(schema=CANDIDATE_SCHEMA)
    # s_hr per night: scipy's median_abs_deviation(scale="normal") (the one scipy call
    # over NaN-padded rows, kept as the specification in tests/detectors),
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
    params_id = _params_id(params)
    for (pid, night, ctx), s_hr in zip(prepared, spreads, strict=True):
        seen = ctx.movement_seen
        missing = [None] * len(ctx.segments) if seen is None else [x != 3 for x in seen]
        for (t_on, t_off), move_missing in zip(ctx.segments, missing, strict=True):
            cand = _score_segment(ctx, t_on, t_off, float(s_hr), params, params_id, move_missing)
            cand["participant_id"] = pid
            cand["night_of"] = night
            rows.append(cand)
    if params.scorer == "model":
        _finish_model_scores(rows, params)
    return _candidate_frame(rows)


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
    return _night_features(samples, sleep_segments, sleep_periods, params)


@functools.lru_cache(maxsize=64)
def _params_id(p: CrampParams) -> str:
    """sha1 of the parameter values without ``name`` (same as calibration.params_id)."""
    d = asdict(p)
    d.pop("name", None)
    return hashlib.sha1(json.dumps(d, sort_keys=True).encode()).hexdigest()[:12]
