"""``crampwatch triggers`` and ``crampwatch experiment plan|analyse`` (issue 14).

Registered on the main group by :mod:`pipeline.cli`. Imports stay cheap: the detectors
(scipy, statsmodels) load only when there is something to compute.
"""

from __future__ import annotations

import math

import click

from pipeline.cli_options import db_option as _db_option
from pipeline.config import resolve_db


def _sources(ctx, param, value):
    if value is None:
        return None
    from pipeline.store_triggers import parse_sources

    try:
        return parse_sources(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


_cases_option = click.option(
    "--cases",
    "sources",
    default=None,
    callback=_sources,
    metavar="journal,confirmed,likely",
    help="Case nights from these sources (comma-separated). Default: the trusted ones "
    "(journal + confirmed labels), `likely` detections only for people without them.",
)


def _open_writer(db):
    import duckdb

    from pipeline import store

    try:
        return store.connect(resolve_db(db), lock_timeout_s=5, create=False)
    except (FileNotFoundError, store.StoreError) as exc:
        raise click.ClickException(str(exc)) from exc
    except duckdb.IOException as exc:
        raise click.ClickException(
            f"the store is busy (a flow is writing): try again shortly ({str(exc).splitlines()[0]})"
        ) from exc


def _fmt_or(r: dict) -> str:
    hi = "inf" if r["ci_high"] is None else f"{r['ci_high']:.2f}"
    return f"{r['odds_ratio']:.2f} [{r['ci_low']:.2f}, {hi}]"


def format_rows(rows: list[dict]) -> list[str]:
    """The readable table: trigger, lag, OR [95 % CI], q, status or nights needed."""
    lines = [
        f"  {'trigger':27s} {'lag':7s} {'cases':>5s} {'sets':>4s}  "
        f"{'OR [95% CI]':22s} {'q':>6s}  status"
    ]
    for r in rows:
        if r["status"] == "estimated":
            q = "" if r["q"] is None else f"{r['q']:.3f}"
            lines.append(
                f"  {r['trigger']:27s} {r['lag']:7s} {r['cases']:5d} "
                f"{r['discordant_sets']:4d}  {_fmt_or(r):22s} {q:>6s}  "
                f"{r['method']}"
            )
        else:
            n = r["more_nights_needed"]
            why = (
                f"insufficient data: {n} more cramp nights needed (for OR "
                f"{r['target_or']:g} at 80 % power)"
                if n is not None
                else "insufficient data: the exposure is never known or never varies "
                "within a month's same weekdays"
            )
            lines.append(
                f"  {r['trigger']:27s} {r['lag']:7s} {r['cases']:5d} "
                f"{r['discordant_sets']:4d}  {why}"
            )
    return lines


def _source_text(src: str, requested) -> str:
    names = {"journal": "journal", "confirmed": "confirmed labels", "likely": "likely detections"}
    txt = " + ".join(names.get(s, s) for s in src.split("+"))
    if requested is None:
        return f"{txt} (default: trusted labels first)"
    return txt


@click.command()
@click.option("--participant", "participant_id", default=None, help="Only this participant.")
@_cases_option
@click.option("--force", is_flag=True, help="Recompute even when no input changed.")
@click.option(
    "--journal-ppv",
    type=click.FloatRange(0.0, 1.0, min_open=True),
    default=None,
    metavar="P",
    help="Probability that a journalled cramp night is a real cramp night (default 0.9, an "
    "assumption: docs/triggers.md). 1 trusts the journal fully; estimates are corrected for "
    "the rest.",
)
@click.option(
    "--adjusted/--no-adjusted",
    default=True,
    show_default=True,
    help="Also print the mutually adjusted model of the lag-0 primary triggers.",
)
@_db_option
def triggers(participant_id, sources, force, journal_ppv, adjusted, db):
    """Which triggers precede the cramp nights: case-crossover odds ratios (recomputes what
    changed, then prints).

    Each cramp night is compared with the other nights of the same month and weekday
    (time-stratified case-crossover). "associated with", never "caused". Methods and
    definitions: docs/triggers.md.
    """
    from pipeline import runner, store_outputs
    from pipeline import store_triggers as pt

    db_path = resolve_db(db)
    with _open_writer(db) as con:
        known = pt.input_keys(con, sources, journal_ppv)
        if participant_id and participant_id not in known:
            raise click.ClickException(
                f"no daily exposures for participant {participant_id!r} (run `crampwatch "
                "detect` first)"
            )
        s = pt.update_triggers(
            con,
            sources=sources,
            force=force,
            participant_ids=[participant_id] if participant_id else None,
            journal_ppv=journal_ppv,
        )
        if s.participants:
            runner.publish(str(db_path), con=con)
        pids = [participant_id] if participant_id else sorted(known)
        if not participant_id and len(known) >= 2:
            pids.append("all")
        frame = store_outputs.trigger_rows(con, pids)
        context = pt.context(con, participant_id) if pids else None
    if frame.height == 0:
        click.echo("no trigger statistics: no participant with daily exposures and cramp data")
        return
    from detectors.triggers import TRIGGERS

    order = {t.key: i for i, t in enumerate(TRIGGERS)}
    for pid in pids:
        f = frame.filter(frame["participant_id"] == pid)
        if f.height == 0:
            continue
        single = sorted(
            (r for r in f.iter_rows(named=True) if r["model"] == "single"),
            key=lambda r: (order.get(r["trigger"], 99), r["lag"]),
        )
        n_cases = max((r["cases"] for r in single), default=0)
        who = "all participants (pooled, strata within each person)" if pid == "all" else pid
        ppv = single[0].get("case_ppv")
        real = (
            f", each taken as a real cramp night with probability {ppv:.2f} on average "
            "(estimates corrected for false case nights)"
            if ppv is not None and ppv < 1
            else ""
        )
        click.echo(
            f"{who}: cases from {_source_text(single[0]['case_source'], sources)}; "
            f"up to {n_cases} case nights{real}"
        )
        for line in format_rows(single):
            click.echo(line)
        adj = [r for r in f.iter_rows(named=True) if r["model"] == "adjusted"]
        if adjusted and adj:
            click.echo(
                "  mutually adjusted (lag 0-24h, conditional logistic): "
                + ", ".join(r["trigger"] for r in adj)
            )
            for line in format_rows(adj)[1:]:
                click.echo(line)
    if context is not None:
        ctx, rates = context
        if ctx.height:
            click.echo(
                "conditions and medications (constant within a person: context, not "
                "estimated; discuss with a clinician):"
            )
            for r in ctx.iter_rows(named=True):
                click.echo(
                    f"  {r['participant_id']}: {r['kind']} {r['trigger']}: "
                    f"{r['finding']} (evidence grade {r['evidence_grade']})"
                )
        if rates is not None and rates.height:
            click.echo("between people (cohort):")
            for r in rates.iter_rows(named=True):
                rr = "n/a" if r["rate_ratio"] is None else f"{r['rate_ratio']:.2f}"
                ci = (
                    ""
                    if r["ci_low"] is None or r["ci_high"] is None
                    else f" [{r['ci_low']:.2f}, {r['ci_high']:.2f}]"
                )
                click.echo(
                    f"  {r['kind']} {r['trigger']}: {r['people_with']} with vs "
                    f"{r['people_without']} without, cramp-night rate ratio {rr}{ci}"
                )
            click.echo(f"  caveat: {rates['caveat'][0]}")
    click.echo('"associated with" is not "caused": see docs/triggers.md')


@click.group()
def experiment():
    """N-of-1 prevention experiments: plan randomised blocks, analyse the result."""


def _date(ctx, param, value):
    if value is None:
        return None
    from datetime import date

    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date such as 2025-06-01") from exc


@experiment.command("plan")
@click.option("--participant", "participant_id", required=True)
@click.option("--intervention", required=True, type=click.Choice(["magnesium", "stretch", "fluid"]))
@click.option("--pairs", default=3, show_default=True, type=click.IntRange(1, 20))
@click.option("--block-weeks", default=4, show_default=True, type=click.IntRange(1, 12))
@click.option(
    "--washout-days",
    default=7,
    show_default=True,
    type=click.IntRange(0, 27),
    help="First nights of each block left out of the analysis.",
)
@click.option(
    "--start", default=None, callback=_date, help="First night (YYYY-MM-DD; default tomorrow)."
)
@click.option(
    "--seed",
    default=None,
    type=int,
    help="Seed of the randomisation (default: drawn and printed, stored with the plan).",
)
@_db_option
def plan_cmd(participant_id, intervention, pairs, block_weeks, washout_days, start, seed, db):
    """Set up a randomised block schedule with and without an intervention."""
    import secrets
    from datetime import date, timedelta

    from detectors import nof1
    from pipeline import runner
    from pipeline import store_triggers as pt

    start = start or date.today() + timedelta(days=1)
    seed = secrets.randbelow(2**31) if seed is None else seed
    try:
        exp, blocks = nof1.plan(
            participant_id,
            intervention,
            start,
            pairs=pairs,
            block_weeks=block_weeks,
            washout_days=washout_days,
            seed=seed,
        )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    with _open_writer(db) as con:
        pt.save_experiment(con, exp, blocks)
        runner.publish(str(resolve_db(db)), con=con)
    click.echo(
        f"experiment {exp.experiment_id} (seed {seed}): {pairs} pairs of "
        f"{block_weeks}-week blocks, first {washout_days} nights of each not analysed"
    )
    click.echo(f"  intervention blocks: {exp.instructions}")
    for r in blocks.iter_rows(named=True):
        click.echo(
            f"  pair {r['pair']} block {r['block']}: {r['start_date']} to "
            f"{r['end_date']}  {r['arm']}"
        )
    click.echo(
        "Keep the cramp journal every night; run `crampwatch experiment analyse "
        f"--participant {participant_id}` at any time."
    )


@experiment.command("analyse")
@click.option("--participant", "participant_id", required=True)
@_cases_option
@_db_option
def analyse_cmd(participant_id, sources, db):
    """Analyse the participant's latest experiment: effect with CI, or more pairs needed."""
    from detectors import nof1
    from pipeline import runner
    from pipeline import store_triggers as pt

    with _open_writer(db) as con:
        found = pt.analyse_experiment(con, participant_id, sources)
        if found is None:
            raise click.ClickException(
                f"no experiment for {participant_id!r}: run `crampwatch experiment plan` first"
            )
        runner.publish(str(resolve_db(db)), con=con)
    exp, counts, res = found
    click.echo(
        f"experiment {exp['experiment_id']}: {exp['intervention']}, cases from "
        f"{_source_text(res['case_source'], sources)}"
    )
    for r in counts.iter_rows(named=True):
        click.echo(
            f"  pair {r['pair']} {r['arm']:12s} {r['start_date']} to {r['end_date']}: "
            f"{r['cramp_nights']} cramp nights in {r['nights']} analysed nights"
        )
    rd = res["rate_difference_per_week"]
    if rd is not None and not math.isnan(rd):
        ci = (
            ""
            if res["rd_ci_low"] is None
            else f" [{res['rd_ci_low']:+.2f}, {res['rd_ci_high']:+.2f}]"
        )
        click.echo(f"  difference: {rd:+.2f} cramp nights per week{ci} (mean over pairs)")
    click.echo(nof1.verdict_text(res, exp["intervention"]))
