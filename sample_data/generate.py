#!/usr/bin/env python3
"""Seeded generator of crampwatch's sample data (two simulated participants).

Run from the repository root::

    uv run python sample_data/generate.py                 # rewrites sample_data/ in place
    uv run python sample_data/generate.py --out /tmp/sd --seed 7 --nights 30

The same ``--seed`` and ``--nights`` always give byte-identical files (no wall clock, no
hash randomisation, zip entries with a fixed date_time). Everything is simulated in UTC
seconds and only formatted in device-local time when written, as Apple Health does.

What is simulated (details in the README this script writes):

* weather: hourly temperature, dew point, humidity, wind, rain at each home, with a heat wave
  (p01) or a hot spell (p02), written in Open-Meteo's CSV download format;
* each night: bed and sleep times, a sleep-stage hypnogram at 30 s epochs, and scheduled
  events (nocturnal cramps and the confounders a cramp detector must reject);
* each day: walks, workouts, drinking, meals, a morning weigh-in, all driven by an explicit
  latent fluid-balance model (:func:`fluid_balance`) that decides which days are
  ``dehydration`` days in the ground truth;
* an Apple Health ``export.xml`` per participant, zipped as Apple does, with Apple's awkward
  cases; a self-report journal; the latent ground truth.

Only the standard library and numpy are used.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

DEFAULT_SEED = 20250615
DEFAULT_NIGHTS = 90
HERE = Path(__file__).resolve().parent

EPOCH_S = 30  # resolution of the latent timelines (sleep stages, mean heart rate)

# sleep-stage codes of the latent hypnogram
NONE, CORE, DEEP, REM, AWAKE = 0, 1, 2, 3, 4
STAGE_VALUE = {
    CORE: "HKCategoryValueSleepAnalysisAsleepCore",
    DEEP: "HKCategoryValueSleepAnalysisAsleepDeep",
    REM: "HKCategoryValueSleepAnalysisAsleepREM",
    AWAKE: "HKCategoryValueSleepAnalysisAwake",
}
IN_BED = "HKCategoryValueSleepAnalysisInBed"
ASLEEP_OLD = "HKCategoryValueSleepAnalysisAsleepUnspecified"

# heart-rate sampling regimes of the watch
R_OFF, R_SLEEP, R_DAY, R_DENSE, R_WORKOUT = 0, 1, 2, 3, 4

HK = "HKQuantityTypeIdentifier"
SLEEP_TYPE = "HKCategoryTypeIdentifierSleepAnalysis"

# Record types in the order they are written (Apple groups records by type)
TYPE_ORDER = [
    "BodyMass",
    "HeartRate",
    "StepCount",
    "DistanceWalkingRunning",
    "BasalEnergyBurned",
    "ActiveEnergyBurned",
    "DistanceCycling",
    "DietaryWater",
    "DietaryCalcium",
    "DietaryMagnesium",
    "DietaryPotassium",
    "DietaryVitaminD",
    "RestingHeartRate",
    "HeartRateVariabilitySDNN",
    "SleepAnalysis",
]


# --------------------------------------------------------------------------------------------
# participants
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Persona:
    pid: str
    sex: str
    birth_date: date
    tz: str
    home_lat: float
    home_lon: float
    height_cm: float
    conditions: tuple[str, ...]
    medications: tuple[str, ...]
    first_evening: date
    locale: str
    # weather file: Open-Meteo grid point and the offset valid on the download day
    grid_lat: str
    grid_lon: str
    elevation_m: float
    climate_mean_c: float  # annual mean of daily mean temperature
    climate_amp_c: float  # seasonal amplitude (peak around 19 July)
    dewpoint_depression_c: float
    hot_spell_frac: float  # where the heat wave / hot spell starts, as a fraction of the span
    hot_spell_days: int
    hot_spell_tmax: tuple[float, float]
    hot_spell_dep_c: tuple[float, float]  # dew-point depression during it (dry or humid heat)
    extra_hot_day_frac: float  # one more hot day outside the spell (for a 3rd dehydration day)
    extra_hot_tmax: tuple[float, float]
    # body
    body_mass_kg: float
    mass_unit: str  # kg | lb as exported
    dist_unit: str  # km | mi as exported
    rhr_bpm: float
    hr_max_bpm: float
    hrv_ms: float
    stride_m: float
    bed_h: float  # mean bedtime, local hours after midnight of the evening date
    sleep_h: float
    # fluid balance (litres per day)
    baseline_loss_l: float  # EFSA adequate intake as the loss at moderate temperature
    diuretic_loss_l: float
    food_water_l: float
    # behaviour
    bathroom_rate: float  # mean bathroom trips per night (Poisson)
    workouts: tuple[tuple[str, float], ...]  # (activity, sessions per week)
    water_app: tuple[str, str]
    scale: str  # withings | manual
    move_goal_kcal: int
    # devices
    watch: str
    phone: str
    watch_hw: str
    watch_sw: str
    phone_hw: str
    phone_sw: str
    old_watch_hw: str = ""
    old_watch_sw: str = ""
    old_sleep_frac: float = 0.0  # first fraction of nights with old-style sleep values
    travel_tz: str = ""
    travel_frac: float = 0.0
    travel_nights: int = 0


P01 = Persona(
    pid="p01",
    sex="female",
    birth_date=date(1958, 4, 12),
    tz="Europe/Berlin",
    home_lat=50.11,
    home_lon=8.68,
    height_cm=164.0,
    conditions=("hypothyroidism",),
    medications=("hydrochlorothiazide", "levothyroxine"),
    first_evening=date(2025, 6, 15),
    locale="de_DE",
    grid_lat="50.124996",
    grid_lon="8.669998",
    elevation_m=112.0,
    climate_mean_c=10.5,
    climate_amp_c=9.5,
    dewpoint_depression_c=5.5,
    hot_spell_frac=0.19,
    hot_spell_days=7,
    hot_spell_tmax=(33.5, 37.5),
    hot_spell_dep_c=(9.5, 13.0),
    extra_hot_day_frac=0.62,
    extra_hot_tmax=(30.5, 32.0),
    body_mass_kg=68.4,
    mass_unit="kg",
    dist_unit="km",
    rhr_bpm=61.0,
    hr_max_bpm=153.0,
    hrv_ms=29.0,
    stride_m=0.66,
    bed_h=23.3,
    sleep_h=7.2,
    baseline_loss_l=2.0,
    diuretic_loss_l=0.25,
    food_water_l=0.45,
    bathroom_rate=0.45,
    workouts=(("Cycling", 1.4), ("Walking", 1.5), ("Running", 0.4)),
    water_app=("WaterMinder", "5.3.2"),
    scale="withings",
    move_goal_kcal=400,
    watch="P01\u2019s Apple Watch",
    phone="P01\u2019s iPhone",
    watch_hw="Watch6,2",
    watch_sw="11.5",
    phone_hw="iPhone14,5",
    phone_sw="18.5",
)

P02 = Persona(
    pid="p02",
    sex="male",
    birth_date=date(1950, 9, 3),
    tz="America/New_York",
    home_lat=39.95,
    home_lon=-75.17,
    height_cm=178.0,
    conditions=("type2_diabetes",),
    medications=("atorvastatin", "metformin"),
    first_evening=date(2025, 8, 25),
    locale="en_US",
    grid_lat="39.96045",
    grid_lon="-75.16656",
    elevation_m=13.0,
    climate_mean_c=13.5,
    climate_amp_c=12.0,
    dewpoint_depression_c=4.5,
    hot_spell_frac=0.09,
    hot_spell_days=5,
    hot_spell_tmax=(32.0, 35.0),
    hot_spell_dep_c=(5.0, 7.5),
    extra_hot_day_frac=0.30,
    extra_hot_tmax=(29.0, 30.5),
    body_mass_kg=87.5,
    mass_unit="lb",
    dist_unit="mi",
    rhr_bpm=63.0,
    hr_max_bpm=145.0,
    hrv_ms=24.0,
    stride_m=0.72,
    bed_h=23.0,
    sleep_h=7.0,
    baseline_loss_l=2.5,
    diuretic_loss_l=0.0,
    food_water_l=0.55,
    bathroom_rate=0.8,
    workouts=(("Walking", 3.2), ("Cycling", 1.0), ("Running", 0.25)),
    water_app=("Waterllama", "4.12"),
    scale="manual",
    move_goal_kcal=520,
    watch="P02\u2019s Apple Watch",
    phone="P02\u2019s iPhone",
    watch_hw="Watch7,2",
    watch_sw="11.6",
    phone_hw="iPhone15,2",
    phone_sw="18.6",
    old_watch_hw="Watch5,4",
    old_watch_sw="8.8.1",
    old_sleep_frac=1 / 3,
    travel_tz="America/Los_Angeles",
    travel_frac=0.50,
    travel_nights=5,
)

PERSONAS = (P01, P02)

LA_CLIMATE = (21.0, 6.0, 11.0)  # Los Angeles in October: daily mean, half range, dew point


# --------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------


def num(v: float, nd: int) -> str:
    """Fixed decimals, trailing zeros stripped (Apple writes 64.2771, 0.00288, 700.698)."""
    s = f"{v:.{nd}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def iso_utc(ts: float) -> str:
    return datetime.fromtimestamp(int(round(ts)), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def magnus_es(t_c):
    """Saturation vapour pressure (hPa), Magnus form with the BoM constants."""
    return 6.105 * np.exp(17.27 * t_c / (237.7 + t_c))


class Clock:
    """Device-local time of a participant: home zone, or the travel zone while travelling."""

    def __init__(self, home: str, travel: tuple[int, int, str] | None):
        self.home = ZoneInfo(home)
        self.home_name = home
        self.travel = travel
        self.travel_zone = ZoneInfo(travel[2]) if travel else None
        self._off: dict[int, tuple[int, str, str]] = {}
        self._days: dict[int, str] = {}

    def zone_name(self, ts: float) -> str:
        if self.travel and self.travel[0] <= ts < self.travel[1]:
            return self.travel[2]
        return self.home_name

    def zone(self, ts: float) -> ZoneInfo:
        if self.travel and self.travel[0] <= ts < self.travel[1]:
            return self.travel_zone
        return self.home

    def _hour(self, h: int) -> tuple[int, str, str]:
        """(offset s, '+0200', '+02:00') for UTC hour h; offsets change on whole hours only."""
        got = self._off.get(h)
        if got is None:
            dt = datetime.fromtimestamp(h * 3600, UTC).astimezone(self.zone(h * 3600))
            off = int(dt.utcoffset().total_seconds())
            sign = "+" if off >= 0 else "-"
            a = abs(off)
            hh, mm = a // 3600, a % 3600 // 60
            got = (off, f"{sign}{hh:02d}{mm:02d}", f"{sign}{hh:02d}:{mm:02d}")
            self._off[h] = got
        return got

    def _day(self, dnum: int) -> str:
        s = self._days.get(dnum)
        if s is None:
            s = (date(1970, 1, 1) + timedelta(days=dnum)).isoformat()
            self._days[dnum] = s
        return s

    def offset(self, ts: float) -> int:
        """UTC offset (s) at instant ts."""
        return self._hour(int(ts) // 3600)[0]

    def fmt(self, ts: float) -> str:
        """Apple's date format: ``2025-06-15 23:12:45 +0200``."""
        ts = int(ts)
        off, o1, _ = self._hour(ts // 3600)
        dnum, sec = divmod(ts + off, 86400)
        return f"{self._day(dnum)} {sec // 3600:02d}:{sec % 3600 // 60:02d}:{sec % 60:02d} {o1}"

    def iso(self, ts: float) -> str:
        """ISO 8601 with offset: ``2025-07-03T03:15:00+02:00`` (journal)."""
        ts = int(ts)
        off, _, o2 = self._hour(ts // 3600)
        dnum, sec = divmod(ts + off, 86400)
        return f"{self._day(dnum)}T{sec // 3600:02d}:{sec % 3600 // 60:02d}:{sec % 60:02d}{o2}"

    def fmt_many(self, ts: np.ndarray) -> list[str]:
        """Vectorised :meth:`fmt`."""
        ts = np.asarray(ts, dtype=np.int64)
        uh, inv = np.unique(ts // 3600, return_inverse=True)
        info = [self._hour(int(h)) for h in uh]
        offs = np.array([x[0] for x in info], dtype=np.int64)
        suffix = np.array([" " + x[1] for x in info])
        loc = (ts + offs[inv]).astype("datetime64[s]")
        out = np.char.replace(np.datetime_as_string(loc, unit="s"), "T", " ")
        return np.char.add(out, suffix[inv]).tolist()

    def local(self, ts: float) -> datetime:
        return datetime(1970, 1, 1) + timedelta(seconds=int(ts) + self.offset(ts))

    def night_of(self, ts: float) -> date:
        """Local date of the evening a night began (noon-to-noon window)."""
        return (self.local(ts) - timedelta(hours=12)).date()

    def to_utc(self, d: date, hour: float, zone: ZoneInfo | None = None) -> int:
        """Local wall-clock hour on date d (may exceed 24) to a UTC timestamp."""
        z = zone or self.home
        naive = datetime(d.year, d.month, d.day) + timedelta(seconds=round(hour * 3600))
        aware = naive.replace(tzinfo=z)
        return int(aware.timestamp())


# --------------------------------------------------------------------------------------------
# latent containers
# --------------------------------------------------------------------------------------------


@dataclass
class Workout:
    activity: str  # Cycling | Walking | Running
    start: int
    end: int
    kcal_per_min: float
    hr_target: float
    outdoor: bool = True
    temp_c: float = 20.0
    rh_pct: float = 50.0
    forced: str = ""  # dehydration | hot_hydrated | ""

    @property
    def minutes(self) -> float:
        return (self.end - self.start) / 60.0

    @property
    def kcal(self) -> float:
        return self.kcal_per_min * self.minutes


@dataclass
class Event:
    kind: str  # nocturnal_cramp | bathroom_trip | restless_night | rollover | watch_off
    start: int
    end: int
    awake: list[tuple[int, int]] = field(default_factory=list)  # Awake epochs (abs ts)
    steps: list[tuple[int, int, int]] = field(default_factory=list)  # (start, end, count)
    kcal: list[tuple[int, int, float]] = field(default_factory=list)
    dense: tuple[int, int] | None = None  # window of ~1/min HR sampling
    hr: list[tuple] = field(default_factory=list)  # kernels, see add_kernel
    extra_hr_samples: list[int] = field(default_factory=list)
    detail: dict = field(default_factory=dict)


@dataclass
class Night:
    idx: int
    evening: date
    zone: str
    bed: int
    onset: int
    wake: int
    outbed: int
    old_style: bool
    whole_off: bool = False
    off: tuple[int, int] | None = None  # watch off window
    stages: np.ndarray | None = None  # per 30-s epoch from onset
    events: list[Event] = field(default_factory=list)
    hr_offset: float = 0.0
    tmin_c: float = 15.0


@dataclass
class Day:
    idx: int
    date: date
    start: int  # out of bed
    end: int  # into bed (or export time on the last day)
    travel: bool = False
    kind: str = "normal"  # normal | dehydration | hot_hydrated | water_not_logged
    workouts: list[Workout] = field(default_factory=list)
    walks: list[tuple[int, int, float]] = field(default_factory=list)  # (start, end, spm)
    flight: tuple[int, int] | None = None
    water_logged: bool = True
    minerals_logged: bool = True
    tmax_c: float = 20.0
    heat_hours: float = 0.0
    fluid: dict = field(default_factory=dict)
    weigh_ts: int | None = None
    bm_kg: float | None = None
    rhr: int | None = None


# --------------------------------------------------------------------------------------------
# weather
# --------------------------------------------------------------------------------------------


def diurnal_shape(solar_h: np.ndarray) -> np.ndarray:
    """-1 at 05:00 solar time, +1 at 15:00, cosine pieces in between."""
    s = np.mod(solar_h, 24.0)
    rising = (s >= 5) & (s < 15)
    out = np.empty_like(s)
    out[rising] = -np.cos(np.pi * (s[rising] - 5) / 10)
    ss = np.where(s >= 15, s - 15, s + 9)  # hours since 15:00
    out[~rising] = np.cos(np.pi * ss[~rising] / 14)
    return out


@dataclass
class Weather:
    t0: int  # UTC ts of the first hour
    temp: np.ndarray
    dew: np.ndarray
    rh: np.ndarray
    app: np.ndarray
    rain: np.ndarray
    wind: np.ndarray
    spell_days: list[date]
    extra_hot_day: date | None

    def at(self, ts: float, arr: np.ndarray | None = None) -> float:
        arr = self.temp if arr is None else arr
        x = (ts - self.t0) / 3600.0
        i = min(max(int(math.floor(x)), 0), len(arr) - 2)
        f = min(max(x - i, 0.0), 1.0)
        return float(arr[i] * (1 - f) + arr[i + 1] * f)


def gen_weather(p: Persona, rng: np.random.Generator, first: date, n_days: int) -> Weather:
    """Hourly weather from first 00:00 (local standard offset) for n_days, physical in UTC."""
    off0 = int(
        datetime(first.year, first.month, first.day, 12, tzinfo=ZoneInfo(p.tz))
        .utcoffset()
        .total_seconds()
    )
    t0 = int(datetime(first.year, first.month, first.day, tzinfo=UTC).timestamp()) - off0 - 86400
    nh = (n_days + 2) * 24
    hours_utc = t0 + 3600 * np.arange(nh)
    solar_h = ((hours_utc / 3600.0) + p.home_lon / 15.0) % 24.0
    solar_day = np.floor((hours_utc / 3600.0 + p.home_lon / 15.0) / 24.0).astype(int)
    d0 = int(solar_day[0])
    nd = int(solar_day[-1]) - d0 + 2
    days = [date(1970, 1, 1) + timedelta(days=d0 + k) for k in range(nd)]
    doy = np.array([d.timetuple().tm_yday for d in days], dtype=float)
    clim = p.climate_mean_c + p.climate_amp_c * np.cos(2 * np.pi * (doy - 200) / 365.25)
    # synoptic anomaly: AR(1)
    anom = np.zeros(nd)
    for k in range(1, nd):
        anom[k] = 0.78 * anom[k - 1] + rng.normal(0, 1.7)
    amp = rng.uniform(4.0, 6.5, nd)
    dep = np.clip(p.dewpoint_depression_c + rng.normal(0, 1.6, nd), 1.5, 11)
    tmean = clim + anom
    # the heat wave / hot spell
    n_span = n_days
    spell_start = first + timedelta(days=max(1, int(round(p.hot_spell_frac * n_span))))
    spell_len = min(p.hot_spell_days, max(2, n_span // 3))
    spell_days = [spell_start + timedelta(days=k) for k in range(spell_len)]
    lo, hi = p.hot_spell_tmax
    peak = rng.uniform(max(lo + 1.5, hi - 1.5), hi)
    for k, d in enumerate(spell_days):
        j = days.index(d)
        # rise to the peak in the middle of the spell, then break down
        frac = 1 - abs((k - (spell_len - 1) / 2) / max(1.0, (spell_len - 1) / 2))
        tmax = lo + (peak - lo) * frac + rng.uniform(-0.4, 0.4)
        tmax = float(np.clip(tmax, lo, hi))
        amp[j] = rng.uniform(6.0, 7.2)
        tmean[j] = tmax - amp[j]
        dep[j] = rng.uniform(*p.hot_spell_dep_c)
    # the days just around the spell: warm, not hot
    for d in (spell_days[0] - timedelta(days=1), spell_days[-1] + timedelta(days=1)):
        if d in days:
            j = days.index(d)
            tmean[j] = min(tmean[j] + 3, lo - 4.5 - amp[j])
    extra = first + timedelta(days=int(round(p.extra_hot_day_frac * n_span)))
    extra_hot: date | None = None
    if extra not in spell_days and (extra - spell_days[-1]).days >= 3 and extra in days:
        j = days.index(extra)
        amp[j] = rng.uniform(5.5, 6.5)
        tmean[j] = rng.uniform(*p.extra_hot_tmax) - amp[j]
        dep[j] = rng.uniform(6, 9)
        extra_hot = extra
    # keep every other day clearly below the heat-wave range
    special = {days.index(d) for d in spell_days}
    if extra_hot:
        special.add(days.index(extra_hot))
    cap = lo - 3.0  # other days stay clearly below the heat-wave range (soft cap)
    for j in range(nd):
        if j not in special:
            tmax = tmean[j] + amp[j]
            if tmax > cap - 4.0:
                tmax = cap - 4.0 + 4.0 * math.tanh((tmax - cap + 4.0) / 4.0)
            tmean[j] = tmax - amp[j]
    # rain: more likely on cool days, thunderstorm to end the spell
    rain_day = rng.random(nd) < 0.28
    for j in special:
        rain_day[j] = False
    end_j = days.index(spell_days[-1]) + 1
    if end_j < nd:
        rain_day[end_j] = True
    # per-hour interpolation of daily parameters between solar noons
    day_pos = (hours_utc / 3600.0 + p.home_lon / 15.0) / 24.0 - d0 - 0.5
    jj = np.arange(nd)
    tm_h = np.interp(day_pos, jj, tmean)
    dep_h = np.interp(day_pos, jj, dep)
    j_of_h = solar_day - d0
    amp_h = amp[j_of_h]
    shape = diurnal_shape(solar_h)
    temp = tm_h + amp_h * shape + rng.normal(0, 0.25, nh)
    noise = np.zeros(nh)
    for k in range(1, nh):
        noise[k] = 0.85 * noise[k - 1] + rng.normal(0, 0.25)
    dew = tm_h - dep_h + 0.5 * shape + noise
    rain = np.zeros(nh)
    wind_noise = np.zeros(nh)
    for k in range(1, nh):
        wind_noise[k] = 0.8 * wind_noise[k - 1] + rng.normal(0, 1.3)
    wind = 7.0 + 5.0 * np.clip(shape, 0, None) + wind_noise
    for j in np.nonzero(rain_day)[0]:
        hs = np.nonzero(j_of_h == j)[0]
        if len(hs) < 6:
            continue
        start = int(rng.integers(hs[0], hs[-1] - 4))
        dur = int(rng.integers(1, 6))
        for k in range(start, min(start + dur, nh)):
            rain[k] = float(np.round(rng.exponential(1.2) + 0.1, 1))
            temp[k] -= 1.5
            wind[k] += 5
    dew = np.minimum(dew, temp - 0.2)
    for k in np.nonzero(rain > 0)[0]:
        dew[k] = temp[k] - rng.uniform(0.3, 1.5)
    wind = np.clip(wind, 0.4, None)
    # rounded as Open-Meteo writes them; humidity derived from the rounded pair
    temp = np.round(temp, 1)
    dew = np.round(dew, 1)
    rh = np.clip(np.round(100 * magnus_es(dew) / magnus_es(temp)), 1, 100)
    e = rh / 100 * magnus_es(temp)
    wind = np.round(wind, 1)
    app = np.round(temp + 0.33 * e - 0.70 * (wind / 3.6) - 4.0, 1)
    return Weather(
        t0=t0,
        temp=temp,
        dew=dew,
        rh=rh,
        app=app,
        rain=rain,
        wind=wind,
        spell_days=spell_days,
        extra_hot_day=extra_hot,
    )


def open_meteo_csv(
    p: Persona, w: Weather, first: date, n_days: int, download: date
) -> tuple[str, str]:
    """Open-Meteo's CSV download: one fixed utc_offset_seconds (valid on the download day)."""
    z = ZoneInfo(p.tz)
    dl = datetime(download.year, download.month, download.day, 12, tzinfo=z)
    off = int(dl.utcoffset().total_seconds())
    hours = off // 3600
    abbr = f"GMT{'+' if hours >= 0 else '-'}{abs(hours)}"
    lines = [
        "latitude,longitude,elevation,utc_offset_seconds,timezone,timezone_abbreviation",
        f"{p.grid_lat},{p.grid_lon},{p.elevation_m:.1f},{off},{p.tz},{abbr}",
        "",
        "time,temperature_2m (°C),relative_humidity_2m (%),dew_point_2m (°C),"
        "apparent_temperature (°C),precipitation (mm),wind_speed_10m (km/h)",
    ]
    start_utc = int(datetime(first.year, first.month, first.day, tzinfo=UTC).timestamp()) - off
    for k in range(n_days * 24):
        ts = start_utc + 3600 * k
        i = (ts - w.t0) // 3600
        local = datetime(1970, 1, 1) + timedelta(seconds=ts + off)
        lines.append(
            f"{local:%Y-%m-%dT%H:%M},{w.temp[i]:.1f},{int(w.rh[i])},{w.dew[i]:.1f},"
            f"{w.app[i]:.1f},{w.rain[i]:.2f},{w.wind[i]:.1f}"
        )
    lat = float(p.grid_lat)
    lon = float(p.grid_lon)
    lat_s = f"{abs(lat):.2f}{'N' if lat >= 0 else 'S'}"
    lon_s = f"{abs(lon):.2f}{'E' if lon >= 0 else 'W'}"
    name = f"open-meteo-{lat_s}{lon_s}{p.elevation_m:.0f}m.csv"
    return name, "\n".join(lines) + "\n"


#: participants with a bedroom sensor (p01: a top-floor flat without air conditioning)
BEDROOM_SENSOR = ("p01",)
#: bedroom sensor logging interval, s
BEDROOM_INTERVAL_S = 900


def bedroom_sensor_csv(sim: Sim, seed: int, pidx: int, n_days: int) -> str:
    """A bedroom temperature/humidity logger (``indoor_csv`` format), every 15 min.

    A first-order building: the room relaxes towards the outdoor air plus internal gains
    (2.5 C) with a 48-h time constant, never below 20 C (heating); the room's vapour
    pressure is the outdoor one plus 2 hPa from the occupants. Sensor noise 0.1 C / 1 %RH.
    Its own random stream, so the other files do not change when it does.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, pidx, 7]))
    w = sim.weather
    start = sim.t0
    n = n_days * 86400 // BEDROOM_INTERVAL_S
    ts = start + BEDROOM_INTERVAL_S * np.arange(n)
    t_out = np.array([w.at(t) for t in ts])
    dew_out = np.array([w.at(t, w.dew) for t in ts])
    tau_s = 48 * 3600.0
    k = BEDROOM_INTERVAL_S / tau_s
    t_in = np.empty(n)
    t = 23.0
    for i in range(n):
        t += k * (t_out[i] + 2.5 - t)
        t = max(t, 20.0)
        t_in[i] = t
    e_in = magnus_es(dew_out) + 2.0
    rh_in = np.clip(100.0 * e_in / magnus_es(t_in), 25.0, 85.0)
    t_obs = t_in + rng.normal(0.0, 0.1, n)
    rh_obs = rh_in + rng.normal(0.0, 1.0, n)
    lines = ["timestamp,temperature_c,humidity_pct,sensor"]
    for i in range(n):
        lines.append(f"{sim.clock.iso(ts[i])},{t_obs[i]:.1f},{rh_obs[i]:.0f},bedroom")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# the participant simulation
# --------------------------------------------------------------------------------------------


class Sim:
    def __init__(self, p: Persona, seed: int, n_nights: int, pidx: int):
        self.p = p
        self.n = n_nights
        ss = np.random.SeedSequence([seed, pidx])
        (
            self.r_weather,
            self.r_sched,
            self.r_night,
            self.r_day,
            self.r_phys,
            self.r_rec,
            self.r_journal,
        ) = [np.random.default_rng(s) for s in ss.spawn(7)]
        self.first = p.first_evening
        self.last = p.first_evening + timedelta(days=n_nights)  # day of the last wake
        self.export_local = datetime(self.last.year, self.last.month, self.last.day, 20, 41, 7)
        # travel window (p02): leave on a travel day afternoon, fly back n nights later
        travel = None
        self.travel_dates: list[date] = []
        if p.travel_tz and n_nights >= 12:
            k0 = int(round(p.travel_frac * n_nights))
            dep = self.first + timedelta(days=k0)
            ret = dep + timedelta(days=p.travel_nights)
            home = ZoneInfo(p.tz)
            t_arr = (
                int(datetime(dep.year, dep.month, dep.day, 17, tzinfo=home).timestamp()) + 4 * 3600
            )
            t_ret = int(datetime(ret.year, ret.month, ret.day, 18, tzinfo=home).timestamp())
            t_arr -= t_arr % 3600
            t_ret -= t_ret % 3600
            travel = (t_arr, t_ret, p.travel_tz)
            self.travel_dates = [dep + timedelta(days=k) for k in range(p.travel_nights + 1)]
            self.flight_out = (t_arr - 6 * 3600 + 1800, t_arr)
            self.flight_back = (t_ret - 5 * 3600 - 1800, t_ret)
        self.travel = travel
        self.clock = Clock(p.tz, travel)
        self.t0 = self.clock.to_utc(self.first, 0.0)
        self.t_end = int(self.export_local.replace(tzinfo=ZoneInfo(p.tz)).timestamp())
        self.n_ep = (self.t_end - self.t0) // EPOCH_S + 1
        self.weather = gen_weather(p, self.r_weather, self.first, n_nights + 1)
        age = self.first.year - p.birth_date.year
        s = 5 if p.sex == "male" else -161
        self.bmr_kcal = 10 * p.body_mass_kg + 6.25 * p.height_cm - 5 * age + s
        self.old_era_nights = int(round(p.old_sleep_frac * n_nights))
        self.nights: list[Night] = []
        self.days: list[Day] = []

    # ---------------------------------------------------------------------- time of day ----
    def zone_for_date(self, d: date, hour: float) -> ZoneInfo:
        ts = self.clock.to_utc(d, hour)
        z = self.clock.zone(ts)
        if z is not self.clock.home:
            ts = self.clock.to_utc(d, hour, z)
            z = self.clock.zone(ts)
        return z

    def at_local(self, d: date, hour: float) -> int:
        return self.clock.to_utc(d, hour, self.zone_for_date(d, hour))

    def outdoor_temp(self, ts: float) -> tuple[float, float]:
        """Outdoor temperature and humidity where the participant is."""
        if self.clock.zone_name(ts) != self.p.tz:
            mean, half, dew = LA_CLIMATE
            loc = self.clock.local(ts)
            sh = np.array([loc.hour + loc.minute / 60.0])
            t = mean + half * float(diurnal_shape(sh)[0])
            rh = float(100 * magnus_es(dew) / magnus_es(t))
            return t, rh
        return self.weather.at(ts), self.weather.at(ts, self.weather.rh)

    # ---------------------------------------------------------------------- schedule -------
    def schedule_sleep(self) -> None:
        r = self.r_sched
        p = self.p
        for i in range(self.n):
            ev = self.first + timedelta(days=i)
            first_la_night = bool(self.travel_dates) and ev == self.travel_dates[0]
            bed_h = float(np.clip(r.normal(p.bed_h, 0.35), 22.5, 24.5))
            if first_la_night:
                bed_h = 22.5  # jet lag: body clock three hours ahead
            zone = self.zone_for_date(ev, bed_h)
            bed = self.clock.to_utc(ev, bed_h, zone) + int(r.integers(0, 60))
            onset = bed + int(r.uniform(5, 25) * 60)
            dur_h = float(np.clip(r.normal(p.sleep_h, 0.5), 6.0, 8.5))
            wake = onset + int(dur_h * 3600 / EPOCH_S) * EPOCH_S
            outbed = wake + int(r.uniform(2, 15) * 60)
            old = i < self.old_era_nights
            self.nights.append(
                Night(i, ev, self.clock.zone_name(onset), bed, onset, wake, outbed, old)
            )
        for i in range(self.n + 1):
            d = self.first + timedelta(days=i)
            start = self.nights[i - 1].outbed if i > 0 else self.at_local(d, 7.0)
            end = self.nights[i].bed if i < self.n else self.t_end
            day = Day(i, d, start, end)
            day.travel = d in self.travel_dates[1:-1] if self.travel_dates else False
            self.days.append(day)
        if self.travel:
            dep, ret = self.travel_dates[0], self.travel_dates[-1]
            self.days[(dep - self.first).days].flight = self.flight_out
            self.days[(ret - self.first).days].flight = self.flight_back

    def day_tmax(self, d: Day) -> float:
        ts = np.arange(d.start, d.end, 1800)
        return max(self.outdoor_temp(float(t))[0] for t in ts)

    def choose_day_kinds(self) -> None:
        """Which days are dehydration, hot-but-hydrated and water-not-logged days."""
        r = self.r_sched
        # (participant constants are on self.p)
        for d in self.days:
            d.tmax_c = self.day_tmax(d)
            hot = [
                t for t in np.arange(d.start, d.end, 1800) if self.outdoor_temp(float(t))[0] >= 28
            ]
            d.heat_hours = len(hot) / 2.0
        usable = [d for d in self.days[1:-1] if not d.travel and d.flight is None]
        spell = [d for d in usable if d.date in self.weather.spell_days]
        hot_other = [d for d in usable if d.date == self.weather.extra_hot_day]
        n_dehyd = max(1, int(round(3 * self.n / 90)))
        chosen: list[Day] = []
        # dehydration: two days in the spell (not adjacent), then the extra hot day
        spell_sorted = sorted(spell, key=lambda d: -d.tmax_c)
        for d in spell_sorted:
            if len([c for c in chosen if c in spell]) >= min(2, n_dehyd):
                break
            if all(abs(d.idx - c.idx) >= 3 for c in chosen):
                chosen.append(d)
        if len(chosen) < min(2, n_dehyd):  # short spell: allow one day in between
            for d in spell_sorted:
                if len(chosen) < min(2, n_dehyd) and all(abs(d.idx - c.idx) >= 2 for c in chosen):
                    chosen.append(d)
        for d in hot_other:
            if len(chosen) < n_dehyd:
                chosen.append(d)
        for d in chosen:
            d.kind = "dehydration"
        # hot but well hydrated: other spell days with a workout in the heat
        # (never the day after a dehydration day: that one is for recovering)
        n_hyd = max(1, int(round(3 * self.n / 90)))
        hyd: list[Day] = []
        warm = [
            d
            for d in usable
            if d.kind == "normal"
            and d.tmax_c >= 28
            and all(d.idx - c.idx >= 2 or c.idx - d.idx >= 1 for c in chosen)
        ]
        for d in sorted(warm, key=lambda d: (d not in spell, -d.tmax_c)):
            if len(hyd) < n_hyd and all(abs(d.idx - h.idx) >= 2 for h in hyd):
                hyd.append(d)
        for d in hyd:
            d.kind = "hot_hydrated"
        # water simply not logged (one of them a warm workout day if there is one)
        rest = [
            d for d in usable if d.kind == "normal" and all(abs(d.idx - c.idx) >= 2 for c in chosen)
        ]
        n_nl = max(1, int(round(4 * self.n / 90)))
        warm = sorted(rest, key=lambda d: -d.tmax_c)[:3]
        picks = []
        if warm:
            picks.append(warm[int(r.integers(len(warm)))])
        pool = [d for d in rest if d not in picks]
        if pool:
            idx = r.choice(len(pool), size=min(len(pool), n_nl - len(picks)), replace=False)
            picks += [pool[int(k)] for k in sorted(idx)]
        for d in picks:
            d.kind = "water_not_logged"
            d.water_logged = False
        # food diary skipped on some days
        for d in self.days:
            d.minerals_logged = bool(r.random() > 0.1)

    def schedule_activity(self) -> None:
        r = self.r_day
        p = self.p
        for d in self.days:
            busy: list[tuple[int, int]] = []
            if d.flight:
                busy.append((d.flight[0] - 5400, d.flight[1] + 3600))
            # workouts
            acts: list[str] = []
            for act, per_week in p.workouts:
                if r.random() < per_week / 7.0:
                    acts.append(act)
            if d.travel:
                acts = ["Walking"] if r.random() < 0.7 else []
            if d.flight or d.idx == 0:
                acts = []
            if d.idx > 0 and self.days[d.idx - 1].kind == "dehydration":
                acts = []  # a recovery day after the dehydration day
            if d.kind in ("dehydration", "hot_hydrated"):
                acts = ["Cycling"] if p.pid == "p01" or r.random() < 0.6 else ["Walking"]
            if d.kind == "water_not_logged" and d.tmax_c >= 27 and not acts:
                acts = ["Walking"]
            acts = acts[:2]
            for k, act in enumerate(acts):
                w = self.make_workout(d, act, k, busy)
                if w:
                    d.workouts.append(w)
                    busy.append((w.start - 900, w.end + 900))
            # everyday walks (errands, dog, garden), non-overlapping
            n_walk = int(r.integers(4, 9)) if not d.flight else 2
            for _ in range(n_walk * 3):
                if len(d.walks) >= n_walk:
                    break
                dur = float(r.uniform(3, 22)) * 60
                lo, hi = d.start + 1800, d.end - 1800 - dur
                if hi <= lo:
                    break
                s = int(r.uniform(lo, hi))
                e = int(s + dur)
                if any(s < b1 + 300 and e > b0 - 300 for b0, b1 in busy):
                    continue
                spm = float(r.uniform(88, 112))
                d.walks.append((s, e, spm))
                busy.append((s, e))
            d.walks.sort()

    def make_workout(self, d: Day, act: str, k: int, busy) -> Workout | None:
        r = self.r_day
        p = self.p
        if d.kind in ("dehydration", "hot_hydrated"):
            hour = float(r.uniform(11.5, 13.5))
            minutes = float(r.uniform(140, 175)) if act == "Cycling" else float(r.uniform(150, 200))
        else:
            hot = d.tmax_c >= 28
            hour = (
                float(r.uniform(7.5, 9.5))
                if (hot or k == 0) and r.random() < 0.6
                else float(r.uniform(16.5, 18.5))
            )
            minutes = {
                "Cycling": r.uniform(55, 130),
                "Walking": r.uniform(40, 90),
                "Running": r.uniform(22, 38),
            }[act]
            minutes = float(minutes)
        s = self.at_local(d.date, hour) + int(r.integers(0, 600))
        e = s + int(minutes * 60)
        if s < d.start + 1800 or e > d.end - 1800:
            return None
        if any(s < b1 and e > b0 for b0, b1 in busy):
            return None
        kpm = {
            "Cycling": r.uniform(6.0, 7.6),
            "Walking": r.uniform(3.9, 4.8),
            "Running": r.uniform(8.5, 10.0),
        }[act]
        hrmax = p.hr_max_bpm
        frac = {
            "Cycling": r.uniform(0.74, 0.82),
            "Walking": r.uniform(0.64, 0.70),
            "Running": r.uniform(0.86, 0.91),
        }[act]
        mid = (s + e) / 2
        t, rh = self.outdoor_temp(mid)
        return Workout(
            act,
            s,
            e,
            float(kpm),
            float(frac * hrmax),
            True,
            t,
            rh,
            d.kind if d.kind in ("dehydration", "hot_hydrated") else "",
        )

    # ---------------------------------------------------------------------- fluids ---------
    @staticmethod
    def sweat_litres(kcal: float, temp_c: float, minutes: float) -> float:
        """Latent-heat estimate (detectors-science.md 2.1 fallback), clamped to 2.5 L/h.

        sweat_L = AEE_kcal * 0.8 * f_evap(Ta) / (580 * eta), eta = 0.7,
        f_evap = 0.6 at 20 degC rising linearly to 1.0 at 35 degC.
        """
        f_evap = min(1.0, max(0.6, 0.6 + 0.4 * (temp_c - 20.0) / 15.0))
        s = kcal * 0.8 * f_evap / (580.0 * 0.7)
        return min(s, 2.5 * minutes / 60.0)

    def fluid_balance(self) -> None:
        """Latent daily water balance; sets day.fluid, day.kind is the schedule's intent.

        Per day (litres):
          losses   = baseline_loss (EFSA AI: 2.0 F / 2.5 M, covers moderate temperature and
                     PAL 1.6) + diuretic_loss (thiazide) + workout sweat + 0.06 L per waking
                     hour with outdoor temperature >= 28 degC (passive heat sweat, no A/C)
          intake   = food_water + beverages
          beverages = habitual (losses at rest - food + 0.15 surplus, +/- noise)
                      + c * (workout sweat + heat sweat)   c ~ U(0.85, 1.05) normally
                      + 0.7 * deficit carried in from the previous day (thirst)
          On a designed dehydration day (hot, long outdoor workout) the person drinks only
          enough to end the day U(2.8, 3.6) % of body mass short (at least 0.4 L).
          deficit_end = max(0, deficit_start + losses - intake); the kidneys excrete any surplus.
        A day is a `dehydration` day in the ground truth when deficit_end >= 2 % of body mass.
        The next morning's true body mass is baseline - deficit (1 L = 1 kg).
        """
        r = self.r_phys
        p = self.p
        deficit = 0.0
        bm_base = p.body_mass_kg
        for d in self.days:
            bm_base = bm_base + 0.2 * (p.body_mass_kg - bm_base) + float(r.normal(0, 0.06))
            f: dict = {"bm_base_kg": bm_base, "deficit_start_l": deficit}
            sweat = sum(self.sweat_litres(w.kcal, w.temp_c, w.minutes) for w in d.workouts)
            heat = 0.06 * d.heat_hours
            base_loss = p.baseline_loss_l + p.diuretic_loss_l
            food = p.food_water_l + float(r.normal(0, 0.04))
            habitual = base_loss - food + 0.15 + float(r.normal(0, 0.12))
            c = float(r.uniform(0.85, 1.05))
            bev = habitual + c * (sweat + heat) + 0.7 * deficit
            if d.kind == "dehydration":
                target = float(r.uniform(0.028, 0.036)) * bm_base
                bev = max(0.4, deficit + base_loss + sweat + heat - food - target)
                while (
                    deficit + base_loss + sweat + heat - food - bev < 0.024 * bm_base and d.workouts
                ):
                    d.workouts[0].end += 600  # a longer ride until the day crosses the line
                    sweat = sum(self.sweat_litres(x.kcal, x.temp_c, x.minutes) for x in d.workouts)
            end = max(0.0, deficit + base_loss + sweat + heat - food - bev)
            f.update(
                sweat_l=sweat,
                heat_sweat_l=heat,
                baseline_loss_l=base_loss,
                food_water_l=food,
                beverages_l=bev,
                deficit_end_l=end,
                deficit_end_pct=100 * end / bm_base,
            )
            d.fluid = f
            deficit = end
        for d in self.days:
            if d.kind == "dehydration":
                assert d.fluid["deficit_end_pct"] >= 2.0, (self.p.pid, d.date)
            elif d.fluid["deficit_end_pct"] >= 2.0:  # pragma: no cover - by construction
                d.kind = "dehydration"

    def weigh_ins_and_rhr(self) -> None:
        """Morning scale readings and daily resting HR, from the latent deficit."""
        r = self.r_phys
        p = self.p
        measured: list[tuple[int, float]] = []  # (day idx, kg)
        rhr_hist: list[tuple[int, int]] = []
        for d in self.days:
            prev = self.days[d.idx - 1] if d.idx > 0 else None
            after_dehyd = prev is not None and prev.kind == "dehydration"
            deficit_morning = prev.fluid["deficit_end_l"] if prev else 0.0
            # resting HR
            base_rhr = p.rhr_bpm + float(r.normal(0, 0.6))
            eff = 0.0
            if after_dehyd:
                eff = max(2.6, 1.3 * 100 * deficit_morning / d.fluid["bm_base_kg"])
            rhr = int(round(base_rhr + eff + float(r.uniform(-0.4, 0.4))))
            hist = [v for k, v in rhr_hist if d.idx - 7 <= k < d.idx]
            if after_dehyd and len(hist) >= 3:
                rhr = max(rhr, int(math.ceil(float(np.median(hist)))) + 2)
            d.rhr = rhr
            rhr_hist.append((d.idx, rhr))
            # weigh-in: most mornings at home, always after a dehydration day
            if d.idx == 0 or d.travel or (d.flight and d.date != self.travel_dates[0]):
                continue
            if not after_dehyd and r.random() > 0.86:
                continue
            true = d.fluid["bm_base_kg"] - deficit_morning
            noise = float(np.clip(r.normal(0, 0.003), -0.008, 0.008))
            kg = true * (1 + noise)
            base = [v for k, v in measured if d.idx - 7 <= k < d.idx]
            if len(base) >= 3:
                med = float(np.median(base))
                drop = 100 * (med - kg) / med
                if after_dehyd and drop < 2.05:
                    kg = med * (1 - float(r.uniform(2.1, 2.5)) / 100)
                elif not after_dehyd and drop >= 1.5:
                    kg = med * (1 - float(r.uniform(0.0, 1.2)) / 100)
            d.weigh_ts = d.start + int(r.uniform(4, 35) * 60)
            if p.mass_unit == "lb":
                kg = round(kg / 0.45359237, 1) * 0.45359237  # typed in as lb with 1 decimal
            else:
                kg = round(kg, 2)
            d.bm_kg = kg
            measured.append((d.idx, kg))

    # ---------------------------------------------------------------------- nights ---------
    def hypnogram(self, night: Night) -> np.ndarray:
        r = self.r_night
        n_ep = (night.wake - night.onset) // EPOCH_S
        st = np.full(n_ep, CORE, dtype=np.int8)
        t = 0
        k = 0
        while t < n_ep:
            core1 = r.uniform(10, 25) if k == 0 else r.uniform(8, 20)
            deep = (
                max(0.0, r.normal(38 - 12 * k, 6))
                if k < 3
                else (r.uniform(0, 8) if r.random() < 0.3 else 0)
            )
            core2 = r.uniform(10, 25)
            rem = float(np.clip(r.normal(8 + 9 * k, 4), 3, 40))
            for stage, minutes in ((CORE, core1), (DEEP, deep), (CORE, core2), (REM, rem)):
                m = int(round(minutes * 2))
                st[t : t + m] = stage
                t += m
            k += 1
        return st

    def schedule_nights(self) -> None:
        r = self.r_night
        p = self.p
        n = self.n
        nights = self.nights
        # watch off: 2 whole nights (charging overnight), 3 partial windows
        n_whole = max(1, int(round(2 * n / 90))) if n >= 10 else 0
        n_part = max(1, int(round(3 * n / 90)))
        cand = [nt for nt in nights[1:-1] if nt.evening not in self.travel_dates]
        pick = r.choice(len(cand), size=min(len(cand), n_whole + n_part), replace=False)
        for j, k in enumerate(sorted(int(x) for x in pick)):
            nt = cand[k]
            if j < n_whole:
                nt.whole_off = True
                nt.off = (
                    nt.bed - int(r.uniform(20, 60) * 60),
                    nt.outbed + int(r.uniform(10, 40) * 60),
                )
            else:
                hours = float(r.uniform(2, 5))
                if r.random() < 0.5:  # put it on late after charging
                    nt.off = (nt.bed - int(r.uniform(15, 45) * 60), nt.onset + int(hours * 3600))
                else:  # battery died in the small hours
                    nt.off = (nt.wake - int(hours * 3600), nt.outbed + int(r.uniform(5, 20) * 60))
        for nt in nights:
            nt.stages = self.hypnogram(nt)
            day = self.days[nt.idx]
            tmin = min(self.outdoor_temp(float(t))[0] for t in range(nt.onset, nt.wake, 1800))
            nt.tmin_c = tmin
            nt.hr_offset = min(3.0, 0.4 * max(0.0, tmin - 16.0))
            if day.kind == "dehydration":
                nt.hr_offset += 1.2 * day.fluid["deficit_end_pct"]
        # cramp nights: a latent hazard (heat, dehydration, hard workouts), see README
        usable = [nt for nt in nights if not nt.whole_off]
        weights = []
        for nt in usable:
            day = self.days[nt.idx]
            wgt = 1.0 + 2.5 * (day.kind == "dehydration") + 1.0 * (day.tmax_c >= 30)
            wgt += 0.5 * (sum(w.kcal for w in day.workouts) >= 500)
            weights.append(wgt)
        wts = np.array(weights) / sum(weights)
        k_cramp = int(round(r.uniform(10, 15) * n / 90))
        k_cramp = max(2 if n >= 7 else 1, min(k_cramp, len(usable)))
        forced: list[tuple[Night, int | None]] = []
        dst_ts = int(datetime(2025, 11, 2, 6, 20, tzinfo=UTC).timestamp())  # 01:20 EST, 2nd 1 am
        for nt in usable:
            if p.tz == "America/New_York" and nt.onset + 5400 < dst_ts < nt.wake - 3600:
                forced.append((nt, dst_ts))
        if self.travel_dates and len(self.travel_dates) > 2:
            la = [nt for nt in usable if nt.evening == self.travel_dates[2]]
            forced += [(nt, None) for nt in la]
        picked = [nt for nt, _ in forced]
        order = r.choice(len(usable), size=len(usable), replace=False, p=wts)
        for k in order:
            if len(picked) >= k_cramp:
                break
            if usable[int(k)] not in picked:
                picked.append(usable[int(k)])
        n_double = max(1, int(round(len(picked) * 0.2))) if len(picked) >= 4 else 0
        doubles = (
            set(int(x) for x in r.choice(len(picked), size=n_double, replace=False))
            if n_double
            else set()
        )
        pref = dict((id(nt), t) for nt, t in forced)
        # restless nights
        k_rest = max(1, int(round(r.uniform(5, 8) * n / 90)))
        rest_pool = [nt for nt in usable if nt not in picked]
        rest_nights = set()
        if rest_pool:
            sel = r.choice(len(rest_pool), size=min(k_rest, len(rest_pool)), replace=False)
            rest_nights = {rest_pool[int(k)].idx for k in sel}
        for nt in nights:
            if nt.whole_off:
                ev = Event("watch_off", nt.off[0], nt.off[1], detail={"whole_night": True})
                nt.events.append(ev)
                continue
            if nt.off:
                nt.events.append(
                    Event(
                        "watch_off",
                        nt.off[0],
                        nt.off[1],
                        detail={
                            "whole_night": False,
                            "hours": round((nt.off[1] - nt.off[0]) / 3600, 2),
                        },
                    )
                )
            if nt.idx in rest_nights:
                self.place_restless(nt)
            if nt in picked:
                i = picked.index(nt)
                self.place_cramp(nt, pref.get(id(nt)))
                if i in doubles:
                    self.place_cramp(nt, None)
            for _ in range(min(2, int(r.poisson(p.bathroom_rate)))):
                self.place_bathroom(nt)
            for _ in range(min(3, int(r.poisson(0.8)))):
                self.place_rollover(nt)
        # cramps that failed to be placed (rare) are simply absent: recount from events

    # footprint bookkeeping
    def free(self, nt: Night, s: int, e: int, gap: int = 900) -> bool:
        if s < nt.onset + 2700 or e > nt.wake - 2700:
            return False
        if nt.off and s < nt.off[1] + gap and e > nt.off[0] - gap:
            return False
        for ev in nt.events:
            if ev.kind == "watch_off":
                continue
            a0 = min([ev.start] + [w[0] for w in ev.awake])
            a1 = max([ev.end] + [w[1] for w in ev.awake] + ([ev.dense[1]] if ev.dense else []))
            if s < a1 + gap and e > a0 - gap:
                return False
        return True

    def epoch_at(self, nt: Night, ts: int) -> int:
        return (ts - nt.onset) // EPOCH_S

    def set_awake(self, nt: Night, s: int, e: int, resume_core_min: float) -> tuple[int, int]:
        i0 = self.epoch_at(nt, s)
        i1 = self.epoch_at(nt, e)
        nt.stages[i0:i1] = AWAKE
        j = i1 + int(resume_core_min * 2)
        seg = nt.stages[i1:j]
        seg[seg != AWAKE] = CORE
        return nt.onset + i0 * EPOCH_S, nt.onset + i1 * EPOCH_S

    def rand_start(self, nt: Night, span: int) -> int:
        lo = nt.onset + 2700
        hi = nt.wake - 2700 - span
        if hi <= lo:
            return -1
        k = int(self.r_night.integers((lo - nt.onset) // EPOCH_S, (hi - nt.onset) // EPOCH_S))
        return nt.onset + k * EPOCH_S

    def place_cramp(self, nt: Night, preferred: int | None) -> None:
        r = self.r_night
        cramp_min = float(r.uniform(2.0, 8.0))
        awake_min = float(np.clip(cramp_min + r.uniform(2.0, 5.0), 4.0, 10.0))
        awake_ep = int(round(awake_min * 2))
        span = awake_ep * EPOCH_S + 40 * 60
        tries = []
        if preferred is not None:
            base = nt.onset + ((preferred - nt.onset) // EPOCH_S) * EPOCH_S
            tries = [base + k * EPOCH_S * sgn for k in range(0, 60) for sgn in (1, -1)]
        for _ in range(400):
            tries.append(self.rand_start(nt, span))
        for s in tries:
            if s < 0:
                continue
            i = self.epoch_at(nt, s)
            if i < 4 or i + awake_ep >= len(nt.stages):
                continue
            # out of core/deep sleep, asleep for the last 2 minutes
            if nt.stages[i] not in (CORE, DEEP) or not np.all(
                np.isin(nt.stages[i - 4 : i], (CORE, DEEP, REM))
            ):
                continue
            e_aw = s + awake_ep * EPOCH_S
            if not self.free(nt, s, e_aw + 15 * 60):
                continue
            a0, a1 = self.set_awake(nt, s, e_aw, float(r.uniform(10, 20)))
            onset = a0 + int(r.integers(0, 26))
            end = onset + int(cramp_min * 60)
            end = min(end, a1 - 60)
            rise = float(r.uniform(15, 30))
            plateau_end = onset + max(300, end - onset + 60) + int(r.uniform(0, 60))
            tau = float(r.uniform(240, 480))
            st0 = onset + int(r.uniform(20, 60))
            st1 = min(end - 5, st0 + int(r.uniform(60, 120)))
            steps = int(r.integers(5, 31))
            muscle = str(r.choice(["calf", "foot", "thigh"], p=[0.75, 0.18, 0.07]))
            side = str(r.choice(["left", "right", "both"], p=[0.45, 0.45, 0.10]))
            sev = int(r.integers(4, 10))
            ev = Event(
                "nocturnal_cramp",
                onset,
                end,
                awake=[(a0, a1)],
                steps=[(st0, st1, steps)],
                kcal=[(onset, end, float(r.uniform(1.0, 3.0)))],
                dense=(onset + int(r.uniform(35, 55)), a1 + 600),
                hr=[("cramp", onset, float(r.uniform(15, 30)), rise, plateau_end, tau)],
                detail={
                    "muscle": muscle,
                    "body_side": side,
                    "severity": sev,
                    "hr_rise_bpm": round(rise, 1),
                    "steps": steps,
                    "awake_start_utc": iso_utc(a0),
                    "awake_end_utc": iso_utc(a1),
                    "stage_before": {CORE: "core", DEEP: "deep"}[
                        int(nt.stages[self.epoch_at(nt, s) - 1])
                    ]
                    if nt.stages[self.epoch_at(nt, s) - 1] in (CORE, DEEP)
                    else "core",
                },
            )
            nt.events.append(ev)
            return

    def place_bathroom(self, nt: Night) -> None:
        r = self.r_night
        awake_min = float(r.uniform(3.0, 15.0))
        awake_ep = int(round(awake_min * 2))
        for _ in range(300):
            s = self.rand_start(nt, awake_ep * EPOCH_S + 600)
            if s < 0:
                return
            e = s + awake_ep * EPOCH_S
            if not self.free(nt, s, e + 300):
                continue
            a0, a1 = self.set_awake(nt, s, e, float(r.uniform(2, 6)))
            total = int(r.integers(60, 151))
            n1 = int(total * r.uniform(0.42, 0.58))
            w1s = a0 + int(r.uniform(20, 60))
            w1e = w1s + int(r.uniform(40, 90))
            w2e = a1 - int(r.uniform(20, 50))
            w2s = w2e - int(r.uniform(40, 90))
            if w2s <= w1e + 30:
                w2s = w1e + 30
                w2e = max(w2e, w2s + 40)
            rise = float(r.uniform(5, 10))
            ev = Event(
                "bathroom_trip",
                a0,
                a1,
                awake=[(a0, a1)],
                steps=[(w1s, w1e, n1), (w2s, w2e, total - n1)],
                kcal=[(w1s, w1e, float(r.uniform(1.5, 3))), (w2s, w2e, float(r.uniform(1.5, 3)))],
                dense=(w1s, a1 + 180),
                hr=[("plateau", w1s, 60.0, rise, a1, float(r.uniform(90, 150)))],
                detail={"steps": total, "hr_rise_bpm": round(rise, 1)},
            )
            nt.events.append(ev)
            return

    def place_rollover(self, nt: Night) -> None:
        r = self.r_night
        phone = r.random() < 0.25
        awake_min = float(r.uniform(5, 20)) if phone else float(r.uniform(1, 4))
        awake_ep = max(2, int(round(awake_min * 2)))
        for _ in range(200):
            s = self.rand_start(nt, awake_ep * EPOCH_S + 300)
            if s < 0:
                return
            e = s + awake_ep * EPOCH_S
            if not self.free(nt, s, e, gap=600):
                continue
            a0, a1 = self.set_awake(nt, s, e, float(r.uniform(1, 4)))
            bump = float(r.uniform(2, 4)) if phone else float(r.uniform(0, 2))
            ev = Event(
                "rollover",
                a0,
                a1,
                awake=[(a0, a1)],
                hr=[("bump", a0 + 30, 60.0 if not phone else 300.0, bump)],
                detail={
                    "variant": "phone_reading" if phone else "rollover",
                    "hr_rise_bpm": round(bump, 1),
                },
            )
            nt.events.append(ev)
            return

    def place_restless(self, nt: Night) -> None:
        r = self.r_night
        win_min = float(r.uniform(60, 150))
        for _ in range(200):
            s = self.rand_start(nt, int(win_min * 60))
            if s < 0:
                return
            e = s + int(win_min * 60)
            if not self.free(nt, s, e, gap=900):
                continue
            t = s
            awake = []
            kernels = []
            extra = []
            while True:
                dur_ep = int(r.integers(2, 5))
                if t + dur_ep * EPOCH_S > e:
                    break
                a0, a1 = self.set_awake(nt, t, t + dur_ep * EPOCH_S, 1.0)
                awake.append((a0, a1))
                bump = float(r.uniform(3, 8))
                kernels.append(("bump", a0 + 30, 40.0, bump))
                if r.random() < 0.5:
                    extra.append(a0 + 30 + int(r.integers(-10, 25)))
                t = a1 + int(r.uniform(4, 15) * 60) // EPOCH_S * EPOCH_S
            if len(awake) < 5:
                continue
            ev = Event(
                "restless_night",
                awake[0][0],
                awake[-1][1],
                awake=awake,
                hr=kernels,
                extra_hr_samples=extra,
                detail={
                    "awakenings": len(awake),
                    "awakening_min": round(sum(b - a for a, b in awake) / 60, 1),
                },
            )
            nt.events.append(ev)
            return

    # ---------------------------------------------------------------------- timelines ------
    def build_timelines(self) -> None:
        """Per-30 s arrays over the span: mean HR, watch worn, sampling regime, motion."""
        r = self.r_phys
        # (participant constants are on self.p)
        n = self.n_ep
        t = self.t0 + EPOCH_S * np.arange(n)
        self.ep_t = t
        hr = np.full(n, np.nan)
        reg = np.zeros(n, dtype=np.int8)
        motion = np.zeros(n, dtype=np.int8)
        stage = np.zeros(n, dtype=np.int8)

        def idx(ts):
            return int(np.clip((ts - self.t0) // EPOCH_S, 0, n))

        # days: sedentary level with slow wander, then walks and workouts
        for d in self.days:
            i0, i1 = idx(d.start), idx(d.end)
            m = i1 - i0
            if m <= 0:
                continue
            x = np.cumsum(r.normal(0, 0.35, m))
            x = x - np.linspace(0, x[-1], m)  # bridge: starts and ends at 0
            hr[i0:i1] = d.rhr + 13 + np.clip(x, -6, 6)
            reg[i0:i1] = R_DAY
            motion[i0:i1] = 1
            for s, e, _ in d.walks:
                a, b = idx(s), idx(e)
                rise = float(r.uniform(22, 32))
                ramp = 1 - np.exp(-np.arange(b - a) / 2.0)
                hr[a:b] += rise * ramp
                tail = np.arange(min(10, i1 - b))
                hr[b : b + len(tail)] += rise * np.exp(-tail / 4.0)
                motion[a:b] = 2
            for w in d.workouts:
                a, b = idx(w.start), idx(w.end)
                k = np.arange(b - a)
                base = d.rhr + 13
                drift = 0.02 * k * (1.0 + (w.temp_c >= 28) + (d.kind == "dehydration"))
                curve = base + (w.hr_target - base) * (1 - np.exp(-k / 6.0)) + drift
                curve += 4 * np.sin(k / 9.0) * r.uniform(0.5, 1)
                hr[a:b] = curve
                reg[a:b] = R_WORKOUT
                motion[a:b] = 2
                end_hr = curve[-1] if len(curve) else base
                tail = np.arange(min(30, i1 - b))
                hr[b : b + len(tail)] = base + (end_hr - base) * np.exp(-tail / 8.0)
            if d.flight:
                a, b = idx(d.flight[0]), idx(d.flight[1])
                hr[a:b] = d.rhr + 8
                motion[a:b] = 1
        # nights
        for nt in self.nights:
            day_before = self.days[nt.idx]
            rhr = day_before.rhr
            i_bed, i_on, i_wk, i_out = idx(nt.bed), idx(nt.onset), idx(nt.wake), idx(nt.outbed)
            hr[i_bed:i_on] = rhr + 3
            hr[i_wk:i_out] = rhr + 4
            reg[i_bed:i_out] = R_SLEEP
            motion[i_bed:i_out] = 0
            st = nt.stages
            L = len(st)
            prog = np.arange(L) / max(1, L - 1)
            base = rhr - 4 + 3.0 * ((prog - 0.6) / 0.6) ** 2 + nt.hr_offset
            off = np.select([st == DEEP, st == REM, st == AWAKE], [-3.0, 3.0, 1.0], 0.0)
            hr[i_on : i_on + L] = base + off
            stage[i_on : i_on + L] = st
            for ev in nt.events:
                for kern in ev.hr:
                    self.add_kernel(hr, kern)
                if ev.dense:
                    a, b = idx(ev.dense[0]), idx(ev.dense[1])
                    reg[a:b] = R_DENSE
                for s, e, _ in ev.steps:
                    motion[idx(s) : idx(e) + 1] = 2
        worn = np.ones(n, dtype=bool)
        worn[: idx(self.days[0].start)] = False
        for nt in self.nights:
            if nt.off:
                worn[idx(nt.off[0]) : idx(nt.off[1])] = False
        reg[~worn] = R_OFF
        stage[~worn] = NONE
        self.hr_mean, self.reg, self.motion, self.stage, self.worn = hr, reg, motion, stage, worn

    def add_kernel(self, hr: np.ndarray, kern: tuple) -> None:
        kind = kern[0]
        t = self.ep_t
        if kind == "cramp" or kind == "plateau":
            _, t0, ramp, rise, t_plat, tau = kern
            a = int((t0 - self.t0) // EPOCH_S)
            b = int((t_plat + 8 * tau - self.t0) // EPOCH_S) + 1
            tt = t[a:b].astype(float) + EPOCH_S  # value at the end of each epoch
            k = np.where(
                tt < t_plat,
                rise * np.clip((tt - t0) / ramp, 0, 1),
                rise * np.exp(-(tt - t_plat) / tau),
            )
            hr[a:b] += k
        elif kind == "bump":
            _, tc, width, rise = kern
            a = int((tc - 4 * width - self.t0) // EPOCH_S)
            b = int((tc + 4 * width - self.t0) // EPOCH_S) + 1
            tt = t[a:b].astype(float) + EPOCH_S / 2
            hr[a:b] += rise * np.exp(-0.5 * ((tt - tc) / width) ** 2)

    # ---------------------------------------------------------------------- run -------------
    def run(self) -> None:
        self.schedule_sleep()
        self.choose_day_kinds()
        self.schedule_activity()
        self.fluid_balance()
        self.weigh_ins_and_rhr()
        self.schedule_nights()
        self.build_timelines()


# --------------------------------------------------------------------------------------------
# Apple Health export
# --------------------------------------------------------------------------------------------


DTD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 14 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary|ClinicalRecord|Audiogram|VisionPrescription)*)>
<!ATTLIST HealthData
  locale CDATA #REQUIRED
>
<!ELEMENT ExportDate EMPTY>
<!ATTLIST ExportDate
  value CDATA #REQUIRED
>
<!ELEMENT Me EMPTY>
<!ATTLIST Me
  HKCharacteristicTypeIdentifierDateOfBirth                   CDATA #REQUIRED
  HKCharacteristicTypeIdentifierBiologicalSex                 CDATA #REQUIRED
  HKCharacteristicTypeIdentifierBloodType                     CDATA #REQUIRED
  HKCharacteristicTypeIdentifierFitzpatrickSkinType           CDATA #REQUIRED
  HKCharacteristicTypeIdentifierCardioFitnessMedicationsUse   CDATA #REQUIRED
>
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
<!ATTLIST Record
  type          CDATA #REQUIRED
  unit          CDATA #IMPLIED
  value         CDATA #IMPLIED
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!-- Note: Any Records that appear as children of a correlation also appear as top-level records in this document. -->
<!ELEMENT Correlation ((MetadataEntry|Record)*)>
<!ATTLIST Correlation
  type          CDATA #REQUIRED
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!ELEMENT Workout ((MetadataEntry|WorkoutEvent|WorkoutRoute|WorkoutStatistics)*)>
<!ATTLIST Workout
  workoutActivityType   CDATA #REQUIRED
  duration              CDATA #IMPLIED
  durationUnit          CDATA #IMPLIED
  totalDistance         CDATA #IMPLIED
  totalDistanceUnit     CDATA #IMPLIED
  totalEnergyBurned     CDATA #IMPLIED
  totalEnergyBurnedUnit CDATA #IMPLIED
  sourceName            CDATA #REQUIRED
  sourceVersion         CDATA #IMPLIED
  device                CDATA #IMPLIED
  creationDate          CDATA #IMPLIED
  startDate             CDATA #REQUIRED
  endDate               CDATA #REQUIRED
>
<!ELEMENT WorkoutActivity ((MetadataEntry)*)>
<!ATTLIST WorkoutActivity
  uuid                 CDATA #REQUIRED
  startDate            CDATA #REQUIRED
  endDate              CDATA #IMPLIED
  duration             CDATA #IMPLIED
  durationUnit         CDATA #IMPLIED
>
<!ELEMENT WorkoutEvent ((MetadataEntry)*)>
<!ATTLIST WorkoutEvent
  type                 CDATA #REQUIRED
  date                 CDATA #REQUIRED
  duration             CDATA #IMPLIED
  durationUnit         CDATA #IMPLIED
>
<!ELEMENT WorkoutStatistics EMPTY>
<!ATTLIST WorkoutStatistics
  type                 CDATA #REQUIRED
  startDate            CDATA #REQUIRED
  endDate              CDATA #REQUIRED
  average              CDATA #IMPLIED
  minimum              CDATA #IMPLIED
  maximum              CDATA #IMPLIED
  sum                  CDATA #IMPLIED
  unit                 CDATA #IMPLIED
>
<!ELEMENT WorkoutRoute ((MetadataEntry|FileReference)*)>
<!ATTLIST WorkoutRoute
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!ELEMENT FileReference EMPTY>
<!ATTLIST FileReference
  path CDATA #REQUIRED
>
<!ELEMENT ActivitySummary EMPTY>
<!ATTLIST ActivitySummary
  dateComponents           CDATA #IMPLIED
  activeEnergyBurned       CDATA #IMPLIED
  activeEnergyBurnedGoal   CDATA #IMPLIED
  activeEnergyBurnedUnit   CDATA #IMPLIED
  appleMoveTime            CDATA #IMPLIED
  appleMoveTimeGoal        CDATA #IMPLIED
  appleExerciseTime        CDATA #IMPLIED
  appleExerciseTimeGoal    CDATA #IMPLIED
  appleStandHours          CDATA #IMPLIED
  appleStandHoursGoal      CDATA #IMPLIED
>
<!ELEMENT MetadataEntry EMPTY>
<!ATTLIST MetadataEntry
  key   CDATA #REQUIRED
  value CDATA #REQUIRED
>
<!-- Note: Heart Rate Variability records captured by Apple Watch may include an associated list of instantaneous beats-per-minute readings. -->
<!ELEMENT HeartRateVariabilityMetadataList (InstantaneousBeatsPerMinute*)>
<!ELEMENT InstantaneousBeatsPerMinute EMPTY>
<!ATTLIST InstantaneousBeatsPerMinute
  bpm  CDATA #REQUIRED
  time CDATA #REQUIRED
>
<!ELEMENT ClinicalRecord EMPTY>
<!ATTLIST ClinicalRecord
  type              CDATA #REQUIRED
  identifier        CDATA #REQUIRED
  sourceName        CDATA #REQUIRED
  sourceURL         CDATA #REQUIRED
  fhirVersion       CDATA #REQUIRED
  receivedDate      CDATA #REQUIRED
  resourceFilePath  CDATA #REQUIRED
>
<!ELEMENT Audiogram ((MetadataEntry|SensitivityPoint)*)>
<!ATTLIST Audiogram
  type          CDATA #REQUIRED
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!ELEMENT SensitivityPoint EMPTY>
<!ATTLIST SensitivityPoint
  frequencyValue   CDATA #REQUIRED
  frequencyUnit    CDATA #REQUIRED
  leftEarValue     CDATA #IMPLIED
  leftEarUnit      CDATA #IMPLIED
  leftEarMasked      CDATA #IMPLIED
  leftEarClampingRangeLowerBound   CDATA #IMPLIED
  leftEarClampingRangeUpperBound   CDATA #IMPLIED
  rightEarValue    CDATA #IMPLIED
  rightEarUnit     CDATA #IMPLIED
  rightEarMasked      CDATA #IMPLIED
  rightEarClampingRangeLowerBound  CDATA #IMPLIED
  rightEarClampingRangeUpperBound  CDATA #IMPLIED
>
<!ELEMENT VisionPrescription ((RightEye|LeftEye|Attachment|MetadataEntry)*)>
<!ATTLIST VisionPrescription
  type             CDATA #REQUIRED
  dateIssued       CDATA #REQUIRED
  expirationDate   CDATA #IMPLIED
  brand            CDATA #IMPLIED
>
<!ELEMENT RightEye EMPTY>
<!ATTLIST RightEye
  sphere           CDATA #IMPLIED
  sphereUnit       CDATA #IMPLIED
  cylinder         CDATA #IMPLIED
  cylinderUnit     CDATA #IMPLIED
  axis             CDATA #IMPLIED
  axisUnit         CDATA #IMPLIED
  add              CDATA #IMPLIED
  addUnit          CDATA #IMPLIED
  vertex           CDATA #IMPLIED
  vertexUnit       CDATA #IMPLIED
  prismAmount      CDATA #IMPLIED
  prismAmountUnit  CDATA #IMPLIED
  prismAngle       CDATA #IMPLIED
  prismAngleUnit   CDATA #IMPLIED
  farPD            CDATA #IMPLIED
  farPDUnit        CDATA #IMPLIED
  nearPD           CDATA #IMPLIED
  nearPDUnit       CDATA #IMPLIED
  baseCurve        CDATA #IMPLIED
  baseCurveUnit    CDATA #IMPLIED
  diameter         CDATA #IMPLIED
  diameterUnit     CDATA #IMPLIED
>
<!ELEMENT LeftEye EMPTY>
<!ATTLIST LeftEye
  sphere           CDATA #IMPLIED
  sphereUnit       CDATA #IMPLIED
  cylinder         CDATA #IMPLIED
  cylinderUnit     CDATA #IMPLIED
  axis             CDATA #IMPLIED
  axisUnit         CDATA #IMPLIED
  add              CDATA #IMPLIED
  addUnit          CDATA #IMPLIED
  vertex           CDATA #IMPLIED
  vertexUnit       CDATA #IMPLIED
  prismAmount      CDATA #IMPLIED
  prismAmountUnit  CDATA #IMPLIED
  prismAngle       CDATA #IMPLIED
  prismAngleUnit   CDATA #IMPLIED
  farPD            CDATA #IMPLIED
  farPDUnit        CDATA #IMPLIED
  nearPD           CDATA #IMPLIED
  nearPDUnit       CDATA #IMPLIED
  baseCurve        CDATA #IMPLIED
  baseCurveUnit    CDATA #IMPLIED
  diameter         CDATA #IMPLIED
  diameterUnit     CDATA #IMPLIED
>
<!ELEMENT Attachment EMPTY>
<!ATTLIST Attachment
  identifier       CDATA #IMPLIED
>
]>
"""


GLASSES_ML = (150, 200, 200, 250, 250, 300, 330, 400, 500)


class FastRandom:
    """Scalar draws from a buffer of numpy uniforms (numpy scalar calls are slow)."""

    def __init__(self, gen: np.random.Generator):
        self.g = gen
        self.buf: list[float] = []
        self.i = 0

    def random(self) -> float:
        if self.i >= len(self.buf):
            self.buf = self.g.random(1 << 16).tolist()
            self.i = 0
        v = self.buf[self.i]
        self.i += 1
        return v

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self.random()

    def integers(self, lo: int, hi: int) -> int:
        """Integer in [lo, hi)."""
        return lo + int(self.random() * (hi - lo))

    def random_array(self, n: int) -> np.ndarray:
        return self.g.random(n)

    def integers_array(self, lo: int, hi: int, n: int) -> np.ndarray:
        return self.g.integers(lo, hi, n)

    def normal(self, mu, sd, n=None):
        return self.g.normal(mu, sd, n)

    def gauss(self, mu: float, sd: float) -> float:
        """One normal draw (Box-Muller on two buffered uniforms)."""
        u1 = 1.0 - self.random()
        u2 = self.random()
        return mu + sd * math.sqrt(-2.0 * math.log(u1)) * math.cos(2 * math.pi * u2)

    def dirichlet(self, alpha):
        return self.g.dirichlet(alpha)


class Export:
    """Writes the records of one Sim as Apple Health's export.xml."""

    def __init__(self, sim: Sim):
        self.sim = sim
        self.p = sim.p
        self.c = sim.clock
        self.r = FastRandom(sim.r_rec)
        self.records: dict[str, list[tuple[int, int, str]]] = {t: [] for t in TYPE_ORDER}
        self.workouts: list[tuple[int, str]] = []
        self.counts: dict[str, int] = {}
        self._dev_cache: dict[tuple[str, int], str] = {}
        self._seq = 0
        self.pending: list[tuple] = []

    # devices: the HKDevice pointer changes from day to day, as in real exports
    def device(self, kind: str, ts: int) -> str:
        day = int(ts // 86400)
        key = (kind, day)
        if key not in self._dev_cache:
            addr = "0x%012x" % (0x600000000000 + int(self.r.integers(0, 1 << 36)) * 16)
            if kind == "watch":
                old = self.is_old_watch(ts)
                hw = self.p.old_watch_hw if old else self.p.watch_hw
                sw = self.p.old_watch_sw if old else self.p.watch_sw
                s = (
                    f"<<HKDevice: {addr}>, name:Apple Watch, manufacturer:Apple Inc., "
                    f"model:Watch, hardware:{hw}, software:{sw}>"
                )
            else:
                s = (
                    f"<<HKDevice: {addr}>, name:iPhone, manufacturer:Apple Inc., "
                    f"model:iPhone, hardware:{self.p.phone_hw}, software:{self.p.phone_sw}>"
                )
            self._dev_cache[key] = esc(s)
        return self._dev_cache[key]

    def is_old_watch(self, ts: int) -> bool:
        if not self.p.old_watch_hw or self.sim.old_era_nights == 0:
            return False
        switch = self.sim.nights[self.sim.old_era_nights].bed - 3 * 3600
        return ts < switch

    def watch_version(self, ts: int) -> str:
        return self.p.old_watch_sw if self.is_old_watch(ts) else self.p.watch_sw

    def add(self, type_: str, start: int, text: str) -> None:
        self._seq += 1
        self.records[type_].append((start, self._seq, text))

    def rec(
        self,
        short: str,
        source: str,
        version: str,
        device: str | None,
        unit: str | None,
        created: int,
        start: int,
        end: int,
        value: str,
        children: str = "",
    ) -> None:
        type_ = SLEEP_TYPE if short == "SleepAnalysis" else HK + short
        f = self.c.fmt
        head = f' <Record type="{type_}" sourceName="{source}" sourceVersion="{version}"'
        if device:
            head += f' device="{device}"'
        if unit:
            head += f' unit="{unit}"'
        head += (
            f' creationDate="{f(created)}" startDate="{f(start)}" endDate="{f(end)}"'
            f' value="{value}"'
        )
        if children:
            text = head + ">\n" + children + " </Record>\n"
        else:
            text = head + "/>\n"
        self.add(short, start, text)

    _meta_cache: dict[tuple[str, str], str] = {}

    @classmethod
    def meta(cls, key: str, value: str) -> str:
        got = cls._meta_cache.get((key, value))
        if got is None:
            got = f'  <MetadataEntry key="{esc(key)}" value="{esc(value)}"/>\n'
            if len(cls._meta_cache) < 10000:
                cls._meta_cache[(key, value)] = got
        return got

    def watch_rec(self, short, unit, start, end, value, created=None, children=""):
        """A record from the watch; formatted later in one vectorised pass (see flush)."""
        if created is None:
            created = end + int(self.r.integers(5, 300))
        self.pending.append((short, unit, int(start), int(end), value, int(created), children))

    def flush(self) -> None:
        if not self.pending:
            return
        arr = np.array([(x[2], x[3], x[5]) for x in self.pending], dtype=np.int64)
        fs = self.c.fmt_many(arr[:, 0])
        fe = self.c.fmt_many(arr[:, 1])
        fc = self.c.fmt_many(arr[:, 2])
        src = self.p.watch
        for k, (short, unit, start, _end, value, _created, children) in enumerate(self.pending):
            type_ = SLEEP_TYPE if short == "SleepAnalysis" else HK + short
            dev = self.device("watch", start)
            ver = self.watch_version(start)
            u = f' unit="{unit}"' if unit else ""
            head = (
                f' <Record type="{type_}" sourceName="{src}" sourceVersion="{ver}"'
                f' device="{dev}"{u} creationDate="{fc[k]}" startDate="{fs[k]}"'
                f' endDate="{fe[k]}" value="{value}"'
            )
            text = head + ">\n" + children + " </Record>\n" if children else head + "/>\n"
            self.add(short, start, text)
        self.pending = []

    # ----------------------------------------------------------------------------------------
    def build(self) -> str:
        self.heart_rate()
        self.steps_distance_energy()
        self.workouts_xml()
        self.sleep()
        self.body_mass()
        self.diet()
        self.rhr_hrv()
        self.flush()
        return self.render()

    def heart_rate(self) -> None:
        """Watch HR samples: ~5 min asleep, 3-7 min by day, ~1/min in night wake windows with
        movement, every 8-12 s in workouts; none while the watch is off."""
        s = self.sim
        r = self.r
        reg, worn = s.reg, s.worn
        n_ep = s.n_ep
        t0 = s.t0
        ep = np.arange(n_ep)
        nxt_on = np.minimum.accumulate(np.where(worn, ep, n_ep)[::-1])[::-1].tolist()
        busy = (reg == R_DENSE) | (reg == R_WORKOUT)
        nxt_busy = np.minimum.accumulate(np.where(busy, ep, n_ep)[::-1])[::-1].tolist() + [n_ep]
        reg_l = reg.tolist()
        lo_hi = {R_SLEEP: (240, 361), R_DAY: (180, 421), R_DENSE: (45, 76), R_WORKOUT: (10, 17)}
        times: list[int] = []
        t = s.days[0].start + r.integers(30, 240)
        t_stop = s.t_end - 60
        while t < t_stop:
            i = (t - t0) // EPOCH_S
            if i >= n_ep:
                break
            g = reg_l[i]
            if g == R_OFF:
                j = nxt_on[i]
                t = t0 + j * EPOCH_S + r.integers(20, 200)
                continue
            times.append(t)
            lo, hi = lo_hi[g]
            step = r.integers(lo, hi)
            if g == R_SLEEP or g == R_DAY:
                # do not step over the start of a dense window or a workout
                k = nxt_busy[i + 1]
                if k < n_ep and t + step >= t0 + k * EPOCH_S:
                    step = max(5, t0 + k * EPOCH_S - t + r.integers(0, 20))
            t += step
        for nt in s.nights:
            for ev in nt.events:
                times.extend(ev.extra_hr_samples)
        tt = np.array(sorted(set(times)), dtype=np.int64)
        ii = np.clip((tt - t0) // EPOCH_S, 0, n_ep - 1)
        keep = worn[ii]
        tt, ii = tt[keep], ii[keep]
        mean = np.interp(tt.astype(float), s.ep_t.astype(float) + EPOCH_S / 2, s.hr_mean)
        g = reg[ii]
        sd = np.select([g == R_SLEEP, g == R_DENSE, g == R_WORKOUT], [1.4, 1.6, 2.0], 2.6)
        val = mean + r.normal(0, 1, len(tt)) * sd
        # PPG artefacts: a single spurious high reading on about one night in three
        art_idx = []
        for nt in s.nights:
            if nt.whole_off or r.random() > 0.33:
                continue
            ok = (tt > nt.onset + 3600) & (tt < nt.wake - 3600) & (g == R_SLEEP)
            for ev in nt.events:  # never near a labelled event: an artefact has no wake
                a0 = min([ev.start] + [w[0] for w in ev.awake])
                a1 = max([ev.end] + [w[1] for w in ev.awake])
                ok &= (tt < a0 - 1800) | (tt > a1 + 1800)
            cand = np.nonzero(ok)[0]
            if len(cand):
                k = int(cand[r.integers(0, len(cand))])
                val[k] += r.uniform(20, 35)
                art_idx.append(k)
        s.ppg_artefacts = [int(tt[k]) for k in art_idx]
        # values: mostly whole numbers, some with 4 decimals as Apple writes them
        fractional = (r.random_array(len(tt)) < 0.08).tolist()
        vals = [
            num(v, 4) if f else str(int(round(v)))
            for v, f in zip(val.tolist(), fractional, strict=True)
        ]
        # creation: a few minutes after the sample; workout samples are saved at the end
        wk_end = np.array(
            sorted(w.end for d in s.days for w in d.workouts) + [s.t_end], dtype=np.int64
        )
        created = tt + r.integers_array(5, 300, len(tt))
        in_wk = g == R_WORKOUT
        created[in_wk] = wk_end[np.searchsorted(wk_end, tt[in_wk])] + r.integers_array(
            10, 60, int(in_wk.sum())
        )
        mot = s.motion[ii]
        ctx = np.where((g == R_SLEEP) | (g == R_DENSE), 0, np.where((mot == 2) | in_wk, 2, 1))
        metas = [self.meta("HKMetadataKeyHeartRateMotionContext", str(c)) for c in range(3)]
        for t, v, c, m in zip(tt.tolist(), vals, created.tolist(), ctx.tolist(), strict=True):
            self.watch_rec("HeartRate", "count/min", t, t, v, c, metas[m])
        self.hr_times = tt
        self.hr_vals = val

    def steps_distance_energy(self) -> None:
        s = self.sim
        r = self.r
        p = self.p
        per_km = 1.0 if p.dist_unit == "km" else 1 / 1.609344
        # watch steps: walks and workouts chunked; small shuffles through the day; night events
        step_chunks: list[tuple[int, int, int]] = []
        phone_chunks: list[tuple[int, int, int]] = []
        for d in s.days:
            bouts = [(a, b, spm, "walk") for a, b, spm in d.walks]
            for w in d.workouts:
                if w.activity in ("Walking", "Running"):
                    spm = (
                        float(r.uniform(100, 115))
                        if w.activity == "Walking"
                        else float(r.uniform(150, 165))
                    )
                    bouts.append((w.start, w.end, spm, w.activity))
            for a, b, spm, kind in bouts:
                t = a
                while t < b:
                    e = min(b, t + int(r.integers(60, 480)))
                    cnt = int(round(spm * (e - t) / 60 * float(r.uniform(0.92, 1.05))))
                    if cnt > 0:
                        step_chunks.append((t, e, cnt))
                    t = e + int(r.integers(0, 20))
                if kind != "Running" and r.random() < 0.7 and not s.clock.zone_name(a) != p.tz:
                    t = a + int(r.integers(0, 60))
                    while t < b:
                        e = min(b, t + int(r.integers(300, 700)))
                        cnt = int(round(spm * (e - t) / 60 * float(r.uniform(0.9, 1.08))))
                        if cnt > 0:
                            phone_chunks.append((t, e, cnt))
                        t = e + int(r.integers(5, 60))
            # shuffles: a few each waking hour, avoiding walks and workouts
            busy = [(a, b) for a, b, _, _ in bouts]
            if d.flight:
                busy.append(d.flight)
            t = d.start + int(r.integers(60, 600))
            while t < d.end - 300:
                e = t + int(r.integers(40, 200))
                if not any(t < b1 + 60 and e > b0 - 60 for b0, b1 in busy):
                    step_chunks.append((t, e, int(r.integers(8, 70))))
                t = e + int(r.integers(600, 1500))
        for nt in s.nights:
            for ev in nt.events:
                for a, b, cnt in ev.steps:
                    step_chunks.append((a, b, cnt))
        worn = s.worn

        def is_worn(t):
            i = (t - s.t0) // EPOCH_S
            return 0 <= i < s.n_ep and bool(worn[i])

        step_chunks = [c for c in step_chunks if is_worn(c[0]) and is_worn(c[1])]
        step_chunks.sort()
        for a, b, cnt in step_chunks:
            self.watch_rec("StepCount", "count", a, b, str(cnt))
            dist = cnt * p.stride_m * float(r.uniform(0.95, 1.05)) / 1000 * per_km
            self.watch_rec("DistanceWalkingRunning", p.dist_unit, a, b, num(dist, 5))
        for a, b, cnt in sorted(phone_chunks):
            dev = self.device("phone", a)
            created = b + int(r.integers(1, 120))
            self.rec("StepCount", p.phone, p.phone_sw, dev, "count", created, a, b, str(cnt))
            dist = cnt * p.stride_m * float(r.uniform(0.93, 1.07)) / 1000 * per_km
            self.rec(
                "DistanceWalkingRunning",
                p.phone,
                p.phone_sw,
                dev,
                p.dist_unit,
                created,
                a,
                b,
                num(dist, 5),
            )
        self.step_chunks = step_chunks
        # active energy: contiguous chunks through each waking day, 1-min chunks in workouts
        act_by_date: dict[str, float] = {}
        ex_by_date: dict[str, float] = {}
        stand_by_date: dict[str, set] = {}

        def add_active(a, b, kcal):
            if kcal <= 0 or not is_worn(a) or not is_worn(b):
                return
            self.watch_rec("ActiveEnergyBurned", "kcal", a, b, num(kcal, 3))
            key = s.clock.local(a).date().isoformat()
            act_by_date[key] = act_by_date.get(key, 0.0) + kcal

        for d in s.days:
            walks = [(a, b, 4.0) for a, b, _ in d.walks]
            wks = [(w.start, w.end, w.kcal_per_min) for w in d.workouts]
            t = d.start
            for a, b, rate in sorted(walks + wks):
                while t < a - 60:
                    e = min(a, t + int(r.integers(240, 900)))
                    add_active(t, e, (e - t) / 60 * float(r.uniform(0.18, 0.45)))
                    t = e
                step = 60 if (a, b, rate) in wks else int(r.integers(120, 300))
                t = a
                while t < b:
                    e = min(b, t + step)
                    add_active(t, e, (e - t) / 60 * rate * float(r.uniform(0.9, 1.1)))
                    t = e
                key = s.clock.local(a).date().isoformat()
                if (a, b, rate) in wks or rate >= 4.0:
                    ex_by_date[key] = ex_by_date.get(key, 0.0) + (b - a) / 60 * (
                        1.0 if (a, b, rate) in wks else 0.6
                    )
            while t < d.end - 60:
                e = min(d.end, t + int(r.integers(240, 900)))
                add_active(t, e, (e - t) / 60 * float(r.uniform(0.15, 0.4)))
                t = e
        for nt in s.nights:
            for ev in nt.events:
                for a, b, kcal in ev.kcal:
                    add_active(a, b, kcal)
        for a, _b, _cnt in step_chunks:
            key = s.clock.local(a).date().isoformat()
            stand_by_date.setdefault(key, set()).add(s.clock.local(a).hour)
        # basal energy: 30-min chunks around the clock while the watch is worn
        t = s.days[0].start - s.days[0].start % 1800 + 1800
        rate = s.bmr_kcal / 48.0
        while t + 1800 <= s.t_end:
            if is_worn(t) and is_worn(t + 1799):
                self.watch_rec(
                    "BasalEnergyBurned",
                    "kcal",
                    t,
                    t + 1800,
                    num(rate * float(r.uniform(0.97, 1.03)), 3),
                )
            t += 1800
        # distance cycling (watch) in ~3-min chunks
        for d in s.days:
            for w in d.workouts:
                if w.activity != "Cycling":
                    continue
                t = w.start
                while t < w.end:
                    e = min(w.end, t + int(r.integers(120, 240)))
                    km = (e - t) / 3600 * float(r.uniform(17, 23))
                    self.watch_rec("DistanceCycling", p.dist_unit, t, e, num(km * per_km, 5))
                    t = e
        self.act_by_date, self.ex_by_date, self.stand_by_date = (
            act_by_date,
            ex_by_date,
            stand_by_date,
        )

    def workouts_xml(self) -> None:
        s = self.sim
        r = self.r
        p = self.p
        f = self.c.fmt
        per_km = 1.0 if p.dist_unit == "km" else 1 / 1.609344
        for d in s.days:
            for w in d.workouts:
                dev = self.device("watch", w.start)
                created = w.end + int(r.integers(5, 90))
                dur = (w.end - w.start) / 60 - float(r.uniform(0, 0.05))
                m = (self.hr_times >= w.start) & (self.hr_times <= w.end)
                hrs = self.hr_vals[m]
                kcal = w.kcal * float(r.uniform(0.97, 1.03))
                basal = s.bmr_kcal / 1440 * (w.end - w.start) / 60
                if w.activity == "Cycling":
                    dist_km = (w.end - w.start) / 3600 * 20.0
                    dist_type = "DistanceCycling"
                elif w.activity == "Walking":
                    dist_km = (w.end - w.start) / 60 * 105 * p.stride_m / 1000
                    dist_type = "DistanceWalkingRunning"
                else:
                    dist_km = (w.end - w.start) / 60 * 158 * p.stride_m * 1.35 / 1000
                    dist_type = "DistanceWalkingRunning"
                tz = s.clock.zone_name(w.start)
                temp = w.temp_c if p.dist_unit == "km" else w.temp_c * 9 / 5 + 32
                tunit = "degC" if p.dist_unit == "km" else "degF"
                met = (w.kcal_per_min * 60 + s.bmr_kcal / 24) / p.body_mass_kg
                lines = [
                    f' <Workout workoutActivityType="HKWorkoutActivityType{w.activity}" '
                    f'duration="{num(dur, 10)}" durationUnit="min" sourceName="{p.watch}" '
                    f'sourceVersion="{self.watch_version(w.start)}" device="{dev}" '
                    f'creationDate="{f(created)}" startDate="{f(w.start)}" endDate="{f(w.end)}">\n',
                    self.meta("HKIndoorWorkout", "0"),
                    self.meta("HKTimeZone", tz),
                    self.meta("HKWeatherTemperature", f"{temp:.0f} {tunit}"),
                    self.meta("HKWeatherHumidity", f"{w.rh_pct:.0f} %"),
                    self.meta("HKAverageMETs", f"{met:.5f} kcal/hr\u00b7kg"),
                ]
                fs, fe = f(w.start), f(w.end)
                lines.append(
                    f'  <WorkoutStatistics type="{HK}ActiveEnergyBurned" startDate="{fs}" '
                    f'endDate="{fe}" sum="{num(kcal, 6)}" unit="kcal"/>\n'
                )
                lines.append(
                    f'  <WorkoutStatistics type="{HK}BasalEnergyBurned" startDate="{fs}" '
                    f'endDate="{fe}" sum="{num(basal, 6)}" unit="kcal"/>\n'
                )
                lines.append(
                    f'  <WorkoutStatistics type="{HK}{dist_type}" startDate="{fs}" '
                    f'endDate="{fe}" sum="{num(dist_km * per_km, 6)}" unit="{p.dist_unit}"/>\n'
                )
                if len(hrs):
                    lines.append(
                        f'  <WorkoutStatistics type="{HK}HeartRate" startDate="{fs}" '
                        f'endDate="{fe}" average="{num(float(np.mean(hrs)), 4)}" '
                        f'minimum="{round(float(np.min(hrs)))}" '
                        f'maximum="{round(float(np.max(hrs)))}" unit="count/min"/>\n'
                    )
                lines.append(" </Workout>\n")
                self.workouts.append((w.start, "".join(lines)))

    def sleep(self) -> None:
        s = self.sim
        r = self.r
        p = self.p
        for nt in s.nights:
            tz = nt.zone
            tzmeta = self.meta("HKTimeZone", tz)
            created_m = nt.outbed + int(r.integers(60, 1800))
            # InBed from the phone (sleep schedule), also on watch-off nights
            self.rec(
                "SleepAnalysis",
                p.phone,
                p.phone_sw,
                None,
                None,
                created_m,
                nt.bed,
                nt.outbed,
                IN_BED,
                tzmeta,
            )
            if nt.whole_off:
                continue
            st = nt.stages.copy()
            ep_abs = nt.onset + EPOCH_S * np.arange(len(st))
            if nt.off:
                st[(ep_abs + EPOCH_S > nt.off[0]) & (ep_abs < nt.off[1])] = NONE
            runs = []
            i = 0
            L = len(st)
            if nt.old_style:
                asleep = np.isin(st, (CORE, DEEP, REM))
                while i < L:
                    j = i
                    while j < L and asleep[j] == asleep[i]:
                        j += 1
                    if asleep[i]:
                        runs.append((i, j, ASLEEP_OLD))
                    i = j
            else:
                while i < L:
                    j = i
                    while j < L and st[j] == st[i]:
                        j += 1
                    if st[i] != NONE:
                        runs.append((i, j, STAGE_VALUE[int(st[i])]))
                    i = j
            for a, b, val in runs:
                self.watch_rec(
                    "SleepAnalysis",
                    None,
                    nt.onset + a * EPOCH_S,
                    nt.onset + b * EPOCH_S,
                    val,
                    created=created_m + int(r.integers(0, 30)),
                    children=tzmeta,
                )

    def body_mass(self) -> None:
        s = self.sim
        r = self.r
        p = self.p
        for d in s.days:
            if d.bm_kg is None:
                continue
            t = d.weigh_ts
            if p.mass_unit == "lb":
                v = num(d.bm_kg / 0.45359237, 1)
                self.rec(
                    "BodyMass",
                    "Health",
                    p.phone_sw,
                    None,
                    "lb",
                    t + int(r.integers(20, 400)),
                    t,
                    t,
                    v,
                    self.meta("HKWasUserEntered", "1"),
                )
            else:
                created = t + int(r.integers(30, 900))
                epoch = t
                kids = (
                    self.meta("Health Mate App Version", "6.9.1")
                    + self.meta("Withings User Identifier", "31415926")
                    + self.meta(
                        "Modified Date",
                        datetime.fromtimestamp(t + 7, UTC).strftime("%Y-%m-%d %H:%M:%S +0000"),
                    )
                    + self.meta(
                        "Withings Link",
                        f"withings-bd2://timeline/measure?userid=31415926&date={epoch}&type=1",
                    )
                    + self.meta("HKWasUserEntered", "0")
                )
                self.rec(
                    "BodyMass",
                    "Health Mate",
                    "6090100",
                    None,
                    "kg",
                    created,
                    t,
                    t,
                    num(d.bm_kg, 2),
                    kids,
                )

    def diet(self) -> None:
        s = self.sim
        r = self.r
        p = self.p
        app, ver = p.water_app
        self.water_logged: dict[str, float] = {}
        for d in s.days:
            f = d.fluid
            if not d.water_logged:
                f["beverages_logged_l"] = None
                continue
            logged = f["beverages_l"] * float(r.uniform(0.80, 0.95))
            # glasses and bottles until the logged amount is reached
            sizes: list[int] = []
            left = logged * 1000
            while left >= 60:
                ml = GLASSES_ML[r.integers(0, len(GLASSES_ML))]
                ml = min(ml, int(round(left / 10.0)) * 10)
                sizes.append(ml)
                left -= ml
            times = np.sort(r.g.uniform(d.start + 600, d.end - 900, len(sizes))).astype(int)
            tot = 0
            for t, ml in zip(times, sizes, strict=True):
                tot += ml
                t = int(t)
                text = (
                    f' <Record type="{HK}DietaryWater" value="{ml}" unit="mL" sourceName="{app}"'
                    f' sourceVersion="{ver}" startDate="{self.c.fmt(t)}" endDate="{self.c.fmt(t)}"/>\n'
                )
                self.add("DietaryWater", t, text)
            f["beverages_logged_l"] = tot / 1000
        # minerals from a food diary, three meals a day
        base = {"p01": (260, 780, 2500, 3.5), "p02": (290, 900, 2700, 4.5)}[p.pid]
        meals = (("Breakfast", 7.8, 0.25), ("Lunch", 12.8, 0.35), ("Dinner", 18.9, 0.40))
        for d in s.days[1:]:
            if not d.minerals_logged:
                continue
            for name, hour, share in meals:
                t = s.at_local(d.date, hour) + int(r.integers(-1800, 1800))
                if not (d.start < t < d.end):
                    continue
                if name == "Dinner" and r.random() < 0.3:
                    name = "Dinner & snacks"
                mg, ca, k, vd = [b * share * float(r.uniform(0.7, 1.3)) for b in base]
                created = t + int(r.integers(60, 3600))
                kids = self.meta("Meal", name)
                for short, unit, v, nd in (
                    ("DietaryCalcium", "mg", ca, 1),
                    ("DietaryMagnesium", "mg", mg, 1),
                    ("DietaryPotassium", "mg", k, 1),
                    ("DietaryVitaminD", "mcg", vd, 2),
                ):
                    self.rec(
                        short, "Cronometer", "3.32.1", None, unit, created, t, t, num(v, nd), kids
                    )

    def rhr_hrv(self) -> None:
        s = self.sim
        r = self.r
        p = self.p
        tt = self.hr_times
        for d in s.days:
            m = (tt >= d.start) & (tt < d.end)
            if m.sum() < 20 or d.rhr is None:
                continue
            a, b = int(tt[m][0]), int(tt[m][-1])
            self.watch_rec(
                "RestingHeartRate",
                "count/min",
                a,
                b,
                str(d.rhr),
                created=b + int(r.integers(60, 1200)),
            )
        # HRV SDNN: 1-2 during sleep, 2-3 by day; beats list for the 1-minute window
        locale_us = p.locale == "en_US"
        for d in s.days:
            nt = s.nights[d.idx] if d.idx < len(s.nights) else None
            slots = []
            for _ in range(int(r.integers(1, 3))):
                slots.append(int(r.uniform(d.start + 1800, max(d.start + 1900, d.end - 1800))))
            if nt and not nt.whole_off:
                for _ in range(int(r.integers(1, 3))):
                    slots.append(int(r.uniform(nt.onset + 1800, nt.wake - 1800)))
            for t in sorted(slots):
                i = (t - s.t0) // EPOCH_S
                if not (0 <= i < s.n_ep) or not s.worn[i] or s.reg[i] in (R_WORKOUT, R_DENSE):
                    continue
                hr0 = float(s.hr_mean[i])
                sdnn = p.hrv_ms * math.exp(r.gauss(0, 0.25))
                if d.kind == "dehydration":
                    sdnn *= 0.85
                beats = []
                bt = float(t) + float(r.uniform(0.5, 2.5))
                while bt < t + 60:
                    bpm = int(round(hr0 + r.gauss(0, 2.5)))
                    beats.append((bpm, bt))
                    bt += 60.0 / max(40, bpm) * float(r.uniform(0.93, 1.07))
                kids = ["  <HeartRateVariabilityMetadataList>\n"]
                loc0 = s.clock.local(t)
                for bpm, bt in beats:
                    loc = loc0 + timedelta(seconds=int(bt) - t)
                    frac = int((bt - math.floor(bt)) * 100)
                    if locale_us:
                        h12 = loc.hour % 12 or 12
                        ampm = "AM" if loc.hour < 12 else "PM"
                        ts = f"{h12}:{loc.minute:02d}:{loc.second:02d}.{frac:02d}\u202f{ampm}"
                    else:
                        ts = f"{loc.hour:02d}:{loc.minute:02d}:{loc.second:02d},{frac:02d}"
                    kids.append(f'   <InstantaneousBeatsPerMinute bpm="{bpm}" time="{ts}"/>\n')
                kids.append("  </HeartRateVariabilityMetadataList>\n")
                end = int(beats[-1][1]) + 1 if beats else t + 60
                self.watch_rec(
                    "HeartRateVariabilitySDNN", "ms", t, end, num(sdnn, 4), children="".join(kids)
                )

    def activity_summaries(self) -> list[str]:
        s = self.sim
        r = self.r
        p = self.p
        out = []
        for d in s.days:
            key = d.date.isoformat()
            if key not in self.act_by_date:
                continue
            stand = min(16, len(self.stand_by_date.get(key, ())))
            out.append(
                f' <ActivitySummary dateComponents="{key}" '
                f'activeEnergyBurned="{num(self.act_by_date[key], 3)}" '
                f'activeEnergyBurnedGoal="{p.move_goal_kcal}" activeEnergyBurnedUnit="kcal" '
                f'appleMoveTime="0" appleMoveTimeGoal="0" '
                f'appleExerciseTime="{int(round(self.ex_by_date.get(key, 0.0)))}" '
                f'appleExerciseTimeGoal="30" appleStandHours="{stand}" appleStandHoursGoal="12"/>\n'
            )
        del r
        return out

    def render(self) -> str:
        s = self.sim
        p = self.p
        export_ts = s.t_end
        sex = "HKBiologicalSexFemale" if p.sex == "female" else "HKBiologicalSexMale"
        parts = [
            DTD,
            f'<HealthData locale="{p.locale}">\n',
            f' <ExportDate value="{self.c.fmt(export_ts)}"/>\n',
            f' <Me HKCharacteristicTypeIdentifierDateOfBirth="{p.birth_date.isoformat()}" '
            f'HKCharacteristicTypeIdentifierBiologicalSex="{sex}" '
            f'HKCharacteristicTypeIdentifierBloodType="HKBloodTypeNotSet" '
            f'HKCharacteristicTypeIdentifierFitzpatrickSkinType="HKFitzpatrickSkinTypeNotSet" '
            f'HKCharacteristicTypeIdentifierCardioFitnessMedicationsUse="None"/>\n',
        ]
        for t in TYPE_ORDER:
            recs = sorted(self.records[t])
            self.counts[t] = len(recs)
            parts.extend(x[2] for x in recs)
        self.workouts.sort()
        self.counts["Workout"] = len(self.workouts)
        parts.extend(x[1] for x in self.workouts)
        summ = self.activity_summaries()
        self.counts["ActivitySummary"] = len(summ)
        parts.extend(summ)
        parts.append("</HealthData>\n")
        return "".join(parts)


# --------------------------------------------------------------------------------------------
# ground truth, journal, participants, latent days
# --------------------------------------------------------------------------------------------


def ground_truth_rows(sim: Sim) -> list[dict]:
    rows = []
    c = sim.clock
    for nt in sim.nights:
        for ev in nt.events:
            detail = dict(ev.detail)
            rows.append(
                {
                    "participant_id": sim.p.pid,
                    "kind": ev.kind,
                    "start_utc": iso_utc(ev.start),
                    "end_utc": iso_utc(ev.end),
                    "local_date": nt.evening.isoformat()
                    if ev.kind == "watch_off"
                    else c.night_of(ev.start).isoformat(),
                    "detail": json.dumps(detail, sort_keys=True, separators=(",", ":")),
                }
            )
    for d in sim.days:
        if d.kind != "dehydration":
            continue
        z = ZoneInfo(c.zone_name(d.start))
        a = int(datetime(d.date.year, d.date.month, d.date.day, tzinfo=z).timestamp())
        nd = d.date + timedelta(days=1)
        b = int(datetime(nd.year, nd.month, nd.day, tzinfo=z).timestamp())
        f = d.fluid
        nxt = sim.days[d.idx + 1] if d.idx + 1 < len(sim.days) else None
        detail = {
            "tmax_c": round(d.tmax_c, 1),
            "workout": ", ".join(
                f"{w.activity.lower()} {w.minutes:.0f} min {w.kcal:.0f} kcal" for w in d.workouts
            ),
            "sweat_l": round(f["sweat_l"] + f["heat_sweat_l"], 2),
            "beverages_l": round(f["beverages_l"], 2),
            "beverages_logged_l": None
            if f.get("beverages_logged_l") is None
            else round(f["beverages_logged_l"], 2),
            "deficit_l": round(f["deficit_end_l"], 2),
            "deficit_pct_bm": round(f["deficit_end_pct"], 2),
            "next_morning_rhr_bpm": nxt.rhr if nxt else None,
        }
        rows.append(
            {
                "participant_id": sim.p.pid,
                "kind": "dehydration",
                "start_utc": iso_utc(a),
                "end_utc": iso_utc(b),
                "local_date": d.date.isoformat(),
                "detail": json.dumps(detail, sort_keys=True, separators=(",", ":")),
            }
        )
    rows.sort(key=lambda x: (x["participant_id"], x["start_utc"], x["kind"]))
    return rows


CRAMP_NOTES = {
    "calf": [
        "",
        "",
        "",
        "woke me up, had to stand up",
        "stretched it out",
        "{side} calf again",
        "sore all morning",
        'it "locked" for a minute',
        "very painful",
    ],
    "foot": ["", "toes curled", "arch of the foot, stood on the cold floor"],
    "thigh": ["", "back of the thigh", "hamstring, very painful"],
}


def cramp_note(r: np.random.Generator, muscle: str, side: str, hard_day: bool) -> str:
    if hard_day and r.random() < 0.35:
        return (
            "after the long ride, drank too little" if r.random() < 0.5 else "after a long day out"
        )
    pool = CRAMP_NOTES[muscle]
    note = pool[int(r.integers(len(pool)))]
    if side == "both":
        return note.replace("{side} calf", "both calves")
    return note.replace("{side}", side)


def journal_rows(sim: Sim) -> list[dict]:
    r = sim.r_journal
    c = sim.clock
    rows = []
    cramps = [ev for nt in sim.nights for ev in nt.events if ev.kind == "nocturnal_cramp"]
    hard = {
        id(ev): sum(w.kcal for w in sim.days[nt.idx].workouts) >= 700
        for nt in sim.nights
        for ev in nt.events
    }
    n_log = int(round(len(cramps) * float(r.uniform(0.70, 0.80))))
    logged = (
        set(int(k) for k in r.choice(len(cramps), size=n_log, replace=False)) if cramps else set()
    )
    for k, ev in enumerate(cramps):
        if k not in logged:
            continue
        recalled = ev.start + int(r.uniform(-22, 22) * 60)
        recalled = int(round(recalled / 900.0) * 900)
        d = ev.detail
        dur_true = (ev.end - ev.start) / 60
        dur = dur_true * float(r.uniform(0.8, 2.0))
        dur = round(dur) if dur < 5 else 5 * round(dur / 5)
        sev = int(np.clip(d["severity"] + int(r.integers(-1, 2)), 0, 10))
        rows.append(
            {
                "participant_id": sim.p.pid,
                "time": c.iso(recalled),
                "kind": "cramp",
                "severity": str(sev),
                "body_side": d["body_side"],
                "muscle": d["muscle"],
                "duration_min": str(max(1, dur)),
                "note": cramp_note(r, d["muscle"], d["body_side"], hard[id(ev)]),
                "_ts": recalled,
            }
        )
    for nt in sim.nights:
        for ev in nt.events:
            if ev.kind == "bathroom_trip" and r.random() < 0.1:
                t = int(round((ev.start + int(r.uniform(-20, 20) * 60)) / 900.0) * 900)
                rows.append(
                    {
                        "participant_id": sim.p.pid,
                        "time": c.iso(t),
                        "kind": "bathroom",
                        "severity": "",
                        "body_side": "",
                        "muscle": "",
                        "duration_min": "",
                        "note": "",
                        "_ts": t,
                    }
                )
    for d in sim.days:
        if d.kind == "water_not_logged" and r.random() < 0.6:
            t = min(d.end - 600, sim.at_local(d.date, 21.25))
            rows.append(
                {
                    "participant_id": sim.p.pid,
                    "time": c.iso(t),
                    "kind": "note",
                    "severity": "",
                    "body_side": "",
                    "muscle": "",
                    "duration_min": "",
                    "note": "forgot to log water today",
                    "_ts": t,
                }
            )
    rows.sort(key=lambda x: x["_ts"])
    for x in rows:
        del x["_ts"]
    return rows


def latent_rows(sim: Sim) -> list[dict]:
    rows = []
    for d in sim.days:
        f = d.fluid
        rows.append(
            {
                "participant_id": sim.p.pid,
                "local_date": d.date.isoformat(),
                "day_kind": d.kind,
                "tmax_c": f"{d.tmax_c:.1f}",
                "heat_hours_ge28c": f"{d.heat_hours:.1f}",
                "workouts": ";".join(
                    f"{w.activity.lower()}:{w.minutes:.0f}min:{w.kcal:.0f}kcal:{w.temp_c:.1f}c"
                    for w in d.workouts
                ),
                "workout_sweat_l": f"{f['sweat_l']:.2f}",
                "heat_sweat_l": f"{f['heat_sweat_l']:.2f}",
                "baseline_loss_l": f"{f['baseline_loss_l']:.2f}",
                "food_water_l": f"{f['food_water_l']:.2f}",
                "beverages_l": f"{f['beverages_l']:.2f}",
                "beverages_logged_l": ""
                if f.get("beverages_logged_l") is None
                else f"{f['beverages_logged_l']:.2f}",
                "deficit_start_l": f"{f['deficit_start_l']:.2f}",
                "deficit_end_l": f"{f['deficit_end_l']:.2f}",
                "deficit_end_pct_bm": f"{f['deficit_end_pct']:.2f}",
                "morning_bm_kg_measured": "" if d.bm_kg is None else f"{d.bm_kg:.2f}",
                "resting_hr_bpm": "" if d.rhr is None else str(d.rhr),
                "minerals_logged": "1" if d.minerals_logged else "0",
            }
        )
    return rows


def participants_csv() -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        [
            "participant_id",
            "sex",
            "birth_year",
            "tz",
            "home_lat_deg",
            "home_lon_deg",
            "height_cm",
            "conditions",
            "medications",
        ]
    )
    for p in PERSONAS:
        w.writerow(
            [
                p.pid,
                p.sex,
                p.birth_date.year,
                p.tz,
                f"{p.home_lat:.2f}",
                f"{p.home_lon:.2f}",
                f"{p.height_cm:.0f}",
                ";".join(p.conditions),
                ";".join(p.medications),
            ]
        )
    return buf.getvalue()


def to_csv(rows: list[dict], cols: list[str]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow(r)
    return buf.getvalue()


def write_zip(path: Path, member: str, data: bytes, when: tuple) -> None:
    info = zipfile.ZipInfo(member, date_time=when)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3
    info.external_attr = 0o644 << 16
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
    path.write_bytes(buf.getvalue())


# --------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------


def generate(out: Path, seed: int = DEFAULT_SEED, nights: int = DEFAULT_NIGHTS) -> dict:
    """Write every sample file under ``out``; return the statistics the README reports."""
    if nights < 7:
        raise SystemExit("--nights must be at least 7")
    out.mkdir(parents=True, exist_ok=True)
    inbox = out / "inbox"
    inbox.mkdir(exist_ok=True)
    gt_all, journal_all, latent_all = [], [], []
    stats: dict = {"seed": seed, "nights": nights, "participants": {}}
    for k, p in enumerate(PERSONAS):
        sim = Sim(p, seed, nights, k)
        sim.run()
        exp = Export(sim)
        xml = exp.build().encode("utf-8")
        pdir = inbox / p.pid
        pdir.mkdir(exist_ok=True)
        loc = sim.clock.local(sim.t_end)
        write_zip(
            pdir / "export.zip",
            "apple_health_export/export.xml",
            xml,
            (loc.year, loc.month, loc.day, loc.hour, loc.minute, loc.second - loc.second % 2),
        )
        wname, wcsv = open_meteo_csv(
            p, sim.weather, sim.first, nights + 1, sim.last + timedelta(days=1)
        )
        for old in pdir.glob("open-meteo-*.csv"):
            if old.name != wname:
                old.unlink()
        (pdir / wname).write_text(wcsv, encoding="utf-8", newline="")
        sensor = pdir / "bedroom-sensor.csv"
        if p.pid in BEDROOM_SENSOR:
            sensor.write_text(
                bedroom_sensor_csv(sim, seed, k, nights + 1), encoding="utf-8", newline=""
            )
        elif sensor.exists():
            sensor.unlink()
        gt = ground_truth_rows(sim)
        gt_all += gt
        journal_all += journal_rows(sim)
        latent_all += latent_rows(sim)
        kinds: dict[str, int] = {}
        for row in gt:
            kinds[row["kind"]] = kinds.get(row["kind"], 0) + 1
        cramp_nights = {row["local_date"] for row in gt if row["kind"] == "nocturnal_cramp"}
        stats["participants"][p.pid] = {
            "persona": p,
            "sim": sim,
            "counts": dict(exp.counts),
            "gt_kinds": kinds,
            "cramp_nights": len(cramp_nights),
            "xml_bytes": len(xml),
            "weather_file": wname,
            "records": sum(
                v for kk, v in exp.counts.items() if kk not in ("Workout", "ActivitySummary")
            ),
        }
    (inbox / "participants.csv").write_text(participants_csv(), encoding="utf-8", newline="")
    (inbox / "journal.csv").write_text(
        to_csv(
            journal_all,
            [
                "participant_id",
                "time",
                "kind",
                "severity",
                "body_side",
                "muscle",
                "duration_min",
                "note",
            ],
        ),
        encoding="utf-8",
        newline="",
    )
    (out / "ground_truth.csv").write_text(
        to_csv(gt_all, ["participant_id", "kind", "start_utc", "end_utc", "local_date", "detail"]),
        encoding="utf-8",
        newline="",
    )
    (out / "latent_daily.csv").write_text(
        to_csv(latent_all, list(latent_all[0].keys())), encoding="utf-8", newline=""
    )
    (out / "README.md").write_text(readme(out, stats), encoding="utf-8", newline="")
    return stats


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def readme(out: Path, stats: dict) -> str:
    """README.md, written by the generator so that its numbers always match the files."""
    P = stats["participants"]
    lines: list[str] = []
    add = lines.append
    cmd = "uv run python sample_data/generate.py"
    seed, nights = stats["seed"], stats["nights"]
    add("# crampwatch sample data\n")
    add(
        "Two **simulated** participants (nothing here comes from a real person), generated by "
        "`generate.py` in this folder. The inbox looks like what a user drops into crampwatch: "
        "an Apple Health export per participant, an Open-Meteo weather download for each home, "
        "a self-report journal and a participants table. `ground_truth.csv` holds the "
        "generator's latent truth, for evaluating the detectors; it is **not** an input.\n"
    )
    add(
        f"This README is written by the generator (seed `{seed}`, `{nights}` nights). "
        "Do not edit it by hand: edit `generate.py` and regenerate.\n"
    )
    add("## Regenerate\n")
    add(
        "```sh\n"
        f"{cmd}                       # defaults: --out sample_data --seed {DEFAULT_SEED} --nights {DEFAULT_NIGHTS}\n"
        f"{cmd} --out /tmp/sd --nights 14 --seed 7   # a small variant for experiments\n"
        "```\n"
    )
    add(
        "The same seed and night count give byte-identical files (all randomness comes from "
        "numpy `SeedSequence([seed, participant])` streams; zip entries carry a fixed "
        "`date_time`; nothing reads the clock). `tests/sample_data/test_generator.py` "
        "regenerates the defaults and fails if the committed files differ, so after changing "
        "`generate.py` run the command above and commit the result. Only the standard "
        "library and numpy are used; generating the defaults takes a few seconds.\n"
    )
    # files ------------------------------------------------------------------------------
    add("## Files\n")
    add("| path | bytes | content |")
    add("|---|---:|---|")
    desc = {
        "inbox/participants.csv": "participant metadata (one row each)",
        "inbox/journal.csv": "self-reported cramps (and a few bathroom trips and notes) of both participants",
        "ground_truth.csv": "latent truth: every scheduled night event and dehydration day",
        "latent_daily.csv": "latent daily fluid balance, weather summary, scale and resting-HR values",
    }
    files = sorted(
        x
        for x in out.rglob("*")
        if x.is_file()
        and x.name not in ("README.md", "generate.py")
        and "__pycache__" not in x.parts
    )
    total = 0
    for f in files:
        rel = f.relative_to(out).as_posix()
        size = f.stat().st_size
        total += size
        if rel.endswith("export.zip"):
            pid = rel.split("/")[1]
            d = (
                f"Apple Health export, `apple_health_export/export.xml` inside "
                f"({P[pid]['xml_bytes']:,} bytes, {P[pid]['records']:,} records)"
            )
            add(f"| `{rel}` | ~{_mb(size)} | {d} |")
            continue
        if rel.startswith("inbox/p0") and "open-meteo" in rel:
            d = "hourly weather at the participant's home, Open-Meteo CSV download format"
        elif rel.endswith("bedroom-sensor.csv"):
            d = "bedroom temperature and humidity logger, every 15 min (indoor sensor CSV)"
        else:
            d = desc.get(rel, "")
        add(f"| `{rel}` | {size:,} | {d} |")
    add(f"\nTotal without README and generator: about {_mb(total)}.\n")
    # participants ---------------------------------------------------------------------
    add("## Participants\n")
    add("| | p01 | p02 |")
    add("|---|---|---|")
    p1, p2 = P["p01"]["persona"], P["p02"]["persona"]
    s1, s2 = P["p01"]["sim"], P["p02"]["sim"]

    def row(label, f):
        add(f"| {label} | {f(p1, s1)} | {f(p2, s2)} |")

    row("sex, born", lambda p, s: f"{p.sex}, {p.birth_date.year}")
    row("home zone", lambda p, s: f"`{p.tz}` ({p.home_lat:.2f}, {p.home_lon:.2f})")
    row(
        "conditions; medications",
        lambda p, s: f"{', '.join(p.conditions)}; {', '.join(p.medications)}",
    )
    row("nights (evening dates)", lambda p, s: f"{s.first} .. {s.nights[-1].evening} ({s.n})")
    row("export date (local)", lambda p, s: f"`{s.clock.fmt(s.t_end)}`")
    row("Health locale", lambda p, s: f"`{p.locale}`")
    row("body mass unit; distance unit", lambda p, s: f"`{p.mass_unit}`; `{p.dist_unit}`")
    row("watch / phone source names", lambda p, s: f"`{p.watch}` / `{p.phone}`")

    def spell(p, s):
        days = [d for d in s.days if d.date in s.weather.spell_days]
        if not days:
            return "-"
        tm = ", ".join(f"{d.tmax_c:.1f}" for d in days)
        return f"{days[0].date} .. {days[-1].date}, daily max {tm} °C"

    row("heat wave / hot spell", spell)

    def travel(p, s):
        if not s.travel:
            return "-"
        return (
            f"Los Angeles, nights {s.travel_dates[0]} .. {s.travel_dates[-2]} "
            f"(samples carry `-0700`, `HKTimeZone` `America/Los_Angeles`)"
        )

    row("travel", travel)

    def dst(p, s):
        nts = [n for n in s.nights if s.clock.offset(n.onset) != s.clock.offset(n.wake)]
        return (
            ", ".join(
                f"night of {n.evening} (`{s.clock.fmt(n.bed)[-5:]}` at bedtime, "
                f"`{s.clock.fmt(n.outbed)[-5:]}` at wake)"
                for n in nts
            )
            or "-"
        )

    row("DST change inside a night", dst)

    def era(p, s):
        if not s.old_era_nights:
            return "stages throughout"
        last = s.nights[s.old_era_nights - 1].evening
        return (
            f"nights {s.first} .. {last}: old watch, `InBed` + `AsleepUnspecified` only; "
            f"later nights: `AsleepCore/Deep/REM` + `Awake`"
        )

    row("sleep values", era)
    add("")
    # ground truth counts ----------------------------------------------------------------
    add("## Ground truth (`ground_truth.csv`)\n")
    add(
        "Columns `participant_id,kind,start_utc,end_utc,local_date,detail`; instants are UTC "
        "with `Z`; `detail` is a JSON object. `local_date` is, for night events, the local "
        "date of the evening the night began (noon-to-noon, in the device-local zone of that "
        "night, so Los Angeles nights use Pacific time); for `dehydration` it is the local "
        "calendar day, and the row spans that day from local midnight to local midnight. "
        "`watch_off` rows use the evening date of the night they belong to.\n"
    )
    kinds = [
        "nocturnal_cramp",
        "bathroom_trip",
        "restless_night",
        "rollover",
        "watch_off",
        "dehydration",
    ]
    add("| kind | p01 | p02 | what it is |")
    add("|---|---:|---:|---|")
    what = {
        "nocturnal_cramp": "abrupt awakening out of core/deep sleep; rows span the painful contraction",
        "bathroom_trip": "wake 3-15 min with a walk there and back (60-150 steps)",
        "restless_night": "a 1-2.5 h cluster of 5+ brief (1-2 min) awakenings; one row per cluster",
        "rollover": "wake without an HR surge: `variant` rollover (1-4 min) or phone_reading (5-20 min)",
        "watch_off": "watch charging: no HR, steps or watch sleep stages (2-5 h, or a whole night)",
        "dehydration": "latent fluid deficit >= 2 % of body mass at the end of the day",
    }
    for k in kinds:
        add(
            f"| `{k}` | {P['p01']['gt_kinds'].get(k, 0)} | {P['p02']['gt_kinds'].get(k, 0)} | {what[k]} |"
        )
    add(
        f"\nCramp nights: p01 {P['p01']['cramp_nights']}, p02 {P['p02']['cramp_nights']} "
        "(a few nights have two cramps). `detail` keys: cramps `muscle, body_side, severity, "
        "hr_rise_bpm, steps, stage_before, awake_start_utc, awake_end_utc`; bathroom trips "
        "`steps, hr_rise_bpm`; restless nights `awakenings, awakening_min`; rollovers "
        "`variant, hr_rise_bpm`; watch_off `whole_night` (and `hours`); dehydration "
        "`tmax_c, workout, sweat_l, beverages_l, beverages_logged_l, deficit_l, deficit_pct_bm, "
        "next_morning_rhr_bpm`.\n"
    )
    # scheduled days ----------------------------------------------------------------------
    add("### Days that matter for the dehydration detector\n")
    add(
        "| participant | date | kind | max °C | workout | sweat L | drank L | logged L | deficit % BM |"
    )
    add("|---|---|---|---:|---|---:|---:|---:|---:|")
    for pid in ("p01", "p02"):
        s = P[pid]["sim"]
        for d in s.days:
            if d.kind == "normal":
                continue
            f = d.fluid
            wk = (
                ", ".join(
                    f"{w.activity.lower()} {w.minutes:.0f} min, {w.kcal:.0f} kcal"
                    for w in d.workouts
                )
                or "-"
            )
            lg = (
                "not logged"
                if f.get("beverages_logged_l") is None
                else f"{f['beverages_logged_l']:.2f}"
            )
            add(
                f"| {pid} | {d.date} | {d.kind} | {d.tmax_c:.1f} | {wk} | "
                f"{f['sweat_l'] + f['heat_sweat_l']:.2f} | {f['beverages_l']:.2f} | {lg} | "
                f"{f['deficit_end_pct']:.2f} |"
            )
    add(
        "\n`dehydration` days are in the ground truth; `hot_hydrated` days have the same heat "
        "and a similar workout but enough water (not dehydration); `water_not_logged` days have "
        "no `DietaryWater` records at all although the person drank normally (not dehydration; "
        "some carry a journal note `forgot to log water today`). The day after a dehydration "
        "day is a rest day. `latent_daily.csv` has every day.\n"
    )
    # model -------------------------------------------------------------------------------
    add(MODEL_TEXT)
    # records -----------------------------------------------------------------------------
    add("## Record counts in `export.xml`\n")
    add("| element / type | p01 | p02 |")
    add("|---|---:|---:|")
    keys = TYPE_ORDER + ["Workout", "ActivitySummary"]
    for k in keys:
        name = (
            k
            if k in ("Workout", "ActivitySummary")
            else (SLEEP_TYPE if k == "SleepAnalysis" else HK + k)
        )
        add(f"| `{name}` | {P['p01']['counts'].get(k, 0):,} | {P['p02']['counts'].get(k, 0):,} |")
    add("")
    add(
        QUIRKS_TEXT.replace("{W1}", P["p01"]["weather_file"]).replace(
            "{W2}", P["p02"]["weather_file"]
        )
    )
    return "\n".join(lines).rstrip("\n") + "\n"


MODEL_TEXT = """## How it is simulated

Everything runs in UTC seconds; local time is only used to schedule (bedtimes, workouts) and
to format. Latent timelines have 30-s epochs.

**Nights.** Bedtime 22:30-00:30 local, sleep latency 5-25 min, 6-8.5 h of sleep, 2-15 min in
bed after the final awakening. The hypnogram cycles every ~90 min: core, deep (long early in
the night, little after the third cycle), core, REM (longer later). The phone writes one
`InBed` record from bedtime to getting up (also on watch-off nights); the watch writes the
stages. Sleeping HR = resting HR - 4 bpm, higher early in the night, -3 in deep, +3 in REM;
the whole night is +0.4 bpm per °C of night minimum above 16 °C (max +3), and +1.2 bpm per
1 % body-mass deficit after a dehydration day. Events are placed at least 45 min after sleep
onset and before the final awakening, never overlapping (15 min apart, 10 for rollovers):

| event | Awake stage | heart rate | steps | other |
|---|---|---|---|---|
| nocturnal cramp | 4-10 min, out of core/deep sleep, then >= 10 min core | +15-30 bpm within 15-30 s, held >= 5 min (until the cramp ends + 1 min), then back with a 4-8 min time constant | 5-30 in one record, 20-60 s after onset (standing to stretch) | cramp lasts 2-8 min; watch samples HR ~1/min from ~45 s after onset until 10 min after the Awake segment; 1-3 kcal active energy |
| bathroom trip | 3-15 min, then 2-6 min core | +5-10 bpm, back within ~2 min after bed | 60-150 in two records (there and back) | HR ~1/min while up |
| restless night | 5+ segments of 1-2 min, 4-15 min apart, over 1-2.5 h | +3-8 bpm bumps lasting ~1 min (half of them caught by an extra sample) | none | PLM/RLS-like background |
| rollover | 1-4 min | +0-2 | none | |
| phone reading (`rollover`, variant `phone_reading`) | 5-20 min | +2-4, slow | none | |
| watch off | no watch stages | no HR | none | whole night: watch on the charger from before bed to after getting up; partial: put on late after charging, or battery died in the small hours |

Cramp nights are drawn with weights 1 + 2.5 (dehydration that day) + 1.0 (day max >= 30 °C)
+ 0.5 (workouts >= 500 kcal), so the trigger analysis has something to find; about 20 % of
cramp nights get a second cramp. p02 has a cramp forced into the repeated 01:xx hour of the
DST night and one in Los Angeles. Per night: bathroom trips ~ Poisson(0.45) for p01
(thiazide) and Poisson(0.8) for p02 (max 2), rollovers ~ Poisson(0.8) (max 3); 5-8 restless
nights and 4-5 watch-off windows per 90 nights. About one night in three also carries a
single spurious HR reading (+20-35 bpm, a PPG artefact, no wake): not in the ground truth,
a detector should ignore it.

**Heart-rate sampling.** Every 4-6 min asleep, 3-7 min awake by day, ~1/min in the night wake
windows above, every 10-16 s during workouts, none while the watch is off. Noise SD 1.4 bpm
asleep, 2.6 by day. Values are whole numbers, 8 % with 4 decimals (`64.2771`).

**Days.** 4-8 walks a day (3-22 min, ~100 steps/min), small step bursts every 10-25 min,
workouts (p01: cycling 1.4, walking 1.5, running 0.4 per week; p02: walking 3.2, cycling 1.0,
running 0.25) at 07:30-09:30 or 16:30-18:30, outdoors. Active energy 0.15-0.45 kcal/min
sedentary, 4 kcal/min walking, 4-10 kcal/min in workouts; basal = Mifflin-St Jeor BMR.

**Fluid balance (latent, per day, litres).** See `Sim.fluid_balance` in `generate.py`.

```
losses      = baseline_loss (EFSA AI: 2.0 F / 2.5 M; covers moderate temperature, PAL 1.6)
            + diuretic_loss (p01 thiazide: 0.25)
            + workout sweat    AEE_kcal * 0.8 * f_evap(Ta) / (580 * 0.7),  f_evap 0.6 at 20 degC -> 1.0 at 35 degC,
                               capped at 2.5 L/h (detectors-science.md 2.1, latent-heat fallback)
            + heat sweat       0.06 L per waking hour with outdoor temperature >= 28 degC (no A/C)
intake      = food water (0.45 F / 0.55 M) + beverages
beverages   = habitual (losses at rest - food + 0.15, SD 0.12)
            + c * (workout sweat + heat sweat), c ~ U(0.85, 1.05)
            + 0.7 * deficit carried in from yesterday (thirst)
              designed dehydration day (hot, 2.5-3 h outdoor workout): only enough to end the
              day U(2.8, 3.6) % of body mass short (never less than 0.4 L)
deficit_end = max(0, deficit_start + losses - intake)   (the kidneys excrete any surplus)
dehydration <=> deficit_end >= 2 % of body mass
```

Logged water (`DietaryWater`) is 80-95 % of the beverages, in glasses and bottles of
150-500 mL (the last one of the day smaller) at random waking times; none at all on `water_not_logged` days. Next morning's scale reading = baseline
mass - deficit (1 L = 1 kg) with 0.3 % noise (clipped at 0.8 %); the noise is drawn so that
the morning after a dehydration day is >= 2 % below the median of the previous 7 readings
and no other morning is >= 1.5 % below it. Resting HR the next day is >= 2 bpm above the
median of the previous 7 days (+1.3 bpm per 1 % deficit, at least +2.6). Weigh-ins happen
on ~86 % of mornings at home and always after a dehydration day; none while travelling.

**Weather.** Daily mean = seasonal cosine (peak 19 July) + AR(1) anomaly; diurnal cycle with
the minimum at 05:00 and maximum at 15:00 solar time; dew point = daily mean - depression
(+ small diurnal and AR noise, always below the temperature; close to it in rain); relative
humidity from temperature and dew point with the Magnus formula (BoM constants 6.105, 17.27,
237.7); apparent temperature = Steadman shade formula `Ta + 0.33 e - 0.70 ws - 4.00`; random
showers (1-5 h). The heat wave (p01, dry: dew-point depression 9.5-13 °C) and hot spell (p02,
humid: 5-7.5 °C) set the daily maximum directly; one more hot day (p01 30.5-32 °C, p02
29-30.5 °C) is set later in the span; all other days' maxima are softly capped below the
spell's lower bound minus 3 °C.
"""


QUIRKS_TEXT = """## What importer and detector code must expect

Apple Health export (`inbox/pNN/export.zip` → `apple_health_export/export.xml`):

* Internal DTD (HealthKit Export Version 14) with no `<!ENTITY>`; parse with
  `defusedxml.ElementTree.iterparse(..., forbid_dtd=False)`. One element per line, UTF-8.
* Record attributes in Apple's order `type, sourceName, sourceVersion, device, unit,
  creationDate, startDate, endDate, value`, **except** `DietaryWater`, written by a third-party
  app (`WaterMinder` / `Waterllama`) as `type, value, unit, sourceName, sourceVersion,
  startDate, endDate` with **no creationDate**.
* Dates `2025-06-15 23:12:45 +0200`: device-local time with the offset in force at that
  instant. p02's offsets are `-0400` (EDT), `-0500` (EST, from 2025-11-02 02:00) and `-0700`
  while in Los Angeles; one sleep night starts at `-0400` and ends at `-0500`.
* Source names contain U+2019 (`P01’s Apple Watch`, `P02’s iPhone`). The `device`
  attribute is `<<HKDevice: 0x…>, name:Apple Watch, manufacturer:Apple Inc., model:Watch,
  hardware:…, software:…>` (escaped as `&lt;&lt;…&gt;` in the file); the `0x…` pointer
  changes from day to day, so strip it before using `device` in a natural key. p02 changes
  watch (hardware `Watch5,4` / watchOS `8.8.1` → `Watch7,2` / `11.6`) when his sleep values
  change.
* Units: `HeartRate`/`RestingHeartRate` `count/min`; `HeartRateVariabilitySDNN` `ms`;
  `StepCount` `count`; `ActiveEnergyBurned`/`BasalEnergyBurned` `kcal`;
  `DistanceWalkingRunning`/`DistanceCycling` `km` (p01) or `mi` (p02); `BodyMass` `kg` (p01,
  Withings `Health Mate`, 2 decimals) or `lb` (p02, typed into `Health`, 1 decimal,
  `HKWasUserEntered` = 1); `DietaryWater` `mL`; `DietaryCalcium/Magnesium/Potassium` `mg`;
  `DietaryVitaminD` `mcg` (food diary `Cronometer`, 3 meals a day, metadata `Meal`, e.g.
  `Dinner & snacks`).
* Every `HeartRate` record has one `MetadataEntry` `HKMetadataKeyHeartRateMotionContext`:
  `0` asleep or in bed, `1` sedentary, `2` walking or workout. Workout HR is written with a
  creationDate at the end of the workout.
* `HeartRateVariabilitySDNN` records (2-4 a day, 1-2 of them asleep) carry a
  `HeartRateVariabilityMetadataList` of `InstantaneousBeatsPerMinute bpm="…" time="…"`; the
  time is locale-formatted time of day only: p01 (`de_DE`) `03:10:02,11`; p02 (`en_US`)
  `3:10:02.11 AM` with a U+202F narrow no-break space before AM/PM.
* `SleepAnalysis` has no unit; values `HKCategoryValueSleepAnalysisInBed` (phone),
  `…AsleepCore`, `…AsleepDeep`, `…AsleepREM`, `…Awake` (watch), and for p02's first third
  `…AsleepUnspecified` (old watch: no stages, awakenings are gaps between records). Every
  sleep record has `MetadataEntry` `HKTimeZone` (`Europe/Berlin`, `America/New_York`,
  `America/Los_Angeles`).
* `BodyMass` from Withings has metadata `Health Mate App Version`, `Withings User Identifier`,
  `Modified Date`, `Withings Link` (a URL containing `&amp;`), `HKWasUserEntered`.
* The phone also writes `StepCount` and `DistanceWalkingRunning` for most walks and walking
  workouts at home (overlapping the watch's records, different chunking): de-duplicate by source before
  summing. At night only the watch counts steps.
* `Workout` (`HKWorkoutActivityTypeCycling` / `Walking` / `Running`, `duration` in `min`) has
  no total attributes; totals are in `WorkoutStatistics` (`ActiveEnergyBurned` and
  `BasalEnergyBurned` `sum` in kcal, `DistanceCycling` or `DistanceWalkingRunning` `sum`,
  `HeartRate` `average/minimum/maximum`), plus metadata `HKIndoorWorkout`, `HKTimeZone`,
  `HKWeatherTemperature` (`31 degC` / `88 degF`), `HKWeatherHumidity` (`45 %`),
  `HKAverageMETs` (`5.12345 kcal/hr·kg`).
* One `ActivitySummary` per local day with watch data (`activeEnergyBurnedUnit="kcal"`,
  goals, exercise minutes, stand hours).
* Records are grouped by type and sorted by startDate within a type; `ExportDate` and `Me`
  (date of birth, `HKBiologicalSexFemale`/`Male`) come first.

Open-Meteo CSV (`inbox/p01/{W1}`, `inbox/p02/{W2}`), exactly as the site's CSV download:
two metadata lines (`latitude,longitude,elevation,utc_offset_seconds,timezone,timezone_abbreviation`
and its values), a blank line, then `time,temperature_2m (°C),relative_humidity_2m (%),
dew_point_2m (°C),apparent_temperature (°C),precipitation (mm),wind_speed_10m (km/h)` with
hourly rows `2025-07-01T14:00,...` for whole local days. Open-Meteo applies **one fixed
offset to the whole file**, the one valid on the download day, with no DST switching (see
open-meteo/open-meteo issues #1255 and #488): p01's file says `7200,Europe/Berlin,GMT+2`
(right all summer), p02's was downloaded after the DST change and says
`-18000,America/New_York,GMT-5`, so its August-October rows are in EST, one hour off the
wall clock. Convert with `time_utc = time - utc_offset_seconds`, never with the zone name.
The coordinates are the model grid point (a few km from the home in `participants.csv`);
link weather to a participant by the inbox folder. Decimals as Open-Meteo writes them:
temperature, dew point, apparent temperature and wind 1, humidity 0, precipitation 2.

`inbox/p01/bedroom-sensor.csv`: a bedroom logger (crampwatch's indoor sensor CSV,
`timestamp,temperature_c,humidity_pct,sensor`), every 15 min, ISO 8601 with the offset. A
flat without air conditioning: the room follows the outdoor air plus 2.5 °C of internal
gains with a 48-h time constant (never below 20 °C) and reaches ~32 °C at the end of the
heat wave (a top-floor flat);
humidity from the outdoor dew point plus 2 hPa from the occupants. p02 has no sensor.

`inbox/participants.csv`: `participant_id,sex,birth_year,tz,home_lat_deg,home_lon_deg,height_cm,conditions,medications`,
lists separated by `;` (`hydrochlorothiazide;levothyroxine`, `type2_diabetes`, ...).

`inbox/journal.csv`: `participant_id,time,kind,severity,body_side,muscle,duration_min,note`;
`time` is ISO 8601 with the offset (`2025-07-03T03:15:00+02:00`), recalled in the morning:
a uniform error of up to ±22 min, then rounded to the quarter hour, so always within 30 min
of the true onset. 70-80 % of true cramps are journalled (`kind` `cramp`, severity = true
severity ± 1, side and muscle true, `duration_min` recalled 0.8-2× the true length, rounded
to whole minutes or to 5 min above 5). About 10 % of bathroom trips are journalled as
`bathroom`; some water-not-logged days have a `note`. Notes may contain commas and quotes
(CSV-quoted).

`latent_daily.csv` (not an input): per participant and local date the day kind, maximum
outdoor temperature, hours >= 28 °C, workouts (`activity:minutes:kcal:temp`), workout and heat
sweat, baseline loss, food water, beverages drunk and logged, deficit at the start and end
of the day (L and % of body mass), the scale reading that morning (kg, also for p02) and the
day's resting HR.

## Limits

The physiology is a plausible caricature for testing code, not a validated model: the cramp
HR and step signatures are the engineering assumptions (grade D) of the project's detector
research brief, sleep stages come from a simple cycle model, sweat uses the latent-heat
fallback rather than the Gonzalez equations, and no real export was copied (the layout
follows public Apple Health export samples).
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=HERE, help="output folder (default: sample_data/)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--nights", type=int, default=DEFAULT_NIGHTS)
    a = ap.parse_args(argv)
    generate(a.out, a.seed, a.nights)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
