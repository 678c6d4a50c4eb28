"""``crampwatch participants``, ``forget`` and ``reassign`` (issue 13): see who is in the
store, and undo a wrong ``--participant`` or ``--timezone`` (:mod:`pipeline.participants`).

Write commands open the store as its one writer, recompute the outputs that depended on what
changed and publish the snapshot, like ``crampwatch detect``.
"""

from __future__ import annotations

import click

from pipeline.cli_options import check_tz as _check_tz
from pipeline.cli_options import db_option as _db_option
from pipeline.config import resolve_db


def _writer(db):
    from pipeline import store

    path = resolve_db(db)
    if not path.exists():
        raise click.ClickException(
            f"no crampwatch database at {path}; `crampwatch ingest` or `crampwatch run` creates one"
        )
    return store.connect(path), path


def _publish(con, path) -> None:
    from pipeline import runner

    runner.publish(str(path), con=con)


def _report(res, verb: str) -> None:
    removed = sum(res.rows_removed.values())
    parts = ", ".join(f"{t} {n:,}" for t, n in sorted(res.rows_removed.items()))
    click.echo(f"{verb}: {removed:,} rows removed" + (f" ({parts})" if parts else ""))
    if res.import_ids:
        click.echo(
            "  ledger: import(s) " + ", ".join(map(str, res.import_ids)) + " marked forgotten"
        )
    for iid, n in sorted(res.rows_restored.items()):
        click.echo(f"  {n:,} rows it shared with import {iid} written again for that import")
    if res.participants_removed:
        click.echo("  participant(s) removed: " + ", ".join(res.participants_removed))
    if res.participants_restored:
        click.echo(
            "  participant row(s) put back as before the import: "
            + ", ".join(res.participants_restored)
        )
    if res.participants:
        click.echo(
            "  recomputed detections, exposures and triggers of: " + ", ".join(res.participants)
        )
    for w in res.warnings:
        click.echo(f"  warning: {w}", err=True)


@click.command()
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv"]), default="table", show_default=True
)
@_db_option
def participants(fmt, db):
    """List the participants: time zone, sex and birth year if known, rows per table, first
    and last local date of their data, imports (live and forgotten)."""
    from pipeline import participants as people
    from pipeline import store

    try:
        con = store.connect_reader(resolve_db(db))
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from exc
    with con:
        rows = people.overview(con)
    if not rows:
        click.echo("no participants in the store")
        return
    tables = list(rows[0]["rows"])
    header = [
        "participant",
        "tz",
        "sex",
        "birth_year",
        "first_local_date",
        "last_local_date",
        "imports",
        "forgotten",
        *tables,
    ]
    lines = [
        [
            r["participant_id"],
            r["tz"] or "",
            r["sex"] or "",
            "" if r["birth_year"] is None else str(r["birth_year"]),
            str(r["first_local_date"] or ""),
            str(r["last_local_date"] or ""),
            str(r["imports"]),
            str(r["imports_forgotten"]),
            *(str(r["rows"][t]) for t in tables),
        ]
        for r in rows
    ]
    if fmt == "csv":
        click.echo(",".join(header))
        for line in lines:
            click.echo(",".join(line))
        return
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
    for line in lines:
        click.echo("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())
    click.echo(f"{len(rows)} participant(s); unknown values are blank")


@click.command()
@click.option(
    "--participant",
    "participant_id",
    default=None,
    help="Remove every row of this participant from every table.",
)
@click.option(
    "--import",
    "import_id",
    type=int,
    default=None,
    help="Remove exactly the rows import N added (ledger: imports.import_id).",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@_db_option
def forget(participant_id, import_id, yes, db):
    """Remove a participant (--participant ID) or what one import added (--import N).

    Detections, daily exposures and trigger statistics that depended on it are recomputed.
    A participant row the import changed (time zone, sex and birth year from an Apple Me
    record, a participants file's values) is put back as it was before it; one it created is
    removed when nothing else refers to it.
    The ledger keeps the history: the import's row stays, status `forgotten`, so the same
    file can be imported again (a file left in the inbox is, by the next `crampwatch run`).
    """
    from pipeline import participants as people
    from pipeline import store_ledger

    if (participant_id is None) == (import_id is None):
        raise click.UsageError("give exactly one of --participant ID or --import N")
    con, path = _writer(db)
    with con:
        try:
            if import_id is not None:
                row = people._live_row(con, import_id)
                what = (
                    f"import {import_id} ({row['format']}, {row['path']}, participant "
                    f"{row['participant_id'] or '-'}, {row['rows_accepted']:,} rows)"
                )
            else:
                if participant_id not in store_ledger.participant_ids(con):
                    people.forget_participant(con, participant_id)  # raises with a hint
                what = f"every row of participant {participant_id}"
            if not yes:
                click.confirm(f"Remove {what} from {path.name}?", abort=True)
            if import_id is not None:
                res = people.forget_import(con, import_id)
                _report(res, f"forgot import {import_id}")
            else:
                res = people.forget_participant(con, participant_id)
                _report(res, f"forgot participant {participant_id}")
        except people.ParticipantError as exc:
            raise click.ClickException(str(exc)) from exc
        _publish(con, path)


@click.command()
@click.option(
    "--import",
    "import_id",
    type=int,
    required=True,
    help="The import to move (ledger: imports.import_id).",
)
@click.option(
    "--participant", "participant_id", required=True, help="The participant its rows belong to."
)
@click.option(
    "--timezone",
    "tz",
    default=None,
    callback=_check_tz,
    help="IANA zone: the local times the import derived from a zone are computed again with it.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Import it even when its Apple Me record contradicts the participant.",
)
@click.option(
    "--new-participant",
    is_flag=True,
    help="Create the participant even when the id resembles a stored one.",
)
@_db_option
def reassign(import_id, participant_id, tz, force, new_participant, db):
    """Move import N's rows to another participant (and/or time zone).

    The file is imported again from its recorded path for that participant and zone, then
    the old import is forgotten (ledger: status `forgotten`, `forgotten_by` names the new
    import, whose `replaces_import_id` names the old). Works for weather files attached to
    the wrong person. Fails, changing nothing, when the file is gone or changed.
    """
    from pipeline import participants as people

    con, path = _writer(db)
    with con:
        try:
            res = people.reassign(
                con, import_id, participant_id, tz, force=force, new_participant=new_participant
            )
        except people.ParticipantError as exc:
            raise click.ClickException(str(exc)) from exc
        _report(
            res,
            f"moved import {import_id} to {participant_id}"
            + (f" ({tz})" if tz else "")
            + f" as import {res.new_import_id}",
        )
        _publish(con, path)
