"""Helpers shared by the importer tests (plain functions; fixtures live in conftest.py)."""

from __future__ import annotations

from pipeline import importers

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
