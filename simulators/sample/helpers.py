"""Small helpers: number and XML formatting, UTC stamps, the Magnus formula, device clocks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np


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
