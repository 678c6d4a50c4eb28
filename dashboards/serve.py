"""Start the dashboard as a local Streamlit server (used by ``crampwatch dashboard`` and tests).

>>> argv, env = serve_command("crampwatch.duckdb", port=8501)
>>> proc = subprocess.Popen(argv, env=env)
>>> wait_healthy("http://127.0.0.1:8501", timeout_s=60, proc=proc)

``crampwatch dashboard`` runs the server with :func:`run_server`, which ties the Streamlit
child's life to its own: the child runs in its own process group, SIGTERM, SIGINT and SIGHUP
are passed on to it, and on Linux it gets SIGTERM when the parent dies in any way, kill -9
included (``prctl(PR_SET_PDEATHSIG)``), so no orphaned server keeps holding the port.

The server reads only the published snapshot (``*.snapshot.duckdb``) or, if there is none, the
store read-only; it binds to 127.0.0.1 by default and sends no usage statistics.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from pipeline.config import ENV_DB

APP = Path(__file__).resolve().parent / "app.py"
HEALTH_PATH = "/_stcore/health"


def serve_command(
    db_path: str | os.PathLike, port: int = 8501, address: str = "127.0.0.1"
) -> tuple[list[str], dict[str, str]]:
    """``(argv, env)`` that start the dashboard on ``address:port`` for the store ``db_path``.

    ``env`` is the complete environment for the child (a copy of ``os.environ`` plus
    ``CRAMPWATCH_DB`` as an absolute path and ``STREAMLIT_BROWSER_GATHER_USAGE_STATS=false``),
    ready for ``subprocess.Popen(argv, env=env)``. The database need not exist yet: the page
    then tells the user to run ``crampwatch demo`` or ``crampwatch ingest``.
    """
    argv = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.address",
        address,
        "--server.port",
        str(port),
        "--server.fileWatcherType",
        "none",
        "--client.toolbarMode",
        "viewer",
    ]
    env = dict(os.environ)
    env[ENV_DB] = str(Path(db_path).expanduser().resolve())
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    return argv, env


def wait_healthy(url: str, timeout_s: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    """Poll ``<url>/_stcore/health`` until it answers ``ok``.

    ``url`` is the server's base URL (``http://127.0.0.1:8501``) or the health URL itself.
    Raises ``RuntimeError`` at once if ``proc`` (the server process, optional) exits, and
    ``TimeoutError`` after ``timeout_s`` seconds.
    """
    health = url if url.rstrip("/").endswith(HEALTH_PATH) else url.rstrip("/") + HEALTH_PATH
    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(
                f"dashboard server exited with code {proc.returncode} before it became healthy"
            )
        try:
            with urllib.request.urlopen(health, timeout=2) as resp:
                if resp.status == 200 and resp.read().strip() == b"ok":
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
            last_error = exc
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"{health} not healthy after {timeout_s:.0f} s"
                + (f" (last error: {last_error})" if last_error else "")
            )
        time.sleep(0.2)


#: ``prctl`` option: the signal a process gets when its parent dies (linux/prctl.h)
PR_SET_PDEATHSIG = 1
#: seconds a signalled server gets to stop before it is killed
STOP_TIMEOUT_S = 10.0
FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def _die_with_parent(parent_pid: int):
    """A ``preexec_fn`` (Linux): the child gets SIGTERM when the parent dies, even by kill -9;
    if the parent is already gone by the time the child runs this, the child exits at once.
    libc is loaded here, before the fork; elsewhere no ``preexec_fn`` (None)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def _signal_group(proc: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(proc.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def run_server(
    argv: list[str], env: dict[str, str], *, stop_timeout_s: float = STOP_TIMEOUT_S
) -> int:
    """Run the server of :func:`serve_command` until it exits; returns its exit status, or
    128 + the signal that stopped this process (130 for Ctrl-C).

    The child runs in its own process group; SIGTERM, SIGINT and SIGHUP received here are
    passed on to that group, and a child that has not stopped ``stop_timeout_s`` later is
    killed. On Linux the child also gets SIGTERM when this process dies without a chance to
    pass anything on (kill -9): ``prctl(PR_SET_PDEATHSIG)`` in the child before exec.
    """
    received: list[int] = []
    proc = subprocess.Popen(
        argv, env=env, process_group=0, preexec_fn=_die_with_parent(os.getpid())
    )

    def forward(signum, _frame) -> None:
        received.append(signum)
        _signal_group(proc, signum)

    previous = {}
    for sig in FORWARDED_SIGNALS:
        try:
            previous[sig] = signal.signal(sig, forward)
        except ValueError:  # not the main thread: the child still dies with the process
            break
    try:
        deadline = None
        while True:
            try:
                rc = proc.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                if received and deadline is None:
                    deadline = time.monotonic() + stop_timeout_s
                if deadline is not None and time.monotonic() > deadline:
                    _signal_group(proc, signal.SIGKILL)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if proc.poll() is None:  # this process is leaving for another reason
            _signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(timeout=stop_timeout_s)
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
    return 128 + received[0] if received else rc
