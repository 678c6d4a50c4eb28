"""A ``crampwatch`` command that stops at a chosen point so that a test can kill -9 it there.

``python tests/pipeline/kill_child.py [--pause-at POINT:K] [--batch-rows N] -- ARGS...`` runs
``crampwatch ARGS...`` (``pipeline.cli``) in this process. With ``--pause-at`` the K-th time
the run reaches POINT it prints ``PAUSED POINT K`` on stdout and sleeps, for the test to
SIGKILL it exactly there. Points (each reached right after the named call returned):

- ``ledger_start``: an import's ``running`` ledger row is inserted (nothing else written yet);
- ``insert_new``: a batch of rows is written (``pipeline.store.insert_new``);
- ``ledger_finish``: an import's ledger row is final, its transaction not yet committed;
- ``file_done``: ``import_file`` returned (the file's transaction committed);
- ``detect_replace``: a participant's sleep periods or episodes are replaced (``detect``);
- ``exposures_replace``: a participant's daily exposures are replaced;
- ``migration_sql``: a pending migration's SQL ran, inside its transaction (version not
  recorded yet);
- ``migration_recorded``: its version is recorded in ``schema_migrations``, not committed;
- ``migration_commit``: its transaction is committed (the next migration not begun).

The K of a migration point counts the migrations this process applies (1: the first pending).

Without ``--pause-at`` it prints ``STARTED`` when the first batch or detection output is
written (for kills after a delay) and, at exit, ``CALLS point=n ...``. ``--small-batches``
makes the Apple Health importer read 256 KiB chunks and emit batches of 2,000 rows (many
kill points inside one file; the rows stored do not depend on the batch size).
"""

from __future__ import annotations

import argparse
import atexit
import functools
import sys
import time
from collections import Counter

SMALL_BATCH_ROWS = 2_000
SMALL_CHUNK_BYTES = 256 * 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pause-at", default=None, metavar="POINT:K")
    ap.add_argument("--small-batches", action="store_true")
    ap.add_argument("args", nargs=argparse.REMAINDER)
    opts = ap.parse_args()
    argv = opts.args[1:] if opts.args[:1] == ["--"] else opts.args
    point, k = opts.pause_at.rsplit(":", 1) if opts.pause_at else (None, "0")
    k = int(k)
    calls: Counter[str] = Counter()
    started = False

    def reached(name: str) -> None:
        nonlocal started
        calls[name] += 1
        if not started and name in ("insert_new", "detect_replace"):
            started = True
            print("STARTED", flush=True)
        if name == point and calls[name] == k:
            print(f"PAUSED {name} {k}", flush=True)
            time.sleep(3600)

    def after(module, attr: str, name, when=None) -> None:
        """Call ``reached(name)`` after each call of ``module.attr`` (``name`` may be a
        function of the call's arguments)."""
        fn = getattr(module, attr)

        @functools.wraps(fn)
        def wrapper(*a, **kw):
            out = fn(*a, **kw)
            if when is None or when(a, kw):
                reached(name(a, kw) if callable(name) else name)
            return out

        setattr(module, attr, wrapper)

    from pipeline import detect, exposures, ingest, store
    from pipeline.importers import apple_health

    if opts.small_batches:  # many batches per export: kill points inside one file
        apple_health.read.__kwdefaults__.update(
            batch_rows=SMALL_BATCH_ROWS, chunk_bytes=SMALL_CHUNK_BYTES
        )
    after(ingest, "_ledger_start", "ledger_start", lambda a, kw: a[6] == "running")
    after(store, "insert_new", "insert_new")
    after(ingest, "_ledger_finish", "ledger_finish")
    after(ingest, "import_file", "file_done")
    try:  # the output tables' replace-a-range, wherever it lives
        from pipeline import store_outputs
    except ImportError:
        store_outputs = None
    if store_outputs is not None and hasattr(store_outputs, "replace_range"):
        after(
            store_outputs,
            "replace_range",
            lambda a, kw: "exposures_replace" if a[1] == "daily_exposures" else "detect_replace",
        )
    else:
        after(detect, "_replace", "detect_replace")
        after(exposures, "_replace", "exposures_replace")
    # migrations: store.migrate is given a connection that reports each step of each one
    sqls = {sql for _, _, sql in store._migrations()}
    real_migrate = store.migrate

    class _Probe:
        """The connection ``migrate`` uses, reporting after each statement of a migration."""

        def __init__(self, con):
            self._con = con

        def execute(self, query, *args, **kwargs):
            out = self._con.execute(query, *args, **kwargs)
            if query in sqls:
                reached("migration_sql")
            elif query.startswith("INSERT INTO schema_migrations"):
                reached("migration_recorded")
            elif query == "COMMIT":
                reached("migration_commit")
            return out

        def __getattr__(self, name):
            return getattr(self._con, name)

    store.migrate = functools.wraps(real_migrate)(lambda con: real_migrate(_Probe(con)))
    atexit.register(
        lambda: print("CALLS " + " ".join(f"{n}={c}" for n, c in sorted(calls.items())), flush=True)
    )

    from pipeline.cli import main as cli

    sys.argv = ["crampwatch", *argv]
    cli()


if __name__ == "__main__":
    main()
