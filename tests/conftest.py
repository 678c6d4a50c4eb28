"""Shared test set-up: a private Prefect home, privacy settings, paths."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Before anything imports prefect: a throw-away Prefect home, no analytics, a generous
# start-up timeout for the temporary API server on a loaded 2-core machine.
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="crampwatch-prefect-"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
os.environ.pop("CRAMPWATCH_DB", None)

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
SAMPLE_DATA = REPO / "sample_data"
