"""Every parameter of the nocturne simulator: low, high, unit, distribution and source.

Fixed from the literature and from measurements on ``/work/shared/real_data`` *before* the
night model was written. A later change must cite a source or a measurement.

Distributions (``draw`` samples inside [low, high] always):
``uniform``, ``loguniform``, ``int`` (inclusive integers), ``lognormal:MEDIAN:SIGMA``
(clipped to the range), ``empirical`` (a measured distribution used where the parameter is
named; ``draw`` gives uniform on the range).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

REAL = "measured on real_data "
FHR = REAL + "fitabase_fitbit_2016/heartrate_seconds_subsets/4.12.16-5.12.16_*users*.csv"
AHR = REAL + "apple_health/kairess_heart-rate-note/export_sample.xml (Watch5,9, watchOS 8)"
FSTEPS = REAL + "fitabase_fitbit_2016/4.12.16-5.12.16/minuteStepsWide_merged.csv"
PLM = REAL + "plm_leg_movement (SOURCES.md section 7), one RestEaze night"


@dataclass(frozen=True)
class R:
    low: float
    high: float
    unit: str
    dist: str
    source: str
    median: float | None = None
    sigma: float | None = None


# name | low | high | unit | distribution | source  ({FHR} {AHR} {FSTEPS} {PLM} expand to the files)
_TABLE = """
age_years | 55 | 85 | y | int | Naylor & Young 1994 Br J Gen Pract 44:160 (cramps in 37% of >60 y); cohort of older adults
sleep_hr_bpm | 50 | 68 | bpm | uniform | {FHR}: per-user median HR 00-05 h local 53-72 bpm, 2nd pct 44-58
day_rest_hr_bpm | 62 | 80 | bpm | uniform | {FHR}: per-user 10th pct HR 10-19 h local 63-79 bpm
wake_offset_bpm | 4 | 12 | bpm | uniform | Trinder et al. 2001 J Sleep Res 10:253 (HR falls ~5-10 % from wake to NREM)
n1_offset_bpm | 1 | 4 | bpm | uniform | grade D: between wake and N2 (Trinder 2001)
n3_offset_bpm | -6 | -1 | bpm | uniform | Trinder et al. 2001 (lowest HR in N3)
rem_offset_bpm | 0 | 6 | bpm | uniform | Somers et al. 1993 NEJM 328:303 (REM HR and SNA near wake levels)
sit_hr_bpm | 1 | 6 | bpm | uniform | grade D: sitting up in bed, between lying and standing
cramp_prewake_min | 1 | 15 | min | loguniform | grade D: lying quietly awake before a cramp that starts in wake
stage_hr_tau_s | 20 | 90 | s | uniform | grade D: HR follows a stage change over tens of seconds
hr_noise_sd_bpm | 1.4 | 2.8 | bpm | uniform | {FHR}: SD of HR in 5-min windows 00-05 h local (>= 10 samples) per-user median 1.78-2.76 (5 users), pooled 10/50/90 % 1.0/2.2/5.0 bpm. This is the true HR's slow fluctuation; with the night's stages and events, the device error (fitbit_hr_err_sd, < 1 bpm measured) and integer rounding, 1.4-2.8 gives simulated per-person medians ~1.8-2.8 (measured the same way, 3 Fitbit people x 20 nights)
hr_noise_tau_s | 10 | 60 | s | uniform | grade D: AR(1) correlation time of slow HR fluctuation
overnight_dip_bpm | 2 | 8 | bpm | uniform | Krauchi & Wirz-Justice 1994 Am J Physiol 267:R819 (circadian HR amplitude a few bpm); nadir late night
bedtime_h | 21.5 | 24.5 | h after local midnight of the evening | uniform | grade D: older adults' habitual bedtimes (Roenneberg et al. 2007 Sleep Med Rev 11:429, earlier with age)
bedtime_jitter_sd_min | 15 | 45 | min | uniform | Bei et al. 2016 Sleep Med Rev 28:108 (night-to-night SD of sleep timing 30-60 min)
sleep_latency_min | 3 | 45 | min | loguniform | Ohayon et al. 2004 Sleep 27:1255 (latency ~15-20 min in older adults)
time_in_bed_h | 7 | 9.5 | h | uniform | Ohayon et al. 2004; measured on real_data sleepDay_merged.csv TotalTimeInBed (grade C)
cycle_min | 80 | 110 | min | uniform | Carskadon & Dement, Principles and Practice of Sleep Medicine (NREM-REM cycle 90-110 min)
n1_min | 1 | 7 | min | uniform | Carskadon & Dement (N1 1-7 min at cycle start)
n3_first_min | 5 | 35 | min | uniform | Ohayon et al. 2004 (SWS 5-20 % in older adults, mostly first cycles)
rem_first_min | 3 | 15 | min | uniform | Carskadon & Dement (first REM 1-10 min, lengthening)
rem_last_min | 15 | 40 | min | uniform | Carskadon & Dement (late REM periods up to ~1 h)
final_wake_lie_min | 0 | 20 | min | uniform | grade D: lying awake after final awakening
awakening_per_h | 0.3 | 2 | 1/h | uniform | Klerman et al. 2004 Sleep 27:793 (older adults wake more often, same return rate)
awakening_s | 30 | 900 | s | loguniform | Klerman et al. 2004 (wake bouts mostly < 2 min, some long)
awakening_hr_bpm | 2 | 15 | bpm | uniform | Sforza et al. 2000 Clin Neurophysiol 111:1611 (HR rise scales with arousal depth); peak of the transient at awakening, above the wake level (wake_offset_bpm)
awakening_hr_peak_s | 3 | 10 | s | uniform | grade C: Sforza et al. 2000 (tachycardia peaks a few beats after arousal onset); Trinder et al. 2003 Sleep 26:543; Horner 1996 Sleep 19(10 Suppl):S193 (transient response at spontaneous arousal, in excess of later quiet wakefulness)
awakening_hr_decay_s | 5 | 20 | s | uniform | grade C: time constant of the return from the peak to the quiet-wake level within tens of seconds (Sforza et al. 2000: back near baseline ~10-15 beats after onset; Horner 1996)
arousal_per_h | 5 | 25 | 1/h | uniform | Bonnet & Arand 2007 J Clin Sleep Med 3:133 (arousal index rises with age, 10-20/h)
arousal_s | 3 | 15 | s | uniform | AASM scoring manual (arousal 3-15 s; longer is wake)
arousal_hr_bpm | 2 | 12 | bpm | uniform | Sforza et al. 2000 (cortical arousal HR rise ~5-10 bpm)
rollover_per_h | 0.8 | 3 | 1/h | uniform | De Koninck et al. 1992 Sleep 15:143 (position shifts ~1-2/h, fewer with age)
rollover_s | 2 | 15 | s | uniform | grade D: a turn takes a few seconds
rollover_hr_bpm | 1 | 8 | bpm | uniform | grade D: movement-related HR bump, smaller than an awakening
cramp_per_night | 0.05 | 1 | 1/night | loguniform | Naylor & Young 1994 (40 % of sufferers >3/week, 6 % nightly); Abdulla et al. 1999 Age Ageing 28:385
cramp_max_per_night | 0 | 3 | count | int | brief: 0-3 per night
cramp_from_sleep_frac | 0.55 | 0.9 | fraction | uniform | Monderer et al. 2010 Curr Neurol Neurosci Rep 10:53 (cramps wake the sleeper or occur lying awake)
cramp_contraction_s | 5 | 600 | s | loguniform | Allen & Kirby 2012 Am Fam Physician 86:350 (seconds to ~10 minutes)
cramp_hr_bpm | 1 | 35 | bpm | loguniform | grade D: acute pain HR rise 5-20 bpm (cold pressor, e.g. Mourot et al. 2009 Eur J Appl Physiol) plus awakening; from invisible to large
cramp_hr_latency_s | 2 | 20 | s | uniform | grade D: sympathetic/vagal withdrawal latency
cramp_hr_rise_s | 5 | 30 | s | uniform | grade D: rise time constant
cramp_hr_decay_s | 30 | 300 | s | loguniform | grade D: HR recovery after pain ends (tens of seconds to minutes)
cramp_relief_stand_frac | 0.15 | 0.45 | fraction | uniform | Allen & Kirby 2012 (stretching or walking relieves); grade D share
cramp_relief_massage_frac | 0.2 | 0.35 | fraction | uniform | grade D: rubbing the calf in bed
cramp_stand_steps | 0 | 120 | steps | int | grade D: standing on the leg to walking around the room
cramp_stand_s | 10 | 300 | s | loguniform | grade D: stand/walk until the muscle relaxes
cramp_residual_wake_min | 1 | 45 | min | loguniform | grade D: residual soreness delays return to sleep
cramp_wrist_motion | 0.2 | 1 | 0-1 | uniform | grade D: clutching/massaging moves the wrist
nocturia_at_60 | 0.3 | 1.2 | voids/night | uniform | Bosch & Weiss 2010 J Urol 184:440 (>=1 void in most adults >60, >=2 in 30-60 % at 70+)
nocturia_per_decade | 0.1 | 0.4 | voids/night per 10 y | uniform | Bosch & Weiss 2010 (prevalence rises with age)
bath_lie_awake_s | 10 | 600 | s | loguniform | grade D: urge wakes, delay before rising
ortho_hr_bpm | 8 | 25 | bpm | uniform | Wieling et al. 2007 Clin Sci 112:157 (initial HR rise 10-20 bpm within 15 s of standing)
stand_hr_bpm | 5 | 18 | bpm | uniform | Freeman et al. 2011 Clin Auton Res 21:69 (sustained standing HR rise < 30 bpm, typically 10-15)
walk_hr_bpm | 4 | 20 | bpm | uniform | grade D: slow indoor walking adds to standing HR
bath_oneway_steps | 3 | 40 | steps | int | grade D: 2-25 m en-suite to house at ~0.6 m/step
bath_inside_s | 30 | 400 | s | loguniform | grade D: voiding and hand-washing
back_to_sleep_min | 1 | 30 | min | loguniform | Klerman et al. 2004 (return to sleep within minutes, occasionally long)
indoor_cadence_spm | 50 | 95 | steps/min | uniform | Tudor-Locke et al. 2018 Br J Sports Med 52:776 (<100 spm is slow walking)
phone_per_night | 0 | 0.5 | 1/night | uniform | Exelmans & Van den Bulck 2016 Soc Sci Med 148:93 (most adults use phones in bed)
phone_min | 1 | 60 | min | loguniform | brief: minutes to an hour
phone_hr_bpm | 0 | 8 | bpm | uniform | grade D: semi-recumbent wake, cognitive arousal
phone_wrist_motion | 0.1 | 0.6 | 0-1 | uniform | grade D: scrolling moves the wrist
plms_prevalence | 0.25 | 0.5 | P(person has PLMS, PLMI > 15/h) | uniform | Haba-Rubio et al. 2016 Ann Neurol 79:464 (PLMSI > 15/h in 28.6 % of 2162 adults, mean age 58, rising with age); Leary et al. 2018 Clin Neurophysiol 129:2306 (PLMI >= 15 in 25.3 % at baseline, rising with age); Claman et al. 2013 J Clin Sleep Med 9:1109 (MrOS men mean age 76: PLMI >= 5 in 70.8 %, top quintile >= 65.1/h); Ancoli-Israel et al. 1991 Sleep 14:496 (PLMI > 5 in 45 % of 65+); Hornyak et al. 2006 Sleep Med Rev 10:169
plms_index_per_h | 15 | 100 | PLM/h of sleep | loguniform | people with PLMS: Haba-Rubio et al. 2016 (threshold > 15/h); Claman et al. 2013 (MrOS top quintile PLMI >= 65.1/h); Hornyak et al. 2006 (> 50/h severe)
plms_index_low_per_h | 0.5 | 15 | PLM/h of sleep | loguniform | people without PLMS (PLMI <= 15/h by definition, Haba-Rubio et al. 2016); Claman et al. 2013 and Ancoli-Israel et al. 1991 (many older adults 5-15/h); {PLM}: one RestEaze night 9 PLM in 291 min (1.9/h)
plm_s | 0.5 | 10 | s | uniform | Iber et al. 2007 AASM manual (LM 0.5-10 s)
plm_interval_s | 5 | 90 | s | uniform | Iber et al. 2007 AASM manual (PLM intervals 5-90 s)
plm_count | 4 | 200 | movements | loguniform | AASM (series >= 4 movements); long series in PLMD
plm_hr_bpm | 2 | 12 | bpm | uniform | Sforza et al. 1999 Neurology 52:786; Pennestri et al. 2007 Neurology 68:1213 (HR rises ~5-10 bpm after PLM)
plm_hr_peak_s | 3 | 8 | s | uniform | Sforza et al. 1999 Neurology 52:786 (HR peak a few beats after PLM onset)
plm_arousal_frac | 0.05 | 0.4 | fraction | uniform | Hornyak et al. 2006 (a minority of PLMs with arousal)
bedroom_slope | 0.2 | 0.6 | degC/degC | uniform | Nguyen et al. 2014 Indoor Air 24:103 (indoor follows outdoor temperature in the warm season, slope < 1)
bedroom_base_c | 18 | 22 | degC | uniform | grade D: heated/insulated bedroom on a mild night
hot_threshold_c | 24 | 26 | degC | uniform | Okamoto-Mizuno & Mizuno 2012 J Physiol Anthropol 31:14 (wake rises above thermoneutral)
heat_wake_gain_per_c | 0.05 | 0.2 | 1/degC | uniform | Okamoto-Mizuno & Mizuno 2012 (more wake in heat); grade D size
heat_hr_per_c | 0.3 | 1 | bpm/degC | uniform | grade D: thermoregulatory HR rise (Okamoto-Mizuno et al. 1999 Sleep 22:767)
outdoor_night_sd_c | 1.5 | 4 | degC | uniform | grade D: day-to-day weather SD
watch_off_night_frac | 0.02 | 0.12 | fraction of nights | uniform | grade D: charging or removing the watch at night
watch_off_min | 20 | 600 | min | loguniform | grade D: from a top-up charge to the whole night
day_charge_min | 20 | 120 | min | uniform | grade D: Apple Watch charges daily ~1-1.5 h; Fitbit every few days
fitbit_charge_every_d | 4 | 7 | days | int | grade D: Fitbit battery life ~5-7 days
apple_hr_gap_s | 60 | 900 | s | lognormal:285:0.5 | {AHR}: gaps > 30 s median 285 s, 10-90 % 108-457 s
apple_creation_lag_s | 1 | 335 | s | loguniform | {AHR}: creationDate - startDate 10-50-90 % = 1, 62, 335 s
apple_workout_hr_gap_s | 4 | 6 | s | uniform | {AHR}: 4 bursts of 27-33 samples at ~5 s spacing
apple_hr_integer_frac | 0.99 | 0.99 | fraction | uniform | {AHR}: 99.1 % of values are integers
apple_hr_err_sd | 0.5 | 2 | bpm | uniform | {AHR}: readings 1-3 s apart inside workout bursts differ by gamma = 0.7 bpm^2 (n 30; 1-5 s robust SD 1.0 bpm), so error <= ~1 bpm per reading even in exercise; background readings are separate spot measurements, up to 2 bpm; Wang et al. 2017 JAMA Cardiol 2:104 (Apple Watch the most accurate of four wrist devices, close to ECG at rest). No night HR in the real Apple exports (kairess: none 21:19-10:30; dogsheep: one record) to measure a window on
fitbit_hr_step_s | 1 | 15 | s | empirical | {FHR}: night spacing 1 s 10 %, 2 s 6 %, 3 s 22 %, 5 s 11 %, 10 s 33 %, 15 s 18 %
fitbit_gap_per_h | 0.1 | 0.3 | 1/h | uniform | {FHR}: gaps >= 60 s at night 0.20 per hour
fitbit_gap_s | 60 | 4500 | s | loguniform | {FHR}: night gaps >= 60 s, 10-50-90 % = 75, 228, 4485 s
fitbit_hr_err_sd | 0.3 | 0.9 | bpm | uniform | {FHR}: independent error per reading of the (smoothed) series at night, bounded by half the mean squared difference of readings close in time, which includes 0.08 bpm^2 of integer rounding and any true change: one real Fitabase user with 1-3 s night spacing (n 15863 / 9588 / 33916) 1 s apart 0.84, 2 s 0.67, 3 s 0.15 bpm^2, so <= 0.4-0.9 bpm. Benedetti et al. 2021 J Sleep Res 30:e13346 (Fitbit Charge HR vs PSG per 1-min epoch: bias -0.66 bpm, r 0.97-0.99 in N1, N2, N3, REM); Stucky et al. 2021 J Med Internet Res 23:e26476 (Charge 2 in sleep: bias -0.6 to -0.9 bpm, smooths fast changes). The larger Fitbit errors of Wang et al. 2017 JAMA Cardiol 2:104 were on a treadmill (motion_hr_err_sd)
motion_hr_err_sd | 2 | 8 | bpm | uniform | Bent et al. 2020 npj Digit Med 3:18 (wrist PPG error larger during movement)
slow_undercount | 0.05 | 0.45 | fraction missed | uniform | Fokkema et al. 2017 Med Sci Sports Exerc 49:793 (wrist trackers worst at slow speed); Toth et al. 2018 MSSE 50:1935
fitbit_min_bout | 3 | 8 | steps | int | {FSTEPS}: minutes with 1-3 steps are rare (114/24/17 vs 127-180 for 4-8 steps at night)
apple_min_bout | 4 | 12 | steps | int | grade D: Apple Watch does not credit a few isolated steps
iphone_carry_frac | 0.6 | 0.9 | fraction of daytime walking with the phone on the person | uniform | Duncan et al. 2018 J Sports Sci 36:1695 (free-living iPhone 21.5 % below a hip accelerometer; phones left at home); Amagasa et al. 2019 JMIR Mhealth Uhealth 7:e10418 (iPhone 12 % below a waist pedometer over waking hours)
iphone_undercount | 0.02 | 0.1 | fraction missed while carried | uniform | Duncan et al. 2018 (treadmill: iPhone 7.6-9.4 % under at the slowest speed, < 5 % faster)
false_steps_per_min | 0 | 4 | steps/min | uniform | grade D: wrist gestures in bed counted as steps
night_steps_nonzero_frac | 0.0127 | 0.0127 | fraction | uniform | {FSTEPS}: 1.3 % of 01-05 h minutes non-zero, nonzero median 13 steps (check, not a parameter)
quiet_wake_as_sleep | 0.3 | 0.8 | probability per epoch | uniform | Chinoy et al. 2021 Sleep 44:zsaa291 (device wake specificity 0.18-0.54)
active_wake_as_wake | 0.6 | 0.95 | probability per epoch | uniform | Chinoy et al. 2021 (movement helps wake detection)
sleep_as_wake | 0.01 | 0.06 | probability per epoch | uniform | Chinoy et al. 2021 (sleep sensitivity 0.94-0.99)
deep_correct | 0.45 | 0.75 | probability per epoch | uniform | de Zambotti et al. 2018 Chronobiol Int 35:465 (Fitbit Charge 2 deep sensitivity 0.49); Apple 2023 sleep-staging white paper
rem_correct | 0.55 | 0.8 | probability per epoch | uniform | de Zambotti et al. 2018 (REM 0.74)
light_correct | 0.7 | 0.9 | probability per epoch | uniform | de Zambotti et al. 2018 (light 0.81)
daily_steps | 2500 | 11000 | steps/day | uniform | Tudor-Locke et al. 2011 Int J Behav Nutr Phys Act 8:80 (older adults 2000-9000/day)
daily_steps_cv | 0.2 | 0.45 | CV | uniform | grade D: day-to-day variation (Tudor-Locke 2011)
walk_cadence_spm | 85 | 120 | steps/min | uniform | Tudor-Locke et al. 2018 (100 spm ~ moderate)
walk_bout_min | 1 | 30 | min | loguniform | grade D: daily-life bouts mostly short
walk_hr_day_bpm | 10 | 35 | bpm | uniform | grade D: walking HR above seated rest
workouts_per_week | 0 | 4 | 1/week | uniform | grade D: ACSM 150 min/week recommendation partly met
workout_min | 20 | 70 | min | uniform | grade D
workout_hr_bpm | 95 | 145 | bpm | uniform | ACSM Guidelines 11th ed. (moderate 64-76 % of HRmax; HRmax ~150 at 70 y)
jetlag_shift_h | 0 | 3 | h | uniform | Waterhouse et al. 2007 Lancet 369:1117 (resynchronisation ~1 h/day)
jetlag_wake_gain | 1.3 | 2.5 | x awakenings | uniform | Waterhouse et al. 2007 (fragmented sleep after flights)
"""


def _parse(text: str) -> dict[str, R]:
    out = {}
    for line in text.strip().splitlines():
        name, lo, hi, unit, dist, src = (f.strip() for f in line.split("|"))
        src = src.format(FHR=FHR, AHR=AHR, FSTEPS=FSTEPS, PLM=PLM)
        med = sig = None
        if dist.startswith("lognormal:"):
            dist, med, sig = dist.split(":")
            med, sig = float(med), float(sig)
        out[name] = R(float(lo), float(hi), unit, dist, src, med, sig)
    return out


RANGES: dict[str, R] = _parse(_TABLE)


#: outdoor night mean temperature (degC) by home zone and month (Sep, Oct, Nov): climate
#: normals' mean daily minimum + 3 degC. Source: grade C, WMO 1991-2020 normals as recalled
#: (Deutscher Wetterdienst Berlin, NOAA Central Park, BoM Sydney, INMET Sao Paulo, NOAA LA,
#: JMA Tokyo); day-to-day spread ``outdoor_night_sd_c``.
CLIMATE: dict[str, tuple[float, float, float]] = {
    "Europe/Berlin": (14.0, 10.0, 6.0),
    "America/New_York": (20.0, 14.0, 9.0),
    "Australia/Sydney": (14.0, 16.5, 18.5),
    "America/Sao_Paulo": (17.0, 19.0, 20.0),
    "America/Los_Angeles": (20.0, 18.0, 14.0),
    "Asia/Tokyo": (24.0, 18.0, 12.0),
}


def draw(rng: np.random.Generator, name: str, size=None):
    """A value (or array) of parameter ``name`` inside its declared [low, high]."""
    r = RANGES[name]
    lo, hi = r.low, r.high
    if r.dist == "uniform" or r.dist == "empirical":
        v = rng.uniform(lo, hi, size)
    elif r.dist == "loguniform":
        lo2 = max(lo, 1e-3)
        v = np.exp(rng.uniform(np.log(lo2), np.log(hi), size))
    elif r.dist == "int":
        return rng.integers(int(lo), int(hi) + 1, size)
    elif r.dist == "lognormal":
        v = np.exp(rng.normal(np.log(r.median), r.sigma, size))
    else:
        raise ValueError(f"{name}: unknown distribution {r.dist}")
    return np.clip(v, lo, hi)


def markdown() -> str:
    lines = [
        "# nocturne parameter ranges",
        "",
        "Generated from `simulators/nocturne/ranges.py` on every run. Every value the",
        "simulator draws lies in [low, high].",
        "",
        "| parameter | low | high | unit | distribution | source |",
        "|---|---|---|---|---|---|",
    ]
    for k, r in RANGES.items():
        dist = r.dist
        if r.dist == "lognormal":
            dist = f"lognormal(median {r.median:g}, sigma {r.sigma:g}), clipped"
        lines.append(f"| {k} | {r.low:g} | {r.high:g} | {r.unit} | {dist} | {r.source} |")
    lines += [
        "",
        "## Outdoor night mean temperature (degC), Sep / Oct / Nov",
        "",
        "Climate normals' mean daily minimum + 3 degC (grade C, WMO 1991-2020 normals as",
        "recalled); bedroom = bedroom_base_c + bedroom_slope x max(0, outdoor - 15).",
        "",
        "| zone | Sep | Oct | Nov |",
        "|---|---|---|---|",
    ]
    lines += [f"| {z} | {a:g} | {b:g} | {c:g} |" for z, (a, b, c) in CLIMATE.items()]
    return "\n".join(lines) + "\n"


def write_markdown(path: str | Path) -> None:
    Path(path).write_text(markdown(), encoding="utf-8")


if __name__ == "__main__":
    write_markdown(Path(__file__).with_name("ranges.md"))
