"""Smoke test of benchmarks/dashboard.py at a tiny size (2 websocket clients, one writer
round, no browser): the figures are printed, nothing failed, the clients saw the last
publish. No timing is asserted. Marked slow: it builds a store and runs `crampwatch run`
twice and a server, 40-90 s on 2 cores."""

from __future__ import annotations

import json
import re

import pytest

from tests.helpers import run_benchmark


@pytest.mark.slow
def test_dashboard_benchmark_tiny(tmp_path):
    out_json = tmp_path / "dashboard.json"
    out = run_benchmark(
        "dashboard.py",
        "--clients",
        "2",
        "--duration-s",
        "1",
        "--baseline-s",
        "2",
        "--sample-nights",
        "7",
        "--no-browser",
        "--json",
        str(out_json),
        timeout=300,
    )
    assert re.search(r"dashboard under load: 2 websocket clients, \d+ s of load", out)
    m = re.search(r"  websocket\s+(\d+)\s+([0-9.]+)\s+([0-9.]+)\s+(\d+)\s+([0-9.]+)", out)
    assert m, out
    assert int(m.group(1)) >= 1 and int(m.group(4)) >= 1  # pages under load and alone
    assert 0 < float(m.group(2)) <= float(m.group(3))  # p50 <= p95
    assert "browser" not in out.split("errors:")[0].split("client kind")[1]
    assert re.search(r"^errors: 0 \(none\)$", out, re.M), out
    assert re.search(r"nightly run under load / alone: [0-9.]+x", out)
    # one writer round added two participants; every client's next page showed them
    assert re.search(r"after the last publish 4 \(clients' first page then; store: 4\)", out)

    figures = json.loads(out_json.read_text())
    assert figures["errors_total"] == 0
    assert figures["writer"]["rounds"] == 1
    assert len(figures["writer"]["alone_s"]) == 1
    assert figures["kinds"]["websocket"]["p95_s"] >= figures["kinds"]["websocket"]["p50_s"]
