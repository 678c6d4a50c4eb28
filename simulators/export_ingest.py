"""Import a generated export-level scenario (``simulators.physio``, ``simulators.bedside``)
into a crampwatch store: the plumbing both simulators share, no physiology.

``python -m simulators.<family>.ingest OUT --db DB``: participants.csv first, then every file of
each ``inbox/<participant>/`` folder (Fitabase folders with the participant's zone, which their
offset-less local times need). Prints one line per file and the totals.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl


def ingest(out: str | Path, db: str | Path, con=None) -> list:
    from pipeline import store
    from pipeline.ingest import import_file

    out = Path(out)
    inbox = out / "inbox"
    own = con is None
    con = con or store.connect(db)
    try:
        people = pl.read_csv(inbox / "participants.csv")
        zones = dict(zip(people["participant_id"], people["tz"], strict=True))
        results = [import_file(con, inbox / "participants.csv", inbox_root=inbox)]
        for pid in sorted(zones):
            tz = zones[pid] if pid.startswith("fitabase-") else None
            for f in sorted((inbox / pid).iterdir()):
                results.append(import_file(con, f, tz=tz, inbox_root=inbox))
    finally:
        if own:
            con.close()
    return results


def main(argv: list[str] | None = None, prog: str = "python -m simulators.physio.ingest") -> None:
    ap = argparse.ArgumentParser(prog=prog)
    ap.add_argument("out")
    ap.add_argument("--db", required=True)
    args = ap.parse_args(argv)
    res = ingest(args.out, args.db)
    for r in res:
        print(
            f"{r.status:8s} {r.format or '':16s} {r.participant_id or '':22s} "
            f"rows={r.rows_accepted:>8d} dup={r.rows_duplicate:>5d} "
            f"rejected={r.rows_rejected:>4d} {r.seconds:5.1f}s {Path(r.path).name}"
            + (f"  {r.error}" if r.error else "")
        )
    print(
        f"total rows={sum(r.rows_accepted for r in res)} "
        f"rejected={sum(r.rows_rejected for r in res)} "
        f"failed={sum(r.status == 'failed' for r in res)}"
    )


if __name__ == "__main__":
    main()
