"""Smoke test of the Apple Health ingest benchmark: it runs at a tiny size, prints its
figures and passes its count check. No timing is asserted (speed is noise on CI)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.helpers import run_benchmark

BENCH = REPO / "benchmarks" / "ingest_apple_health.py"
HK = shutil.which("healthkit-to-sqlite") or str(Path(sys.executable).parent / "healthkit-to-sqlite")


def _run(tmp_path: Path, *args: str) -> tuple[str, dict]:
    out_json = tmp_path / "figures.json"
    out = run_benchmark(
        BENCH.name,
        "--seed",
        "3",
        "--keep",
        str(tmp_path / "work"),
        "--json",
        str(out_json),
        *args,
        timeout=120,
    )
    return out, json.loads(out_json.read_text(encoding="utf-8"))


def test_benchmark_runs_and_passes_its_count_check(tmp_path):
    """One tiny run, with the healthkit-to-sqlite baseline when it is installed
    (``uv run --group bench``)."""
    baseline = Path(HK).exists()
    out, figures = _run(tmp_path, "--size-mb", "2", *([] if baseline else ["--skip-baseline"]))
    assert "| method | seconds | CPU s | records/s | MB/s (XML) | peak RSS summed MiB" in out
    names = ["crampwatch export.zip", "crampwatch export.xml", "inflate floor: Python zipfile"]
    names += ["inflate floor: unzip -p"] if shutil.which("unzip") else []
    names += ["healthkit-to-sqlite export.zip"] if baseline else []
    for name in names:
        row = next(line for line in out.splitlines() if line.startswith(f"| {name}"))
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert float(cells[1].split()[0]) > 0  # seconds
        if name.startswith("crampwatch"):  # a floor may end before the first RSS sample
            assert float(cells[5].replace(",", "")) > 50  # peak RSS summed, MiB
    assert out.count("count check OK") == 2
    assert "count check: PASSED" in out
    assert ("HEADLINE: crampwatch from export.zip is" in out) == baseline

    manifest = figures["manifest"]
    assert 1.5e6 < manifest["xml_bytes"] < 2.5e6
    assert manifest["records_in_correlations"] > 0 and manifest["records_unmapped"] > 0
    assert not figures["failures"]
    cw = [
        r
        for r in figures["rows"]
        if r["name"] in ("crampwatch export.zip", "crampwatch export.xml")
    ]
    assert len(cw) == 2
    # the command a user runs, end to end, beside import_file
    cmd = [r for r in figures["rows"] if r["name"] == "crampwatch ingest export.zip (command)"]
    assert len(cmd) == 1 and cmd[0]["returncode"] == 0 and cmd[0]["seconds"] > 0
    assert cmd[0]["peak_sum_mib"] > 50
    for row in cw:
        check = row["info"]["count_check"]
        assert check["in_db"] + check["skipped_by_design"] == manifest["records"]
        assert row["peak_sum_mib"] >= row["max_single_mib"] > 50


def test_count_check_fails_loudly():
    sys.path.insert(0, str(REPO))
    from benchmarks import ingest_apple_health as bench

    info = {
        "result": {"status": "ok", "error": None, "rows_duplicate": 0},
        "counts": {"samples": 90, "sleep_segments": 5, "rejected_rows": 1, "workouts": 2},
        "summary": {"records_seen": 100, "records_in_correlations": 2, "unmapped": 2},
    }
    run = bench.Run(
        name="crampwatch export.zip",
        seconds=1.0,
        cpu_s=1.0,
        peak_sum_mib=1.0,
        max_single_mib=1.0,
        hwm_sum_mib=1.0,
        processes=1,
        returncode=0,
        stdout="CRAMPWATCH-RESULT " + json.dumps(info),
    )
    ok = bench.count_check(run, {"records": 100, "workouts": 2})
    assert ok["count_check"]["skipped_by_design"] == 4
    with pytest.raises(bench.CountCheckError, match="COUNT CHECK FAILED.*!= 101"):
        bench.count_check(run, {"records": 101, "workouts": 2})


def _gen_tiny(out: Path) -> Path:
    from simulators import apple_export as gen

    spec = gen.ExportSpec(start=gen.DEFAULT_END, days=3, seed=4)
    return Path(gen.write_export(out, spec, make_zip=False).xml_path)


def test_benchmark_times_a_given_export(tmp_path):
    """--export: an export.xml from elsewhere (its zip is made in the work folder); the
    tags are counted in the XML for the count check."""
    xml = _gen_tiny(tmp_path / "given")
    out, figures = _run(tmp_path, "--export", str(xml), "--skip-baseline")
    assert "export (given)" in out and "count check: PASSED" in out
    manifest = figures["manifest"]
    assert manifest["records"] == xml.read_bytes().count(b"<Record ") > 0
    assert Path(manifest["zip_path"]).parent == tmp_path / "work"
    assert not figures["failures"]


SHARED = REPO.parent / "shared" / "tools" / "gen_apple_export.py"


@pytest.mark.skipif(not SHARED.exists(), reason="the shared generator is not beside the repo")
def test_benchmark_runs_the_shared_generator(tmp_path):
    """--generator shared --generator-path SCRIPT: the second generator's export."""
    out, figures = _run(
        tmp_path,
        "--generator",
        "shared",
        "--generator-path",
        str(SHARED),
        "--size-mb",
        "2",
        "--skip-baseline",
    )
    assert "export (shared)" in out and "count check: PASSED" in out
    assert figures["manifest"]["generator"] == "shared" and figures["manifest"]["records"] > 0


def test_count_tags_across_read_boundaries(tmp_path, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_ingest", BENCH)
    mod = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bench_ingest", mod)  # dataclasses look it up
    spec.loader.exec_module(mod)
    xml = tmp_path / "e.xml"
    xml.write_bytes(
        b"<HealthData>" + b'<Record type="x"/><Workout a="1"/>' * 1000 + b"</HealthData>"
    )
    real_open = open

    class Small:  # reads of 7 bytes: every tag is split somewhere
        def __init__(self, *a, **k):
            self.fh = real_open(*a, **k)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def read(self, n):
            return self.fh.read(7)

    monkeypatch.setattr(mod, "open", Small, raising=False)
    assert mod.count_tags(xml) == {"records": 1000, "workouts": 1000, "activity_summaries": 0}
