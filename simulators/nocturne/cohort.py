"""The people: home zone, device, physiology drawn from :mod:`ranges`, and travel."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from simulators.nocturne.ranges import draw

#: (id, device, home zone, sex, lat, lon); order alternates devices so that a small cohort
#: (tests: 2 people) still has one of each; the first person is the traveller. The Fitbit ids
#: are made up (10 digits), not derived from the real Fitabase user ids.
PEOPLE = (
    ("apple-01", "apple", "Europe/Berlin", "female", 52.52, 13.40),
    ("fitabase-5190734862", "fitbit", "America/New_York", "male", 40.71, -74.01),
    ("apple-02", "apple", "Australia/Sydney", "male", -33.87, 151.21),
    ("fitabase-7352918046", "fitbit", "America/Sao_Paulo", "female", -23.55, -46.63),
    ("apple-03", "apple", "America/Los_Angeles", "female", 34.05, -118.24),
    ("fitabase-8614027395", "fitbit", "Asia/Tokyo", "male", 35.68, 139.69),
)
AWAY_ZONE = "America/New_York"  # the traveller's destination: 6 zones west of Berlin
TRAVEL_FIRST_NIGHT = 40  # away for 7 nights (night index 40..46) when the run is long enough
TRAVEL_NIGHTS = 7

PERSON_PARAMS = (
    "sleep_hr_bpm day_rest_hr_bpm wake_offset_bpm n1_offset_bpm n3_offset_bpm rem_offset_bpm "
    "sit_hr_bpm stage_hr_tau_s hr_noise_sd_bpm hr_noise_tau_s overnight_dip_bpm bedtime_h "
    "bedtime_jitter_sd_min time_in_bed_h cycle_min n3_first_min rem_first_min rem_last_min "
    "awakening_per_h arousal_per_h rollover_per_h cramp_per_night cramp_from_sleep_frac "
    "cramp_relief_stand_frac cramp_relief_massage_frac nocturia_at_60 nocturia_per_decade "
    "ortho_hr_bpm stand_hr_bpm walk_hr_bpm indoor_cadence_spm phone_per_night "
    "plms_prevalence bedroom_slope bedroom_base_c hot_threshold_c heat_wake_gain_per_c "
    "heat_hr_per_c outdoor_night_sd_c watch_off_night_frac day_charge_min fitbit_charge_every_d "
    "slow_undercount fitbit_min_bout apple_min_bout false_steps_per_min apple_hr_err_sd "
    "fitbit_hr_err_sd motion_hr_err_sd fitbit_gap_per_h quiet_wake_as_sleep active_wake_as_wake "
    "sleep_as_wake deep_correct rem_correct light_correct daily_steps daily_steps_cv "
    "walk_cadence_spm walk_hr_day_bpm workouts_per_week workout_hr_bpm jetlag_shift_h "
    "jetlag_wake_gain age_years"
).split()


@dataclass
class Person:
    pid: str
    device: str
    home: str
    sex: str
    lat: float
    lon: float
    p: dict[str, float]
    travel: tuple[int, int] | None = None  # (first away night, first night back)
    away: str | None = None
    birth_year: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def fitabase_id(self) -> str:
        return self.pid.removeprefix("fitabase-")

    def zone_for_night(self, i: int) -> str:
        if self.travel and self.travel[0] <= i < self.travel[1]:
            return self.away
        return self.home

    @property
    def nocturia_rate(self) -> float:
        p = self.p
        return max(
            0.05, p["nocturia_at_60"] + p["nocturia_per_decade"] * (p["age_years"] - 60) / 10
        )


def make_cohort(rng: np.random.Generator, n_people: int, n_nights: int, start: date):
    people = []
    for k, (pid, dev, tz, sex, lat, lon) in enumerate(PEOPLE[:n_people]):
        p = {name: float(draw(rng, name)) for name in PERSON_PARAMS}
        # the two relief fractions must leave room for stretching in bed
        p["cramp_relief_massage_frac"] = min(
            p["cramp_relief_massage_frac"], 0.9 - p["cramp_relief_stand_frac"]
        )
        # PLMS is a trait of some people (PLMI > 15/h), a low background index for the rest
        p["has_plms"] = float(rng.random() < p["plms_prevalence"])
        name = "plms_index_per_h" if p["has_plms"] else "plms_index_low_per_h"
        p["plms_index_per_h"] = float(draw(rng, name))
        person = Person(pid, dev, tz, sex, lat, lon, p)
        person.birth_year = start.year - int(p["age_years"])
        if k == 0 and n_nights > TRAVEL_FIRST_NIGHT + TRAVEL_NIGHTS + 2:
            person.travel = (TRAVEL_FIRST_NIGHT, TRAVEL_FIRST_NIGHT + TRAVEL_NIGHTS)
            person.away = AWAY_ZONE
        people.append(person)
    return people


def local_to_utc_s(d: date, hours: float, tz: str) -> int:
    """UTC epoch seconds of ``hours`` after local midnight of ``d`` in ``tz``: the wall time
    is taken literally (a wall time in the spring gap moves forward by zoneinfo's fold=0)."""
    base = datetime(d.year, d.month, d.day, tzinfo=ZoneInfo(tz)) + timedelta(hours=hours)
    # timedelta arithmetic on aware datetimes is wall-clock: re-normalise through UTC
    wall = base.replace(tzinfo=None)
    return int(wall.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC).timestamp())


def offset_s(utc_s: int, tz: str) -> int:
    return int(datetime.fromtimestamp(utc_s, ZoneInfo(tz)).utcoffset().total_seconds())


def participants_csv(people) -> str:
    head = "participant_id,sex,birth_year,tz,home_lat_deg,home_lon_deg,height_cm,conditions,medications"
    rows = [head]
    for q in people:
        h = 165 if q.sex == "female" else 177
        rows.append(
            f"{q.pid},{q.sex},{q.birth_year},{q.home},{q.lat:.2f},{q.lon:.2f},{h},"
            "nocturnal_leg_cramps,"
        )
    return "\n".join(rows) + "\n"
