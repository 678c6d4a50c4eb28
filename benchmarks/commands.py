"""Benchmark: the `crampwatch` commands a user runs, end to end, each in a fresh process.

    uv run --frozen python benchmarks/commands.py [--repeat 3] [--with-prefect] [--bytecode-cache]

Times, as subprocesses started from the repository root (interpreter start, imports, the work,
exit), the console script ``crampwatch`` of this environment:

* ``crampwatch run sample_data/inbox`` on a fresh store (first run), then again (nothing new);
* on that store: ``crampwatch ingest`` of a journal CSV holding only its header (a new file),
  ``crampwatch ingest`` of a file already imported (``p01/export.zip``), ``crampwatch detect``
  with nothing new, ``crampwatch sql "select 1"``, and the commands that read: ``triggers``
  with nothing new, ``review``, ``participants``, ``evaluate --truth
  sample_data/ground_truth.csv``;
* as the baseline of the same run, ``python -c pass`` with the same interpreter.

Each figure is the median of ``--repeat`` rounds (min-max shown), printed in seconds and as a
ratio to ``python -c pass``; also the second run's time as a share of the first, and the
ledger rows the second run added (0 expected). Target (issue 12): every command with little
to do under 2 s on the 2-core machine. ``--with-prefect`` also times the second run and
``detect`` through the Prefect flows (``--prefect``: temporary API), the path every command
took before. ``--bytecode-cache`` lets Python cache bytecode (in a temporary
``PYTHONPYCACHEPREFIX``, warmed by one untimed round) even when the environment sets
``PYTHONDONTWRITEBYTECODE``: the usual state of an install, where modules are not recompiled
at every start.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
INBOX = "sample_data/inbox"  # relative, as a user types it from the repository root
KNOWN_FILE = "sample_data/inbox/p01/export.zip"
TARGET_S = 2.0


def _crampwatch() -> str:
    exe = Path(sys.executable).parent / "crampwatch"
    found = str(exe) if exe.exists() else shutil.which("crampwatch")
    if not found:
        sys.exit(
            "no `crampwatch` console script next to this Python or on PATH "
            "(run with `uv run --frozen python benchmarks/commands.py`)"
        )
    return found


def _timed(argv: list[str], env: dict[str, str], expect: str | None = None) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(
            f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stdout[-2000:]}"
            f"{proc.stderr[-2000:]}"
        )
    if expect is not None and expect not in proc.stdout:
        sys.exit(f"{' '.join(argv)}: {expect!r} not in its output:\n{proc.stdout[-2000:]}")
    return seconds


def _ledger_rows(db: Path) -> int:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT count(*) FROM imports").fetchall()[0][0]


def one_round(
    cw: str, work: Path, i: int, env: dict[str, str], with_prefect: bool
) -> tuple[dict[str, float], int]:
    db = work / f"round{i}.duckdb"
    t: dict[str, float] = {}
    t["python -c pass"] = _timed([sys.executable, "-c", "pass"], env)
    t["run, first"] = _timed([cw, "run", INBOX, "--db", str(db)], env, "ok ")
    rows = _ledger_rows(db)
    t["run, nothing new"] = _timed([cw, "run", INBOX, "--db", str(db)], env, "already_imported")
    added = _ledger_rows(db) - rows
    header = (REPO / INBOX / "journal.csv").read_text(encoding="utf-8").splitlines()[0]
    empty = work / f"journal_header_only_{i}.csv"
    empty.write_text(header + "\n", encoding="utf-8")
    t["ingest header-only journal"] = _timed([cw, "ingest", str(empty), "--db", str(db)], env)
    t["ingest already imported file"] = _timed(
        [cw, "ingest", KNOWN_FILE, "--participant", "p01", "--db", str(db)], env, "already"
    )
    t["detect, nothing new"] = _timed([cw, "detect", "--db", str(db)], env, "0 participants")
    t['sql "select 1"'] = _timed([cw, "sql", "select 1", "--db", str(db)], env, "1 row(s)")
    t["triggers, nothing new"] = _timed([cw, "triggers", "--db", str(db)], env, "associated")
    t["review"] = _timed([cw, "review", "--db", str(db)], env, "to ask about")
    t["participants"] = _timed([cw, "participants", "--db", str(db)], env, "p01")
    t["evaluate --truth"] = _timed(
        [cw, "evaluate", "--truth", "sample_data/ground_truth.csv", "--db", str(db)], env, "F1"
    )
    if with_prefect:
        t["run --prefect, nothing new"] = _timed(
            [cw, "run", INBOX, "--prefect", "--db", str(db)], env, "already_imported"
        )
        t["detect --prefect, nothing new"] = _timed(
            [cw, "detect", "--prefect", "--db", str(db)], env, "0 participants"
        )
    return t, added


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="rounds; medians are shown")
    ap.add_argument(
        "--with-prefect",
        action="store_true",
        help="also time `run --prefect` and `detect --prefect` (nothing new)",
    )
    ap.add_argument(
        "--bytecode-cache",
        action="store_true",
        help="let Python cache bytecode (temporary PYTHONPYCACHEPREFIX, warmed)",
    )
    ap.add_argument("--keep", type=Path, default=None, help="keep the stores in this folder")
    args = ap.parse_args()

    cw = _crampwatch()
    env = dict(os.environ)
    for var in ("PREFECT_API_URL", "CRAMPWATCH_DB"):  # the default path: in-process
        env.pop(var, None)
    work = args.keep or Path(tempfile.mkdtemp(prefix="crampwatch-commands-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.bytecode_cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    if "PREFECT_HOME" not in env:  # --with-prefect: a throw-away Prefect home
        env["PREFECT_HOME"] = str(work / "prefect-home")

    try:
        if args.bytecode_cache:
            one_round(cw, work, -1, env, args.with_prefect)  # warm the cache, not timed
        rounds = [one_round(cw, work, i, env, args.with_prefect) for i in range(args.repeat)]
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"crampwatch commands, end to end ({args.repeat} rounds, median (min-max); "
        f"{os.cpu_count()} CPUs, load {load:.1f}; bytecode "
        + (
            "cached"
            if args.bytecode_cache
            else "not cached: PYTHONDONTWRITEBYTECODE=1"
            if os.environ.get("PYTHONDONTWRITEBYTECODE")
            else "as the environment caches it"
        )
        + ")"
    )
    base = statistics.median(r["python -c pass"] for r, _ in rounds)
    print(
        f"  {'command':34s} {'seconds':>8s} {'min-max':>13s} {'x python -c pass':>17s}  "
        f"target < {TARGET_S:g} s"
    )
    for name in rounds[0][0]:
        xs = [r[name] for r, _ in rounds]
        med = statistics.median(xs)
        target = (
            ""
            if name in ("python -c pass", "run, first") or "prefect" in name
            else ("meets" if med < TARGET_S else "MISSES")
        )
        print(
            f"  {name:34s} {med:8.2f} {min(xs):6.2f}-{max(xs):<6.2f} {med / base:17.1f}  {target}"
        )
    first = statistics.median(r["run, first"] for r, _ in rounds)
    second = statistics.median(r["run, nothing new"] for r, _ in rounds)
    print(
        f"second run (nothing new) / first run: {second / first:.0%} "
        f"({second:.2f} s of {first:.2f} s)"
    )
    print(f"ledger rows added by the second run: {max(a for _, a in rounds)}")


if __name__ == "__main__":
    main()
