"""``crampwatch dashboard`` takes its Streamlit child with it (issue 13, "Stopping"): after a
SIGTERM and after a kill -9 of the CLI process the port is free again within seconds."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dashboards.serve import wait_healthy
from tests.dashboards.store_data import REPO

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG and /proc are Linux"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is gone for our purpose


def _start(store: Path) -> tuple[subprocess.Popen, int, int]:
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipeline.cli",
            "dashboard",
            "--port",
            str(port),
            "--db",
            str(store),
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_healthy(f"http://127.0.0.1:{port}", timeout_s=90, proc=proc)
    (child,) = _children(proc.pid)
    return proc, port, child


def _gone_within(port: int, child: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _port_open(port) and not _alive(child):
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["term", "kill9"])
def test_killing_the_dashboard_frees_the_port(store, sig) -> None:
    proc, port, child = _start(store)
    try:
        assert _port_open(port)
        os.kill(proc.pid, sig)
        proc.wait(timeout=20)
        assert _gone_within(port, child, 15), f"Streamlit child {child} still holds {port}"
        if sig == signal.SIGTERM:
            assert proc.returncode == 128 + signal.SIGTERM
    finally:
        for pid in (proc.pid, child):
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
