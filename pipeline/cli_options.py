"""Options and checks shared by the command modules (``pipeline.cli``,
``pipeline.cli_participants``, ``pipeline.cli_triggers``)."""

from __future__ import annotations

import click

db_option = click.option(
    "--db",
    type=click.Path(dir_okay=False),
    default=None,
    help="DuckDB store (default: $CRAMPWATCH_DB, else ./crampwatch.duckdb).",
)


def check_tz(ctx, param, value):
    """A click callback: ``value`` must be an IANA zone name (or None)."""
    if value is None:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise click.BadParameter(
            f"{value!r} is not an IANA time zone such as Europe/Berlin"
        ) from exc
    return value
