"""detectors/tables.py is the store's schema as data: it must match the migrations exactly."""

from __future__ import annotations

import polars as pl
import pytest

from detectors import tables
from pipeline import store


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> dict[str, dict[str, str]]:
    db = tmp_path_factory.mktemp("tables") / "t.duckdb"
    with store.connect(db) as con:
        out: dict[str, dict[str, str]] = {}
        for t, c, ty in con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'main' AND table_name IN (SELECT table_name FROM "
            "information_schema.tables WHERE table_type = 'BASE TABLE') "
            "ORDER BY table_name, ordinal_position"
        ).fetchall():
            out.setdefault(t, {})[c] = ty
        views = {}
        for t, c, ty in con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'main' AND table_name IN (SELECT table_name FROM "
            "information_schema.tables WHERE table_type = 'VIEW') "
            "ORDER BY table_name, ordinal_position"
        ).fetchall():
            views.setdefault(t, {})[c] = ty
    out["__views__"] = views
    return out


def test_every_table_and_no_other(migrated) -> None:
    assert sorted(tables.TABLES) == sorted(t for t in migrated if t != "__views__")
    assert sorted(tables.VIEWS) == sorted(migrated["__views__"])


def test_columns_in_order_with_their_types(migrated) -> None:
    for t, cols in migrated.items():
        if t == "__views__":
            continue
        want = {c: tables.DUCKDB_TYPES[ty] for c, ty in cols.items()}
        assert list(tables.TABLES[t]) == list(want), t
        assert tables.TABLES[t] == want, t
    for t, cols in migrated["__views__"].items():
        assert tables.VIEWS[t] == {c: tables.DUCKDB_TYPES[ty] for c, ty in cols.items()}, t


def test_importer_batches_and_detector_frames_take_their_schemas_from_it() -> None:
    from detectors import frames
    from pipeline.importers import apple_health, fitabase, garmin_fit, generic_csv, oura

    assert apple_health.SAMPLES_SCHEMA == tables.rows("samples") == fitabase.SAMPLES_SCHEMA
    assert generic_csv.SAMPLES_SCHEMA == tables.rows("samples")
    for mod in (apple_health, fitabase, garmin_fit, oura):
        assert mod.SLEEP_SCHEMA == tables.rows("sleep_segments")
    assert garmin_fit.WORKOUTS_SCHEMA == tables.rows("workouts") == apple_health.WORKOUTS_SCHEMA
    for name, schema in (
        ("samples", frames.SAMPLES_SCHEMA),
        ("workouts", frames.WORKOUTS_SCHEMA),
        ("sleep_segments", frames.SLEEP_SEGMENTS_SCHEMA),
    ):
        assert schema == tables.columns(name, list(schema)), name


def test_rows_and_columns() -> None:
    assert "import_id" not in tables.rows("samples")
    assert tables.columns("samples", ["value", "metric"]) == {
        "value": pl.Float64,
        "metric": pl.String,
    }
    with pytest.raises(KeyError, match="nope"):
        tables.columns("samples", ["nope"])
