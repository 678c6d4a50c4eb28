"""The byte-level tag scanner behind the Apple Health importer: bytes in, tags and attribute
strings out. It knows the shape of an export (a ``<HealthData>`` root, ``<Record>`` tags with
double-quoted attributes), not what any type, unit or value means
(:mod:`pipeline.importers.apple_health_types`) nor which rows come out of it
(:mod:`pipeline.importers.apple_health`).

Design
------
The export is streamed in byte chunks (``CHUNK_BYTES`` in the importer), each cut just before
a ``<``, so a chunk always holds whole tags (:func:`_chunks`; the file is read ahead in a
background thread, :func:`_read_ahead`). polars' CSV reader, with ``<`` as its line terminator
and no quoting, turns a chunk into one string per tag without a Python object per tag
(:func:`_split_tags`; an attribute value cannot hold a raw ``<``, so this is exact whatever
the line layout). Each ``<Record`` tag is then split at ``"`` (a value cannot hold a raw
``"`` either), which alternates attribute names and values; rows are grouped by their
sequence of names (a handful of layouts per export, any attribute order) and each attribute
is taken from its field with one vectorised select per layout (:func:`_record_attrs`). Tags
that are not plain double-quoted pairs (single quotes, entities in names, unterminated tags)
go to a slower, still vectorised, tokeniser (:func:`_generic_record_attrs`). Only the rare
structural tags (``Workout``, ``WorkoutStatistics``, ``Correlation``, ``Me``) go through
Python (:func:`_attrs`). Memory stays flat: one chunk plus one output batch per table.

It is not an XML parser: the prolog and internal DTD are skipped unread
(:func:`_skip_prolog`: no entity is ever expanded, nothing is fetched), entity references in
attribute values are decoded for the five predefined entities and numeric character
references only (:func:`xml_unescape`; anything else, e.g. ``&lol9;``, is kept literally),
and control characters such as ``\\x0b`` pass through untouched. Comments are removed; CDATA
sections do not occur in Apple exports and are not handled.

The names keep their leading underscore: they are the importer's internals, shared by the
three ``apple_health*`` modules only (``xml_unescape`` excepted).
"""

from __future__ import annotations

import io
import queue
import re
import threading
from collections.abc import Callable, Iterator

import polars as pl

from pipeline.importers import ImportFormatError

# --------------------------------------------------------------------------- the stream

_ROOT = re.compile(rb"<HealthData[\s/>]")


def _skip_prolog(
    read: Callable[[int], bytes],
    chunk_bytes: int,
    *,
    max_prolog_bytes: int,
    count: Callable[[int], None],
    display: str,
) -> bytes:
    """Read up to the ``<HealthData`` root tag; the prolog and DTD are never parsed.

    Returns the bytes read from the root tag on; ``count`` is told the size of every read.
    """
    buf = b""
    while True:
        data = read(min(chunk_bytes, 1024**2))
        count(len(data))
        if not buf and data:
            start = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
            if start != b"<":
                raise ImportFormatError(f"{display}: not an XML file (first bytes {data[:40]!r})")
        buf += data
        m = _ROOT.search(buf)
        if m:
            return buf[m.start() :]
        if not data or len(buf) > max_prolog_bytes:
            what = "empty file" if not buf else f"first bytes {buf[:60]!r}"
            raise ImportFormatError(
                f"{display}: no <HealthData> root element; not an Apple Health export ({what})"
            )


def _read_ahead(read: Callable[[int], bytes], size: int, depth: int) -> Iterator[bytes]:
    """``read(size)`` repeated in a background thread, at most ``depth`` chunks ahead, until
    it returns ``b""`` (not yielded).

    Inflating export.zip (zlib releases the GIL) so overlaps with parsing. An exception from
    ``read`` (corrupt zip, size limits) is raised here, in the consumer's thread; closing
    the generator stops the thread before the stream is closed.
    """
    chunks: queue.Queue = queue.Queue(maxsize=max(depth, 1))
    stop = threading.Event()

    def put(item) -> None:
        while not stop.is_set():
            try:
                chunks.put(item, timeout=0.05)
                return
            except queue.Full:
                continue

    def run() -> None:
        try:
            while not stop.is_set():
                data = read(size)
                put(data)
                if not data:
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            put(exc)

    worker = threading.Thread(target=run, name="apple-health-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item = chunks.get()
            if isinstance(item, BaseException):
                raise item
            if not item:
                return
            yield item
    finally:
        stop.set()
        worker.join()


#: the tail of a chunk searched first for the last ``<``
_CUT_WINDOW = 1024**2


def _cut_point(data: bytes) -> int:
    """Offset of the last ``<`` in ``data`` (searched in the last MiB first), never inside
    an unterminated comment; 0 or -1 when there is none."""
    lo = max(0, len(data) - _CUT_WINDOW)
    cut = data.rfind(b"<", lo)
    if cut < 0:
        cut = data.rfind(b"<")
    c = data.rfind(b"<!--", lo)
    if c >= 0 and data.find(b"-->", c) < 0:
        cut = c
    return cut


def _chunks(
    read: Callable[[int], bytes],
    pending: bytes,
    chunk_bytes: int,
    *,
    depth: int,
    max_tag_bytes: int,
    count: Callable[[int], None],
    display: str,
) -> Iterator[tuple[bytes, bool]]:
    """Byte chunks cut just before a ``<`` (and never inside a comment), as ``(chunk,
    final)``: ``pending`` (what :func:`_skip_prolog` returned) first, then ``read`` ahead
    ``depth`` chunks of ``chunk_bytes``; ``count`` is told the size of every read. The
    final chunk holds the rest of the file, an incomplete last tag included."""
    for data in _read_ahead(read, chunk_bytes, depth):
        count(len(data))
        # the cut of pending + data when it lies in data's last MiB (where _cut_point looks
        # first), so pending + data[:cut] is made with one copy instead of two
        cut = _cut_point(data) if pending and len(data) >= _CUT_WINDOW else 0
        if cut > 0:
            yield b"".join((pending, memoryview(data)[:cut])), False
            pending = data[cut:]
            continue
        pending = pending + data if pending else data
        cut = _cut_point(pending)
        if cut <= 0:
            if len(pending) > max_tag_bytes:
                raise ImportFormatError(
                    f"{display}: a single tag spans more than {max_tag_bytes} bytes; "
                    "not an Apple Health export"
                )
            continue
        yield pending[:cut], False
        pending = pending[cut:]
    yield pending, True


# --------------------------------------------------------------------------- one chunk's tags

_COMMENT = re.compile(rb"<!--.*?-->", re.S)
#: candidate field separators for the tag splitter: bytes that never occur in Apple exports
_SEPARATORS = [bytes([b]) for b in (0x1F, 0x1E, 0x1D, 0x1C, 0x01, 0x02, 0x03, 0x04)]
#: the name of a tag (``Workout``, ``/Workout``, ...) at the start of its text
_TAG_NAME = re.compile(r"^(/?[A-Za-z]+)")


def _chunk_tags(data: bytes, final: bool) -> tuple[pl.DataFrame, str | None]:
    """One chunk's tags without its comments: a frame with ``tok`` (the tag's index in the
    chunk, UInt32) and ``t`` (the text after its ``<``); and, for the ``final`` chunk of a
    file that ends inside a tag, that incomplete last tag (not in the frame), else None."""
    if _has_comment(data):
        data = _COMMENT.sub(b"", data)
    toks = _split_tags(data)
    del data
    partial = None
    if final and toks.len():
        last = toks[-1]
        if last is not None and ">" not in last:  # cut inside a tag: never complete
            partial = last
            toks = toks.slice(0, toks.len() - 1)
    return toks.to_frame().with_row_index("tok"), partial


def _has_comment(data: bytes, max_marks: int = 64) -> bool:
    """``b"<!--" in data``, found through its ``!``: export bodies hardly hold one, and a
    one-byte search (memchr) runs ~10x faster than the search for four bytes (~0.8 CPU-s per
    GB of XML); with more than ``max_marks`` of them, the four-byte search."""
    i = data.find(b"!")
    for _ in range(max_marks):
        if i < 0:
            return False
        if i > 0 and data[i - 1] == 0x3C and data.startswith(b"--", i + 1):  # 0x3C: "<"
            return True
        i = data.find(b"!", i + 1)
    return i >= 0 and b"<!--" in data


def _split_tags(data: bytes) -> pl.Series:
    """The chunk as one string per tag (text after each ``<``, up to the next ``<``).

    polars' CSV reader with ``<`` as the line terminator does this multi-threaded and
    without Python objects per tag; the field separator is a byte absent from the chunk.
    Invalid UTF-8 is replaced (U+FFFD), never fatal.
    """
    sep = next((c for c in _SEPARATORS if c not in data), None)
    if sep is None:  # pathological: fall back to a Python split
        text = data.decode("utf-8", "replace")
        return pl.Series("t", text.split("<")[1:], dtype=pl.String)
    if not data:
        return pl.Series("t", [], dtype=pl.String)
    toks = pl.read_csv(
        io.BytesIO(data),
        has_header=False,
        separator=sep.decode(),
        quote_char=None,
        eol_char="<",
        new_columns=["t"],
        schema={"t": pl.String},
        encoding="utf8-lossy",
        comment_prefix=None,
        raise_if_empty=False,
    )
    # row 0 is the text before the first '<' (empty: chunks start at a tag)
    return toks.get_column("t").slice(1)


# --------------------------------------------------------------------------- attributes

#: attributes per <Record> in the first split pass (Apple writes at most 9)
_MAX_ATTRS = 9
_ATTR_TOKEN = r"""[A-Za-z_:][\w:.\-]*\s*=\s*(?:"[^"]*"|'[^']*')"""

#: the ``<Record>`` attributes taken, and their column names in :func:`_record_attrs`
_RECORD_ATTRS = {
    "type": "type",
    "sourceName": "source",
    "device": "device",
    "unit": "unit",
    "startDate": "start",
    "endDate": "end",
    "value": "value",
}
_FIRST_NAME = re.compile(r"Record\s+([A-Za-z_:][\w:.\-]*)\s*=\s*")
_NEXT_NAME = re.compile(r"\s+([A-Za-z_:][\w:.\-]*)\s*=\s*")
_TAIL = re.compile(r"\s*/?>")
#: a complete, well-formed <Record ...> or <Record .../> start tag (generic path)
_START_TAG = rf"^Record(?:\s+{_ATTR_TOKEN})*\s*/?>"
_PY_ATTR = re.compile(r"""([A-Za-z_:][\w:.\-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _attrs(tag: str) -> dict[str, str]:
    """Attributes of one tag (Python path, for the rare structural tags); decoded."""
    return {
        m.group(1): xml_unescape(m.group(2) if m.group(2) is not None else m.group(3))
        for m in _PY_ATTR.finditer(tag)
    }


def _layout(signature: str) -> dict[str, int] | None:
    """Field index of each wanted attribute for one tag layout, or None if the layout is
    not plain ``name="value"`` pairs closed by ``>`` / ``/>`` (-> generic path).

    ``signature`` holds the even fields of the tag split at ``"`` (the attribute names with
    their ``=`` and the tail), joined by ``\x00``.
    """
    items = signature.split("\x00")
    if len(items) < 2 or not _TAIL.match(items[-1]):
        return None
    out: dict[str, int] = {}
    for i, item in enumerate(items[:-1]):
        m = (_FIRST_NAME if i == 0 else _NEXT_NAME).fullmatch(item)
        if m is None or m.group(1) in out:
            return None
        out[m.group(1)] = 2 * i + 1
    return out


def _record_attrs(recs: pl.DataFrame, max_attrs: int = _MAX_ATTRS) -> pl.DataFrame:
    """Attributes of ``<Record>`` tags, any order: columns tok, rec_no, type, source,
    device, unit, start, end, value (strings, still escaped) and ``malformed``.

    Attribute values cannot hold a raw ``"``, so splitting a tag at ``"`` alternates names
    and values exactly. Rows are grouped by their layout (the sequence of names; a handful
    per export) and each attribute is taken from its field, one select per layout. Tags
    with more than ``max_attrs`` attributes are split again, wider; tags that are not plain
    double-quoted pairs go through :func:`_generic_record_attrs`.
    """
    n_fields = 2 * max_attrs + 2
    fields = [f"f{i}" for i in range(n_fields)]
    parts = recs.select(
        "tok",
        "rec_no",
        pl.col("t").str.splitn('"', n_fields).struct.rename_fields(fields).alias("p"),
    ).unnest("p")
    parts = parts.with_columns(
        sig=pl.concat_str([pl.col(f) for f in fields[0::2]], separator="\x00", ignore_nulls=True)
    )
    layouts = {sig: _layout(sig) for sig in parts.get_column("sig").unique().to_list()}
    ids = {
        sig: i for i, (sig, lay) in enumerate(layouts.items()) if lay is not None and "type" in lay
    }
    parts = parts.with_columns(
        lay=pl.col("sig").replace_strict(ids, default=-1, return_dtype=pl.Int32)
    )
    out = []
    if ids:
        # each attribute from its field in the row's layout, all layouts in one select (rows
        # stay in file order: layouts interleave, ~20k runs in a chunk of 50k records)
        cols = []
        for attr, col in _RECORD_ATTRS.items():
            by_field: dict[int | None, list[int]] = {}
            for sig, i in ids.items():
                by_field.setdefault(layouts[sig].get(attr), []).append(i)
            if len(by_field) == 1 and None not in by_field:
                expr = pl.col(f"f{next(iter(by_field))}")
            else:
                expr = None
                for field, lay_ids in by_field.items():
                    if field is None:
                        continue
                    cond = pl.col("lay").is_in(lay_ids)
                    expr = (pl.when(cond) if expr is None else expr.when(cond)).then(
                        pl.col(f"f{field}")
                    )
                expr = pl.lit(None, dtype=pl.String) if expr is None else expr.otherwise(None)
            cols.append(expr.alias(col))
        out.append(
            parts.filter(pl.col("lay") >= 0).select("tok", "rec_no", *cols, malformed=pl.lit(False))
        )
    odd = parts.filter(pl.col("lay") < 0)
    if odd.height:
        wide = odd.filter(pl.col(fields[-1]).is_not_null()).select("tok")
        if wide.height and max_attrs < 4 * _MAX_ATTRS:  # more attributes than expected
            out.append(_record_attrs(recs.join(wide, on="tok"), 4 * _MAX_ATTRS))
            odd = odd.join(wide, on="tok", how="anti")
        if odd.height:
            slow = recs.join(odd.select("tok"), on="tok")
            slow = _generic_record_attrs(slow).join(
                slow.select("tok", complete=pl.col("t").str.contains(_START_TAG)), on="tok"
            )
            out.append(
                slow.with_columns(malformed=~pl.col("complete") | pl.col("type").is_null()).drop(
                    "complete"
                )
            )
    if not out:
        return pl.DataFrame(
            schema={
                "tok": pl.UInt32,
                "rec_no": pl.Int64,
                **dict.fromkeys(_RECORD_ATTRS.values(), pl.String),
                "malformed": pl.Boolean,
            }
        )
    if len(out) == 1:
        return out[0]
    cols = out[0].columns
    return pl.concat([o.select(cols) for o in out]).sort("tok")


def _generic_record_attrs(toks: pl.DataFrame) -> pl.DataFrame:
    """Record attributes in any order/quoting: sequential name=value tokens, then pivot."""
    cols = list(_RECORD_ATTRS.values())
    pairs = (
        toks.select("tok", pl.col("t").str.extract_all(_ATTR_TOKEN).alias("a"))
        .explode("a")
        .drop_nulls("a")
        .with_columns(
            name=pl.col("a").str.extract(r"^([^\s=]+)"),
            val=pl.col("a").str.extract(r"""(?s)=\s*["'](.*)["']$"""),
        )
        .filter(pl.col("name").is_in(list(_RECORD_ATTRS)))
        .with_columns(pl.col("name").replace_strict(_RECORD_ATTRS))
    )
    if pairs.height == 0:
        wide = pl.DataFrame(schema={"tok": pl.UInt32})
    else:
        wide = pairs.pivot(on="name", index="tok", values="val", aggregate_function="first")
    out = toks.select("tok", "rec_no").join(wide, on="tok", how="left")
    return out.with_columns(
        [pl.lit(None, dtype=pl.String).alias(c) for c in cols if c not in out.columns]
    ).select("tok", "rec_no", *cols)


# --------------------------------------------------------------------------- entities

_ENTITY = re.compile(r"&(?:(amp|lt|gt|quot|apos)|#([0-9]{1,7})|#[xX]([0-9A-Fa-f]{1,6}));")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _xml_char_ok(cp: int) -> bool:
    return (
        cp in (0x9, 0xA, 0xD)
        or 0x20 <= cp <= 0xD7FF
        or 0xE000 <= cp <= 0xFFFD
        or 0x10000 <= cp <= 0x10FFFF
    )


def _entity(m: re.Match[str]) -> str:
    if m.group(1):
        return _NAMED[m.group(1)]
    cp = int(m.group(2)) if m.group(2) else int(m.group(3), 16)
    return chr(cp) if _xml_char_ok(cp) else m.group(0)


def xml_unescape(text: str) -> str:
    """Decode the predefined XML entities and character references; nothing else."""
    return _ENTITY.sub(_entity, text) if "&" in text else text


#: the named entities, ``&amp;`` last: replacing them one after the other over a whole
#: column decodes exactly as :func:`xml_unescape`'s single pass (no replacement can form
#: another entity: only ``&amp;`` yields a ``&``, and nothing is replaced after it)
_NAMED_ORDER = [("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&")]
#: distinct escaped values above which the named entities are decoded in polars
_VECTOR_MIN = 64


def _decode_column(df: pl.DataFrame, col: str, extra=None) -> pl.DataFrame:
    """Decode entities in a string column by mapping its distinct escaped values
    (or, with ``extra``, map every distinct value through ``extra``).

    Many distinct escaped values (Apple's ``device`` holds a memory address that can change
    with every record) are decoded in polars, named entities only; values holding a
    character reference (``&#``) still go through :func:`xml_unescape`."""
    s = df.get_column(col)
    vector = None
    if extra is None:
        todo = s.filter(s.str.contains("&", literal=True)).unique()
        fn = xml_unescape
        if todo.len() > _VECTOR_MIN:
            vector = pl.col(col)
            for a, b in _NAMED_ORDER:
                vector = vector.str.replace_all(a, b, literal=True)
            todo = todo.filter(todo.str.contains("&#", literal=True))
    else:
        todo = s.drop_nulls().unique()
        fn = extra
    mapped = pl.col(col)
    if todo.len():
        old = todo.to_list()
        pairs = [(o, n) for o, n in zip(old, [fn(v) for v in old], strict=True) if o != n]
        if pairs:
            mapped = mapped.replace([p[0] for p in pairs], [p[1] for p in pairs])
    if vector is not None:  # each row decoded once, from its original value
        named = pl.col(col).str.contains("&", literal=True) & ~pl.col(col).str.contains(
            "&#", literal=True
        )
        mapped = pl.when(named).then(vector).otherwise(mapped)
    elif mapped.meta.eq(pl.col(col)):
        return df
    return df.with_columns(mapped.alias(col))
