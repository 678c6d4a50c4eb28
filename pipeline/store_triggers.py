"""Keep ``trigger_associations`` up to date, and store N-of-1 experiments (issue 14).

:func:`update_triggers` compares, per participant, a digest of the trigger inputs (content
hashes of the exposure columns, cramp ``episodes`` and ``sleep_periods``, high-water marks of
``journal`` and ``episode_labels``, plus the requested case sources) with the one stored in
``trigger_runs`` by the last computation. Participants whose digest changed (or whose rows
are of another ``triggers_version``) are recomputed with the pure
:func:`detectors.triggers.case_crossover` and their rows replaced, in one transaction, with
the pooled ``'all'`` rows whenever anyone changed. With nothing changed it runs one query and
never imports the detectors (scipy, statsmodels): ``crampwatch detect`` and the nightly flow
call it after the exposures.

Experiments: :func:`save_experiment` stores a plan from :func:`detectors.nof1.plan`;
:func:`analyse_experiment` analyses a participant's latest experiment against their cramp
nights and stores the result in ``experiment_results``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import polars as pl

#: daily_exposures columns the trigger definitions and the context read
EXPOSURE_COLUMNS = (
    "magnesium_7d_pct_rda", "calcium_7d_pct_rda", "potassium_7d_pct_ai", "vitamin_d_7d_pct_rda",
    "outdoor_hi_ge_80f_h", "outdoor_hi_ge_91f_h", "sweat_loss_pct_bm", "fluid_deficit_pct_bm",
    "dehydration_level", "next_morning_mass_change_pct", "active_energy_kcal",
    "indoor_hi_ge_80f_h", "cramp_condition_classes", "cramp_drug_classes",
)  # fmt: skip


@dataclass
class TriggerSummary:
    participants: int = 0  # recomputed (without 'all')
    rows_written: int = 0
    skipped: int = 0  # unchanged
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def triggers_version() -> str:
    """``detectors.triggers.TRIGGERS_VERSION`` without importing the detectors (read from the
    module's source when it is not loaded yet)."""
    if "detectors.triggers" in sys.modules:
        return sys.modules["detectors.triggers"].TRIGGERS_VERSION
    spec = importlib.util.find_spec("detectors")
    if spec is not None and spec.submodule_search_locations:
        src = Path(next(iter(spec.submodule_search_locations))) / "triggers.py"
        m = (
            re.search(
                r"""^TRIGGERS_VERSION\s*=\s*["']([^"'\\]+)["']""",
                src.read_text(encoding="utf-8"),
                re.M,
            )
            if src.is_file()
            else None
        )
        if m:
            return m.group(1)
    from detectors.triggers import TRIGGERS_VERSION

    return TRIGGERS_VERSION


def parse_sources(value: str | None) -> tuple[str, ...] | None:
    """``"journal,likely"`` -> ``("journal", "likely")`` (validated; without the detectors)."""
    if value is None:
        return None
    allowed = ("journal", "confirmed", "likely")
    out = tuple(s.strip() for s in value.split(",") if s.strip())
    bad = [s for s in out if s not in allowed]
    if bad or not out:
        raise ValueError(
            f"unknown case source(s) {', '.join(bad) or repr(value)}; choose "
            f"from {', '.join(allowed)}"
        )
    return out


def context(
    con: duckdb.DuckDBPyConnection,
    participant_id: str | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """Conditions and medications as context (with grades), and, for a cohort (no
    ``participant_id``, >= 2 people), the between-person rate comparison: the rows
    :func:`update_triggers` stored with the trigger statistics (``trigger_context``,
    ``trigger_between_people``), so reading them loads no detector."""
    ctx = con.sql(
        "SELECT participant_id, kind, trigger, finding, evidence_grade FROM trigger_context "
        "WHERE $1::VARCHAR IS NULL OR participant_id = $1 ORDER BY participant_id, kind, trigger",
        params=[participant_id],
    ).pl()
    rates = None
    if participant_id is None:
        rates = con.sql(
            "SELECT * EXCLUDE (computed_utc) FROM trigger_between_people ORDER BY kind, trigger"
        ).pl()
    return ctx, rates


def compute_context(daily: pl.DataFrame, nights: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(``trigger_context`` rows of everyone, ``trigger_between_people`` rows) from the
    trigger inputs and the case nights of a run (empty rates with fewer than 2 people)."""
    from detectors import triggers as tr

    ctx = tr.context_triggers(daily)
    if daily.height and daily["participant_id"].n_unique() >= 2:
        rates = tr.between_person_rates(nights, daily)
        label = ",".join(sorted(set(nights["case_source"].drop_nulls().to_list()))) or "none"
        rates = rates.with_columns(case_source=pl.lit(label))
    else:
        rates = pl.DataFrame()
    return ctx, rates


def _sources_label(sources: Sequence[str] | None, journal_ppv: float | None = None) -> str:
    label = "default" if sources is None else ",".join(sources)
    return label if journal_ppv is None else f"{label};journal_ppv={journal_ppv:g}"


def check_journal_ppv(value: float | None) -> float | None:
    """A probability in (0, 1] or None (the default assumption)."""
    if value is not None and not (0.0 < value <= 1.0):
        raise ValueError(f"journal PPV {value:g}: give a probability above 0 and at most 1")
    return value


def input_keys(
    con: duckdb.DuckDBPyConnection,
    sources: Sequence[str] | None = None,
    journal_ppv: float | None = None,
) -> dict[str, str]:
    """Participant -> digest of everything their trigger rows depend on (one query).

    Content, not wall clock: an order-independent hash of the exposure columns the triggers
    read, of the cramp episodes (id, day, confidence) and the sleep-period nights, and the
    journal's and labels' high-water marks; recomputing identical exposures changes nothing,
    and two stores built from the same files agree."""
    have = dict(
        con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = "
            "'daily_exposures'"
        ).fetchall()
    )
    # doubles rounded: parallel sums differ in the last digit from one computation to the next
    cols = ", ".join(
        f"round({c}, 6)" if have[c] == "DOUBLE" else c
        for c in ("local_date", *EXPOSURE_COLUMNS)
        if c in have
    )
    rows = con.execute(
        f"""
        WITH d AS (SELECT participant_id, count(*) AS n,
                          bit_xor(hash({cols})) AS h
                   FROM daily_exposures GROUP BY 1),
        j AS (SELECT participant_id, count(*) AS n, max(import_id) AS m FROM journal GROUP BY 1),
        l AS (SELECT participant_id, count(*) AS n, max(merged_seq) AS m FROM episode_labels
              GROUP BY 1),
        e AS (SELECT participant_id, count(*) AS n,
                     bit_xor(hash(episode_id, local_date, round(confidence, 6))) AS h
              FROM episodes WHERE kind = 'nocturnal_cramp' GROUP BY 1),
        s AS (SELECT participant_id, count(*) AS n, bit_xor(hash(night_of)) AS h
              FROM sleep_periods GROUP BY 1)
        SELECT d.participant_id, d.n, d.h, j.n, j.m, l.n, l.m, e.n, e.h, s.n, s.h
        FROM d LEFT JOIN j USING (participant_id) LEFT JOIN l USING (participant_id)
        LEFT JOIN e USING (participant_id) LEFT JOIN s USING (participant_id)
        ORDER BY 1
        """
    ).fetchall()
    tag = f"{triggers_version()}|{_sources_label(sources, journal_ppv)}"
    return {
        r[0]: hashlib.sha256("|".join([tag, *map(str, r[1:])]).encode()).hexdigest()[:32]
        for r in rows
    }


def changed_participants(
    con: duckdb.DuckDBPyConnection,
    sources: Sequence[str] | None = None,
    participant_ids: Sequence[str] | None = None,
    journal_ppv: float | None = None,
) -> list[str]:
    keys = input_keys(con, sources, journal_ppv)
    stored = dict(con.execute("SELECT participant_id, inputs_key FROM trigger_runs").fetchall())
    return [
        p
        for p, k in keys.items()
        if stored.get(p) != k and (participant_ids is None or p in participant_ids)
    ]


def load_frames(con: duckdb.DuckDBPyConnection) -> dict[str, pl.DataFrame]:
    """Every participant's trigger inputs (the pooled estimate needs all of them)."""
    from pipeline import store_labels as episode_labels

    have = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'daily_exposures'"
        ).fetchall()
    }
    cols = ", ".join(c for c in EXPOSURE_COLUMNS if c in have)
    return {
        "daily": con.sql(
            f"SELECT participant_id, local_date, {cols} FROM daily_exposures "
            "ORDER BY participant_id, local_date"
        ).pl(),
        "journal": con.sql(
            "SELECT participant_id, time_utc, utc_offset_s, kind FROM journal "
            "WHERE kind IN ('cramp', 'no_cramp', 'bathroom', 'note', 'other')"
        ).pl(),
        "labels": episode_labels.current_labels(con),
        "episodes": con.sql(
            "SELECT episode_id, participant_id, kind, local_date, confidence "
            "FROM episodes WHERE kind = 'nocturnal_cramp'"
        ).pl(),
        "sleep_periods": con.sql(
            "SELECT participant_id, night_of, start_utc, end_utc FROM sleep_periods"
        ).pl(),
    }


def compute(
    frames: dict[str, pl.DataFrame],
    sources: Sequence[str] | None = None,
    participant_ids: Sequence[str] | None = None,
    *,
    pooled: bool = True,
    method: str = "auto",
    journal_ppv: float | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(associations, nights) from :func:`load_frames` output: the pure part of a run.
    ``journal_ppv``: the probability that a journalled cramp night is real (default: the
    assumption of ``detectors.trigger_misclass``)."""
    from detectors import triggers as tr

    nights = tr.case_nights(
        frames["journal"],
        frames["labels"],
        frames["episodes"],
        frames["sleep_periods"],
        sources,
        journal_ppv,
    )
    frame = tr.analysis_frame(nights, tr.exposure_long(frames["daily"]))
    out = tr.case_crossover(frame, pooled=pooled, participants=participant_ids, method=method)
    return out, nights


def _write(
    con: duckdb.DuckDBPyConnection,
    out: pl.DataFrame,
    pids: Sequence[str],
    keys: dict[str, str],
    label: str,
) -> int:
    con.execute(
        "DELETE FROM trigger_associations WHERE list_contains($1, participant_id)", [list(pids)]
    )
    _insert_stamped(con, "trigger_associations", out)
    for p in pids:
        con.execute(
            "INSERT OR REPLACE INTO trigger_runs VALUES (?, ?, ?, now())",
            [p, keys.get(p, "none"), label],
        )
    return out.height


def _insert_stamped(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """Insert ``frame``'s rows into ``table`` (its columns by name), ``computed_utc`` now."""
    if frame.height:
        _crampwatch_rows = frame.to_arrow()  # noqa: F841 - read by name in the SQL
        cols = ", ".join(frame.columns)
        con.execute(
            f"INSERT INTO {table} ({cols}, computed_utc) SELECT {cols}, now() FROM _crampwatch_rows"
        )


def _write_context(con: duckdb.DuckDBPyConnection, ctx: pl.DataFrame, rates: pl.DataFrame) -> None:
    """Replace the stored context and between-person rows (they span every participant)."""
    for table, frame in (("trigger_context", ctx), ("trigger_between_people", rates)):
        con.execute(f"DELETE FROM {table}")
        _insert_stamped(con, table, frame)


def update_triggers(
    con: duckdb.DuckDBPyConnection,
    *,
    sources: Sequence[str] | None = None,
    participant_ids: Sequence[str] | None = None,
    force: bool = False,
    journal_ppv: float | None = None,
) -> TriggerSummary:
    """Recompute the trigger rows of participants whose inputs changed (all when ``force``),
    and the pooled rows when anyone did. One transaction. ``journal_ppv``: see
    :func:`compute` (a different value than the stored rows' recomputes them)."""
    t0 = time.perf_counter()
    summary = TriggerSummary()
    check_journal_ppv(journal_ppv)
    keys = input_keys(con, sources, journal_ppv)
    if force:
        todo = [p for p in keys if participant_ids is None or p in participant_ids]
    else:
        todo = changed_participants(con, sources, participant_ids, journal_ppv)
    summary.skipped = len(keys) - len(todo)
    pooled = len(keys) >= 2
    # the pooled rows and the between-person comparison span everyone: recomputed when anyone
    # changed, and when they are missing (after `forget`, which deletes them)
    pooled_missing = (
        pooled
        and not con.execute(
            "SELECT count(*) FROM trigger_runs WHERE participant_id = 'all'"
        ).fetchall()[0][0]
    )
    if not todo and not pooled_missing:
        summary.seconds = time.perf_counter() - t0
        return summary
    frames = load_frames(con)
    out, nights = compute(frames, sources, todo, pooled=pooled, journal_ppv=journal_ppv)
    ctx, rates = compute_context(frames["daily"], nights)
    write_ids = list(todo) + (["all"] if pooled else [])
    keys = {**keys, "all": hashlib.sha256("".join(sorted(keys.values())).encode()).hexdigest()[:32]}
    con.execute("BEGIN TRANSACTION")
    try:
        summary.rows_written = _write(
            con, out, write_ids, keys, _sources_label(sources, journal_ppv)
        )
        _write_context(con, ctx, rates)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    summary.participants = len(todo)
    summary.seconds = time.perf_counter() - t0
    return summary


# ------------------------------------------------------------------------------------------
# experiments


def save_experiment(con: duckdb.DuckDBPyConnection, exp, blocks: pl.DataFrame) -> None:
    """Store a plan (``detectors.nof1.plan``); a plan with the same id is replaced."""
    d = exp.as_dict()
    con.execute("BEGIN TRANSACTION")
    try:
        for t in ("experiments", "experiment_blocks", "experiment_results"):
            con.execute(f"DELETE FROM {t} WHERE experiment_id = ?", [exp.experiment_id])
        con.execute(
            "INSERT INTO experiments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
            [
                d["experiment_id"],
                d["participant_id"],
                d["intervention"],
                d["instructions"],
                d["pairs"],
                d["block_days"],
                d["washout_days"],
                d["start_date"],
                d["end_date"],
                d["seed"],
            ],
        )
        _crampwatch_blocks = blocks.to_arrow()  # noqa: F841
        con.execute(
            "INSERT INTO experiment_blocks SELECT experiment_id, pair, block, arm, "
            "start_date, end_date FROM _crampwatch_blocks"
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def latest_experiment(
    con: duckdb.DuckDBPyConnection, participant_id: str
) -> tuple[dict, pl.DataFrame] | None:
    rows = con.execute(
        "SELECT * FROM experiments WHERE participant_id = ? "
        "ORDER BY created_utc DESC, start_date DESC LIMIT 1",
        [participant_id],
    ).fetchall()
    if not rows:
        return None
    cols = [d[0] for d in con.description]
    exp = dict(zip(cols, rows[0], strict=True))
    blocks = con.sql(
        "SELECT * FROM experiment_blocks WHERE experiment_id = $1 ORDER BY block",
        params=[exp["experiment_id"]],
    ).pl()
    return exp, blocks


def analyse_experiment(
    con: duckdb.DuckDBPyConnection,
    participant_id: str,
    sources: Sequence[str] | None = None,
    *,
    write: bool = True,
) -> tuple[dict, pl.DataFrame, dict] | None:
    """Analyse the participant's latest experiment; returns (experiment, block counts,
    result) or None without an experiment. ``write``: store the result."""
    from detectors import nof1
    from detectors import triggers as tr

    found = latest_experiment(con, participant_id)
    if found is None:
        return None
    exp, blocks = found
    frames = load_frames(con)
    nights = tr.case_nights(
        frames["journal"], frames["labels"], frames["episodes"], frames["sleep_periods"], sources
    )
    nights = nights.filter(pl.col("participant_id") == participant_id)
    res = nof1.analyse(blocks, nights, exp["washout_days"])
    counts = nof1.block_counts(blocks, nights, exp["washout_days"])
    source = nights["case_source"][0] if nights.height else "none"
    if write:
        keys = (
            "pairs_complete",
            "nights_on",
            "nights_off",
            "cramp_nights_on",
            "cramp_nights_off",
            "rate_ratio",
            "rr_ci_low",
            "rr_ci_high",
            "p",
            "rate_difference_per_week",
            "rd_ci_low",
            "rd_ci_high",
            "verdict",
            "more_pairs_needed",
            "method",
        )
        con.execute(
            "DELETE FROM experiment_results WHERE experiment_id = ?", [exp["experiment_id"]]
        )
        con.execute(
            f"INSERT INTO experiment_results (experiment_id, participant_id, {', '.join(keys)}, "
            f"case_source, computed_utc) VALUES ({', '.join(['?'] * (len(keys) + 3))}, now())",
            [exp["experiment_id"], participant_id, *[res[k] for k in keys], source],
        )
    return exp, counts, {**res, "case_source": source}
