"""Fixtures of the dashboard tests: a small store with known answers (see store_data.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dashboards.store_data import build_store


@pytest.fixture(scope="session")
def store(tmp_path_factory) -> Path:
    """Path of a populated store (snapshot published beside it). Shared: tests only read it."""
    return build_store(tmp_path_factory.mktemp("store") / "crampwatch.duckdb")


@pytest.fixture
def fresh_store(tmp_path) -> Path:
    """A populated store of the test's own, for tests that write to it."""
    return build_store(tmp_path / "crampwatch.duckdb")


@pytest.fixture
def app_env(monkeypatch, store) -> Path:
    monkeypatch.setenv("CRAMPWATCH_DB", str(store))
    return store
