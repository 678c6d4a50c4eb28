"""Start the dashboard as a local Streamlit server (used by ``crampwatch dashboard`` and tests).

>>> argv, env = serve_command("crampwatch.duckdb", port=8501)
>>> proc = subprocess.Popen(argv, env=env)
>>> wait_healthy("http://127.0.0.1:8501", timeout_s=60, proc=proc)

The server reads only the published snapshot (``*.snapshot.duckdb``) or, if there is none, the
store read-only; it binds to 127.0.0.1 by default and sends no usage statistics.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from pipeline.config import ENV_DB

APP = Path(__file__).resolve().parent / "app.py"
HEALTH_PATH = "/_stcore/health"


def serve_command(db_path: str | os.PathLike, port: int = 8501,
                  address: str = "127.0.0.1") -> tuple[list[str], dict[str, str]]:
    """``(argv, env)`` that start the dashboard on ``address:port`` for the store ``db_path``.

    ``env`` is the complete environment for the child (a copy of ``os.environ`` plus
    ``CRAMPWATCH_DB`` as an absolute path and ``STREAMLIT_BROWSER_GATHER_USAGE_STATS=false``),
    ready for ``subprocess.Popen(argv, env=env)``. The database need not exist yet: the page
    then tells the user to run ``crampwatch demo`` or ``crampwatch ingest``.
    """
    argv = [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--server.address", address,
        "--server.port", str(port),
        "--server.fileWatcherType", "none",
        "--client.toolbarMode", "viewer",
    ]
    env = dict(os.environ)
    env[ENV_DB] = str(Path(db_path).expanduser().resolve())
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    return argv, env


def wait_healthy(url: str, timeout_s: float = 60.0,
                 proc: subprocess.Popen | None = None) -> None:
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
            raise RuntimeError(f"dashboard server exited with code {proc.returncode} "
                               f"before it became healthy")
        try:
            with urllib.request.urlopen(health, timeout=2) as resp:
                if resp.status == 200 and resp.read().strip() == b"ok":
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
            last_error = exc
        if time.monotonic() > deadline:
            raise TimeoutError(f"{health} not healthy after {timeout_s:.0f} s"
                               + (f" (last error: {last_error})" if last_error else ""))
        time.sleep(0.2)
