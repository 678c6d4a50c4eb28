"""One Prefect test harness (temporary API server on 127.0.0.1) for all flow tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
from prefect.testing.utilities import prefect_test_harness

from tests.conftest import SAMPLE_DATA


@pytest.fixture(autouse=True, scope="session")
def prefect_harness():
    with prefect_test_harness(server_startup_timeout=180):
        with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            yield


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    """A copy of the bundled sample inbox plus files no importer recognises."""
    dst = tmp_path_factory.mktemp("flows") / "inbox"
    shutil.copytree(SAMPLE_DATA / "inbox", dst)
    (dst / "README.md").write_text("# my exports\nput files here\n")
    (dst / "fetch.sh").write_text("#!/bin/sh\necho hi\n")
    return dst
