"""Entity decoding of a column with many distinct escaped values (polars, named entities)
equals :func:`xml_unescape` value by value."""

from __future__ import annotations

import random

import polars as pl

from pipeline.importers.apple_health_scan import _VECTOR_MIN, _decode_column, xml_unescape

PIECES = [
    "&amp;",
    "&lt;",
    "&gt;",
    "&quot;",
    "&apos;",
    "&",
    "amp;",
    "lt;",
    ";",
    "#",
    "&#",
    "&#60;",
    "&#x3C;",
    "&#0;",
    "&lol9;",
    "a",
    "HKDevice: 0x1f",
    " ",
    "’",
    "&amp;lt;",
    "&amp;amp;",
]


def test_vectorised_decoding_equals_xml_unescape():
    rng = random.Random(5)
    values = ["".join(rng.choice(PIECES) for _ in range(rng.randint(0, 8))) for _ in range(3000)]
    values += [None, "", "plain"]
    df = pl.DataFrame({"v": values, "k": range(len(values))})
    assert df["v"].filter(df["v"].str.contains("&")).n_unique() > _VECTOR_MIN
    out = _decode_column(df, "v")
    want = [None if v is None else xml_unescape(v) for v in values]
    assert out["v"].to_list() == want
    assert out["k"].to_list() == df["k"].to_list()


def test_few_values_take_the_mapping_path():
    df = pl.DataFrame({"v": ["&lt;&lt;HKDevice: 0x1&gt;", "a &amp; b", None]})
    assert _decode_column(df, "v")["v"].to_list() == ["<<HKDevice: 0x1>", "a & b", None]
