"""The public interface is documented: every table column in docs/data-model.md, every CLI
command in the README, and the README's ad hoc queries run against a real store."""

from __future__ import annotations

import re

import pytest

from pipeline import store
from pipeline.cli import main as cli
from tests.conftest import REPO

DATA_MODEL = (REPO / "docs" / "data-model.md").read_text(encoding="utf-8")
README = (REPO / "README.md").read_text(encoding="utf-8")


def _documented_columns(table: str) -> set[str]:
    section = DATA_MODEL.split(f"## {table}", 1)[1].split("\n## ", 1)[0]
    cols: set[str] = set()
    for line in section.splitlines():
        if (
            line.startswith("| ")
            and not line.startswith("| column")
            and not line.startswith("|---")
        ):
            cols.update(c.strip(" `") for c in line.split("|")[1].split(","))
    return cols


def test_every_column_of_every_table_is_documented(tmp_path):
    with store.connect(tmp_path / "s.duckdb") as con:
        rows = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'main' ORDER BY 1"
        ).fetchall()
    missing = [f"{t}.{c}" for t, c in rows if c not in _documented_columns(t)]
    assert not missing, f"undocumented in docs/data-model.md: {missing}"


def test_every_cli_command_is_in_the_readme():
    missing = [name for name in cli.commands if f"crampwatch {name}" not in README]
    assert not missing, f"commands not shown in README: {missing}"


def test_readme_queries_run(tmp_path):
    queries = re.findall(r'uv run crampwatch sql "(.*?)"(?:[ \t][^\n]*)?\n', README, re.S)
    assert len(queries) >= 3
    with store.connect(tmp_path / "s.duckdb") as con:  # empty store: the SQL must bind
        for q in queries:
            try:
                con.sql(q).fetchall()
            except Exception as exc:  # noqa: BLE001
                pytest.fail(f"README query failed: {exc}\n{q}")
