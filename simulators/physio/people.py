"""Person profiles and homes: one IANA zone per person, every parameter drawn from ``ranges``."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simulators.physio.ranges import draw

#: home cities: zone, lat, lon, elevation m, monthly normal mean temperature Jan..Dec (degC,
#: WMO 1991-2020 climate normals, rounded; grade B), mean RH % (grade C)
CITIES = (
    (
        "America/New_York",
        40.71,
        -74.01,
        10.0,
        (0.5, 1.9, 5.8, 11.9, 17.4, 22.4, 25.3, 24.6, 20.9, 14.8, 9.0, 3.8),
        63,
    ),
    (
        "Europe/Berlin",
        52.52,
        13.41,
        38.0,
        (0.6, 1.4, 4.8, 9.8, 14.6, 17.8, 20.0, 19.6, 15.3, 10.2, 5.3, 1.9),
        73,
    ),
    (
        "Australia/Sydney",
        -33.87,
        151.21,
        39.0,
        (23.5, 23.4, 22.1, 19.5, 16.6, 14.2, 13.4, 14.5, 17.0, 19.0, 20.6, 22.3),
        65,
    ),
    (
        "Asia/Tokyo",
        35.69,
        139.69,
        40.0,
        (5.4, 6.1, 9.4, 14.3, 18.8, 21.9, 25.7, 26.9, 23.3, 18.0, 12.5, 7.7),
        62,
    ),
    (
        "America/Los_Angeles",
        34.05,
        -118.24,
        89.0,
        (14.1, 14.6, 15.6, 17.1, 18.6, 20.4, 22.7, 23.2, 22.6, 20.2, 16.7, 14.0),
        62,
    ),
    (
        "Europe/London",
        51.51,
        -0.13,
        25.0,
        (5.2, 5.3, 7.6, 10.2, 13.6, 16.6, 18.7, 18.5, 15.7, 12.0, 8.0, 5.5),
        76,
    ),
)

WORKOUT_TYPES = (
    ("Running", 8.0, 160),
    ("Cycling", 7.0, 0),
    ("Walking", 4.0, 110),
    ("HighIntensityIntervalTraining", 9.0, 60),
    ("Tennis", 7.0, 40),
    ("Hiking", 6.0, 100),
)


@dataclass
class Person:
    index: int
    participant_id: str
    device: str  # apple | fitabase
    fitabase_id: str | None
    tz: str
    lat: float
    lon: float
    elevation: float
    climate: tuple
    rh_mean: float
    sex: str
    birth_year: int
    age: float
    height_cm: float
    mass_kg: float
    p: dict = field(default_factory=dict)  # person-level parameters (drawn once)


PERSON_PARAMS = (
    "sleep_hr_bpm",
    "awake_rest_hr_delta_pct",
    "hr_noise_sd_bpm",
    "hr_noise_tau_s",
    "rem_hr_pct",
    "n3_hr_pct",
    "overnight_hr_decline_bpm",
    "bedtime_local_h",
    "bedtime_sd_min",
    "sleep_span_h",
    "cycle_min",
    "n3_first_cycle_min",
    "rem_first_min",
    "rem_last_min",
    "cramp_cluster_shape",
    "cramp_p_stand",
    "cramp_from_wake_p",
    "phone_p_night",
    "plm_series_per_night",
    "plm_imi_s",
    "rollover_per_h",
    "awakenings_per_h",
    "watch_off_p_night",
    "bedroom_gain",
    "hot_hr_per_c",
    "hr_device_sd_bpm",
    "wake_detect_short",
    "false_wake_frac",
    "stage_confusion",
    "apple_dense_p_h",
    "steps_per_day",
    "walk_cadence",
    "workouts_per_week",
    "late_workout_p",
    "hr_per_met",
    "sweat_temp_slope",
    "outdoor_h",
    "outdoor_met",
    "climate_anom_sd_c",
    "diurnal_range_c",
    "insensible_l_d",
    "metabolic_water_l_d",
    "food_water_l_d",
    "urine_base_l_d",
    "urine_min_l_d",
    "renal_conserve_frac",
    "surplus_excrete_frac",
    "drink_replace_same_day",
    "thirst_catchup_per_day",
    "beverage_noise_sd_l",
    "morning_mass_sd_kg",
    "scale_sd_kg",
    "mass_drift_kg_d",
    "water_log_completeness",
    "step_drop_first",
)


def make_people(n: int, rng: np.random.Generator) -> list[Person]:
    """``n`` people: alternately Apple and Fitabase, each in their own city (cycled)."""
    order = rng.permutation(len(CITIES))
    plm_share = draw("plm_person_p", rng)
    people = []
    used_ids: set[str] = set()
    for i in range(n):
        zone, lat, lon, elev, climate, rh = CITIES[order[i % len(CITIES)]]
        device = "apple" if i % 2 == 0 else "fitabase"
        fid = None
        if device == "fitabase":
            while fid is None or fid in used_ids:
                fid = str(int(rng.integers(1_000_000_000, 9_999_999_999)))
            used_ids.add(fid)
            pid = f"fitabase-{fid}"
        else:
            pid = f"p{i + 1:02d}"
        age = float(draw("age_y", rng))
        sex = "female" if rng.random() < 0.5 else "male"
        height = float(draw("height_cm", rng)) - (6.0 if sex == "female" else 0.0)
        mass = float(draw("body_mass_kg", rng)) - (5.0 if sex == "female" else 0.0)
        p = {name: float(draw(name, rng)) for name in PERSON_PARAMS}
        # cramp rate: one person in the cohort may have none (non-sufferer), grade D
        p["cramp_rate_per_week"] = float(draw("cramp_rate_per_week", rng))
        if i == 1 and n > 2:
            p["cramp_rate_per_week"] = 0.0
        # nocturia rises with age (Bosch & Weiss 2010): scale the drawn mean by age
        p["nocturia_per_night"] = float(draw("nocturia_per_night", rng)) * (0.5 + age / 80.0)
        p["nocturia_per_night"] = min(p["nocturia_per_night"], 2.0)
        p["home_large"] = float(rng.random() < 0.4)  # grade D: 40 % live in a larger home
        p["has_plm"] = float(rng.random() < plm_share + age / 400.0)  # PLMS rise with age
        # sweat rate: lognormal matching Baker 2016 mean 1.21, SD 0.68 L/h, clipped 0.26-2.5
        sigma = np.sqrt(np.log(1 + (0.68 / 1.21) ** 2))
        mu = np.log(1.21) - sigma**2 / 2
        p["sweat_rate_ref_l_h"] = float(np.clip(rng.lognormal(mu, sigma), 0.26, 2.5))
        p["scale_use_share"] = 0.0 if i == 2 else float(draw("scale_use_share", rng))
        p["water_log_share"] = float(draw("water_log_share", rng))
        # older people sleep less deep: N3 scaled down with age (Ohayon 2004)
        p["n3_first_cycle_min"] *= float(np.clip(1.3 - age / 100.0, 0.4, 1.1))
        people.append(
            Person(
                i,
                pid,
                device,
                fid,
                zone,
                lat,
                lon,
                elev,
                climate,
                rh,
                sex,
                int(2024 - age),
                age,
                height,
                mass,
                p,
            )
        )
    return people
