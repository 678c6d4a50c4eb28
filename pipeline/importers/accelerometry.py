"""Raw accelerometry with heart rate (FORMAT ``accelerometry_csv``; Walch et al. 2019 Apple
Watch files: ``walch_acceleration`` and ``walch_heartrate``).

Raw samples (30-100 Hz, a year of 50 Hz is 1.6 billion) are not stored in DuckDB: each
imported file becomes one zstd-compressed Parquet file in the data folder beside the store
(``crampwatch.data/``, :func:`pipeline.config.data_dir`)::

    accelerometry/participant_id=<id>/<sha256 of the source file>.parquet

with columns ``time_utc`` (``TIMESTAMP(us, UTC)``) and ``x_g``, ``y_g``, ``z_g`` (float32, g),
in time order. The participant id is percent-encoded in the folder name (DuckDB decodes it).
One ``accelerometry_files`` row per file indexes it (``participant_id``, ``path`` relative to
the data folder, ``start_utc``, ``end_utc``, ``utc_offset_s`` at the start, ``n_samples``,
``fs_hz`` = 1 / median sample interval, ``source``), and the ``accelerometry`` view reads all
of them (:func:`ensure_accelerometry_view`). Heart rate from the same recording goes to
``samples`` as ``heart_rate_bpm`` (``source`` ``accelerometry:<device>``, ``device``
``<device>``), one sample per second that has readings (the median of that second's values,
at the second's start), so a device that repeats its last heart rate on every 50 Hz line does
not write 50 rows a second.

Files are read in chunks of :data:`CHUNK_BYTES` and written as they are read: memory stays
flat whatever the file size. The Parquet file is written under a temporary name and renamed
when complete, so a half-written file is never visible.

Research-device CSV (``accelerometry_csv``)
-------------------------------------------
UTF-8 text; optional ``#`` comment lines first (``# device: axivity_ax3`` names the device;
other comments are ignored); then the header and one sample per line::

    # device: axivity_ax3
    timestamp,x,y,z,heart_rate_bpm
    2025-07-01T23:00:00.000+02:00,0.0156,-0.0313,0.9961,58
    2025-07-01T23:00:00.020+02:00,0.0117,-0.0352,1.0000,

``timestamp`` is ISO 8601 with an offset, ISO 8601 without one (local time in the
participant's zone; through the autumn DST change the repeated hour is recognised because the
local clock goes back), or Unix epoch seconds (``1751403600.02``, read exactly to the µs).
``x``, ``y``, ``z`` (or ``x_g``, ``y_g``, ``z_g``) are in g. ``heart_rate_bpm`` is optional,
empty where the device has no reading. Without a device comment the device is ``csv``.

Walch et al. 2019 Apple Watch layout
------------------------------------
The PhysioNet *sleep-accel* files (Walch 2019, doi:10.13026/hmhs-py35):
``<id>_acceleration.txt``, space-separated ``seconds x y z`` (g), and ``<id>_heartrate.txt``,
``seconds,bpm``; ``seconds`` count from the start of the night's polysomnography and are
negative before it. The files hold no date: the instant of second 0 is read from
``<id>_start.txt`` beside the file or one folder up (one line, ISO 8601 with an offset,
e.g. ``2017-06-12T22:41:00-04:00``); without it the import fails and says so. Device
``apple_watch``. Each of the two files is its own import.

Checks
------
A line is rejected with its 1-based line number and a reason when its timestamp is bad or not
after the previous sample's (samples must be in time order; a repeated timestamp is
rejected), a field is not a number, it has the wrong number of fields, or an acceleration is
outside :data:`ACCEL_RANGE_G` (a 40 g reading is a glitch: research devices record +/-8 or
+/-16 g). An implausible heart rate (outside ``PLAUSIBLE_RANGES['heart_rate_bpm']``, e.g. 0 or
300) rejects only the heart rate: the line's acceleration is kept and the rejected row says so.
A file whose median sampling rate is below :data:`MIN_FS_HZ` is not raw accelerometry and is
refused. The files carry no participant id (``--participant`` or ``<inbox>/<participant>/``).

Re-import: the same file is recognised by its hash; a different file with the same
participant, start and source adds nothing (its Parquet file is removed by
:func:`ensure_accelerometry_view`). Two different recordings that overlap in time are both
kept.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import polars as pl

from detectors import tables
from pipeline.importers import Batch, ImportContext, ImportFormatError
from pipeline.importers._common import (
    US,
    decode_head,
    reasons,
    rejected_batch,
    require_participant,
    require_zone,
    zone,
)
from pipeline.importers.indoor_csv import parse_timestamps, resolve_local
from pipeline.normalize import PLAUSIBLE_RANGES
from pipeline.store_inputs import (  # noqa: F401 (the view lives in the store layer)
    DATA_SUBDIR,
    EMPTY_VIEW_SQL,
    VIEW,
    ViewStatus,
    ensure_accelerometry_view,
    view_sql,
)

FORMAT = "accelerometry_csv"
WALCH_FORMAT = "walch_acceleration"
WALCH_HR_FORMAT = "walch_heartrate"
#: per-axis plausible range (g). Research accelerometers record +/-8 g (ActiGraph GT3X+,
#: GENEActiv) or up to +/-16 g (Axivity AX3, selectable); wrist or ankle movement in bed stays
#: far below that. A reading beyond 20 g is a sensor or transfer glitch.
ACCEL_RANGE_G = (-20.0, 20.0)
#: below this median rate a file holds epoch summaries (counts per 15-60 s), not raw samples
MIN_FS_HZ = 10.0
HR_METRIC = "heart_rate_bpm"
CHUNK_BYTES = 4 << 20  # ~90 000 lines of 50 Hz CSV; peak memory ~230 MB above baseline
#: Parquet settings: zstd; timestamps delta-encoded (a regular 50 Hz grid packs to a few bits
#: per sample); floats byte-stream-split (sign/exponent bytes of still-wrist samples repeat)
PARQUET_OPTIONS = {
    "compression": "zstd",
    "use_dictionary": False,
    "column_encoding": {
        "time_utc": "DELTA_BINARY_PACKED",
        "x_g": "BYTE_STREAM_SPLIT",
        "y_g": "BYTE_STREAM_SPLIT",
        "z_g": "BYTE_STREAM_SPLIT",
    },
}
FILES_SCHEMA = tables.rows("accelerometry_files")
SAMPLES_SCHEMA = tables.rows("samples")
CSV_AXES = (("x", "y", "z"), ("x_g", "y_g", "z_g"))
WALCH_DEVICE = "apple_watch"
_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_WALCH_LINE = re.compile(rf"^\s*{_NUM}\s+{_NUM}\s+{_NUM}\s+{_NUM}\s*$")
_WALCH_HR_LINE = re.compile(rf"^\s*{_NUM}\s*,\s*{_NUM}\s*$")
_SECONDS_RE = r"^([-+]?\d+)(?:\.(\d+))?$"
_DEVICE_RE = re.compile(r"^#\s*device\s*[:=]\s*(.+?)\s*$", re.IGNORECASE)


def parquet_schema():
    """The Parquet files' Arrow schema (pyarrow is imported here, on first use: publishing the
    view, which every write command does, must not pay for it)."""
    import pyarrow as pa

    return pa.schema(
        [
            ("time_utc", pa.timestamp("us", tz="UTC")),
            ("x_g", pa.float32()),
            ("y_g", pa.float32()),
            ("z_g", pa.float32()),
        ]
    )


def __getattr__(name: str):
    if name == "PARQUET_SCHEMA":
        return parquet_schema()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------------------------
# detection
# --------------------------------------------------------------------------------------------


def _head_lines(head: bytes) -> list[str]:
    text = decode_head(head)
    lines = text.split("\n")
    if len(head) >= 65536:
        lines = lines[:-1]  # possibly cut
    return [ln.rstrip("\r") for ln in lines if ln.strip()]


def _csv_header(lines: list[str]) -> tuple[tuple[str, ...], str, int] | None:
    """(columns, device, index of the header among ``lines``) of a research CSV, or None."""
    device = "csv"
    for i, line in enumerate(lines):
        if line.lstrip().startswith("#"):
            m = _DEVICE_RE.match(line.strip())
            if m:
                device = m.group(1)
            continue
        cols = tuple(c.strip().strip('"').strip().lower() for c in line.split(","))
        if (
            cols[:1] == ("timestamp",)
            and cols[1:4] in CSV_AXES
            and cols[4:] in ((), ("heart_rate_bpm",))
        ):
            return cols, device, i
        return None
    return None


def sniff(head: bytes, name: str) -> bool:
    """True for a research-device CSV: ``timestamp,x,y,z[,heart_rate_bpm]`` header."""
    return _csv_header(_head_lines(head)) is not None


def sniff_walch(head: bytes, name: str) -> bool:
    """True for a Walch ``<id>_acceleration.txt`` (name and ``seconds x y z`` lines)."""
    lines = _head_lines(head)[:5]
    return (
        name.lower().endswith("_acceleration.txt")
        and bool(lines)
        and all(_WALCH_LINE.match(ln) for ln in lines)
    )


def sniff_walch_hr(head: bytes, name: str) -> bool:
    """True for a Walch ``<id>_heartrate.txt`` (name and ``seconds,bpm`` lines)."""
    lines = _head_lines(head)[:5]
    return (
        name.lower().endswith("_heartrate.txt")
        and bool(lines)
        and all(_WALCH_HR_LINE.match(ln) for ln in lines)
    )


# --------------------------------------------------------------------------------------------
# streaming
# --------------------------------------------------------------------------------------------


def iter_line_chunks(
    path: Path, display: str, chunk_bytes: int | None = None
) -> Iterator[pl.DataFrame]:
    """The lines of a UTF-8 file as frames of ``line_no`` (1-based), ``text``, chunk by chunk.

    Each chunk ends at a line end; BOM and CR are removed. Memory: one chunk
    (``chunk_bytes``, default :data:`CHUNK_BYTES`).
    """
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    line_no, rest, first = 1, b"", True
    with open(path, "rb") as fh:
        while True:
            block = fh.read(chunk_bytes)
            data = rest + block
            if not block:
                cut = len(data)
            else:
                cut = data.rfind(b"\n") + 1
                if cut == 0:
                    rest = data
                    continue
            piece, rest = data[:cut], data[cut:]
            if first:
                piece = piece.removeprefix(b"\xef\xbb\xbf")
                first = False
            if piece:
                try:
                    text = piece.decode("utf-8")
                except UnicodeDecodeError as exc:
                    bad_line = line_no + piece[: exc.start].count(b"\n")
                    raise ImportFormatError(
                        f"{display}:{bad_line}: not UTF-8 text (undecodable byte)"
                    ) from exc
                lines = text.split("\n")
                if lines and lines[-1] == "":
                    lines.pop()
                s = pl.Series("text", lines, dtype=pl.String).str.strip_suffix("\r")
                yield pl.DataFrame(
                    {
                        "line_no": pl.int_range(
                            line_no, line_no + s.len(), eager=True, dtype=pl.Int64
                        ),
                        "text": s,
                    }
                )
                line_no += s.len()
            if not block:
                return


def _seconds_us(text: pl.Expr) -> pl.Expr:
    """Decimal seconds text -> Int64 µs, exactly (scientific notation via Float64)."""
    g = text.str.extract_groups(_SECONDS_RE)
    whole, frac = g.struct.field("1"), g.struct.field("2")
    frac_us = frac.fill_null("").str.pad_end(6, "0").str.slice(0, 6).cast(pl.Int64, strict=False)
    sign = pl.when(whole.str.starts_with("-")).then(-1).otherwise(1)
    exact = whole.cast(pl.Int64, strict=False) * US + sign * frac_us
    approx = (text.cast(pl.Float64, strict=False) * US).round(0).cast(pl.Int64, strict=False)
    return pl.coalesce(exact, approx)


@dataclass
class _State:
    """What one chunk hands to the next."""

    max_utc_us: int | None = None
    max_local_us: int | None = None
    n: int = 0
    start_us: int | None = None
    end_us: int | None = None
    start_off_s: int | None = None
    steps: Counter = field(default_factory=Counter)
    hr_carry: pl.DataFrame | None = None


def _check_accel(f: pl.DataFrame, labels: tuple[str, str, str]) -> pl.DataFrame:
    """Axes ``_ax``, ``_ay``, ``_az`` (text) -> ``x_g``, ``y_g``, ``z_g``; reasons use ``labels``."""
    lo, hi = ACCEL_RANGE_G
    checks, values = [], []
    for raw_col, label, col in zip(
        ("_ax", "_ay", "_az"), labels, ("x_g", "y_g", "z_g"), strict=True
    ):
        raw = pl.col(raw_col)
        num = raw.cast(pl.Float64, strict=False)
        checks.append(
            pl.when(~pl.col("_shaped"))
            .then(None)
            .when(raw.is_null())
            .then(pl.lit(f"{label}: empty"))
            .when(num.is_null() | num.is_nan())
            .then(pl.format(f"{label}: {{}} is not a number", raw))
            .when(~num.is_between(lo, hi))
            .then(
                pl.format(f"{label}: value {{}} g outside plausible range [{lo:g}, {hi:g}] g", raw)
            )
        )
        values.append(num.alias(col))
    return f.with_columns(_reason=reasons(pl.col("_reason"), *checks)).with_columns(values)


def _check_hr(f: pl.DataFrame, col: str | None, label: str = HR_METRIC) -> pl.DataFrame:
    """Heart-rate text in ``col`` -> ``_hr`` (null when empty or bad) and ``_hr_reason``."""
    if col is None:
        return f.with_columns(_hr=pl.lit(None, pl.Float64), _hr_reason=pl.lit(None, pl.String))
    lo, hi = PLAUSIBLE_RANGES[HR_METRIC]
    raw = pl.col(col)
    num = raw.cast(pl.Float64, strict=False)
    bad = (
        pl.when(raw.is_null() | ~pl.col("_shaped"))
        .then(None)
        .when(num.is_null() | num.is_nan())
        .then(pl.format(f"{label}: {{}} is not a number", raw))
        .when(~num.is_between(lo, hi))
        .then(pl.format(f"{label}: value {{}} outside plausible range [{lo:g}, {hi:g}]", raw))
    )
    return f.with_columns(_hr_reason=bad).with_columns(
        _hr=pl.when(pl.col("_hr_reason").is_null()).then(num)
    )


def _order(f: pl.DataFrame, state: _State) -> pl.DataFrame:
    """Reject samples not after the previous sample (running maximum across chunks)."""
    timed = pl.col("_utc_us").is_not_null() & pl.col("_reason").is_null()
    prev = pl.when(timed).then(pl.col("_utc_us")).cum_max().shift(1)
    if state.max_utc_us is not None:
        prev = pl.max_horizontal(prev.fill_null(state.max_utc_us), pl.lit(state.max_utc_us))
    f = f.with_columns(_prev=prev).with_columns(
        _reason=reasons(
            pl.col("_reason"),
            pl.when(timed & (pl.col("_utc_us") <= pl.col("_prev"))).then(
                pl.lit(
                    "timestamp: not after the previous sample (samples must be in time order, each "
                    "timestamp once)"
                )
            ),
        )
    )
    ok_max = f.filter(pl.col("_reason").is_null())["_utc_us"].max()
    if ok_max is not None:
        state.max_utc_us = ok_max if state.max_utc_us is None else max(state.max_utc_us, ok_max)
    return f


def _hr_samples(
    ok: pl.DataFrame, state: _State, pid: str, device: str, final: bool
) -> pl.DataFrame:
    """One heart-rate sample per second with readings (median), carrying the last second."""
    hr = ok.filter(pl.col("_hr").is_not_null()).select(
        sec_us=(pl.col("_utc_us") // US) * US, off=pl.col("_off_s"), hr=pl.col("_hr")
    )
    if state.hr_carry is not None:
        hr = pl.concat([state.hr_carry, hr])
    state.hr_carry = None
    if hr.height and not final:
        last = hr["sec_us"].max()
        state.hr_carry, hr = (
            hr.filter(pl.col("sec_us") == last),
            hr.filter(pl.col("sec_us") != last),
        )
    per_sec = hr.group_by("sec_us", maintain_order=True).agg(
        value=pl.col("hr").median(), off=pl.col("off").first()
    )
    t = pl.from_epoch("sec_us", time_unit="us").dt.replace_time_zone("UTC")
    return per_sec.select(
        participant_id=pl.lit(pid),
        metric=pl.lit(HR_METRIC),
        start_utc=t,
        end_utc=t,
        utc_offset_s=pl.col("off"),
        value=pl.col("value"),
        unit=pl.lit("count/min"),
        source=pl.lit(f"accelerometry:{device}"),
        device=pl.lit(device),
        original_value=pl.col("value"),
        original_unit=pl.lit("count/min"),
    ).cast(SAMPLES_SCHEMA)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(4 << 20):
            h.update(chunk)
    return h.hexdigest()


def parquet_relpath(participant_id: str, sha256: str) -> str:
    """Path of a recording's Parquet file, relative to the data folder (POSIX separators)."""
    return f"{DATA_SUBDIR}/participant_id={quote(participant_id, safe='')}/{sha256}.parquet"


def _stream(
    path: Path,
    ctx: ImportContext,
    parse,
    *,
    device: str,
    skip_lines: int,
    accel: bool,
    ordered: bool = True,
) -> Iterator[Batch]:
    """Shared chunk loop: ``parse(chunk) -> frame`` with ``line_no``, ``raw``, ``_utc_us``,
    ``_local_us``, ``_off_s``, ``_reason``, ``x_g``/``y_g``/``z_g`` (if ``accel``), ``_hr``
    and ``_hr_reason``."""
    import pyarrow.parquet as pq

    schema = parquet_schema()
    display = ctx.display_path or str(path)
    pid = require_participant(ctx, display, "accelerometry files")
    zi = require_zone(ctx.tz, display)
    source = f"accelerometry:{device}"
    writer = tmp = final_path = rel = None
    if accel:
        if ctx.data_dir is None:
            raise ImportFormatError(
                f"{display}: raw accelerometry is stored as Parquet in the data folder beside "
                "the database, and this import was given none (import_file(..., data_dir=...))"
            )
        rel = parquet_relpath(pid, _sha256(path))
        final_path = Path(ctx.data_dir) / rel
        final_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = final_path.with_name(final_path.name + ".tmp")
    state = _State()
    try:
        for chunk in iter_line_chunks(path, display):
            chunk = chunk.filter(
                (pl.col("line_no") > skip_lines) & ~pl.col("text").str.contains(r"^\s*$")
            )
            if chunk.height == 0:
                continue
            f = parse(chunk)
            local = f["_local_us"]
            later = None
            if local.drop_nulls().len():  # the repeated autumn hour: the local clock goes back
                run = local.cum_max().forward_fill().shift(1)
                if state.max_local_us is not None:
                    run = run.fill_null(state.max_local_us).clip(lower_bound=state.max_local_us)
                later = (local <= run).fill_null(False)
                state.max_local_us = max(
                    x for x in (state.max_local_us, local.max()) if x is not None
                )
            f = resolve_local(f, zi, display, later)
            if ordered:
                f = _order(f, state)
            ok = f.filter(pl.col("_reason").is_null())
            if ok.height:
                if state.start_us is None:
                    state.start_us, state.start_off_s = ok["_utc_us"][0], ok["_off_s"][0]
                state.end_us = ok["_utc_us"][-1]
                state.n += ok.height
                state.steps.update(ok["_utc_us"].diff().drop_nulls().to_list())
                if accel:
                    table = (
                        ok.select(
                            time_utc=pl.from_epoch("_utc_us", time_unit="us").dt.replace_time_zone(
                                "UTC"
                            ),
                            x_g=pl.col("x_g").cast(pl.Float32),
                            y_g=pl.col("y_g").cast(pl.Float32),
                            z_g=pl.col("z_g").cast(pl.Float32),
                        )
                        .to_arrow()
                        .cast(schema)
                    )
                    if writer is None:
                        writer = pq.ParquetWriter(tmp, schema, **PARQUET_OPTIONS)
                    writer.write_table(table)
            hr = _hr_samples(ok, state, pid, device, final=False)
            if hr.height:
                yield Batch("samples", hr)
            hr_bad = ok.filter(pl.col("_hr_reason").is_not_null()).select(
                "line_no",
                "raw",
                reason=pl.concat_str(
                    pl.col("_hr_reason"),
                    pl.lit("; the line's acceleration was kept") if accel else pl.lit(""),
                ),
            )
            bad = rejected_batch(
                [
                    f.filter(pl.col("_reason").is_not_null()).select(
                        "line_no", "raw", reason="_reason"
                    ),
                    hr_bad,
                ]
            )
            if bad is not None:
                yield bad
        hr = _hr_samples(
            pl.DataFrame(schema={"_hr": pl.Float64, "_utc_us": pl.Int64, "_off_s": pl.Int64}),
            state,
            pid,
            device,
            final=True,
        )
        if hr.height:
            yield Batch("samples", hr)
        if accel and writer is not None:
            writer.close()
            writer = None
            step_us = _median_step_us(state.steps)
            fs_hz = round(US / step_us, 3) if step_us else None
            if fs_hz is not None and fs_hz < MIN_FS_HZ:
                raise ImportFormatError(
                    f"{display}: median sample interval {step_us / US:g} s ({fs_hz:g} Hz) is "
                    f"not raw accelerometry (expected 30-100 Hz, at least {MIN_FS_HZ:g} Hz)"
                )
            os.replace(tmp, final_path)
            t = pl.from_epoch(pl.Series([state.start_us, state.end_us]), time_unit="us")
            yield Batch(
                "accelerometry_files",
                pl.DataFrame(
                    {
                        "participant_id": [pid],
                        "path": [rel],
                        "start_utc": [t[0]],
                        "end_utc": [t[1]],
                        "utc_offset_s": [state.start_off_s],
                        "n_samples": [state.n],
                        "fs_hz": [fs_hz],
                        "source": [source],
                    },
                )
                .with_columns(pl.col("start_utc", "end_utc").dt.replace_time_zone("UTC"))
                .cast(FILES_SCHEMA),
            )
    finally:
        if writer is not None:
            writer.close()
        if tmp is not None and tmp.exists():
            tmp.unlink()


def _median_step_us(steps: Counter) -> int | None:
    if not steps:
        return None
    total = sum(steps.values())
    seen = 0
    for step in sorted(steps):
        seen += steps[step]
        if 2 * seen >= total:
            return step
    return None  # pragma: no cover


# --------------------------------------------------------------------------------------------
# research-device CSV
# --------------------------------------------------------------------------------------------


def _read_csv_layout(path: Path, display: str) -> tuple[tuple[str, ...], str, int]:
    """(columns, device, line number of the header) from the start of the file."""
    lines: list[tuple[int, str]] = []
    for chunk in iter_line_chunks(path, display, chunk_bytes=1 << 16):
        lines += [(n, t) for n, t in chunk.iter_rows() if t.strip()]
        if any(not t.lstrip().startswith("#") for _, t in lines):
            break
    found = _csv_header([t for _, t in lines])
    if found is None:
        first = next(((n, t) for n, t in lines if not t.lstrip().startswith("#")), (1, ""))
        raise ImportFormatError(
            f"{display}:{first[0]}: not an accelerometry CSV: the header must be "
            f"timestamp,x,y,z[,heart_rate_bpm], found {first[1][:200]!r}"
        )
    cols, device, i = found
    return cols, device, lines[i][0]


def read(path: Path, ctx: ImportContext) -> Iterator[Batch]:
    """Stream a research-device CSV into Parquet (+ ``accelerometry_files``, ``samples``,
    ``rejected_rows``)."""
    display = ctx.display_path or str(path)
    cols, device, header_line = _read_csv_layout(Path(path), display)
    n = len(cols)
    names = ["_ts", "_ax", "_ay", "_az", "_hr_text"][:n]

    def parse(chunk: pl.DataFrame) -> pl.DataFrame:
        fields = pl.col("raw").str.split(",")
        f = (
            chunk.rename({"text": "raw"})
            .with_columns(_fields=fields)
            .with_columns(
                [
                    pl.col("_fields")
                    .list.get(i, null_on_oob=True)
                    .str.strip_chars(' \t"')
                    .replace("", None)
                    .alias(name)
                    for i, name in enumerate(names)
                ],
                _nfields=pl.col("_fields").list.len(),
            )
            .drop("_fields")
        )
        f = f.with_columns(_shaped=pl.col("_nfields") == n)
        times = parse_timestamps(f["_ts"])
        f = pl.concat([f, times], how="horizontal").with_columns(
            _utc_us=pl.when("_shaped").then("_utc_us"),
            _local_us=pl.when("_shaped").then("_local_us"),
            _off_s=pl.when("_shaped").then("_off_s"),
            _reason=pl.when(~pl.col("_shaped"))
            .then(
                pl.format(f"expected {n} fields ({','.join(cols)}), found {{}}", pl.col("_nfields"))
            )
            .otherwise("_time_reason"),
        )
        f = _check_accel(f, cols[1:4])
        return _check_hr(f, "_hr_text" if n == 5 else None, "heart_rate_bpm")

    yield from _stream(
        Path(path), ctx, parse, device=_device_name(device), skip_lines=header_line, accel=True
    )


def _device_name(text: str) -> str:
    """Device names as stored: trimmed, lower-case, spaces as underscores."""
    return re.sub(r"\s+", "_", text.strip().lower()) or "csv"


# --------------------------------------------------------------------------------------------
# Walch et al. 2019 (PhysioNet sleep-accel)
# --------------------------------------------------------------------------------------------


def _walch_anchor(path: Path, display: str, tz_name: str | None) -> tuple[int, int | None]:
    """UTC µs of second 0 from ``<id>_start.txt`` (see the module docstring), and the fixed
    offset to record: the start file's, unless the participant's zone is known (then None:
    each sample gets the zone's offset at its instant)."""
    subject = re.sub(r"_(acceleration|heartrate)\.txt$", "", path.name, flags=re.IGNORECASE)
    names = [f"{subject}_start.txt"]
    candidates = [d / n for d in (path.parent, path.parent.parent) for n in names]
    found = next((p for p in candidates if p.is_file()), None)
    if found is None:
        raise ImportFormatError(
            f"{display}: Walch files count seconds from the start of the recording night and "
            f"hold no date; write that instant (ISO 8601 with offset, e.g. "
            f"2017-06-12T22:41:00-04:00) into {subject}_start.txt beside the file"
        )
    text = next(
        (
            ln.strip()
            for ln in found.read_text(encoding="utf-8-sig").splitlines()
            if ln.strip() and not ln.lstrip().startswith("#")
        ),
        "",
    )
    row = parse_timestamps(pl.Series([text], dtype=pl.String)).row(0, named=True)
    if row["_time_reason"] is not None or row["_utc_us"] is None or row["_off_s"] is None:
        raise ImportFormatError(
            f"{found}: expected one ISO 8601 instant with its offset "
            f"(2017-06-12T22:41:00-04:00), found {text[:80]!r}"
        )
    return row["_utc_us"], (None if zone(tz_name) is not None else row["_off_s"])


def _walch_frame(
    chunk: pl.DataFrame,
    anchor_us: int,
    fixed_off_s: int | None,
    pattern: str,
    names: list[str],
    expected: str,
) -> pl.DataFrame:
    g = pl.col("raw").str.extract_groups(pattern)
    f = chunk.rename({"text": "raw"}).with_columns(
        [g.struct.field(str(i + 1)).alias(name) for i, name in enumerate(names)]
    )
    f = f.with_columns(_shaped=pl.col(names[0]).is_not_null())
    secs = _seconds_us(pl.col(names[0]))
    return f.with_columns(
        _utc_us=secs + anchor_us,
        _local_us=pl.lit(None, pl.Int64),
        _off_s=pl.lit(fixed_off_s, pl.Int64),
        _reason=pl.when(~pl.col("_shaped"))
        .then(pl.lit(f"expected {expected}"))
        .when(secs.is_null())
        .then(pl.format("seconds: {} is not a number", pl.col(names[0]))),
    )


def read_walch(path: Path, ctx: ImportContext) -> Iterator[Batch]:
    """Stream a Walch ``<id>_acceleration.txt`` into Parquet (+ ``accelerometry_files``)."""
    display = ctx.display_path or str(path)
    anchor_us, fixed_off = _walch_anchor(Path(path), display, ctx.tz)
    tok = r"\s*(\S+)"
    pattern = rf"^{tok}{tok}{tok}{tok}\s*$"

    def parse(chunk: pl.DataFrame) -> pl.DataFrame:
        f = _walch_frame(
            chunk,
            anchor_us,
            fixed_off,
            pattern,
            ["_sec", "_ax", "_ay", "_az"],
            "4 space-separated fields: seconds x y z",
        )
        return _check_hr(_check_accel(f, ("x", "y", "z")), None)

    yield from _stream(Path(path), ctx, parse, device=WALCH_DEVICE, skip_lines=0, accel=True)


def read_walch_hr(path: Path, ctx: ImportContext) -> Iterator[Batch]:
    """Heart rate from a Walch ``<id>_heartrate.txt`` into ``samples``."""
    display = ctx.display_path or str(path)
    anchor_us, fixed_off = _walch_anchor(Path(path), display, ctx.tz)
    pattern = r"^\s*([^,]*?)\s*,\s*([^,]*?)\s*$"

    def parse(chunk: pl.DataFrame) -> pl.DataFrame:
        f = _walch_frame(
            chunk,
            anchor_us,
            fixed_off,
            pattern,
            ["_sec", "_bpm"],
            "2 comma-separated fields: seconds,bpm",
        )
        f = _check_hr(f, "_bpm", "bpm")
        # the heart rate is the line's only content: a bad one rejects the line
        return f.with_columns(
            _reason=reasons(pl.col("_reason"), pl.col("_hr_reason")),
            _hr_reason=pl.lit(None, pl.String),
        )

    yield from _stream(
        Path(path), ctx, parse, device=WALCH_DEVICE, skip_lines=0, accel=False, ordered=False
    )


#: the Walch readers as importer "modules" for the registry (``FORMAT``, ``sniff``, ``read``)
WALCH = SimpleNamespace(
    FORMAT=WALCH_FORMAT, sniff=sniff_walch, read=read_walch, __name__=f"{__name__}.WALCH"
)
WALCH_HR = SimpleNamespace(
    FORMAT=WALCH_HR_FORMAT,
    sniff=sniff_walch_hr,
    read=read_walch_hr,
    __name__=f"{__name__}.WALCH_HR",
)


# --------------------------------------------------------------------------------------------
# the view over the Parquet files
# --------------------------------------------------------------------------------------------
