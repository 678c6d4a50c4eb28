"""Weather at each home (hourly, physical in UTC), its Open-Meteo CSV and the bedroom sensor."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np

from .config import BEDROOM_INTERVAL_S, Persona
from .helpers import magnus_es

if TYPE_CHECKING:
    from .sim import Sim


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
