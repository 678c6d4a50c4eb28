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
import zlib
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


class BrokenFileError(ImportFormatError):
    """The file is in a format crampwatch reads (a zip archive, ...) but is broken (truncated,
    corrupt): the import *failed*, unlike a file of a format crampwatch does not read, which
    is *skipped* (message names the file)."""


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


#: characters of a rejected row's ``raw`` text and ``reason`` kept (a reason quotes the bad
#: value, which may be a 50 MB field)
MAX_RAW_CHARS = 2000
MAX_REASON_CHARS = 1000


def rejected(record_nos: list[int], reasons: list[str], raws: list[str]) -> Batch:
    """Build a ``rejected_rows`` batch (raw text truncated to :data:`MAX_RAW_CHARS`, the
    reason to :data:`MAX_REASON_CHARS` characters)."""
    return Batch(
        "rejected_rows",
        pl.DataFrame(
            {
                "record_no": record_nos,
                "reason": [_cut(r, MAX_REASON_CHARS) for r in reasons],
                "raw": [r[:MAX_RAW_CHARS] for r in raws],
            },
            schema={"record_no": pl.Int64, "reason": pl.String, "raw": pl.String},
        ),
    )


def _cut(text: str | None, n: int) -> str | None:
    return text if text is None or len(text) <= n else text[: n - 1] + "…"


#: importer modules in detection order (more specific formats first): ``module`` or
#: ``module:ATTR``, with what a person would call the export (the "not recognised" message
#: lists these)
IMPORTERS: tuple[tuple[str, str], ...] = (
    ("apple_health", "Apple Health export.zip / export.xml"),
    ("open_meteo", "Open-Meteo hourly CSV"),
    ("open_meteo:JSON", "Open-Meteo hourly JSON"),
    ("journal_csv", "crampwatch journal CSV"),
    ("participants_csv", "participants CSV"),
    ("fitabase", "Fitabase / Fitbit CSV (minute, hourly, daily, heart rate, sleep, weight)"),
    ("fitbit_takeout", "Fitbit account export JSON"),
    ("garmin_fit", "Garmin FIT file"),
    ("oura", "Oura CSV"),
    ("oura:JSON", "Oura JSON"),
    ("meteostat", "Meteostat hourly CSV"),
    ("meteostat:JSON", "Meteostat JSON"),
    ("noaa_isd_lite", "NOAA ISD-Lite"),
    ("noaa_isd_lite:LCD", "NOAA Local Climatological Data CSV"),
    ("indoor_csv", "indoor temperature/humidity CSV"),
    ("accelerometry", "raw accelerometry CSV"),
    ("accelerometry:WALCH", "Walch et al. acceleration file"),
    ("accelerometry:WALCH_HR", "Walch et al. heart-rate file"),
    # last: the catch-all timestamp,metric,value,unit layout
    ("generic_csv", "generic CSV (timestamp,metric,value,unit)"),
)


def _load(entry: str) -> ModuleType:
    """The importer for one ``IMPORTERS`` entry (``module`` or ``module:ATTR``).

    Fails loudly: a misspelt or missing entry is a programming error, never a silently
    disabled format.
    """
    import importlib

    name, _, attr = entry.partition(":")
    module = importlib.import_module(f"pipeline.importers.{name}")
    if not attr:
        return module
    try:
        return getattr(module, attr)
    except AttributeError as exc:
        raise ImportError(
            f"IMPORTERS entry {entry!r}: pipeline.importers.{name} has no {attr}"
        ) from exc


def _iter_registry() -> Iterator[ModuleType]:
    """Importers in detection order, each module imported only when its turn comes.

    Lazy on purpose: importing all of them costs 0.4-1 s (``garmin_fit_sdk`` alone 0.2 s),
    paid on every file, while most files are recognised by the first few sniffers.
    """
    for entry, _ in IMPORTERS:
        yield _load(entry)


def _registry() -> list[ModuleType]:
    """Every importer, in detection order."""
    return list(_iter_registry())


def known_formats() -> str:
    """The exports crampwatch reads, for messages (from :data:`IMPORTERS`)."""
    return "; ".join(desc for _, desc in IMPORTERS)


def _first_line(head: bytes) -> str:
    """The head's first line for a message, or a note that it is binary."""
    if not head:
        return "(empty file)"
    if b"\x00" in head[:1024]:
        return f"(binary data, starts with bytes {head[:8].hex(' ')})"
    line = head[:200].decode("utf-8", "replace").splitlines()[0] if head.strip() else ""
    return repr(line[:120])


def read_head(path: Path) -> tuple[bytes, str]:
    """First bytes of a file, or of the main member of a zip (name returned alongside)."""
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as zf:
                names = [i for i in zf.infolist() if not i.is_dir()]
                # Apple: apple_health_export/export.xml; otherwise the first member
                main = next(
                    (i for i in names if i.filename.endswith("export.xml")),
                    names[0] if names else None,
                )
                if main is None:
                    return b"", path.name
                with zf.open(main) as member:
                    return member.read(HEAD_BYTES), main.filename
        except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
            raise BrokenFileError(
                f"{path}: corrupt or truncated zip archive ({exc}); copy or download it again"
            ) from exc
    return head, path.name


def detect_format(path: Path) -> ModuleType:
    """The importer module for ``path``, chosen from its content; raises ImportFormatError."""
    head, name = read_head(path)
    for module in _iter_registry():
        if module.sniff(head, name):
            return module
    raise ImportFormatError(
        f"{path}: not a recognised export; crampwatch reads: {known_formats()}. "
        f"First line: {_first_line(head)}"
    )


def iter_candidate_files(root: Path) -> Iterator[Path]:
    """Every regular file under ``root`` (or ``root`` itself), sorted, hidden files skipped."""
    if root.is_file():
        yield root
        return
    for p in sorted(root.rglob("*")):
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts):
            yield p
