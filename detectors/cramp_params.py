"""Parameters of the minute-level cramp detector (:mod:`detectors.cramps`): every threshold
and weight with its source, and the id of a parameter set.

Apart from the detector so that what reads or compares parameter sets (calibration, the
episode review, the store's parameter sets) does not load the detector and scipy. Re-exported
by :mod:`detectors.cramps`.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import asdict, dataclass

#: version of the minute-level cramp detector, stored with its episodes and parameter sets
DETECTOR_VERSION = "cramp-0.4.2"  # 0.4.1: watch-off edge relative to the HR cadence; 0.4.2: capped
KIND = "nocturnal_cramp"


@dataclass(frozen=True)
class CrampParams:
    """Thresholds and weights of :func:`detect_nocturnal_cramps`.

    Each field cites ``detectors.references.REFERENCES[key]``. ``crampwatch_brief`` values are
    from the design brief; those it grades **D** (engineering assumptions, no direct evidence:
    in particular all logistic weights) say "grade D".
    """

    #: identifier written to ``evidence["params"]``; change it whenever a value changes
    name: str = "cramp-brief-7.1-v5"

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
    #: [apple_hr_cadence] grade D: a gap before the peak counts as the watch coming back only
    #: when it is also longer than this many times the night's median HR sample spacing.
    #: Apple Watch samples HR every few minutes at rest (up to ~10 min in a real export), so
    #: a 5-min gap is its ordinary cadence, not a removed watch; on seconds HR (Fitbit) the
    #: forward-fill limit above still decides
    hr_gap_edge_cadence_factor: float = 3.0
    #: [apple_hr_cadence] grade D: ... but a gap longer than this is the watch coming back
    #: whatever the night's cadence: about twice the longest resting spacing in the real
    #: export (617 s), so a sparsely sampled night cannot stretch "cadence" over a removed
    #: watch (three 12-min cadences would pass a 35-min hole)
    hr_gap_edge_max_s: int = 1200
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


@functools.lru_cache(maxsize=64)
def _params_id(p: CrampParams) -> str:
    """sha1 of the parameter values without ``name`` (same as calibration.params_id)."""
    d = asdict(p)
    d.pop("name", None)
    return hashlib.sha1(json.dumps(d, sort_keys=True).encode()).hexdigest()[:12]
