"""Parameters of the actigraphy detectors (:mod:`detectors.actigraphy`): the method names
written to ``sleep_periods.method`` and :class:`ActigraphyParams`, whose every field cites its
source (``REFERENCES[key]``, grade D where it is an engineering assumption).
"""

from __future__ import annotations

from dataclasses import dataclass

#: method names written to ``sleep_periods.method`` (also citation keys, style guide 3)
METHOD_COLE_KRIPKE = "cole1992"
METHOD_SADEH = "sadeh1994"
METHOD_HDCZA = "vanhees2018_hdcza"

#: metrics read as the activity proxy (the proxy is the maximum over the available ones):
#: steps (count per interval), Fitbit's intensity level 0-3 per minute, METs per minute
ACTIVITY_METRICS: tuple[str, ...] = ("steps", "intensity_level", "met")

#: a source whose median interval is this many times longer than the finest source of the same
#: metric is a coarser copy of the same signal (Fitabase stores minute, hourly and daily steps)
COARSE_SOURCE_RATIO = 20.0

_US = 1_000_000
_MIN_US = 60 * _US


@dataclass(frozen=True)
class ActigraphyParams:
    """Parameters of the actigraphy functions; each field cites ``REFERENCES[key]``."""

    # --- Cole-Kripke 1992, 1-min epochs (ActiLife variant) ---
    #: [cole1992] weights of A-4 .. A+2 for 1-min epochs
    ck_weights: tuple[float, ...] = (106.0, 54.0, 58.0, 76.0, 230.0, 74.0, 67.0)
    ck_scale: float = 0.001  # [cole1992] P = 0.001
    ck_threshold: float = 1.0  # [cole1992] sleep if D < 1
    ck_count_divisor: float = 100.0  # [actilife] counts / 100 ...
    ck_count_cap: float = 300.0  # [actilife] ... capped at 300
    webster_rescore: bool = True  # [cole1992] Webster rules a-e [webster1982]

    # --- Sadeh 1994 ---
    sadeh_count_cap: float = 300.0  # [sadeh1994] counts capped at 300 (also [actilife])
    sadeh_intercept: float = 7.601  # [sadeh1994]
    sadeh_w_mean: float = 0.065  # [sadeh1994] mean of the 11-min window centred on t
    sadeh_w_nats: float = 1.08  # [sadeh1994] epochs in the window with 50 <= counts < 100
    sadeh_w_sd: float = 0.056  # [sadeh1994] SD of the current and 5 preceding epochs
    sadeh_w_log: float = 0.703  # [sadeh1994] ln(A0 + 1)
    sadeh_threshold: float = 0.0  # [sadeh1994] sleep if PS > 0 (ActiLife uses -4 [actilife])

    # --- consumer proxy for counts (our adaptation) ---
    #: [freedson1998] 1952 counts/min = 3 METs; [tudorlocke2018] 100 steps/min ~ 3 METs,
    #: hence 19.52 counts per step (grade D: steps miss in-bed arm movement)
    counts_per_step: float = 19.52
    #: [freedson1998] lower cut-point of each Fitbit intensity level 0-3 (sedentary, light,
    #: moderate, vigorous), counts/min; grade D mapping of a vendor level onto count bands
    intensity_counts: tuple[float, ...] = (0.0, 100.0, 1952.0, 5725.0)
    met_intercept: float = 1.439008  # [freedson1998] METs = 1.439008 + 0.000795 counts/min
    met_slope: float = 0.000795  # [freedson1998]

    # --- heart-rate wake criterion (grade D) ---
    #: [burgess1997] HR falls at sleep onset; grade D: a minute is wake if the 10-min rolling
    #: median HR exceeds the noon-to-noon window's sleeping reference (its 10th percentile)
    #: by more than this margin (relaxed wake in bed sits ~10 bpm above deep/NREM sleep)
    hr_wake_margin_bpm: float = 10.0
    hr_low_pct: float = 10.0  # [burgess1997] grade D: sleeping-HR reference percentile
    hr_roll_s: int = 600  # [crampwatch_brief] grade D: 10-min rolling median (7.1 Step A idea)
    hr_min_minutes: int = 240  # [crampwatch_brief] grade D: fewer HR minutes -> no HR criterion

    # --- non-wear ---
    #: [vanhees2013] 60-min window; [choi2011] spike tolerance 2 min. Minute data: no HR and
    #: a flat activity proxy (<= spike tolerance of non-zero minutes) for >= 60 min
    nonwear_min_s: int = 3600
    nonwear_spike_s: int = 120  # [choi2011] up to 2 min of non-zero counts inside the window
    #: no HR channel: a flat activity run (zero or missing proxy, Choi spike tolerance) that
    #: covers a whole local daytime (``night_midpoint_latest_h`` to
    #: ``night_midpoint_earliest_h`` of one day) is non-wear, the whole run. [vanhees2013] /
    #: [choi2011] call long flat runs non-wear; a still sleeper makes them too, so without HR
    #: only a run no sleep can explain (all of a day, [roenneberg2007] grade D window) is
    #: called non-wear. Fitabase writes zero steps and level 0 for every unworn minute.
    nonwear_flat_daytime: bool = True
    raw_nonwear_sd_g: float = 0.013  # [vanhees2013] per-axis SD < 13 mg ...
    raw_nonwear_range_g: float = 0.050  # [vanhees2013] ... and value range < 50 mg
    raw_nonwear_axes: int = 2  # [vanhees2013] on >= 2 of 3 axes
    raw_nonwear_window_s: int = 3600  # [vanhees2013] 60-min windows ...
    raw_nonwear_step_s: int = 900  # [vanhees2013] ... moved in 15-min steps

    # --- sleep blocks (HDCZA rules, reused for minute classifications) ---
    block_min_s: int = 1800  # [vanhees2018] keep blocks > 30 min
    block_merge_gap_s: int = 3600  # [vanhees2018] merge gaps < 60 min
    #: [vanhees2018] the SPT window is searched per noon-to-noon day: sleep blocks are cut at
    #: local noon and never merged across it, so no main period exceeds 24 h
    night_window_clip: bool = True
    #: grade D (no source gives a ceiling on one main sleep period; [hirshkowitz2015] puts
    #: adult sleep above 10-11 h outside the recommended range, 16 h is far beyond it): a main
    #: actigraphy period longer than 16 h leaves at most 8 h of the day awake and is read as
    #: unflagged non-wear or a sedentary day, not sleep; the night gets no period (0: no ceiling)
    max_main_sleep_s: int = 16 * 3600

    #: [roenneberg2007] grade D: an actigraphy main block must have its midpoint between
    #: 21:00 and 09:00 local (a still afternoon on the sofa is not the night's sleep when
    #: steps are the only motion signal); shift workers need device stages
    night_midpoint_earliest_h: float = 21.0
    night_midpoint_latest_h: float = 9.0  # [roenneberg2007] grade D

    # --- raw accelerometry: z-angle, SIB, HDCZA ---
    epoch_s: int = 5  # [vanhees2018] 5-s z-angle epochs
    sib_angle_deg: float = 5.0  # [vanhees2015] no z-angle change > 5 deg ...
    sib_min_s: int = 300  # [vanhees2015] ... for >= 5 min
    hdcza_roll_s: int = 300  # [vanhees2018] 5-min rolling median of |diff(z-angle)|
    hdcza_pct: float = 10.0  # [vanhees2018] 10th percentile ...
    hdcza_mult: float = 15.0  # [vanhees2018] ... times 15
    hdcza_min_deg: float = 0.13  # [ggir] threshold clipped to [0.13, 0.50]
    hdcza_max_deg: float = 0.50  # [ggir]
