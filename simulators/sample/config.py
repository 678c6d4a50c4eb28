"""Parameters of the sample data: defaults, record codes and the two simulated personas."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

DEFAULT_SEED = 20250615
DEFAULT_NIGHTS = 90

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


#: participants with a bedroom sensor (p01: a top-floor flat without air conditioning)
BEDROOM_SENSOR = ("p01",)
#: bedroom sensor logging interval, s
BEDROOM_INTERVAL_S = 900


GLASSES_ML = (150, 200, 200, 250, 250, 300, 330, 400, 500)
