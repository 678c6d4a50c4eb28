"""Benchmark: Apple Health export -> crampwatch DuckDB, against healthkit-to-sqlite.

Generates a realistic export of the requested size (``simulators/apple_export/``,
seeded), then times in the same run, each as a separate process timed from outside
(start-up and imports included):

* ``crampwatch zip``: ``pipeline.ingest.import_file`` of export.zip into a fresh DuckDB;
* ``crampwatch xml``: the same from export.xml;
* ``crampwatch ingest export.zip (command)``: the console command a user runs, end to end
  (``python -m pipeline.cli ingest export.zip --participant bench --db ...``);
* ``healthkit-to-sqlite``: ``healthkit-to-sqlite export.zip hk.db`` (skip: --skip-baseline);
* the inflate floors: ``unzip -p export.zip ... > /dev/null`` and Python's ``zipfile``
  reading the member in 16 MiB reads.

Peak memory is the summed RSS of the process tree, sampled from ``/proc`` every 20 ms, and
never below the largest single process's high-water mark (``wait4`` ``ru_maxrss``).

After each crampwatch import a count check compares the store with the generator:
``samples + sleep_segments + rejected_rows`` in the DB, plus the records the importer skipped
by design (records inside Correlations and of unmapped types, from its summary), must equal
the number of ``<Record`` tags the generator wrote; the run fails (exit 1) if not.

Run from the repository root::

    uv run --group bench python benchmarks/ingest_apple_health.py --size-mb 1000
    uv run python benchmarks/ingest_apple_health.py --size-mb 100 --skip-baseline

The headline is the ratio crampwatch/healthkit-to-sqlite, which holds up better than absolute
seconds on a shared machine. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

#: the issue's target: crampwatch from export.zip at least this many times faster
TARGET_RATIO = 10.0
#: and peak memory (summed over processes) below this, whatever the size
TARGET_PEAK_MIB = 1024.0
PARTICIPANT = "bench"
SAMPLE_S = 0.02


# --------------------------------------------------------------------------- measuring


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                out.extend(int(x) for x in fh.read().split())
        except OSError:
            pass
    return out


def _status_kib(pid: int) -> tuple[int, int] | None:
    """(VmRSS, VmHWM) in KiB, None once the process is gone."""
    rss = hwm = 0
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
    except (OSError, ValueError):
        return None
    return rss, hwm


@dataclass
class Run:
    name: str
    seconds: float
    cpu_s: float
    peak_sum_mib: float  # summed RSS over the process tree (sampled), >= max_single_mib
    max_single_mib: float  # largest single process (VmHWM)
    hwm_sum_mib: float  # sum of each process's last seen VmHWM: an upper bound
    processes: int
    returncode: int
    stdout: str = ""
    stderr: str = ""
    info: dict = field(default_factory=dict)


def measure(
    name: str, cmd: list[str], *, stdout=subprocess.PIPE, env=None, cwd: Path | None = None
) -> Run:
    """Run ``cmd`` and measure wall time, CPU time and peak RSS of its process tree."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        stdout=stdout,
        stderr=subprocess.PIPE,
        env=env,
        cwd=str(cwd) if cwd else None,
        text=stdout == subprocess.PIPE,
    )
    peak = [0]
    hwm: dict[int, int] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            total, todo, seen = 0, [proc.pid], set()
            while todo:
                pid = todo.pop()
                if pid in seen:
                    continue
                seen.add(pid)
                st = _status_kib(pid)
                if st is None:
                    continue
                total += st[0]
                hwm[pid] = max(hwm.get(pid, 0), st[1])
                todo.extend(_children(pid))
            peak[0] = max(peak[0], total)
            done.wait(SAMPLE_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out_chunks: list[str] = []
    err_chunks: list[str] = []
    readers = []
    for stream, sink in ((proc.stdout, out_chunks), (proc.stderr, err_chunks)):
        if stream is not None:
            th = threading.Thread(target=lambda s=stream, k=sink: k.append(s.read()), daemon=True)
            th.start()
            readers.append(th)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    sampler.join()
    for th in readers:
        th.join()
    err = "".join(x if isinstance(x, str) else x.decode("utf-8", "replace") for x in err_chunks)
    out = "".join(out_chunks)
    # the root process reports its own VmHWM at exit when it is one of ours (exact); for
    # others the last sample stands (VmHWM only grows). wait4's ru_maxrss is not used: it
    # counts the forked parent's pages from before exec.
    for line in out.splitlines():
        if line.startswith("VMHWM-KIB "):
            hwm[proc.pid] = max(hwm.get(proc.pid, 0), int(line.split()[1]))
    if not hwm:  # gone before the first sample (a few ms): no figure rather than 0
        nan = float("nan")
        return Run(
            name=name,
            seconds=seconds,
            cpu_s=usage.ru_utime + usage.ru_stime,
            peak_sum_mib=nan,
            max_single_mib=nan,
            hwm_sum_mib=nan,
            processes=1,
            returncode=proc.returncode,
            stdout=out,
            stderr=err,
        )
    single = max(hwm.values()) / 1024
    return Run(
        name=name,
        seconds=seconds,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_sum_mib=max(peak[0] / 1024, single),
        max_single_mib=single,
        hwm_sum_mib=sum(hwm.values()) / 1024,
        processes=len(hwm),
        returncode=proc.returncode,
        stdout=out,
        stderr=err,
    )


def _report_hwm() -> None:
    st = _status_kib(os.getpid())
    if st is not None:
        print(f"VMHWM-KIB {st[1]}", flush=True)


# --------------------------------------------------------------------------- child: import


def child_import(path: str, db: str) -> None:
    """Import ``path`` into a fresh store ``db``; print one JSON line with the results.

    Stage times are taken by wrapping the driver's steps: sha256 of the file; the importer
    (parsing, the time inside the reader's ``__next__``; it runs in the driver's read-ahead
    thread, overlapped with the writes); ``store.insert_new`` (DuckDB insert with the
    natural-key anti-join); the writer waiting for the next batch; closing the store
    (DuckDB's checkpoint).
    """
    import pipeline.importers.apple_health as apple
    from pipeline import ingest, store

    stages = {"sha256_s": 0.0, "reader_s": 0.0, "insert_new_s": 0.0, "wait_batches_s": 0.0}
    readers = []

    def timed(fn, key):
        def wrapper(*a, **kw):
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                stages[key] += time.perf_counter() - t

        return wrapper

    orig_read = apple.read

    def read(*a, **kw):
        reader = orig_read(*a, **kw)
        readers.append(reader)
        inner_next = reader.__next__
        nxt = timed(inner_next, "reader_s")

        class Timed:
            summary = property(lambda self: reader.summary)

            def __iter__(self):
                return self

            def __next__(self):
                return nxt()

            def __getattr__(self, name):
                return getattr(reader, name)

        return Timed()

    apple.read = read
    ingest.sha256_file = timed(ingest.sha256_file, "sha256_s")
    store.insert_new = timed(store.insert_new, "insert_new_s")
    read_ahead = getattr(ingest, "_ReadAhead", None)
    if read_ahead is not None and getattr(ingest, "READ_AHEAD_BATCHES", 0) > 0:
        read_ahead.__next__ = timed(read_ahead.__next__, "wait_batches_s")
    t0 = time.perf_counter()
    con = store.connect(db)
    t_connect = time.perf_counter() - t0
    res = ingest.import_file(con, path, participant_id=PARTICIPANT)
    t1 = time.perf_counter()
    con.close()  # checkpoint: part of getting the data into the file
    t_close = time.perf_counter() - t1
    con = store.connect(db, read_only=True)
    counts = {
        t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("samples", "sleep_segments", "rejected_rows", "workouts")
    }
    con.close()
    s = readers[0].summary if readers else None
    out = {
        "result": res.as_dict(),
        "counts": counts,
        "stages": {
            **stages,
            "connect_s": t_connect,
            "import_file_s": res.seconds,
            "close_s": t_close,
        },
        "summary": None
        if s is None
        else {
            "records_seen": s.records_seen,
            "samples": s.samples,
            "sleep_segments": s.sleep_segments,
            "records_rejected": s.records_rejected,
            "records_in_correlations": s.records_in_correlations,
            "unmapped": sum(s.unmapped_types.values()),
            "workouts": s.workouts,
            "truncated": s.truncated,
            "bytes_read": s.bytes_read,
        },
    }
    print("CRAMPWATCH-RESULT " + json.dumps(out))
    _report_hwm()


def child_inflate(zip_path: str, member: str) -> None:
    """Python's zipfile inflating the member to nowhere, in 16 MiB reads."""
    import zipfile

    n = 0
    with zipfile.ZipFile(zip_path) as zf, zf.open(member) as fh:
        while chunk := fh.read(16 << 20):
            n += len(chunk)
    print(f"INFLATED {n}")
    _report_hwm()


# --------------------------------------------------------------------------- checks


class CountCheckError(RuntimeError):
    pass


def count_check(run: Run, manifest) -> dict:
    """Parse the child's JSON and compare the store with the generator's counts."""
    line = next((x for x in run.stdout.splitlines() if x.startswith("CRAMPWATCH-RESULT ")), None)
    if run.returncode != 0 or line is None:
        raise CountCheckError(
            f"{run.name}: import process failed (exit {run.returncode})\n{run.stderr[-3000:]}"
        )
    info = json.loads(line.split(" ", 1)[1])
    res, counts, summ = info["result"], info["counts"], info["summary"]
    problems = []
    # an export this script wrote has no duplicate and no invalid record; one from elsewhere
    # may hold both (the shared generator repeats a record and writes a few invalid ones):
    # then duplicates count as records seen once more, and rejected rows make it "partial"
    own = manifest.get("generator", "crampwatch") == "crampwatch"
    dups = 0 if own else res["rows_duplicate"]
    if res["status"] != "ok" and (own or res["status"] != "partial"):
        problems.append(f"import status {res['status']!r} ({res['error']})")
    if summ is None:
        problems.append("importer summary not captured")
        summ = {"records_in_correlations": 0, "unmapped": 0, "records_seen": -1}
    skipped = summ["records_in_correlations"] + summ["unmapped"]
    in_db = counts["samples"] + counts["sleep_segments"] + counts["rejected_rows"]
    if in_db + skipped + dups != manifest["records"]:
        problems.append(
            f"samples {counts['samples']} + sleep_segments {counts['sleep_segments']} + "
            f"rejected {counts['rejected_rows']} + skipped by design {skipped} + duplicates "
            f"{dups} = {in_db + skipped + dups} != {manifest['records']} <Record> tags written"
        )
    if summ["records_seen"] != manifest["records"]:
        problems.append(
            f"importer saw {summ['records_seen']} <Record> tags, generator wrote "
            f"{manifest['records']}"
        )
    if own and res["rows_duplicate"]:
        problems.append(f"{res['rows_duplicate']} rows counted as duplicates in a fresh store")
    if counts["workouts"] != manifest["workouts"]:
        problems.append(
            f"{counts['workouts']} workouts in the store, {manifest['workouts']} written"
        )
    if problems:
        raise CountCheckError(f"{run.name}: COUNT CHECK FAILED: " + "; ".join(problems))
    info["count_check"] = {
        "in_db": in_db,
        "skipped_by_design": skipped,
        "duplicates": dups,
        "generator_records": manifest["records"],
    }
    return info


# --------------------------------------------------------------------------- driver


def _median_run(runs: list[Run]) -> Run:
    runs = sorted(runs, key=lambda r: r.seconds)
    best = runs[len(runs) // 2]
    best.info["all_seconds"] = [round(r.seconds, 3) for r in runs]
    best.peak_sum_mib = max(r.peak_sum_mib for r in runs)
    best.hwm_sum_mib = max(r.hwm_sum_mib for r in runs)
    best.max_single_mib = max(r.max_single_mib for r in runs)
    return best


def _fmt_table(rows: list[Run], manifest: dict, baseline: Run | None) -> str:
    recs, mb = manifest["records"], manifest["xml_bytes"] / 1e6
    head = (
        "| method | seconds | CPU s | records/s | MB/s (XML) | peak RSS summed MiB "
        "| procs | x vs healthkit-to-sqlite |"
    )
    lines = [head, "|" + "---|" * 8]
    for r in rows:
        ratio = f"{math.floor(baseline.seconds / r.seconds * 100) / 100:.2f}" if baseline else "n/a"
        spread = r.info.get("all_seconds")
        secs = f"{r.seconds:.3g}" if r.seconds < 0.1 else f"{r.seconds:.2f}"
        secs += f" ({min(spread):.2f}-{max(spread):.2f})" if spread and len(spread) > 1 else ""
        peak = "n/a" if math.isnan(r.peak_sum_mib) else f"{r.peak_sum_mib:,.0f}"
        lines.append(
            f"| {r.name} | {secs} | {r.cpu_s:.1f} | {recs / r.seconds:,.0f} | "
            f"{mb / r.seconds:,.1f} | {peak} | {r.processes} | {ratio} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--size-mb",
        type=float,
        default=1000.0,
        help="size of export.xml to generate, MB (10**6 bytes); default 1000",
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--keep",
        metavar="DIR",
        help="write (and keep) the export and the databases in DIR; an export "
        "already there with the same size and seed is reused",
    )
    ap.add_argument(
        "--skip-baseline",
        action="store_true",
        help="do not run healthkit-to-sqlite (and report no ratio)",
    )
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs of each crampwatch import (the median is reported)",
    )
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    ap.add_argument(
        "--export",
        metavar="PATH",
        help="time an existing export instead of generating one: export.zip, export.xml or "
        "a folder holding them (the other form is made in the work folder); --size-mb and "
        "--seed are then ignored",
    )
    ap.add_argument(
        "--generator",
        choices=("crampwatch", "shared"),
        default="crampwatch",
        help="crampwatch: simulators/apple_export/ (default); shared: the generator script "
        "given by --generator-path (gen_apple_export.py: OUTDIR --target-mb N --seed S --zip)",
    )
    ap.add_argument("--generator-path", metavar="SCRIPT", help="the script of --generator shared")
    ap.add_argument("--child-import", nargs=2, metavar=("PATH", "DB"), help=argparse.SUPPRESS)
    ap.add_argument("--child-inflate", nargs=2, metavar=("ZIP", "MEMBER"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.generator == "shared" and not args.generator_path:
        ap.error("--generator shared needs --generator-path SCRIPT")
    if args.child_import:
        child_import(*args.child_import)
        return 0
    if args.child_inflate:
        child_inflate(*args.child_inflate)
        return 0

    from simulators import apple_export as gen

    hk = None
    if not args.skip_baseline:
        hk = shutil.which("healthkit-to-sqlite") or str(
            Path(sys.executable).parent / "healthkit-to-sqlite"
        )
        if not Path(hk).exists():
            print(
                "healthkit-to-sqlite not found: run with `uv run --group bench ...` or pass "
                "--skip-baseline",
                file=sys.stderr,
            )
            return 2

    tmp = None
    if args.keep:
        work = Path(args.keep)
        work.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="crampwatch-bench-")
        work = Path(tmp.name)
    try:
        return _bench(args, gen, work, hk)
    finally:
        if tmp is not None:
            tmp.cleanup()


def _own_export(args, gen, work: Path) -> dict:
    """The export of ``simulators/apple_export/`` (reused when ``work`` holds it)."""
    days = gen.days_for_size(args.size_mb, args.seed)
    man_path = work / "manifest.json"
    if man_path.exists():
        old = json.loads(man_path.read_text(encoding="utf-8"))
        if (
            old.get("seed") == args.seed
            and old.get("days") == days
            and old.get("generator", "crampwatch") == "crampwatch"
            and Path(old.get("zip_path", "")).exists()
            and Path(old.get("xml_path", "")).exists()
        ):
            print(f"reusing the export in {work}", flush=True)
            return old
    t = time.perf_counter()
    spec = gen.ExportSpec(start=gen.DEFAULT_END - timedelta(days=days), days=days, seed=args.seed)
    manifest = json.loads(gen.write_export(work, spec).to_json())
    print(f"generated in {time.perf_counter() - t:.1f} s", flush=True)
    return manifest


def count_tags(xml: Path) -> dict[str, int]:
    """``<Record`` tags (top level and inside Correlations), ``<Workout`` and
    ``<ActivitySummary`` tags of an export.xml, counted in its bytes (any generator)."""
    tags = {
        "records": b"<Record ",
        "workouts": b"<Workout ",
        "activity_summaries": b"<ActivitySummary ",
    }
    counts = dict.fromkeys(tags, 0)
    keep = max(len(t) for t in tags.values()) - 1
    tail = b""
    with open(xml, "rb") as fh:
        while chunk := fh.read(16 << 20):
            buf = tail + chunk
            for k, t in tags.items():
                # a tag split by the read is counted once: in the carried tail, never before
                counts[k] += buf.count(t) - tail.count(t)
            tail = buf[-keep:]
    return counts


def _zip_member(zpath: Path) -> str:
    """The export.xml member of an Apple export.zip."""
    import zipfile

    with zipfile.ZipFile(zpath) as zf:
        names = [n for n in zf.namelist() if n.endswith("/export.xml") or n == "export.xml"]
    if not names:
        raise SystemExit(f"{zpath}: no export.xml inside")
    return names[0]


def _external_manifest(src: Path, work: Path, label: str) -> dict:
    """A manifest for an export not written by ``simulators.apple_export``: the zip and the
    XML (the missing one made in ``work``) and the tags counted in the XML."""
    import zipfile

    if src.is_dir():
        zpath, xml = src / "export.zip", src / "export.xml"
        if not zpath.exists():
            zpath = None
        if not xml.exists():
            xml = None
    elif src.suffix == ".zip":
        zpath, xml = src, None
    else:
        zpath, xml = None, src
    if zpath is None and xml is None:
        raise SystemExit(f"{src}: no export.zip or export.xml")
    if xml is None:
        xml = work / "export.xml"
        with (
            zipfile.ZipFile(zpath) as zf,
            zf.open(_zip_member(zpath)) as fh,
            open(xml, "wb") as out,
        ):
            shutil.copyfileobj(fh, out, 16 << 20)
    if zpath is None:
        zpath = work / "export.zip"
        with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            zf.write(xml, "apple_health_export/export.xml")
    counts = count_tags(xml)
    return {
        "generator": label,
        "xml_path": str(xml),
        "zip_path": str(zpath),
        "xml_bytes": xml.stat().st_size,
        "zip_bytes": zpath.stat().st_size,
        "member": _zip_member(zpath),
        **counts,
    }


def _shared_export(args, work: Path) -> dict:
    """Run the shared generator (``--generator-path``) unless its export of the same size
    and seed is already in ``work``; returns the manifest."""
    out = work / "shared_export"
    man_path = work / "manifest.json"
    want = {"generator": "shared", "seed": args.seed, "size_mb": args.size_mb}
    if man_path.exists():
        old = json.loads(man_path.read_text(encoding="utf-8"))
        if {k: old.get(k) for k in want} == want and Path(old.get("zip_path", "")).exists():
            print(f"reusing the export in {work}", flush=True)
            return old
    t = time.perf_counter()
    cmd = [sys.executable, str(Path(args.generator_path).resolve()), str(out)]
    cmd += ["--target-mb", f"{args.size_mb:g}", "--seed", str(args.seed), "--zip"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"the shared generator failed: {proc.stderr[-2000:]}")
    print(f"generated in {time.perf_counter() - t:.1f} s", flush=True)
    manifest = {**_external_manifest(out, work, "shared"), **want}
    try:
        summary = json.loads(proc.stdout)
        manifest["days"] = summary.get("days")
        if summary.get("records") is not None and summary["records"] != manifest["records"]:
            raise SystemExit(
                f"the generator says {summary['records']} records, the XML holds "
                f"{manifest['records']} <Record tags"
            )
    except json.JSONDecodeError:
        pass
    man_path.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return manifest


def _describe(manifest: dict) -> str:
    parts = [
        f"{manifest['xml_bytes'] / 1e6:,.1f} MB export.xml",
        f"{manifest['zip_bytes'] / 1e6:,.1f} MB export.zip",
    ]
    if manifest.get("days"):
        parts.append(f"{manifest['days']} days")
    rec = f"{manifest['records']:,} <Record> tags"
    if "records_in_correlations" in manifest:
        rec += (
            f" ({manifest['records_in_correlations']} in correlations, "
            f"{manifest['records_unmapped']:,} of unmapped types)"
        )
    parts.append(rec)
    if "metadata_in_records" in manifest:
        parts.append(
            f"{manifest['metadata_in_records']:,} MetadataEntry, {manifest['hrv_beats']:,} HRV "
            "beats"
        )
    parts.append(
        f"{manifest['workouts']} workouts, {manifest['activity_summaries']} activity summaries"
    )
    parts.append(f"{manifest['xml_bytes'] / manifest['records']:.0f} bytes/record")
    return "export (" + manifest.get("generator", "crampwatch") + "): " + ", ".join(parts)


def _bench(args, gen, work: Path, hk: str | None) -> int:
    # ---- the export
    if args.export:
        manifest = _external_manifest(Path(args.export), work, "given")
    elif args.generator == "shared":
        manifest = _shared_export(args, work)
    else:
        manifest = _own_export(args, gen, work)
    os.sync()  # no writeback of the fresh files during the timed runs
    xml, zpath = Path(manifest["xml_path"]), Path(manifest["zip_path"])
    member = manifest.get("member", gen.ZIP_MEMBER)
    print(_describe(manifest), flush=True)

    env = dict(os.environ, PYTHONHASHSEED="0")
    me = [sys.executable, str(Path(__file__).resolve())]
    rows: list[Run] = []
    failures: list[str] = []

    # ---- floors
    if shutil.which("unzip"):
        rows.append(
            measure(
                "inflate floor: unzip -p > /dev/null",
                ["unzip", "-p", str(zpath), member],
                stdout=subprocess.DEVNULL,
            )
        )
    rows.append(
        measure(
            "inflate floor: Python zipfile 16 MiB reads",
            me + ["--child-inflate", str(zpath), member],
            env=env,
        )
    )

    # ---- crampwatch
    infos = {}
    for label, src in (("crampwatch export.zip", zpath), ("crampwatch export.xml", xml)):
        runs = []
        for i in range(max(args.repeat, 1)):
            db = work / f"cw_{src.suffix[1:]}_{i}.duckdb"
            for p in (db, Path(str(db) + ".wal")):
                p.unlink(missing_ok=True)
            run = measure(label, me + ["--child-import", str(src), str(db)], env=env, cwd=REPO)
            try:
                run.info = count_check(run, manifest)
            except CountCheckError as exc:
                failures.append(str(exc))
                print(str(exc), file=sys.stderr, flush=True)
            runs.append(run)
            print(
                f"  {label} run {i + 1}: {run.seconds:.2f} s, peak {run.peak_sum_mib:.0f} MiB",
                flush=True,
            )
            if not args.keep:
                db.unlink(missing_ok=True)
        best = _median_run(runs)
        infos[label] = best.info
        rows.append(best)

    # ---- the command a user runs, end to end (console script: start-up, CLI, ledger,
    # snapshot publish included), beside import_file above
    cmd_runs = []
    for i in range(max(args.repeat, 1)):
        db = work / f"cw_cmd_{i}.duckdb"
        for p in (db, Path(str(db) + ".wal"), db.with_name(f"{db.stem}.snapshot.duckdb")):
            p.unlink(missing_ok=True)
        cli = [
            sys.executable,
            "-m",
            "pipeline.cli",
            "ingest",
            str(zpath),
            "--participant",
            "bench",
            "--db",
            str(db),
            "--no-prefect",
        ]
        run = measure("crampwatch ingest export.zip (command)", cli, env=env, cwd=REPO)
        if run.returncode != 0:
            failures.append(f"crampwatch ingest failed: {run.stderr[-2000:]}")
        cmd_runs.append(run)
        print(
            f"  crampwatch ingest (command) run {i + 1}: {run.seconds:.2f} s, "
            f"peak {run.peak_sum_mib:.0f} MiB",
            flush=True,
        )
        if not args.keep:
            for p in (db, db.with_name(f"{db.stem}.snapshot.duckdb")):
                p.unlink(missing_ok=True)
    if cmd_runs:
        rows.append(_median_run(cmd_runs))

    # ---- baseline
    baseline = None
    if hk:
        hk_db = work / "hk.db"
        hk_db.unlink(missing_ok=True)
        baseline = measure(
            "healthkit-to-sqlite export.zip", [hk, str(zpath), str(hk_db), "--silent"], env=env
        )
        if baseline.returncode != 0:
            failures.append(f"healthkit-to-sqlite failed: {baseline.stderr[-2000:]}")
            baseline = None
        else:
            rows.append(baseline)
            print(f"  healthkit-to-sqlite: {baseline.seconds:.2f} s", flush=True)
        if not args.keep:
            hk_db.unlink(missing_ok=True)

    # ---- report
    print()
    print(
        f"Apple Health import, {manifest['xml_bytes'] / 1e6:,.1f} MB export.xml "
        f"({manifest['zip_bytes'] / 1e6:,.1f} MB zip), {manifest['records']:,} records, "
        + (
            f"given export {args.export}"
            if args.export
            else f"generator {args.generator}, seed {args.seed}"
        )
        + f"; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}"
    )
    print(_fmt_table(rows, manifest, baseline))
    print()
    for label, info in infos.items():
        if "stages" not in info:
            continue
        st, cc = info["stages"], info.get("count_check", {})
        other = st["import_file_s"] - st["sha256_s"] - st["insert_new_s"] - st["wait_batches_s"]
        print(
            f"{label}: store.connect {st['connect_s']:.2f} s; import_file "
            f"{st['import_file_s']:.2f} s = sha256 {st['sha256_s']:.2f} + writing "
            f"(insert_new) {st['insert_new_s']:.2f} + waiting for batches "
            f"{st['wait_batches_s']:.2f} + other {other:.2f}; the importer was busy "
            f"{st['reader_s']:.2f} s (read-ahead thread, inflating in its own thread); "
            f"close (checkpoint) {st['close_s']:.2f} s"
        )
        if cc:
            dup = f" + {cc['duplicates']:,} duplicates" if cc.get("duplicates") else ""
            print(
                f"  count check OK: {cc['in_db']:,} rows in samples + sleep_segments + "
                f"rejected_rows, + {cc['skipped_by_design']:,} skipped by design{dup} = "
                f"{cc['generator_records']:,} <Record> tags written"
            )
    cw_zip = next((r for r in rows if r.name == "crampwatch export.zip"), None)
    if cw_zip is not None:
        peak = max(r.peak_sum_mib for r in rows if r.name.startswith("crampwatch"))
        if baseline:
            ratio = baseline.seconds / cw_zip.seconds
            shown = math.floor(ratio * 100) / 100  # never rounded up to the target
            print(
                f"HEADLINE: crampwatch from export.zip is {shown:.2f}x healthkit-to-sqlite "
                f"(target >= {TARGET_RATIO:g}x: {'met' if ratio >= TARGET_RATIO else 'MISSED'})"
                f"; CPU time {baseline.cpu_s / cw_zip.cpu_s:.2f}x less"
            )
        cmd = next((r for r in rows if r.name.startswith("crampwatch ingest")), None)
        if baseline and cmd is not None:
            ratio = baseline.seconds / cmd.seconds
            shown = math.floor(ratio * 100) / 100
            print(
                f"HEADLINE (command): crampwatch ingest export.zip, end to end, is {shown:.2f}x "
                f"healthkit-to-sqlite (target >= {TARGET_RATIO:g}x: "
                f"{'met' if ratio >= TARGET_RATIO else 'MISSED'}); CPU time "
                f"{baseline.cpu_s / cmd.cpu_s:.2f}x less"
            )
        print(
            f"peak RSS summed (crampwatch): {peak:,.0f} MiB (target < {TARGET_PEAK_MIB:,.0f} "
            f"MiB: {'met' if peak < TARGET_PEAK_MIB else 'MISSED'})"
        )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "manifest": manifest,
                    "load": os.getloadavg(),
                    "rows": [
                        {k: v for k, v in r.__dict__.items() if k not in ("stdout", "stderr")}
                        for r in rows
                    ],
                    "failures": failures,
                },
                indent=1,
            ),
            encoding="utf-8",
        )
    if failures:
        print("FAILED:\n" + "\n".join(failures), file=sys.stderr)
        return 1
    print("count check: PASSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
