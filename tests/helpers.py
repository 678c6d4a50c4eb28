"""Helpers shared by the tests (plain functions; fixtures live in conftest.py)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from pipeline import importers
from tests.conftest import REPO


def tree_digest(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root``, by relative path (same bytes, same result)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


#: catch-all layouts that accept any timestamped CSV: the "only its own format" checks leave
#: them out (detection order puts them last)
CATCH_ALL = ("generic_csv",)


def sniffing_formats(head: bytes, name: str, *, exclude: tuple[str, ...] = CATCH_ALL) -> set[str]:
    """The formats of every registry entry whose ``sniff`` accepts ``head`` / ``name``."""
    out = set()
    for entry, _ in importers.IMPORTERS:
        reader = importers._load(entry)
        if reader.FORMAT not in exclude and reader.sniff(head, name):
            out.add(reader.FORMAT)
    return out


def run_benchmark(script: str, *args: str, timeout: float = 180) -> str:
    """Run ``benchmarks/<script>`` with this interpreter from the repository root; its
    stdout (the figures). Fails the test, with the end of its output, when it fails."""
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / script), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout
