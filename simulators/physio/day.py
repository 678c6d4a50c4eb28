"""Days: weather at home, sleep schedule, minute activity, workouts, sweat and body water.

Body water is one state, the deficit ``D`` (litres below euhydration; 1 L = 1 kg), carried
across days. Each day: sweat (workouts at the person's rate inside Baker 2016, scaled by
intensity and air temperature; outdoor hours by the PW equation of Gonzalez 2009, only at
>= 2 MET and >= 20 degC), insensible loss, urine (reduced by renal conservation when in deficit,
never below the obligatory minimum; surplus cleared by diuresis), food and metabolic water, and
beverages: habitual amount (set so the baseline balance is zero) with day-to-day noise, plus a
same-day partial replacement of the day's sweat (voluntary dehydration) and thirst catching up
a share of yesterday's carried deficit. A day is a dehydration day when its end-of-day (bedtime)
deficit is >= 2 % of body mass (ACSM, Sawka 2007). The morning body mass is the base mass
(slow drift) minus the morning deficit, plus non-water noise and scale error (Cheuvront 2004).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from scipy.signal import lfilter

from simulators.physio.people import WORKOUT_TYPES, Person
from simulators.physio.ranges import draw

DAY = 86400


def local_epoch(d: date, hours: float, zi: ZoneInfo) -> int:
    """UTC epoch seconds of local ``d`` + ``hours`` (hours may exceed 24)."""
    naive = datetime(d.year, d.month, d.day) + timedelta(seconds=round(hours * 3600))
    return int(naive.replace(tzinfo=zi).timestamp())


def local_hour(epoch: int, zi: ZoneInfo) -> float:
    t = datetime.fromtimestamp(epoch, zi)
    return t.hour + t.minute / 60 + t.second / 3600


@dataclass
class NightPlan:
    night_of: date
    bed: int  # UTC epoch s, lies down
    final_wake: int
    out_of_bed: int
    latency_s: float
    bedroom_c: float
    late_ex: dict | None  # {"end": epoch, "met": float} when a workout ended < 3 h before bed


@dataclass
class Timeline:
    t0: int  # UTC epoch of local midnight of the first day
    minutes: int
    steps: np.ndarray = field(default=None)  # counted steps per minute
    met: np.ndarray = field(default=None)
    hr: np.ndarray = field(default=None)  # awake HR target per minute (bpm)


def weather(person: Person, start: date, days: int, rng: np.random.Generator) -> dict:
    """Hourly synthetic weather at home for ``days`` local days from ``start`` (UTC hours)."""
    zi = ZoneInfo(person.tz)
    t_start = local_epoch(start, 0, zi) - DAY
    n = (days + 2) * 24
    times = t_start + 3600 * np.arange(n)
    p = person.p
    clim = np.array(person.climate)
    doy = np.array([datetime.fromtimestamp(int(t), zi).timetuple().tm_yday for t in times])
    hours = np.array([local_hour(int(t), zi) for t in times])
    mid = np.arange(12) * 30.4 + 15.0
    seasonal = np.interp(doy, np.r_[mid - 365, mid, mid + 365], np.r_[clim, clim, clim])
    n_days = n // 24 + 2
    anom = np.zeros(n_days)
    for i in range(1, n_days):  # AR(1) synoptic anomaly, phi 0.7 (grade C)
        anom[i] = 0.7 * anom[i - 1] + rng.normal(0, p["climate_anom_sd_c"] * np.sqrt(1 - 0.49))
    heat = np.zeros(n_days)
    i = 0
    while i < n_days:  # heat waves: ~1 per month, 3-6 days, +3..+8 degC (grade D)
        if rng.random() < 1 / 30:
            k = int(rng.integers(3, 7))
            heat[i : i + k] += rng.uniform(3, 8)
            i += k
        i += 1
    day_idx = (times - times[0]) // DAY
    t_mean = seasonal + anom[day_idx] + heat[day_idx]
    diurnal = p["diurnal_range_c"] / 2 * np.cos(2 * np.pi * (hours - 15.0) / 24.0)
    temp = t_mean + diurnal + rng.normal(0, 0.4, n)
    rh = np.clip(
        person.rh_mean - 1.6 * diurnal - 1.0 * (heat[day_idx] > 0) * 5 + rng.normal(0, 6, n),
        12,
        100,
    )
    es = 6.105 * np.exp(17.27 * temp / (237.7 + temp))  # hPa (BoM / Steadman 1994)
    e = rh / 100 * es
    dew = 237.7 * np.log(e / 6.105) / (17.27 - np.log(e / 6.105))
    wind = np.clip(rng.gamma(2.0, 1.6, n), 0, 25)  # m/s
    apparent = temp + 0.33 * e - 0.70 * wind - 4.0
    sun = np.clip(np.sin(np.pi * (hours - 6.0) / 13.0), 0, None)
    cloud = np.clip(rng.beta(2, 2, n_days)[day_idx], 0, 1)
    lat_f = np.cos(
        np.radians(
            abs(person.lat) - 23.4 * np.cos(2 * np.pi * (doy - 172) / 365) * np.sign(person.lat)
        )
    )
    radiation = np.clip(1000 * sun * lat_f * (1 - 0.75 * cloud), 0, 1100)
    precip = np.where(rng.random(n) < 0.06 * cloud * 2, rng.exponential(1.2, n), 0.0)
    return {
        "time_utc": times,
        "temp_c": temp,
        "rh_pct": rh,
        "dew_point_c": dew,
        "apparent_temp_c": apparent,
        "precipitation_mm": precip,
        "wind_m_s": wind,
        "radiation_w_m2": radiation,
    }


def temp_at(wx: dict, epoch: int | np.ndarray) -> np.ndarray:
    return np.interp(epoch, wx["time_utc"], wx["temp_c"])


def plan_nights(
    person: Person, start: date, nights: int, wx: dict, rng: np.random.Generator
) -> list[NightPlan]:
    zi = ZoneInfo(person.tz)
    p = person.p
    plans = []
    for d in range(nights):
        day = start + timedelta(days=d)
        bed_h = p["bedtime_local_h"] + rng.normal(0, p["bedtime_sd_min"] / 60)
        span_h = float(np.clip(p["sleep_span_h"] + rng.normal(0, 0.6), 4.5, 10.0))
        latency = float(draw("sleep_latency_min", rng)) * 60
        bed = local_epoch(day, bed_h, zi)
        final_wake = bed + int(latency + span_h * 3600)
        out = final_wake + int(draw("snooze_min", rng) * 60)
        night_out = float(np.mean(temp_at(wx, np.arange(bed, final_wake, 1800))))
        bedroom = float(np.clip(21.0 + p["bedroom_gain"] * (night_out - 15.0), 16, 33))
        plans.append(NightPlan(day, bed, final_wake, out, latency, bedroom, None))
    return plans


def _bmr_kcal_d(person: Person) -> float:
    """Mifflin-St Jeor BMR (kcal/day)."""
    s = 5 if person.sex == "male" else -161
    return 10 * person.mass_kg + 6.25 * person.height_cm - 5 * person.age + s


def _bsa(person: Person) -> float:
    return 0.007184 * person.mass_kg**0.425 * person.height_cm**0.725  # DuBois


def pw_sweat_l_h(person: Person, met: float, ta: float, rh: float) -> float:
    """Gonzalez 2009 piecewise sweat equation (L/h), 0 below 2 MET or 20 degC."""
    if met < 2.0 or ta < 20.0:
        return 0.0
    m = met * 58.2  # W/m2
    ereq = m + (6.45 / 0.5) * (ta - 35.0)
    pa = rh / 100 * 4.5851 * np.exp(17.27 * ta / (237.7 + ta))  # mmHg (6.1078 hPa -> mmHg)
    emax = 14.21 * (0.45 / 0.5) * (42.2 - pa)
    g = max(0.0, 147 + 1.527 * ereq - 0.87 * emax)
    return g * _bsa(person) / 1000.0


def simulate_days(
    person: Person,
    start: date,
    nights: int,
    plans: list[NightPlan],
    wx: dict,
    rng: np.random.Generator,
) -> tuple[Timeline, list[dict], list[dict], dict]:
    """Minute activity for the whole period, workouts, per-day fluid state and logs."""
    zi = ZoneInfo(person.tz)
    p = person.p
    t0 = local_epoch(start, 0, zi)
    n_days = nights + 1
    minutes = (n_days * DAY + 2 * 3600) // 60
    tl = Timeline(
        t0, minutes, np.zeros(minutes, np.int32), np.full(minutes, 0.95), np.zeros(minutes)
    )
    bmr = _bmr_kcal_d(person)
    awake_rest = p["sleep_hr_bpm"] * (1 + p["awake_rest_hr_delta_pct"] / 100) + 5.0
    hr_max = 208 - 0.7 * person.age
    workouts: list[dict] = []
    days: list[dict] = []
    logs = {"water": [], "mass": []}
    deficit = 0.0  # L at the start of day 0 (euhydrated)
    base_mass = person.mass_kg
    beverage0 = max(
        0.6,
        p["urine_base_l_d"] + p["insensible_l_d"] - p["metabolic_water_l_d"] - p["food_water_l_d"],
    )
    for d in range(n_days):
        day = start + timedelta(days=d)
        wake = plans[d - 1].out_of_bed if d > 0 else local_epoch(day, 7.0, zi)
        bed = plans[d].bed if d < nights else local_epoch(day, 23.0, zi)
        m0, m1 = (wake - t0) // 60, (bed - t0) // 60
        tl.met[m0:m1] = 1.3  # awake sedentary
        # ---- workouts
        sweat_workout = 0.0
        if rng.random() < p["workouts_per_week"] / 7:
            name, met_ref, cadence = WORKOUT_TYPES[int(rng.integers(len(WORKOUT_TYPES)))]
            met = float(np.clip(met_ref * rng.uniform(0.8, 1.2), 4, 11))
            dur = int(draw("workout_min", rng) * 60)
            if rng.random() < p["late_workout_p"] and d < nights:
                end = bed - int(rng.uniform(0.5, 3.0) * 3600)
                w0 = end - dur
            else:
                w0 = local_epoch(day, rng.uniform(7.5, 18.0), zi)
            w0 = max(w0, wake + 1800)
            w1 = w0 + dur
            if w1 < bed - 1200:
                outdoor = name != "HighIntensityIntervalTraining"
                ta = float(np.mean(temp_at(wx, np.arange(w0, w1, 600)))) if outdoor else 21.0
                rate = (
                    p["sweat_rate_ref_l_h"]
                    * (met / 9.0)
                    * (1 + p["sweat_temp_slope"] * (ta - 20.0))
                )
                rate = float(np.clip(rate, 0.05, 2.5))
                sweat = rate * dur / 3600
                sweat_workout += sweat
                a, b = (w0 - t0) // 60, (w1 - t0) // 60
                tl.met[a:b] = met
                tl.steps[a:b] = (cadence * rng.uniform(0.9, 1.1, b - a)).astype(np.int32)
                kcal = bmr / 1440 * (met - 1) * dur / 60
                speed = {"Running": 2.8, "Cycling": 6.0, "Walking": 1.4, "Hiking": 1.1}.get(
                    name, 0.0
                )
                workouts.append(
                    {
                        "type": name,
                        "start": w0,
                        "end": w1,
                        "met": met,
                        "kcal": kcal,
                        "distance_m": speed * dur,
                        "outdoor": outdoor,
                        "air_temp_c": ta,
                        "sweat_l": sweat,
                        "night_index": d,
                    }
                )
                if d < nights and bed - w1 < 3 * 3600 and met >= 6:
                    plans[d].late_ex = {"end": w1, "met": met}
        # ---- walking bouts (counted steps drop the first steps of each bout)
        target = p["steps_per_day"] * rng.lognormal(0, 0.3)
        total = 0
        while total < target:
            length = int(np.exp(rng.uniform(0, np.log(15))))
            a = int(rng.integers(m0 + 20, max(m0 + 21, m1 - 20 - length)))
            if tl.met[a : a + length].max(initial=0) > 2.0:
                total += 50
                continue
            cad = p["walk_cadence"] * rng.uniform(0.7, 1.15, length)
            tl.steps[a : a + length] = cad.astype(np.int32)
            tl.steps[a] = max(0, tl.steps[a] - int(p["step_drop_first"]))
            tl.met[a : a + length] = 2.0 + 1.5 * (cad > 100)
            total += int(cad.sum())
        # ---- outdoor hours and heat sweat (PW equation)
        out_h = p["outdoor_h"] * rng.uniform(0.5, 1.5)
        o0 = local_epoch(day, rng.uniform(9.5, 17.0 - out_h / 2), zi)
        sweat_heat = 0.0
        for h in range(int(np.ceil(out_h))):
            t = o0 + h * 3600
            if not (wake < t < bed - 3600):
                continue
            i = int(np.searchsorted(wx["time_utc"], t))
            frac = min(1.0, out_h - h)
            sweat_heat += (
                frac
                * pw_sweat_l_h(
                    person, p["outdoor_met"], float(wx["temp_c"][i]), float(wx["rh_pct"][i])
                )
                * (p["sweat_rate_ref_l_h"] / 1.21)
            )
            a = (t - t0) // 60
            seg = tl.met[a : a + int(60 * frac)]
            np.maximum(seg, p["outdoor_met"], out=seg)
        # ---- fluid balance
        sweat = sweat_workout + sweat_heat
        carried = max(deficit, 0.0)
        thirst = p["thirst_catchup_per_day"] * carried
        beverages = max(
            0.3,
            beverage0
            + rng.normal(0, p["beverage_noise_sd_l"])
            + p["drink_replace_same_day"] * sweat
            + thirst,
        )
        urine = p["urine_base_l_d"] - p["renal_conserve_frac"] * carried
        if deficit < 0:
            urine += p["surplus_excrete_frac"] * (-deficit)
        urine = max(p["urine_min_l_d"], urine)
        food, metab, insens = p["food_water_l_d"], p["metabolic_water_l_d"], p["insensible_l_d"]
        # 24 h balance: the deficit is the cumulative imbalance, read at bedtime; the next
        # morning starts from it (overnight losses are part of the daily budget)
        d_end = deficit + sweat + urine + insens - beverages - food - metab
        base_mass += rng.normal(0, p["mass_drift_kg_d"])
        pct = 100 * d_end / base_mass
        # morning body mass of this day (deficit carried in from the night before)
        true_morning = base_mass - deficit
        measured = None
        if rng.random() < p["scale_use_share"]:
            measured = (
                true_morning
                + rng.normal(0, p["morning_mass_sd_kg"])
                + rng.normal(0, p["scale_sd_kg"])
            )
            logs["mass"].append(
                {"time": wake + int(rng.uniform(5, 45) * 60), "kg": round(measured, 1)}
            )
        logged_ml = 0
        if rng.random() < p["water_log_share"]:
            drinks = int(rng.integers(3, 10))
            sizes = rng.choice([200, 250, 330, 500, 750], drinks)
            scale = beverages * 1000 / sizes.sum()
            for s in sizes:
                if rng.random() < p["water_log_completeness"]:
                    ml = int(round(s * scale / 10) * 10)
                    logs["water"].append(
                        {"time": int(rng.integers(wake + 600, bed - 600)), "ml": ml}
                    )
                    logged_ml += ml
        days.append(
            {
                "local_date": day,
                "day_start": local_epoch(day, 0, zi),
                "day_end": local_epoch(day + timedelta(days=1), 0, zi),
                "sweat_workout_l": sweat_workout,
                "sweat_heat_l": sweat_heat,
                "beverages_l": beverages,
                "urine_l": urine,
                "deficit_start_l": deficit,
                "deficit_end_l": d_end,
                "deficit_end_pct_bm": pct,
                "dehydrated": bool(pct >= 2.0),
                "base_mass_kg": base_mass,
                "true_morning_mass_kg": true_morning,
                "measured_mass_kg": measured,
                "water_logged_ml": logged_ml,
                "max_temp_c": float(
                    np.max(
                        temp_at(
                            wx, np.arange(local_epoch(day, 0, zi), local_epoch(day, 24, zi), 3600)
                        )
                    )
                ),
            }
        )
        deficit = d_end
    # awake HR per minute from MET, smoothed by a 1-min first-order response (grade C)
    hr = awake_rest + p["hr_per_met"] * (tl.met - 1.3)
    hr = np.minimum(hr, 0.95 * hr_max)
    tl.hr = lfilter([0.6], [1, -0.4], hr - hr[0]) + hr[0]
    return tl, workouts, days, logs
