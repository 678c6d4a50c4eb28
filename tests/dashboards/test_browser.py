"""The real server in Debian Chromium (Playwright sync API, run in a child process).

Skipped when /usr/bin/chromium is missing, unless CRAMPWATCH_REQUIRE_BROWSER=1 (CI), which
turns the skip into a failure. Saves full-page screenshots to artifacts/dashboard.png and artifacts/days.png.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from dashboards.serve import serve_command, wait_healthy
from tests.dashboards.store_data import EXPECTED, REPO

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
DRIVER = Path(__file__).with_name("browser_driver.py")
ARTIFACTS = REPO / "artifacts"

METRIC_LABELS = {
    "nights": "Nights with sleep data",
    "cramp_nights": "Nights with cramp episodes",
    "dehydration_days": "Dehydration-condition days",
    "journal_cramps": "Journal-reported cramps",
}


def _expected(pid: str) -> dict[str, str]:
    return {METRIC_LABELS[k]: str(v) for k, v in EXPECTED[pid].items()}


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} not installed (apt-get install -y chromium)"
    if os.environ.get("CRAMPWATCH_REQUIRE_BROWSER") == "1":
        pytest.fail(message + "; CRAMPWATCH_REQUIRE_BROWSER=1 requires the browser test")
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(store, tmp_path):
    _require_chromium()
    port = _free_port()
    argv, env = serve_command(store, port=port)
    log = (tmp_path / "streamlit.log").open("w")
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, timeout_s=90, proc=proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_dashboard_in_chromium(server):
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "dashboard.png"
    days_shot = ARTIFACTS / "days.png"
    shot.unlink(missing_ok=True)
    days_shot.unlink(missing_ok=True)
    run = subprocess.run(
        [
            sys.executable,
            str(DRIVER),
            server,
            str(shot),
            "--night-row",
            "1",
            "--then-participant",
            "P02",
            "--timezone",
            "America/Los_Angeles",
            "--days-screenshot",
            str(days_shot),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout)

    first = result["first"]
    assert first["exceptions"] == 0
    assert first["charts"] == 1
    assert first["title"] == "Nights · P01"
    assert first["metrics"] == _expected("P01")

    night = result["night_selected"]
    assert night["exceptions"] == 0
    assert night["night"].startswith("Thu 8 Jan 2026")
    # participant's wall clock although the browser runs in Los Angeles: the sleep period
    # 23:00-07:00 (UTC+1) is plotted 22:00-08:00 with an awake bout in the hypnogram
    assert night["axis_labels"][night["axis_labels"].index("22:00") :][:3] == [
        "22:00",
        "23:00",
        "00:00",
    ]
    assert "awake" in night["axis_labels"]

    switched = result["participant_switched"]
    assert switched["exceptions"] == 0
    assert switched["title"] == "Nights · P02"
    assert switched["metrics"] == _expected("P02")

    days = result["days"]
    assert days["exceptions"] == 0
    assert days["title"] == "Days and triggers · P01"
    assert days["metrics"]["Days with fluids logged"] == "4 of 6"
    assert days["charts"] == 1
    assert len(days["chart_titles"]) == 6  # every panel drawn
    assert days_shot.exists() and days_shot.stat().st_size > 50_000

    assert result["failed_requests"] == []  # nothing tried to reach the internet
    assert shot.exists() and shot.stat().st_size > 50_000


def test_missing_chromium_skips_unless_required(monkeypatch, tmp_path):
    import tests.dashboards.test_browser as me

    monkeypatch.setattr(me, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.delenv("CRAMPWATCH_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception):
        _require_chromium()
    monkeypatch.setenv("CRAMPWATCH_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception):
        _require_chromium()
