"""Latent containers of the simulation: workouts, night events, nights and days."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np


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
