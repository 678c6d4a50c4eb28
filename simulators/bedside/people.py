"""The cohort: devices, home zones, one traveller, and per-person parameters drawn from
:mod:`simulators.bedside.ranges`.

Zones (by index, cycling past six): New York (US DST end 2024-11-03), Berlin (EU DST end
2024-10-27), Sydney (DST start 2024-10-06), London (EU DST end; this Apple wearer travels to
Chicago for a few nights), Tokyo and Kolkata (no DST). Indexes 0, 3, 4 wear an Apple Watch, 1, 2,
5 a Fitbit exported through Fitabase (ids ``fitabase-<10 digits>``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from simulators.bedside.ranges import draw

HOMES = (
    ("America/New_York", 40.71, -74.01),
    ("Europe/Berlin", 52.52, 13.40),
    ("Australia/Sydney", -33.87, 151.21),
    ("Europe/London", 51.51, -0.13),
    ("Asia/Tokyo", 35.68, 139.69),
    ("Asia/Kolkata", 19.08, 72.88),
)
DEVICES = ("apple", "fitabase", "fitabase", "apple", "apple", "fitabase")
TRAVEL_TZ = "America/Chicago"
#: cohort index of the traveller (an Apple wearer: Apple times carry their own offsets)
TRAVELLER = 3

PERSON_PARAMS = (
    "sleep_hr_bpm",
    "night_hr_sd_bpm",
    "day_hr_above_sleep_bpm",
    "overnight_hr_decline_bpm",
    "bedtime_local_h",
    "bedtime_jitter_min",
    "time_in_bed_h",
    "cycle_min",
    "n3_first_cycle_min",
    "rem_first_cycle_min",
    "rem_last_cycle_min",
    "cramp_rate_per_week",
    "cramps_per_night_max",
    "cramp_from_wake_share",
    "cramp_stand_share",
    "cramp_massage_share",
    "nocturia_per_night",
    "phone_use_per_night",
    "plm_series_per_night",
    "rollovers_per_hour",
    "awakenings_per_hour",
    "hot_night_share",
    "watch_off_night_share",
    "daily_charge_min",
    "daily_steps",
    "workout_day_share",
    "walk_cadence_spm",
    "walk_hr_per_10spm_bpm",
    "device_hr_sd_bpm",
    "step_drop_first",
    "step_efficiency",
    "wake_bout_detect_short",
    "wake_bout_detect_long",
    "sleep_epoch_as_wake",
    "deep_as_core_share",
    "rem_as_core_share",
    "fitbit_restless_move_share",
    "fitbit_hr_gap_share",
    "apple_sleep_hr_interval_s",
    "apple_day_hr_interval_s",
    "n3_decay_per_cycle",
    "indoor_step_rate_hz",
    "walk_wrist_intensity",
    "fitbit_restless_move_level",
    "fitbit_min_log_min",
)


@dataclass
class Person:
    index: int
    participant_id: str
    device: str  # "apple" | "fitabase"
    tz: str  # home zone
    lat: float
    lon: float
    sex: str
    birth_year: int
    height_cm: float
    p: dict
    has_rls: bool
    #: (from_epoch, zone) sorted; the zone the person (and the phone) is in from that instant
    zones: list[tuple[int, str]] = field(default_factory=list)
    fitabase_id: int = 0

    def zone_at(self, epoch: float) -> str:
        tz = self.zones[0][1]
        for start, z in self.zones:
            if epoch >= start:
                tz = z
        return tz


def local_epoch(d: date, hour: float, tz: str) -> int:
    """The wall-clock ``hour`` after local midnight of ``d`` (fold 0 in a repeated hour)."""
    wall = datetime.combine(d, time(0)) + timedelta(hours=hour)
    return int(wall.replace(tzinfo=ZoneInfo(tz)).timestamp())


def make_people(n: int, start: date, nights: int, rng: np.random.Generator) -> list[Person]:
    people = []
    for i in range(n):
        tz, lat, lon = HOMES[i % len(HOMES)]
        device = DEVICES[i % len(DEVICES)]
        p = {k: float(draw(k, rng)) for k in PERSON_PARAMS}
        p["cramps_per_night_max"] = int(p["cramps_per_night_max"])
        p["step_drop_first"] = int(p["step_drop_first"])
        sex = "female" if rng.random() < 0.55 else "male"
        age = float(draw("age_y", rng))
        fid = 1_000_000_000 * (2 + i % 7) + int(rng.integers(10_000_000, 99_999_999))
        pid = f"fitabase-{fid}" if device == "fitabase" else f"bedside-{i + 1:02d}"
        person = Person(
            index=i,
            participant_id=pid,
            device=device,
            tz=tz,
            lat=lat,
            lon=lon,
            sex=sex,
            birth_year=start.year - int(age),
            height_cm=float(rng.normal(176 if sex == "male" else 163, 6)),
            p=p,
            has_rls=bool(rng.random() < draw("rls_person_share", rng)) or i == 5,
            fitabase_id=fid,
        )
        person.zones = [(local_epoch(start - timedelta(days=1), 0, tz), tz)]
        if i == TRAVELLER and nights >= 6:
            stay = int(draw("travel_days", rng))
            first = int(rng.integers(1, max(2, nights - stay)))
            # fly on the afternoon of day `first`, fly home on the afternoon `stay` days later
            go = local_epoch(start + timedelta(days=first), 13.0, tz)
            back = local_epoch(start + timedelta(days=first + stay), 13.0, TRAVEL_TZ)
            person.zones += [(go, TRAVEL_TZ), (back, tz)]
        people.append(person)
    return people
