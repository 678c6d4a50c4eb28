"""Safe reading of one member of a zip archive: streamed, never extracted to disk.

An archive is refused (:class:`UnsafeArchiveError`, a subclass of ``ImportFormatError`` whose
message names the file) when

* any member name could escape an extraction directory (absolute path, drive letter,
  ``..`` component, NUL byte): such an archive was not written by a phone;
* the chosen member declares more than ``ZipLimits.max_inflated_bytes`` uncompressed, or a
  compression ratio above ``ZipLimits.max_ratio`` (zip bomb);
* while streaming, the member inflates beyond its declared size or beyond the cap (a lying
  header is caught by the byte count, not trusted).

Corrupt or truncated archives, encrypted members and unsupported compression methods raise
``ImportFormatError`` as well. Nothing is written to disk at any point.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pipeline.importers import ImportFormatError

#: default cap on the inflated size of the member read (Apple exports reach ~5 GB of XML)
DEFAULT_MAX_INFLATED_BYTES = 50 * 1024**3
#: default cap on uncompressed/compressed size. Apple export.xml deflates 10-20x; deflate
#: itself tops out near 1032x, so 200x leaves headroom for real exports and stops bombs.
DEFAULT_MAX_RATIO = 200.0
#: members smaller than this are not ratio-checked (a small, very repetitive file is harmless)
RATIO_CHECK_MIN_BYTES = 1024**2

ZIP_MAGIC = b"PK\x03\x04"


class UnsafeArchiveError(ImportFormatError):
    """The archive is refused for safety (path traversal, zip bomb, lying sizes)."""


@dataclass(frozen=True)
class ZipLimits:
    """Limits applied when a member of an archive is streamed."""

    max_inflated_bytes: int = DEFAULT_MAX_INFLATED_BYTES
    max_ratio: float = DEFAULT_MAX_RATIO
    ratio_check_min_bytes: int = RATIO_CHECK_MIN_BYTES


_DRIVE = re.compile(r"^[A-Za-z]:")


def unsafe_member_name(name: str) -> str | None:
    """Why ``name`` could escape an extraction directory, or None when it is safe."""
    if "\x00" in name:
        return "NUL byte in member name"
    norm = name.replace("\\", "/")
    if norm.startswith("/"):
        return "absolute member path"
    if _DRIVE.match(norm):
        return "drive letter in member path"
    if any(part == ".." for part in norm.split("/")):
        return "'..' component in member path"
    return None


def is_zip(path: Path) -> bool:
    """True when the file starts with a zip local-file header."""
    with open(path, "rb") as fh:
        return fh.read(4) == ZIP_MAGIC


class _CappedReader:
    """Binary reader over a zip member that counts inflated bytes and enforces the limits."""

    def __init__(self, raw: BinaryIO, *, cap: int, declared: int, display: str, member: str):
        self._raw = raw
        self._cap = cap
        self._declared = declared
        self._display = display
        self._member = member
        self.bytes_read = 0

    def read(self, n: int = -1) -> bytes:
        try:
            data = self._raw.read(n)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise ImportFormatError(
                f"{self._display}: corrupt or truncated zip member {self._member!r} ({exc})"
            ) from exc
        self.bytes_read += len(data)
        if self.bytes_read > self._declared:
            raise UnsafeArchiveError(
                f"{self._display}: zip member {self._member!r} inflates beyond its declared "
                f"size of {self._declared} bytes (corrupt or malicious archive)"
            )
        if self.bytes_read > self._cap:
            raise UnsafeArchiveError(
                f"{self._display}: zip member {self._member!r} inflates beyond the limit of "
                f"{self._cap} bytes"
            )
        return data


@contextmanager
def open_member(
    path: Path,
    select: Callable[[list[zipfile.ZipInfo], zipfile.ZipFile], zipfile.ZipInfo | None],
    *,
    limits: ZipLimits = ZipLimits(),
    display: str = "",
) -> Iterator[tuple[_CappedReader, str]]:
    """Open the member chosen by ``select(infos, zf)`` for streaming; yields (reader, name).

    ``select`` gets the validated, non-directory members and the open archive (to peek at
    members' first bytes) and returns the member to read, or None (-> ImportFormatError).
    """
    display = display or str(path)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise ImportFormatError(f"{display}: corrupt or truncated zip archive ({exc})") from exc
    with zf:
        infos = zf.infolist()
        for info in infos:
            reason = unsafe_member_name(info.filename)
            if reason:
                raise UnsafeArchiveError(
                    f"{display}: refused archive: member {info.filename!r}: {reason}"
                )
        files = [i for i in infos if not i.is_dir()]
        try:
            info = select(files, zf)
        except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError) as exc:
            raise ImportFormatError(f"{display}: unreadable zip archive ({exc})") from exc
        if info is None:
            names = ", ".join(i.filename for i in files[:10]) or "(no files)"
            raise ImportFormatError(
                f"{display}: zip archive holds no Apple Health export.xml (members: {names})"
            )
        check_member_limits(info, limits, display)
        try:
            raw = zf.open(info)
        except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError) as exc:
            # RuntimeError: encrypted member; NotImplementedError: unsupported compression
            raise ImportFormatError(
                f"{display}: cannot open zip member {info.filename!r} ({exc})"
            ) from exc
        with raw:
            yield (
                _CappedReader(
                    raw,
                    cap=limits.max_inflated_bytes,
                    declared=info.file_size,
                    display=display,
                    member=info.filename,
                ),
                info.filename,
            )


def check_member_limits(info: zipfile.ZipInfo, limits: ZipLimits, display: str) -> None:
    """Refuse a member whose declared size or compression ratio exceeds ``limits``."""
    if info.file_size > limits.max_inflated_bytes:
        raise UnsafeArchiveError(
            f"{display}: zip member {info.filename!r} declares {info.file_size} bytes "
            f"uncompressed, above the limit of {limits.max_inflated_bytes} bytes"
        )
    if info.file_size >= limits.ratio_check_min_bytes:
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > limits.max_ratio:
            raise UnsafeArchiveError(
                f"{display}: zip member {info.filename!r} has compression ratio {ratio:.0f}:1 "
                f"(limit {limits.max_ratio:g}:1); refusing a possible zip bomb"
            )
