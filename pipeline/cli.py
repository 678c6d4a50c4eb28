"""The ``crampwatch`` command line.

Write commands (``ingest``, ``detect``, ``run``, ``demo``) run in this process through
:mod:`pipeline.runner`: no Prefect import, no temporary API. ``--prefect`` (the default when
``PREFECT_API_URL`` is set) runs the Prefect flow of :mod:`pipeline.flows` instead, so the run
shows in that server's UI. Prefect's log lines reach the terminal only with ``--verbose``.
Keep imports here cheap: everything heavy is imported inside the command that needs it.
"""

from __future__ import annotations

from pipeline.config import apply_allocator_env, apply_privacy_env

apply_privacy_env()
apply_allocator_env()

import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import click  # noqa: E402

from pipeline.cli_options import check_tz as _check_tz  # noqa: E402
from pipeline.cli_options import db_option  # noqa: E402
from pipeline.config import resolve_db, snapshot_path  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_INBOX = REPO_ROOT / "sample_data" / "inbox"


verbose_option = click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Show the run's log lines (one per file; with --prefect also Prefect's) on stderr.",
)

prefect_option = click.option(
    "--prefect/--no-prefect",
    "use_prefect",
    default=None,
    help="Run as a Prefect flow (retries, run history in Prefect) instead of in this process. "
    "Default: on when PREFECT_API_URL is set (a Prefect server is configured), else off.",
)


force_option = click.option(
    "--force",
    is_flag=True,
    help="Import an Apple export even when its Me record (sex, birth year) contradicts what "
    "is stored for the participant.",
)

new_participant_option = click.option(
    "--new-participant",
    is_flag=True,
    help="Create the --participant id even when it resembles a stored one (e.g. 1503960366 "
    "when fitabase-1503960366 is stored).",
)


def _import_policy(force: bool, new_participant: bool):
    """The identity checks' overrides for the imports this command runs."""
    from pipeline.ingest import policy

    return policy(force=force, new_participant=new_participant)


def _use_prefect(flag: bool | None) -> bool:
    return bool(os.environ.get("PREFECT_API_URL")) if flag is None else flag


def _setup_logging(verbose: bool, use_prefect: bool) -> None:
    """Log lines on stderr with ``--verbose``; otherwise none, Prefect's included.

    The command's own output (tables, summaries) goes to stdout either way.
    """
    log = logging.getLogger("crampwatch")
    log.propagate = False
    for h in list(log.handlers):
        log.removeHandler(h)
    if verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(
            logging.Formatter("%(asctime)s | %(levelname)-7s | %(message)s", "%H:%M:%S")
        )
        log.addHandler(handler)
        log.setLevel(logging.INFO)
    else:
        log.addHandler(logging.NullHandler())
    if use_prefect and not verbose:
        # read when Prefect configures logging at import; a value the user set wins
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")


def _run_flow(fn, *args):
    """Call a Prefect flow; a failure becomes one line (details with --verbose)."""
    try:
        return fn(*args)
    except Exception as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise click.ClickException(
            f"{type(exc).__name__}: {first} (Prefect run failed; --verbose shows its log)"
        ) from exc


class _Main(click.Group):
    """The command group; a store another process kept locked for the whole wait
    (``pipeline.store.StoreBusyError``, ``$CRAMPWATCH_LOCK_TIMEOUT``), a ``--db`` that is not
    a crampwatch database (``StoreError``) or does not exist end any command with one line
    and exit status 1, not a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            _interrupted(ctx)
        except Exception as exc:
            duckdb = sys.modules.get("duckdb")
            if duckdb is not None and isinstance(exc, duckdb.InterruptException):
                _interrupted(ctx)  # Ctrl-C while DuckDB was working
            store = sys.modules.get("pipeline.store")  # loaded by whatever opened the store
            if store is not None and isinstance(exc, store.StoreBusyError | store.StoreError):
                raise click.ClickException(str(exc)) from exc
            if isinstance(exc, FileNotFoundError) and "crampwatch database" in str(exc):
                raise click.ClickException(str(exc)) from exc
            raise


def _interrupted(ctx) -> None:
    """Ctrl-C stops the whole command: one line on stderr, exit status 130 (128 + SIGINT).
    An import stopped part-way rolled its file back (one transaction per file)."""
    click.echo(
        "interrupted: stopped at Ctrl-C; a file being imported was rolled back, files "
        "imported before it are stored; run the command again to go on",
        err=True,
    )
    ctx.exit(130)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="crampwatch")
def main() -> None:
    """crampwatch: nocturnal leg-cramp and dehydration-condition episodes from wearable exports.

    Everything stays on this machine: no telemetry, servers bind to 127.0.0.1.
    """


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "--participant",
    "participant_id",
    default=None,
    help="Participant id for files that carry none (e.g. an Apple Health export).",
)
@click.option(
    "--timezone",
    "tz",
    default=None,
    callback=_check_tz,
    help="The participant's home IANA zone, for formats whose times have no offset.",
)
@force_option
@new_participant_option
@prefect_option
@verbose_option
@db_option
def ingest(paths, participant_id, tz, force, new_participant, use_prefect, verbose, db):
    """Import export files, folders or zips into the store (re-imports add nothing twice).

    Files in a folder's sub-folder <folder>/<id>/ belong to participant <id>. Unrecognised
    files are recorded as skipped; folders are never moved, changed or deleted.
    """
    use_prefect = _use_prefect(use_prefect)
    _setup_logging(verbose, use_prefect)
    args = ([str(p) for p in paths], str(resolve_db(db)), participant_id, tz)
    if use_prefect:
        from pipeline.flows import ingest as ingest_flow

        with _import_policy(force, new_participant):
            results = _run_flow(ingest_flow, *args)
    else:
        from pipeline import runner

        with _import_policy(force, new_participant):
            results = runner.ingest(*args)
    _print_imports(results)
    if any(r["status"] == "failed" for r in results):
        sys.exit(1)


def _print_imports(results: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    # on a terminal: a table as wide as the terminal; off a terminal (a log, a pipe): the
    # same table as wide as its content and plain text, so nothing is cut or wrapped
    tty = sys.stdout.isatty()
    table = Table(title="imports" if tty else None, box=None if not tty else Table().box)
    for col in (
        "status",
        "format",
        "participant",
        "new rows",
        "already stored",
        "rejected",
        "seconds",
        "file",
    ):
        table.add_column(
            col,
            justify="right"
            if col in ("new rows", "already stored", "rejected", "seconds")
            else "left",
            no_wrap=not tty,
        )
    for r in results:
        table.add_row(
            r["status"],
            r["format"] or "",
            r["participant_id"] or "",
            f"{r['rows_accepted']:,}",
            f"{r['rows_duplicate']:,}",
            f"{r['rows_rejected']:,}",
            f"{r['seconds']:.1f}",
            r["path"],
        )
    problems = [
        (r["status"], r["error"])
        for r in results
        if r["error"] and r["status"] in ("failed", "partial", "skipped")
    ]
    if tty:
        console = Console()
        console.print(table)
        for status, error in problems:
            console.print(f"[yellow]{status}[/]: {error}", highlight=False, markup=True)
        return
    console = Console(
        width=100_000,
        record=True,
        file=open(os.devnull, "w"),  # noqa: SIM115
        color_system=None,
        highlight=False,
    )
    console.print(table)
    for line in console.export_text().splitlines():
        click.echo(line.rstrip())
    for status, error in problems:
        click.echo(f"{status}: {error}")


@main.command()
@click.option("--full", is_flag=True, help="Recompute every night, not only those that changed.")
@prefect_option
@verbose_option
@db_option
def detect(full, use_prefect, verbose, db):
    """Recompute sleep periods and episodes for the nights whose data changed."""
    if not resolve_db(db).exists():  # only ingest, run and demo create a store
        raise click.ClickException(
            f"no crampwatch database at {resolve_db(db)}; `crampwatch "
            "ingest` or `crampwatch run` creates one"
        )
    use_prefect = _use_prefect(use_prefect)
    _setup_logging(verbose, use_prefect)
    if use_prefect:
        from pipeline.flows import detect as detect_flow

        s = _run_flow(detect_flow, str(resolve_db(db)), full)
    else:
        from pipeline import runner

        s = runner.detect(str(resolve_db(db)), full)
    click.echo(
        f"{s['participants']} participants, {s['nights']} nights, "
        f"{s['episodes_written']} episodes {s['by_kind']} in {s['seconds']:.1f} s"
    )


@main.command()
@click.argument("inbox", required=False, type=click.Path(exists=True, file_okay=False))
@click.option(
    "--participant",
    "participant_id",
    default=None,
    help="Participant id for files that carry none and are not in <inbox>/<id>/.",
)
@click.option("--timezone", "tz", default=None, callback=_check_tz, help="IANA zone.")
@force_option
@new_participant_option
@prefect_option
@verbose_option
@db_option
def run(inbox, participant_id, tz, force, new_participant, use_prefect, verbose, db):
    """Run the nightly pipeline once: ingest new files in INBOX, detect, publish, summarise.

    INBOX defaults to ./inbox. Runs in this process; with --prefect (or PREFECT_API_URL set)
    as the `nightly` Prefect flow. Schedule it with cron or a Prefect deployment (README).
    """
    use_prefect = _use_prefect(use_prefect)
    _setup_logging(verbose, use_prefect)
    inbox = inbox or "inbox"
    if not Path(inbox).is_dir():
        raise click.BadParameter(f"inbox folder {inbox!r} does not exist", param_hint="INBOX")
    args = (inbox, str(resolve_db(db)), participant_id, tz)
    if use_prefect:
        from pipeline.flows import nightly

        with _import_policy(force, new_participant):
            out = _run_flow(nightly, *args)
    else:
        from pipeline import runner

        with _import_policy(force, new_participant):
            out = runner.nightly(*args)
    click.echo(out["summary"])
    if any(r["status"] == "failed" for r in out["imports"]):
        sys.exit(1)


@main.command()
@click.option("--port", default=8501, show_default=True, type=int)
@click.option(
    "--address",
    default="127.0.0.1",
    show_default=True,
    help="Interface to bind; keep 127.0.0.1 unless you know who can reach the port.",
)
@db_option
def dashboard(port, address, db):
    """Serve the dashboard (reads the published read-only snapshot)."""
    _serve(resolve_db(db), port, address)


def _serve(db_path: Path, port: int, address: str) -> None:
    from dashboards.serve import run_server, serve_command

    argv, env = serve_command(db_path.resolve(), port=port, address=address)
    click.echo(f"crampwatch dashboard on http://{address}:{port}  (Ctrl-C to stop)")
    # the Streamlit child dies with this process: SIGTERM/SIGINT/SIGHUP are passed on to it,
    # and on Linux a kill -9 of this process sends it SIGTERM (PR_SET_PDEATHSIG)
    sys.exit(run_server(argv, env))


@main.command()
@click.argument("query")
@click.option(
    "--max-rows",
    default=1000,
    show_default=True,
    type=int,
    help="Rows to print in the table format (0: all); the others say so.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json", "parquet"]),
    default="table",
    show_default=True,
    help="table: aligned text; csv / json (one object per line) / parquet: every row.",
)
@click.option(
    "--output",
    "output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the result to this file instead of the terminal (needed for parquet).",
)
@db_option
def sql(query, max_rows, fmt, output, db):
    """Run a read-only SQL QUERY against the store and print or save the result.

    Only read statements run (SELECT, WITH, EXPLAIN, DESCRIBE, SHOW; judged by DuckDB's own
    parser), with file and network access switched off. Reads the store itself when no flow
    is writing to it, otherwise its latest snapshot.
    """
    import duckdb

    from pipeline import store
    from pipeline.config import data_dir

    db_path = resolve_db(db)
    try:
        con = store.connect(db_path, read_only=True, lock_timeout_s=0)
    except duckdb.IOException as exc:
        if store.LOCK_ERROR not in str(exc):
            raise click.ClickException(str(exc).splitlines()[0]) from exc
        if not snapshot_path(db_path).exists():
            raise click.ClickException(
                f"{db_path.name} is being written by another crampwatch process (pid "
                f"{store.lock_holder(exc) or 'unknown'}) and has no snapshot yet; try again "
                "when its first run has finished"
            ) from exc
        con = store.connect(snapshot_path(db_path), read_only=True)
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from exc
    if fmt == "parquet" and not output:
        raise click.UsageError("--format parquet needs --output FILE")
    with con:
        try:
            rel = store.read_only_query(con, query, allowed_dirs=[data_dir(db_path)])
            if rel is None:
                return
            frame = rel.pl()
        except store.ReadOnlyError as exc:
            raise click.ClickException(str(exc)) from exc
        except duckdb.Error as exc:
            raise click.ClickException(str(exc).splitlines()[0]) from exc
    _write_frame(frame, fmt, output, max_rows)


def _write_frame(frame, fmt: str, output: str | None, max_rows: int) -> None:
    """The result of ``crampwatch sql`` in the chosen format; never cut silently."""
    import polars as pl

    if fmt == "parquet":
        frame.write_parquet(output)
    elif fmt in ("csv", "json"):
        # nested values (lists, structs) as JSON text in CSV
        flat = frame
        if fmt == "csv":
            nested = [c for c, t in frame.schema.items() if t.is_nested()]
            flat = frame.with_columns(
                pl.col(c).map_elements(
                    lambda v: json.dumps(v.to_list() if hasattr(v, "to_list") else v, default=str),
                    return_dtype=pl.String,
                    skip_nulls=True,
                )
                for c in nested
            )
        text = flat.write_csv() if fmt == "csv" else flat.write_ndjson()
        if output:
            Path(output).write_text(text, encoding="utf-8")
        else:
            click.echo(text, nl=False)
    else:
        shown = frame if max_rows <= 0 else frame.head(max_rows)
        if output:
            Path(output).write_text(_table_text(shown, width=10_000), encoding="utf-8")
        else:
            click.echo(_table_text(shown), nl=False)
    if output:
        click.echo(f"{frame.height} row(s) written to {output}", err=True)
    elif fmt == "table":
        more = frame.height - min(frame.height, max_rows if max_rows > 0 else frame.height)
        click.echo(
            f"{frame.height} row(s)"
            + (
                f"; the first {max_rows} shown (--max-rows 0 for all, or --format csv)"
                if more
                else ""
            )
        )


def _table_text(frame, width: int | None = None) -> str:
    """Aligned text table: column names only (no dtypes), cells never cut; on a narrow
    terminal or off a terminal the table is as wide as its content."""
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False)
    for name, dtype in zip(frame.columns, frame.dtypes, strict=True):
        table.add_column(
            name, justify="right" if dtype.is_numeric() else "left", overflow="fold", no_wrap=True
        )
    for row in frame.iter_rows():
        table.add_row(*("NULL" if v is None else str(v) for v in row))
    console = Console(width=width or 10_000, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(table)
    text = console.export_text()
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


@main.command()
@click.option(
    "--truth",
    "truth_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Ground-truth CSV (participant_id,kind,start_utc,end_utc[,local_date]) or a "
    "cramp journal CSV (the journal import's header); read from this file.",
)
@click.option(
    "--tolerance-min",
    type=float,
    default=None,
    help="Onset tolerance in minutes (default 5 for ground truth, 30 for a journal).",
)
@click.option(
    "--calibration",
    is_flag=True,
    help="Also print the reliability table: cramp episodes by confidence band, "
    "mean confidence vs the share that match a true cramp.",
)
@click.option(
    "--participant",
    "participant_id",
    default=None,
    help="Journal truth: the participant of rows whose participant_id is empty.",
)
@click.option(
    "--timezone",
    "tz",
    default=None,
    callback=_check_tz,
    help="Journal truth: the zone of times written without an offset (default: the "
    "stored zone of the file's participants).",
)
@db_option
def evaluate(truth_path, tolerance_min, calibration, participant_id, tz, db):
    """Score the stored episodes against a ground-truth or journal file.

    Cramps: event-level precision, recall and F1 (one-to-one matching by overlap and onset
    tolerance), false alarms per night, onset error. Dehydration: day-level. A journal file
    is read as `crampwatch ingest` reads it (its cramp rows are the truth), not from the
    store. Nothing to score (no truth rows of a scored kind, no episodes) ends with one line
    and exit status 1; a value that cannot be computed prints as "-".
    """
    import polars as pl

    from pipeline import evaluate as ev
    from pipeline import store, store_inputs, store_outputs

    with store.connect_reader(resolve_db(db)) as con:
        zones = store_inputs.participant_zones(con)
        try:
            truth = ev.read_truth_file(
                truth_path, tz=tz, participant_id=participant_id, stored_zones=zones
            )
        except ev.TruthError as exc:
            raise click.ClickException(str(exc)) from exc
        episodes, nights, days = store_outputs.evaluation_inputs(con)
    frame = truth.frame
    for line in truth.rejected[:3]:
        click.echo(f"truth row not read: {line}", err=True)
    if len(truth.rejected) > 3:
        click.echo(f"truth rows not read: {len(truth.rejected)} in all", err=True)
    scored = frame.filter(pl.col("kind").is_in(ev.SCORED_KINDS))
    if scored.height == 0:
        kinds = sorted(set(frame["kind"].drop_nulls().to_list()))
        raise click.ClickException(
            f"nothing to score: {truth_path} has no "
            + ("cramp rows" if truth.is_journal else "nocturnal_cramp or dehydration rows")
            + (f" (kinds found: {', '.join(kinds)})" if kinds else " (no rows)")
        )
    if episodes.height == 0:
        raise click.ClickException(
            f"nothing to score: the store {resolve_db(db)} holds no episodes; run `crampwatch "
            "detect` (or `crampwatch run`) first"
        )
    unknown = sorted(set(scored["participant_id"].to_list()) - set(nights))
    if unknown:
        click.echo(
            f"note: no sleep data in the store for {', '.join(unknown)} (every true "
            "event of theirs counts as missed)",
            err=True,
        )
    if truth.is_journal:
        tol_s = (tolerance_min or ev.JOURNAL_TOLERANCE_S / 60) * 60
        click.echo(f"truth: the cramp journal {truth_path} (imprecise times)")
    else:
        tol_s = (tolerance_min or ev.EXACT_TOLERANCE_S / 60) * 60
        click.echo(f"truth: {truth_path}")

    def num(x: float, width: int, spec: str = ".2f") -> str:
        return f"{'-' if x != x else format(x, spec):>{width}s}"  # NaN: not computable

    cramps = episodes.filter(pl.col("kind") == "nocturnal_cramp")
    true_cramps = frame.filter(pl.col("kind") == "nocturnal_cramp")
    click.echo(f"nocturnal cramps (onset tolerance {tol_s / 60:g} min):")
    if true_cramps.height == 0 and cramps.height == 0:
        click.echo("  no true and no detected cramps")
    else:
        click.echo(
            f"  {'participant':12s} {'TP':>4s} {'FP':>4s} {'FN':>4s} {'precision':>9s} "
            f"{'recall':>6s} {'F1':>5s} {'FA/night':>8s} {'onset err median':>16s}"
        )
        for s in ev.score_events(cramps, true_cramps, tolerance_s=tol_s, nights=nights):
            click.echo(
                f"  {s.participant_id:12s} {s.true_positives:4d} {s.false_positives:4d} "
                f"{s.false_negatives:4d} {num(s.precision, 9)} {num(s.recall, 6)} "
                f"{num(s.f1, 5)} {num(s.false_alarms_per_night, 8, '.3f')} "
                f"{num(s.onset_error_median_s / 60, 13, '.1f')} min"
            )
    if calibration:
        click.echo(
            "reliability of cramp confidence (predicted = mean confidence, observed = "
            "share matching a true cramp):"
        )
        click.echo(f"  {'band':10s} {'episodes':>8s} {'predicted':>9s} {'observed':>8s}")
        for r in ev.reliability(cramps, true_cramps, tolerance_s=tol_s):
            click.echo(
                f"  {r['band']:10s} {r['episodes']:8d} {num(r['predicted'], 9)} "
                f"{num(r['observed'], 8)}"
            )
    if "local_date" in frame.columns:
        d = ev.score_days(
            episodes.filter(pl.col("kind") == "dehydration"),
            frame.filter(pl.col("kind") == "dehydration"),
            days,
        )
        click.echo(
            f"dehydration days: TP {d.true_positives} FP {d.false_positives} "
            f"FN {d.false_negatives} of {d.nights} days; precision "
            f"{num(d.precision, 0)} recall {num(d.recall, 0)} F1 {num(d.f1, 0)}"
        )


def _iso_utc(ctx, param, value):
    if value is None:
        return None
    from datetime import datetime

    try:
        t = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time") from exc
    if t.tzinfo is None:
        raise click.BadParameter(f"{value!r} has no UTC offset (e.g. 2025-07-03T03:15+02:00)")
    return t


@main.command()
@click.argument("episode_id", required=False)
@click.argument("answer", required=False, type=click.Choice(["confirmed", "rejected"]))
@click.option(
    "--missed",
    is_flag=True,
    help="A cramp the detector missed: give --participant, --start and --end.",
)
@click.option(
    "--participant",
    "participant_id",
    default=None,
    help="Participant (missed cramps; episodes not in the store).",
)
@click.option(
    "--start",
    "start",
    default=None,
    callback=_iso_utc,
    help="ISO 8601 time with offset: start of the missed cramp or candidate.",
)
@click.option("--end", "end", default=None, callback=_iso_utc, help="ISO 8601 time with offset.")
@click.option("--note", default=None, help="Free text kept with the label.")
@click.option(
    "--by",
    "labelled_by",
    default="self",
    show_default=True,
    help="Who answers (free text; the OS user name is never recorded).",
)
@click.option(
    "--kind",
    default="nocturnal_cramp",
    show_default=True,
    type=click.Choice(["nocturnal_cramp", "dehydration"]),
)
@db_option
def label(episode_id, answer, missed, participant_id, start, end, note, labelled_by, kind, db):
    """Confirm or reject an episode (EPISODE_ID confirmed|rejected), or report a missed cramp
    (--missed --participant ID --start ISO --end ISO).

    The label is saved at once to a queue file beside the store and merged into
    episode_labels now if no flow is writing, else by the next `detect` or `run`.
    """
    from pipeline import store_labels as lb

    db_path = resolve_db(db)
    fields = {"kind": kind, "note": note, "labelled_by": labelled_by, "source": "cli"}
    if missed:
        if episode_id or answer:
            raise click.UsageError("--missed takes no EPISODE_ID or answer")
        if not (participant_id and start and end):
            raise click.UsageError("--missed needs --participant, --start and --end")
        fields.update(participant_id=participant_id, label="missed", start_utc=start, end_utc=end)
    else:
        if not (episode_id and answer):
            raise click.UsageError("give EPISODE_ID and confirmed|rejected, or --missed")
        ep = lb.lookup_episode(db_path, episode_id)
        if ep is None and not (participant_id and start):
            raise click.ClickException(
                f"episode {episode_id} is not in the store; give --participant and --start "
                "(and --end) as `crampwatch review` prints them"
            )
        if ep is None:
            ep = {
                "participant_id": participant_id,
                "kind": kind,
                "start_utc": start,
                "end_utc": end or start,
                "confidence": None,
                "detector_version": None,
            }
        fields.update(
            participant_id=ep["participant_id"],
            kind=ep["kind"],
            label=answer,
            episode_id=episode_id,
            start_utc=ep["start_utc"],
            end_utc=ep["end_utc"],
            detector_version=ep["detector_version"],
            confidence_at_label=ep["confidence"],
        )
    try:
        lab = lb.add_label(db_path, **fields)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    merged = lb.try_merge(db_path) if Path(db_path).exists() else None
    where = (
        "stored"
        if merged is not None
        else f"queued in {lb.queue_path(db_path)} (merged by the next detect/run)"
    )
    click.echo(
        f"{lab.label} {lab.kind} {lab.participant_id} "
        f"{lab.start_utc:%Y-%m-%d %H:%M}Z label {lab.label_id}: {where}"
    )


@main.command()
@click.option("--participant", "participant_id", default=None, help="Only this participant.")
@click.option("-n", "n", default=10, show_default=True, type=int, help="Episodes to list.")
@click.option(
    "--nights",
    default=28,
    show_default=True,
    type=int,
    help="Look back this many nights from each participant's last night.",
)
@db_option
def review(participant_id, n, nights, db):
    """List the cramp candidates to ask about first (those whose answer teaches the most).

    Uncertainty sampling: the candidates closest to the reporting threshold of the
    participant's current detector, recent nights first among equals
    (detectors/review.py), from the candidates the last detection stored
    (`cramp_candidates`). Answer with the printed `crampwatch label` command.
    """
    from datetime import timedelta

    import polars as pl

    from pipeline import detect as dt
    from pipeline import store, store_inputs, store_outputs
    from pipeline import store_labels as lb

    db_path = resolve_db(db)
    try:
        con = store.connect_reader(db_path)
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from exc
    rows = []
    with con:
        ranges = dt.full_ranges(con)
        pids = [participant_id] if participant_id else sorted(ranges)
        for pid in pids:
            if pid not in ranges:
                raise click.ClickException(f"no data for participant {pid!r}")
        if pids:
            from detectors.calibration import params_from_json
            from detectors.cramp_params import CrampParams, _params_id
            from detectors.review import rank_for_review

            pending = lb.labels_frame(lb.pending_labels(db_path))
        for pid in pids:
            lo, hi = ranges[pid]
            cand = store_outputs.stored_cramp_candidates(
                con, pid, max(lo, hi - timedelta(days=nights))
            )
            labels = pl.concat(
                [
                    lb.current_labels(con, pid).drop("merged_seq"),
                    pending.filter(pl.col("participant_id") == pid),
                ]
            )
            active = dt.active_cramp_params(con, pid) or CrampParams()
            # the parameter sets the stored candidates were scored with: the active one, or
            # (nights detected before a refit) an earlier fitted set or the default
            scored_with = {}
            for i in cand["params_id"].unique().to_list():
                if i == _params_id(active):
                    scored_with[i] = active
                else:
                    text = store_inputs.cramp_params_json(con, i)
                    scored_with[i] = params_from_json(text) if text else CrampParams()
            ranked = rank_for_review(
                cand, labels, params=active, scored_with=scored_with, n=n
            ).drop("params_id")
            stored = set()
            if ranked.height:
                stored = store_outputs.cramp_episode_ids_since(con, pid, ranked["start_utc"].min())
            rows.append((pid, ranked, stored))
    if not rows:
        click.echo("nothing to review: no participant has data yet")
        return
    from detectors.cramp_params import DETECTOR_VERSION
    from detectors.schema import episode_id

    for pid, ranked, stored in rows:
        click.echo(f"{pid}: {ranked.height} to ask about")
        for r in ranked.iter_rows(named=True):
            eid = episode_id(pid, "nocturnal_cramp", r["start_utc"], DETECTOR_VERSION)
            cmd = f"crampwatch label {eid} confirmed|rejected"
            if eid not in stored:  # below the threshold: not an episode, give its span
                cmd += (
                    f" --participant {pid} --start {r['start_utc'].isoformat()} "
                    f"--end {r['end_utc'].isoformat()}"
                )
            click.echo(
                f"  {r['rank']:>3d}. night of {r['night_of']}  "
                f"{r['start_utc']:%H:%M}-{r['end_utc']:%H:%M}Z  "
                f"confidence {r['confidence_person']:.2f}  {cmd}"
            )


@main.command()
@click.option("--port", default=8501, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Build the database, then exit.")
@verbose_option
@db_option
def demo(port, no_serve, verbose, db):
    """Build a database from the bundled sample_data/ and serve the dashboard."""
    from pipeline import runner

    _setup_logging(verbose, use_prefect=False)
    if not SAMPLE_INBOX.is_dir():
        raise click.ClickException(f"sample data not found at {SAMPLE_INBOX}")
    db_path = resolve_db(db)
    click.echo(f"building {db_path} from {SAMPLE_INBOX}")
    click.echo(runner.nightly(str(SAMPLE_INBOX), str(db_path))["summary"])
    if not no_serve:
        _serve(db_path, port, "127.0.0.1")


@main.command()
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option(
    "--format", "fmt", type=click.Choice(["parquet", "csv"]), default="parquet", show_default=True
)
@db_option
def export(out_dir, fmt, db):
    """Write every documented table to OUT_DIR/<table>.<format> (for pandas, R, polars).

    Reads the published snapshot (or the store when there is none); columns and units:
    docs/data-model.md.
    """
    from pipeline import store

    with store.connect_reader(resolve_db(db)) as con:
        written = store.export_tables(con, out_dir, fmt)
    for table, rows, path in written:
        click.echo(f"{rows:>10,}  {table:24s} {path}")
    click.echo(f"{len(written)} tables written to {out_dir}")


# issue 14: trigger statistics and N-of-1 experiments (pipeline/cli_triggers.py)
from pipeline.cli_triggers import experiment, triggers  # noqa: E402

main.add_command(triggers)
main.add_command(experiment)

# issue 13: participants, forget, reassign (pipeline/cli_participants.py)
from pipeline.cli_participants import forget, participants, reassign  # noqa: E402

main.add_command(participants)
main.add_command(forget)
main.add_command(reassign)


if __name__ == "__main__":
    main()
