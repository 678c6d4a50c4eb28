"""The dashboard's queries keep working while another process writes and publishes."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from dashboards import queries
from tests.dashboards.store_data import EXPECTED, P01_CRAMP_NIGHT

WRITER = Path(__file__).with_name("writer_loop.py")
ROUNDS = 12


def test_reader_never_fails_while_a_writer_publishes(fresh_store):
    writer = subprocess.Popen(
        [
            sys.executable,
            str(WRITER),
            str(fresh_store),
            "--rounds",
            str(ROUNDS),
            "--interval-s",
            "0.15",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "ready"
        # the store itself is locked by the writer: the dashboard must be reading the snapshot
        with pytest.raises(duckdb.IOException, match="Could not set lock"):
            duckdb.connect(str(fresh_store), read_only=True)

        failures: list[str] = []
        seen: list[int] = []
        reads = 0
        deadline = time.monotonic() + 120
        while writer.poll() is None and time.monotonic() < deadline:
            try:
                summary = queries.run(fresh_store, queries.summary, participant_id="P01")
                nights = queries.run(fresh_store, queries.nights, participant_id="P01")
                detail = queries.run(
                    fresh_store,
                    queries.night_detail,
                    participant_id="P01",
                    night_of=P01_CRAMP_NIGHT,
                )
                queries.run(fresh_store, queries.participants)
                reads += 1
            except Exception as exc:  # noqa: BLE001 - every failure is what we count
                failures.append(repr(exc))
                continue
            # one connection per call, so these may come from different snapshots; each one
            # must still be internally complete
            assert nights.height >= EXPECTED["P01"]["nights"]
            assert detail is not None and detail["episodes"].height == 1
            seen.append(summary["nights_with_sleep"])
        out, err = writer.communicate(timeout=60)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    assert writer.returncode == 0, err
    assert out.strip().splitlines()[-1] == f"published {ROUNDS} {5 + ROUNDS}"
    assert failures == []
    assert reads >= 5
    assert seen == sorted(seen), "a reader went back to an older snapshot"
    assert len(set(seen)) >= 3, f"reader saw too few publishes: {sorted(set(seen))}"
    print(f"{reads} reads, saw {len(set(seen))} versions")
    # after the last publish a fresh read sees everything
    final = queries.run(fresh_store, queries.summary, participant_id="P01")
    assert final["nights_with_sleep"] == EXPECTED["P01"]["nights"] + ROUNDS
    newest = queries.run(fresh_store, queries.nights, participant_id="P01")["night_of"][0]
    assert newest == date(2026, 2, ROUNDS)
