"""Parameters of the raw-accelerometry cramp detector (:mod:`detectors.cramps_raw`):
:class:`RawCrampParams`, every field citing its source (``REFERENCES[key]``; grade D =
engineering assumption), and the method name of the nights whose sleep period it finds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from detectors.actigraphy import METHOD_HDCZA, ActigraphyParams

#: ``sleep_periods.method`` of nights whose period comes from raw accelerometry
METHOD = METHOD_HDCZA

_US = 1_000_000
_MAD_NORMAL = 1.482602218505602  # 1 / Phi^-1(3/4), scipy's scale="normal"


@dataclass(frozen=True)
class RawCrampParams:
    """Thresholds and weights of :func:`analyse_night`; each field cites ``REFERENCES[key]``.

    ``crampwatch_brief`` values are from section 7.2 of the design brief (restating 7.1 where
    it says "same logistic form"); grade D values are engineering assumptions.
    """

    #: identifier written to ``evidence["params"]``; change it whenever a value changes
    name: str = "cramp-raw-brief-7.2-v1"

    # --- grid ---
    #: [crampwatch_brief] grade D: a sample interval longer than this is a recording gap
    max_gap_s: float = 1.0
    #: [vanhees2018] grade D: HDCZA needs the whole noon-to-noon window; fewer hours of data
    #: in a night give no period
    min_night_data_h: float = 1.0

    # --- movement envelope (brief 7.2 preprocessing) ---
    bandpass_low_hz: float = 0.5  # [crampwatch_brief] 7.2: butter(4, [0.5, 15]) band-pass
    #: [crampwatch_brief] 7.2: upper edge 15 Hz; grade D: lowered to 0.45 fs below 33 Hz
    bandpass_high_hz: float = 15.0
    filter_order: int = 4  # [crampwatch_brief] 7.2: 4th-order Butterworth, sosfiltfilt
    envelope_hz: int = 10  # [crampwatch_brief] grade D: envelope kept at 0.1-s resolution
    rms_window_s: float = 1.0  # [crampwatch_brief] 7.2: 1-s RMS envelope
    theta_mad_mult: float = 5.0  # [crampwatch_brief] 7.2: theta = median + max(5 MAD, ...)
    theta_floor_g: float = 0.010  # [crampwatch_brief] 7.2: ... 0.010 g)

    # --- movement events ---
    closing_s: float = 1.0  # [crampwatch_brief] 7.2: binary_closing with 1 s
    min_event_s: float = 0.5  # [aasm_scoring] LM >= 0.5 s (brief 7.2 drops events < 0.5 s)
    angle_context_s: int = 5  # [crampwatch_brief] 7.2: 5-s median z-angle before vs after
    plm_min_s: float = 0.5  # [aasm_scoring] LM duration 0.5-10 s
    plm_max_s: float = 10.0  # [aasm_scoring]
    plm_min_ioi_s: float = 5.0  # [aasm_scoring] IMI 5-90 s ([ferri2016] WASM: 10-90 s)
    plm_max_ioi_s: float = 90.0  # [aasm_scoring]
    plm_min_count: int = 4  # [aasm_scoring] >= 4 consecutive LMs
    rollover_max_s: float = 15.0  # [crampwatch_brief] 6.3 grade D: isolated movement <= 15 s
    rollover_min_dz_deg: float = 30.0  # [crampwatch_brief] 6.3 grade D: z-angle change >= 30
    large_min_s: float = 3.0  # [ferri2021] large muscle group movements 3-45 s
    large_max_s: float = 45.0  # [ferri2021]

    # --- activity episodes and candidates ---
    episode_merge_gap_s: float = 30.0  # [crampwatch_brief] 7.2: merge events with gaps <= 30 s
    candidate_min_s: float = 10.0  # [crampwatch_brief] 7.2: T_ep >= 10 s
    #: [crampwatch_brief] 7.2: followed by >= 60 s of non-sleep (van Hees 2015 criterion)
    wake_after_min_s: float = 60.0
    #: [hallegraeff2017] cramps last seconds to <= 10 min: an episode is read at most 30 min
    #: after its onset for the wake that follows (grade D cap)
    wake_after_cap_s: float = 1800.0
    #: [crampwatch_brief] 7.1 grade D: an episode ending within 5 min of the period end is the
    #: final awakening (a cramp causing it cannot be told from getting up)
    final_wake_guard_s: float = 300.0

    # --- walking (brief 7.2) ---
    walk_band_low_hz: float = 0.5  # [crampwatch_brief] 7.2: band-pass 0.5-3 Hz on the magnitude
    walk_band_high_hz: float = 3.0  # [crampwatch_brief] 7.2
    walk_peak_distance_s: float = 0.3  # [crampwatch_brief] 7.2: find_peaks(distance=0.3 fs)
    #: [crampwatch_brief] 7.2 "prominence=p"; grade D: 0.05 g (heel strikes at the wrist are
    #: 0.1-0.5 g, breathing and sensor noise < 0.01 g)
    walk_peak_prominence_g: float = 0.05
    walk_min_cadence_hz: float = 1.2  # [crampwatch_brief] 7.2: cadence 1.2-2.5 Hz ...
    walk_max_cadence_hz: float = 2.5  # [crampwatch_brief] 7.2 ([tudorlocke2018] 100 steps/min)
    walk_min_s: float = 10.0  # [crampwatch_brief] 7.2: ... sustained >= 10 s
    #: [crampwatch_brief] grade D: walking is looked for from 2 min before the episode to 2 min
    #: after it (HR still raised by a walk just finished, [cole1999])
    walk_context_s: float = 120.0
    #: [crampwatch_brief] 6.3: a bathroom trip has >= 60 steps in total; below that walking is
    #: a soft negative (cramp relief may take a few steps)
    walk_veto_steps: float = 60.0
    few_steps_max: float = 30.0  # [crampwatch_brief] 7.1 Step D: 0 < steps <= 30 (stretch/stand)

    # --- heart rate ---
    hr_grid_s: int = 1  # [crampwatch_brief] 7.2: HR at >= 1 Hz
    #: [crampwatch_brief] grade D: forward fill gaps <= 10 s (5-s Apple-like sampling)
    hr_ffill_s: int = 10
    #: [crampwatch_brief] 7.1 Step A medfilt against single-sample PPG artefacts, 5 s at 1 Hz
    hr_medfilt_s: int = 5
    baseline_window_s: float = 1800.0  # [crampwatch_brief] 7.1 Step A: preceding 30 min asleep
    #: [crampwatch_brief] grade D: fewer asleep HR seconds before onset -> night's asleep median
    baseline_min_s: float = 300.0
    hr_spread_floor_bpm: float = 2.0  # [crampwatch_brief] 7.1 Step A: s_hr floor 2 bpm
    hr_rise_min_bpm: float = 10.0  # [crampwatch_brief] 7.2: rise >= 10 bpm ...
    hr_rise_min_frac: float = 0.10  # [crampwatch_brief] 7.2: ... or >= 10 %; [lavigne2001] 4-7 %
    #: [leys2013] grade D: the rise must also exceed 3 robust SDs of the night's asleep HR
    hr_rise_min_spread: float = 3.0
    #: [crampwatch_brief] 7.2: the rise happens within 30 s (of the episode onset, and the
    #: crossing is looked for up to 30 s after it)
    hr_abrupt_window_s: int = 30
    #: [crampwatch_brief] grade D: the crossing may start up to 10 s before the first event
    #: above theta (the envelope's 1-s RMS lags the movement onset)
    hr_onset_before_s: int = 10
    #: [crampwatch_brief] 7.2: sustained >= 60 s; [chouchou2011] brief nociceptive responses
    #: recover in ~7 beats; [winkelman1999] PLM-related rises last ~10 beats
    hr_sustained_min_s: int = 60
    hr_peak_after_s: float = 180.0  # [crampwatch_brief] 7.1 Step C: dHR over [t_on, t_off+3 min]
    hr_missing_before_s: float = 300.0  # [crampwatch_brief] 7.1 Step C: [t_on - 5 min, ...
    hr_missing_after_s: float = 600.0  # [crampwatch_brief] 7.1 Step C: ... t_off + 10 min]
    hr_missing_max_frac: float = 0.5  # [crampwatch_brief] 7.1 Step D: hr_missing > 0.5 ...
    hr_missing_confidence_cap: float = 0.5  # [crampwatch_brief] 7.1 Step D: ... cap at 0.5

    # --- confounders ---
    #: [vanhees2013] grade D: after taking the watch off, the next 2 min are flat (per-axis SD
    #: < 13 mg on >= 2 axes, the non-wear rule on a shorter window) or missing, with no HR
    watch_off_window_s: float = 120.0
    watch_off_sd_g: float = 0.013  # [vanhees2013] per-axis SD < 13 mg
    #: [crampwatch_brief] 6.3 grade D: reading the phone = >= 60 s of small movements (95th
    #: percentile of the envelope < 0.1 g: taps and scrolls, no limb movement) with no surge
    phone_min_s: float = 60.0
    phone_max_r_g: float = 0.10  # [crampwatch_brief] 6.3 grade D
    plm_context_s: float = 1800.0  # [crampwatch_brief] 7.1 Step C: restless density in +-30 min

    # --- logistic confidence (brief 7.1 Step D restated for 7.2; all grade D) ---
    w_intercept: float = -4.0  # [crampwatch_brief] 7.1 Step D grade D
    w_hr_rise: float = 1.2  # [crampwatch_brief] 7.1 Step D grade D: 1.2 min(dHR / 10, 3)
    hr_rise_scale_bpm: float = 10.0  # [crampwatch_brief] 7.1 Step D grade D
    w_hr_sustain: float = 0.5  # [crampwatch_brief] 7.1 Step D grade D: 0.5 min(sustain / 3, 3)
    hr_sustain_scale_min: float = 3.0  # [crampwatch_brief] 7.1 Step D grade D
    w_act_peak: float = 0.8  # [crampwatch_brief] 7.1 Step D grade D: 0.8 min(act_peak_z / 5, 3)
    act_peak_scale: float = 5.0  # [crampwatch_brief] 7.1 Step D grade D
    #: [crampwatch_brief] 7.2 grade D: robust spread floor of the envelope, theta_floor / 5, so
    #: an event at theta has act_peak_z ~ 5
    act_spread_floor_g: float = 0.002
    term_cap: float = 3.0  # [crampwatch_brief] 7.1 Step D grade D: scaled terms capped at 3
    w_duration: float = 0.6  # [crampwatch_brief] 7.1 Step D grade D: 0.6 ln(1 + T_ep min)
    w_few_steps: float = 0.5  # [crampwatch_brief] 7.1 Step D grade D: 0.5 [0 < steps <= 30]
    w_walk: float = -1.5  # [crampwatch_brief] 7.1 Step D grade D: -1.5 walk
    w_plm: float = -1.0  # [crampwatch_brief] 7.1 Step D grade D: -1.0 restless (PLM) density
    w_wake_after: float = 0.4  # [crampwatch_brief] 7.1 Step D grade D: 0.4 ln(1 + wake min)
    w_rollover: float = -1.0  # [crampwatch_brief] 7.2 grade D: negative for a pure rollover

    actigraphy: ActigraphyParams = field(default_factory=ActigraphyParams)  # [vanhees2018]
