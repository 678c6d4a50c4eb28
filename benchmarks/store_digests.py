"""Per-table digests of a crampwatch store, to show that a speed change stores the same rows.

For every table of the store (and of its published snapshot, which must agree): the columns
with their types, the row count and an order-independent digest of the rows
(``bit_xor(hash(row))`` over every column, bar the ledger's wall-clock and path columns,
which differ between two runs of the same import). Two digest files are compared table by
table.

    # import an export with the command a user runs, then write the digests
    uv run python benchmarks/store_digests.py ingest export.zip [more.zip ...] --json before.json
    # ... change the code ...
    uv run python benchmarks/store_digests.py ingest export.zip --json after.json
    uv run python benchmarks/store_digests.py compare before.json after.json

``ingest`` runs ``python -m pipeline.cli ingest FILE --participant bench`` into a fresh store
in a temporary folder; ``store DB`` writes the digests of an existing store.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

#: columns that hold when or where a run happened, not what it stored
VOLATILE = {
    "imports": ("started_utc", "finished_utc", "path", "abs_path", "mtime_ns"),
    "detection_runs": ("started_utc", "finished_utc"),
    "exposure_runs": ("started_utc", "finished_utc"),
    "trigger_runs": ("started_utc", "finished_utc", "computed_utc"),
    "schema_migrations": ("applied_utc",),
    "participants": ("created_utc", "updated_utc"),
}


def digests(db: str | Path) -> dict[str, dict]:
    """``{table: {"columns", "rows", "digest"}}`` of the store ``db`` (opened read-only)."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        tables = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY 1"
        ).fetchall()
        for (name,) in tables:
            cols = con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = 'main' "
                "AND table_name = ? ORDER BY column_index",
                [name],
            ).fetchall()
            keep = [c for c, _ in cols if c not in VOLATILE.get(name, ())]
            sel = ", ".join(f'"{c}"' for c in keep)
            n, digest = con.execute(
                f'SELECT count(*), bit_xor(hash(struct_pack({sel}))) FROM "{name}"'
            ).fetchall()[0]
            out[name] = {
                "columns": [f"{c} {t}" for c, t in cols],
                "rows": n,
                "digest": None if digest is None else str(digest),
            }
        return out
    finally:
        con.close()


def compare(a: dict, b: dict) -> list[str]:
    """Differences between two digest sets (empty: identical)."""
    diff = []
    for t in sorted(set(a) | set(b)):
        if t not in a or t not in b:
            diff.append(f"{t}: only in {'second' if t not in a else 'first'}")
        elif a[t] != b[t]:
            diff.append(
                f"{t}: {a[t]['rows']} rows {a[t]['digest']} != {b[t]['rows']} rows "
                f"{b[t]['digest']}"
                + (" (columns differ)" if a[t]["columns"] != b[t]["columns"] else "")
            )
    return diff


#: tables a snapshot may lag behind in (pipeline.store.RUN_TABLES)
RUN_TABLES = ("imports", "detection_runs", "exposure_runs")


def ingest_digests(exports: list[Path], participant: str = "bench") -> dict:
    """Import each export with its own ``crampwatch ingest`` command, in order, into one
    fresh store; digests of the store, after checking that the snapshot published by the
    last command holds the same rows (overlapping exports exercise the duplicate checks)."""
    with tempfile.TemporaryDirectory(prefix="crampwatch-digest-") as tmp:
        db = Path(tmp) / "cw.duckdb"
        for export in exports:
            path, _, pid = str(export).partition("@")
            cmd = [sys.executable, "-m", "pipeline.cli", "ingest", path]
            cmd += ["--participant", pid or participant, "--db", str(db), "--no-prefect"]
            proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
            if proc.returncode not in (0, 1):
                raise SystemExit(
                    f"crampwatch ingest failed ({proc.returncode}): {proc.stderr[-2000:]}"
                )
            store = digests(db)
            snap = digests(db.with_name("cw.snapshot.duckdb"))
            # the run history alone changed: not republished (pipeline.store.RUN_TABLES)
            problems = compare(
                *({k: v for k, v in d.items() if k not in RUN_TABLES} for d in (store, snap))
            )
            if problems:
                raise SystemExit(
                    f"after {export}, the snapshot differs from the store:\n  "
                    + "\n  ".join(problems)
                )
        return store


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("ingest", help="import an export into a fresh store, print the digests")
    p.add_argument(
        "export",
        nargs="+",
        help="imported in this order into one store; PATH@ID imports as participant ID",
    )
    p.add_argument("--json")
    p = sub.add_parser("store", help="digests of an existing store")
    p.add_argument("db")
    p.add_argument("--json")
    p = sub.add_parser("compare", help="compare two digest files")
    p.add_argument("first")
    p.add_argument("second")
    args = ap.parse_args(argv)
    if args.cmd == "compare":
        a = json.loads(Path(args.first).read_text(encoding="utf-8"))
        b = json.loads(Path(args.second).read_text(encoding="utf-8"))
        diff = compare(a, b)
        for t in sorted(a):
            print(
                f"{t:24s} {a[t]['rows']:>10,} rows  {'same' if t in b and a[t] == b[t] else 'DIFFERENT'}"
            )
        print("\n".join(diff) if diff else "identical: every table, same columns, rows and digest")
        return 1 if diff else 0
    result = (
        ingest_digests([Path(e) for e in args.export]) if args.cmd == "ingest" else digests(args.db)
    )
    text = json.dumps(result, indent=1)
    if args.json:
        Path(args.json).write_text(text, encoding="utf-8")
    for t, d in result.items():
        print(f"{t:24s} {d['rows']:>10,} rows  {d['digest']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
