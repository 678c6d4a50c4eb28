"""One participant's simulation: random streams, clock, weather, and the order of the steps.

The steps themselves live in mixins: :mod:`.days` (schedule, workouts, fluid balance, scale
and resting HR), :mod:`.nights` (hypnograms and night events) and :mod:`.timelines` (the
per-30-s heart-rate, regime and motion arrays the Apple writer samples).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from .config import EPOCH_S, LA_CLIMATE, Persona
from .days import DaysMixin
from .helpers import Clock, magnus_es
from .latent import Day, Night
from .nights import NightsMixin
from .timelines import TimelinesMixin
from .weather import diurnal_shape, gen_weather


class Sim(DaysMixin, NightsMixin, TimelinesMixin):
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

    # ---------------------------------------------------------------------- run -------------
    def run(self) -> None:
        self.schedule_sleep()
        self.choose_day_kinds()
        self.schedule_activity()
        self.fluid_balance()
        self.weigh_ins_and_rhr()
        self.schedule_nights()
        self.build_timelines()
