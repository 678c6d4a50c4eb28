"""Local-time helpers: local date, noon-to-noon night, day bounds, epoch conversion.

Every stored instant is UTC and every row carries its own ``utc_offset_s`` (seconds east of
UTC, the offset in force at that instant where the participant was). Local wall-clock time is
``start_utc + utc_offset_s``. Nights and days are computed from that per-row offset, never
from a fixed zone, so a DST change or a flight never splits or merges a night.

``night_of`` is the local date of the evening a night starts, using a noon-to-noon window
(local 12:00 of day D up to local 12:00 of day D+1 belongs to night D), as in the
``day_window=(12, 24)`` convention of the style guide.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl

#: local hour at which a new night starts (noon-to-noon window; style guide section 3)
NIGHT_START_HOUR = 12

_US_PER_S = 1_000_000


def _as_expr(x: str | pl.Expr) -> pl.Expr:
    return pl.col(x) if isinstance(x, str) else x


def local_datetime(
    ts: str | pl.Expr = "start_utc", offset_s: str | pl.Expr = "utc_offset_s"
) -> pl.Expr:
    """Naive local wall-clock datetime of a UTC instant and its ``utc_offset_s``.

    Parameters
    ----------
    ts : str or polars.Expr
        ``Datetime("us", "UTC")`` column (any tz-aware datetime works; it is read as an instant).
    offset_s : str or polars.Expr
        Integer seconds east of UTC for that instant.

    Returns
    -------
    polars.Expr
        ``Datetime("us")`` without time zone: the local wall clock.
    """
    return _as_expr(ts).dt.convert_time_zone("UTC").dt.replace_time_zone(None) + pl.duration(
        seconds=_as_expr(offset_s)
    )


def local_date(
    ts: str | pl.Expr = "start_utc", offset_s: str | pl.Expr = "utc_offset_s"
) -> pl.Expr:
    """Local calendar date (``pl.Date``) of a UTC instant and its offset."""
    return local_datetime(ts, offset_s).dt.date()


def night_of(ts: str | pl.Expr = "start_utc", offset_s: str | pl.Expr = "utc_offset_s") -> pl.Expr:
    """Local date of the evening a night starts (noon-to-noon window).

    An instant at local time ``t`` belongs to night ``date(t - 12 h)``: 23:30 on 3 March and
    04:00 on 4 March are both night 3 March; 13:00 on 4 March is night 4 March.
    """
    return (local_datetime(ts, offset_s) - pl.duration(hours=NIGHT_START_HOUR)).dt.date()


def local_midnight_utc(day: str | pl.Expr, offset_s: str | pl.Expr) -> pl.Expr:
    """UTC instant of local 00:00 on ``day`` for a given offset (``Datetime("us", "UTC")``)."""
    return (
        _as_expr(day).cast(pl.Datetime("us")) - pl.duration(seconds=_as_expr(offset_s))
    ).dt.replace_time_zone("UTC")


def epoch_us(ts: str | pl.Expr) -> pl.Expr:
    """Microseconds since 1970-01-01 UTC as ``Int64`` (exact, unlike float seconds)."""
    return _as_expr(ts).dt.convert_time_zone("UTC").dt.epoch("us")


def from_epoch_us(us: int | np.integer) -> datetime:
    """Python UTC datetime from epoch microseconds (used for episode ids and outputs)."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(us))


def night_of_scalar(start_utc: datetime, utc_offset_s: int) -> date:
    """Scalar version of :func:`night_of` for one instant (tests, ad-hoc use)."""
    local = start_utc.astimezone(UTC).replace(tzinfo=None) + timedelta(seconds=int(utc_offset_s))
    return (local - timedelta(hours=NIGHT_START_HOUR)).date()
