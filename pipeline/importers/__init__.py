"""Importers: one module per export format, detected from content.

Each importer module provides

``FORMAT``  the format name recorded in ``imports.format``;
``sniff(head: bytes, name: str) -> bool``
    True when the first bytes of a file (for a zip: of its main member) are this format;
``read(path: Path, ctx: ImportContext) -> Iterator[Batch]``
    stream the file as batches of canonical rows (never the whole file in memory).

The ingest driver (:mod:`pipeline.ingest`) owns the ledger, de-duplication and writing.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import polars as pl

#: tables an importer may emit rows for, with their natural keys
NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    "samples": ("participant_id", "metric", "start_utc", "end_utc", "source", "device"),
    "sleep_segments": ("participant_id", "start_utc", "end_utc", "stage", "source"),
    "workouts": ("participant_id", "activity_type", "start_utc", "source"),
    "environment": ("location_id", "time_utc", "setting", "source"),
    "journal": ("participant_id", "time_utc", "kind"),
    "participant_locations": ("participant_id", "location_id"),
    # raw accelerometry lives in Parquet files beside the store; this table indexes them
    "accelerometry_files": ("participant_id", "start_utc", "source"),
}
#: special batches: ``participants`` rows are upserted (non-null fields win);
#: ``rejected_rows`` rows (record_no, reason, raw) are kept aside with the import id.
SPECIAL_TABLES = ("participants", "rejected_rows")

HEAD_BYTES = 65536


class ImportFormatError(ValueError):
    """The file is not in a format crampwatch can import (message names the file)."""


@dataclass(frozen=True)
class ImportContext:
    """What the caller knows about a file beyond its content."""

    participant_id: str | None = None  # for formats that carry no participant id
    tz: str | None = None  # participant's IANA zone, for formats whose times lack an offset
    display_path: str = ""  # path as shown in errors and the ledger
    data_dir: Path | None = None  # folder beside the store for bulky data (Parquet)


@dataclass
class Batch:
    """Rows for one canonical table (columns as in docs/data-model.md, minus import_id)."""

    table: str
    frame: pl.DataFrame


def rejected(record_nos: list[int], reasons: list[str], raws: list[str]) -> Batch:
    """Build a ``rejected_rows`` batch (raw text truncated to 2000 characters)."""
    return Batch("rejected_rows", pl.DataFrame(
        {"record_no": record_nos, "reason": reasons, "raw": [r[:2000] for r in raws]},
        schema={"record_no": pl.Int64, "reason": pl.String, "raw": pl.String}))


#: importer modules in detection order (more specific formats first)
IMPORTERS = (
    "apple_health",
    "open_meteo",
    "open_meteo:JSON",
    "journal_csv",
    "participants_csv",
    "fitabase",
    "fitbit_takeout",
    "garmin_fit",
    "oura",
    "oura:JSON",
    "meteostat",
    "meteostat:JSON",
    "noaa_isd_lite",
    "noaa_isd_lite:LCD",
    "indoor_csv",
    "accelerometry",
    "accelerometry:WALCH",
    "accelerometry:WALCH_HR",
    "generic_csv",  # last: the catch-all timestamp,metric,value,unit layout
)


def _load(entry: str) -> ModuleType | None:
    """The importer for one ``IMPORTERS`` entry (``module`` or ``module:ATTR``), or None."""
    import importlib

    name, _, attr = entry.partition(":")
    try:
        module = importlib.import_module(f"pipeline.importers.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"pipeline.importers.{name}":
            raise
        return None  # importer not written yet
    return getattr(module, attr) if attr else module


def _iter_registry() -> Iterator[ModuleType]:
    """Importers in detection order, each module imported only when its turn comes.

    Lazy on purpose: importing all of them costs 0.4-1 s (``garmin_fit_sdk`` alone 0.2 s),
    paid on every file, while most files are recognised by the first few sniffers.
    """
    for entry in IMPORTERS:
        module = _load(entry)
        if module is not None:
            yield module


def _registry() -> list[ModuleType]:
    """Every available importer, in detection order."""
    return list(_iter_registry())


def read_head(path: Path) -> tuple[bytes, str]:
    """First bytes of a file, or of the main member of a zip (name returned alongside)."""
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as zf:
                names = [i for i in zf.infolist() if not i.is_dir()]
                # Apple: apple_health_export/export.xml; otherwise the first member
                main = next((i for i in names if i.filename.endswith("export.xml")),
                            names[0] if names else None)
                if main is None:
                    return b"", path.name
                with zf.open(main) as member:
                    return member.read(HEAD_BYTES), main.filename
        except zipfile.BadZipFile as exc:
            raise ImportFormatError(f"{path}: corrupt zip archive ({exc})") from exc
    return head, path.name


def detect_format(path: Path) -> ModuleType:
    """The importer module for ``path``, chosen from its content; raises ImportFormatError."""
    head, name = read_head(path)
    for module in _iter_registry():
        if module.sniff(head, name):
            return module
    first = head[:120].decode("utf-8", "replace").splitlines()[0] if head else "(empty file)"
    raise ImportFormatError(
        f"{path}: not a recognised export (Apple Health export.zip/export.xml, Open-Meteo "
        f"hourly CSV, crampwatch journal CSV or participants CSV); first line: {first!r}")


def iter_candidate_files(root: Path) -> Iterator[Path]:
    """Every regular file under ``root`` (or ``root`` itself), sorted, hidden files skipped."""
    if root.is_file():
        yield root
        return
    for p in sorted(root.rglob("*")):
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts):
            yield p
