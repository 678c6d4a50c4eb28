"""Text as Apple writes it: local times (:class:`Clock`), numbers, metadata entries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from simulators.apple_export.layout import TZ_NAME

_HMS = [f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}" for s in range(86400)]


# --------------------------------------------------------------------------- clock


class Clock:
    """Europe/Berlin local time for UTC seconds, formatted the way Apple writes it."""

    def __init__(self) -> None:
        self.zone = ZoneInfo(TZ_NAME)
        self._hours: dict[int, tuple[int, str]] = {}
        self._days: dict[int, str] = {}

    def _hour(self, h: int) -> tuple[int, str]:
        got = self._hours.get(h)
        if got is None:  # offsets change on whole UTC hours only
            off = int(
                datetime.fromtimestamp(h * 3600, UTC)
                .astimezone(self.zone)
                .utcoffset()
                .total_seconds()
            )
            a = abs(off)
            got = (off, f"{'+' if off >= 0 else '-'}{a // 3600:02d}{a % 3600 // 60:02d}")
            self._hours[h] = got
        return got

    def _day(self, dnum: int) -> str:
        s = self._days.get(dnum)
        if s is None:
            s = self._days[dnum] = (date(1970, 1, 1) + timedelta(days=dnum)).isoformat()
        return s

    def offset(self, ts: int) -> int:
        return self._hour(ts // 3600)[0]

    def fmt(self, ts: int) -> str:
        """``2026-05-01 07:12:45 +0200``"""
        off, suffix = self._hour(ts // 3600)
        dnum, sec = divmod(ts + off, 86400)
        return f"{self._day(dnum)} {_HMS[sec]} {suffix}"

    def fmt_many(self, ts) -> list[str]:
        fmt = self.fmt
        return [fmt(t) for t in ts.tolist()] if hasattr(ts, "tolist") else [fmt(t) for t in ts]

    def local_hms(self, ts: float) -> str:
        """Local clock time with hundredths, de_DE style (``07:12:46,12``)."""
        t = int(ts)
        sec = (t + self.offset(t)) % 86400
        return f"{_HMS[sec]},{int((ts - t) * 100):02d}"

    def midnight(self, d: date) -> int:
        """UTC seconds of local midnight starting date ``d``."""
        return int(datetime(d.year, d.month, d.day, tzinfo=self.zone).timestamp())


def _num(v: float, nd: int) -> str:
    s = f"{v:.{nd}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _meta(key: str, value: str, indent: str = "  ") -> str:
    return f'{indent}<MetadataEntry key="{key}" value="{value}"/>\n'
