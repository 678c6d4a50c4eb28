"""Chart builders: polars frames in, Altair charts out. No SQL, no ``st.*``.

Time axes use *local wall-clock* timestamps (naive, from the ``*_local`` columns) on a UTC
scale, so the browser's own time zone never shifts what the participant experienced.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import altair as alt
import polars as pl

from dashboards.format import STAGE_LABELS

#: hypnogram order, top to bottom
STAGE_ORDER = ["awake", "rem", "light", "deep", "asleep", "in_bed"]
STAGE_COLOURS = {
    "awake": "#e6a23c",
    "rem": "#8e7cc3",
    "light": "#7fb2e5",
    "deep": "#1f4e8c",
    "asleep": "#5b8fc7",
    "in_bed": "#c9ced6",
}
LABEL_COLOURS = {"likely": "#c0392b", "possible": "#e58e26"}
HR_COLOUR = "#2f3e4e"
JOURNAL_COLOUR = "#5c6b7a"

#: a line is broken where consecutive heart-rate samples are further apart than this
MAX_HR_GAP = timedelta(minutes=15)

HR_HEIGHT = 260
STAGE_ROW_HEIGHT = 18


def _dt(ts: datetime) -> alt.DateTime:
    """Naive local timestamp as a Vega-Lite date on the chart's UTC scale.

    (Epoch-millisecond numbers as scale domain or axis values break temporal scales in the
    Vega-Lite 6 that Streamlit 1.67 ships: marks collapse and labels vanish.)
    """
    return alt.DateTime(year=ts.year, month=ts.month, date=ts.day, hours=ts.hour,
                        minutes=ts.minute, seconds=ts.second, utc=True)


def _hour_ticks(domain: tuple[datetime, datetime]) -> list[alt.DateTime]:
    """Full local hours inside the window."""
    t = domain[0].replace(minute=0, second=0, microsecond=0)
    if t < domain[0]:
        t += timedelta(hours=1)
    step = timedelta(hours=1 if domain[1] - domain[0] <= timedelta(hours=16) else 2)
    out = []
    while t <= domain[1]:
        out.append(_dt(t))
        t += step
    return out


def _time_x(domain: tuple[datetime, datetime], *, field: str = "time_local",
            axis: bool = True, title: str | None = None) -> alt.X:
    return alt.X(
        f"{field}:T",
        title=None,
        scale=alt.Scale(type="utc", domain=[_dt(domain[0]), _dt(domain[1])], nice=False),
        axis=alt.Axis(format="%H:%M", labelAngle=0, values=_hour_ticks(domain),
                      grid=True, gridOpacity=0.4, labels=axis, ticks=axis, domain=axis,
                      title=title if axis else None, titleFontWeight="normal"),
    )


def _chart_time(frame: pl.DataFrame, *cols: str) -> pl.DataFrame:
    """Tag naive local wall-clock columns as UTC for the chart.

    Naive timestamps reach Vega as *browser-local* times, so a viewer in another zone would see
    them shifted; tagged as UTC and drawn on a UTC scale they show the participant's clock.
    """
    naive = [c for c in cols if getattr(frame.schema[c], "time_zone", "") is None]
    return frame.with_columns(pl.col(c).dt.replace_time_zone("UTC") for c in naive)


def hr_segments(hr: pl.DataFrame, max_gap: timedelta = MAX_HR_GAP) -> pl.DataFrame:
    """Add ``segment`` (a new id after every gap > ``max_gap``) and ``time_label``.

    Lines are drawn per segment, so missing data shows as a gap, never as a bridge or a zero.
    """
    if hr.height == 0:
        return hr.with_columns(pl.lit(0).alias("segment"), pl.lit("").alias("time_label"),
                               pl.lit(True).alias("isolated"))
    hr = hr.sort("time_local").with_columns(
        ((pl.col("time_local").diff() > max_gap).fill_null(False).cum_sum())
        .cast(pl.Int32).alias("segment"),
        pl.col("time_local").dt.strftime("%H:%M").alias("time_label"),
    )
    return hr.with_columns(
        (pl.len().over("segment") == 1).alias("isolated"),
    )


def _episode_frame(episodes: pl.DataFrame) -> pl.DataFrame:
    return episodes.select(
        "start_local", "end_local", "label", "confidence",
        (pl.col("label") + " · " + pl.col("confidence").round(2).cast(pl.String))
        .alias("caption"),
        (pl.col("start_local").dt.strftime("%H:%M") + "–"
         + pl.col("end_local").dt.strftime("%H:%M")).alias("span"),
    )


def _journal_frame(journal: pl.DataFrame) -> pl.DataFrame:
    severity = pl.when(pl.col("severity").is_not_null()).then(
        pl.lit(" ") + pl.col("severity").cast(pl.String) + "/10").otherwise(pl.lit(""))
    return journal.select(
        "time_local", "kind",
        (pl.lit("journal: ") + pl.col("kind").str.replace_all("_", " ") + severity)
        .alias("caption"),
        pl.col("time_local").dt.strftime("%H:%M").alias("time_label"),
        pl.col("note").fill_null(""),
    )


def _episode_layers(ep: pl.DataFrame, window: tuple[datetime, datetime], *, axis: bool,
                    with_caption: bool, title: str | None = None) -> list[alt.Chart]:
    x = _time_x(window, field="start_local", axis=axis, title=title)
    legend = alt.Legend(orient="top", direction="horizontal", symbolType="square",
                        symbolOpacity=0.35) if with_caption and ep.height else None
    colour = alt.Color("label:N", title="cramp episode",
                       scale=alt.Scale(domain=list(LABEL_COLOURS),
                                       range=list(LABEL_COLOURS.values())),
                       legend=legend)
    tooltip = [alt.Tooltip("caption:N", title="episode"), alt.Tooltip("span:N", title="local")]
    base = alt.Chart(ep)
    layers = [base.mark_rect(opacity=0.16, clip=True).encode(
        x=x, x2="end_local:T", color=colour, tooltip=tooltip)]
    if with_caption:
        layers.append(base.mark_text(align="left", baseline="top", dx=3, dy=0, fontSize=11,
                                     fontWeight="bold", clip=True).encode(
            x=x, y=alt.value(4), text="caption:N",
            color=alt.Color("label:N", scale=alt.Scale(domain=list(LABEL_COLOURS),
                                                       range=list(LABEL_COLOURS.values())),
                            legend=None)))
    return layers


def _journal_layers(jr: pl.DataFrame, window: tuple[datetime, datetime], *, axis: bool,
                    with_caption: bool, height: int, title: str | None = None
                    ) -> list[alt.Chart]:
    x = _time_x(window, field="time_local", axis=axis, title=title)
    tooltip = [alt.Tooltip("caption:N", title="entry"),
               alt.Tooltip("time_label:N", title="local"), alt.Tooltip("note:N")]
    base = alt.Chart(jr)
    layers = [base.mark_rule(color=JOURNAL_COLOUR, strokeDash=[4, 3], strokeWidth=1.5, clip=True)
              .encode(x=x, tooltip=tooltip)]
    if with_caption:
        layers.append(base.mark_text(align="left", baseline="bottom", dx=4, fontSize=11,
                                     color=JOURNAL_COLOUR, clip=True).encode(
            x=x, y=alt.value(height - 4), text="caption:N"))
    return layers


def hr_domain(hr: pl.DataFrame) -> list[float]:
    """Heart-rate axis range: at least 45-90 bpm, so that small nightly wiggles are not
    magnified into apparent events; widened to the data (5 bpm headroom) when needed."""
    values = hr.get_column("heart_rate_bpm").drop_nulls()
    lo = min(45.0, float(values.min()) - 5) if values.len() else 45.0
    hi = max(90.0, float(values.max()) + 5) if values.len() else 90.0
    return [5 * (lo // 5), 5 * -(-hi // 5)]


def night_chart(hr: pl.DataFrame, stages: pl.DataFrame, episodes: pl.DataFrame,
                journal: pl.DataFrame, window: tuple[datetime, datetime],
                time_title: str = "local time") -> alt.VConcatChart:
    """Heart rate over the night window, detected episodes shaded, journal entries as rules,
    and a hypnogram of the sleep stages beneath on the same local time axis.

    ``hr``: ``time_local, heart_rate_bpm``; ``stages``: ``stage, start_local, end_local``;
    ``episodes``: ``start_local, end_local, label, confidence``; ``journal``: ``time_local,
    kind, severity, note``; ``window``: naive local (start, end).
    """
    x = _time_x(window, field="time_local", axis=False)
    hr = _chart_time(hr_segments(hr.select("time_local", "heart_rate_bpm")), "time_local")
    ep = _chart_time(_episode_frame(episodes), "start_local", "end_local")
    jr = _chart_time(_journal_frame(journal), "time_local")

    hr_base = alt.Chart(hr).encode(
        x=x,
        y=alt.Y("heart_rate_bpm:Q", title="Heart rate (bpm)",
                scale=alt.Scale(domain=hr_domain(hr), zero=False, nice=False)),
        tooltip=[alt.Tooltip("time_label:N", title="local"),
                 alt.Tooltip("heart_rate_bpm:Q", title="bpm", format=".0f")],
    )
    hr_layers = [
        *_episode_layers(ep, window, axis=False, with_caption=True),
        hr_base.mark_line(color=HR_COLOUR, strokeWidth=1.6, interpolate="monotone", clip=True)
        .encode(detail="segment:N"),
        hr_base.transform_filter(alt.datum.isolated).mark_circle(color=HR_COLOUR, size=16, clip=True),
        *_journal_layers(jr, window, axis=False, with_caption=True, height=HR_HEIGHT),
    ]
    top = alt.layer(*hr_layers).properties(height=HR_HEIGHT)

    present = [s for s in STAGE_ORDER if s in set(stages.get_column("stage").to_list())] \
        if stages.height else []
    st_frame = stages.select(
        "stage", "start_local", "end_local",
        pl.col("stage").replace_strict(STAGE_LABELS, default=pl.col("stage")).alias("stage_label"),
        (pl.col("start_local").dt.strftime("%H:%M") + "–"
         + pl.col("end_local").dt.strftime("%H:%M")).alias("span"),
    )
    st_frame = _chart_time(st_frame, "start_local", "end_local")
    labels_present = [STAGE_LABELS.get(s, s) for s in present] or ["no stage data"]
    xb = _time_x(window, field="start_local", title=time_title)
    stage_layers = [
        alt.Chart(st_frame).mark_rect(clip=True).encode(
            x=xb, x2="end_local:T",
            y=alt.Y("stage_label:N", title=None, sort=labels_present,
                    scale=alt.Scale(domain=labels_present, paddingInner=0.15),
                    axis=alt.Axis(ticks=False, domain=False, labelPadding=6)),
            color=alt.Color("stage:N", scale=alt.Scale(domain=list(STAGE_COLOURS),
                                                       range=list(STAGE_COLOURS.values())),
                            legend=None),
            tooltip=[alt.Tooltip("stage_label:N", title="stage"),
                     alt.Tooltip("span:N", title="local")],
        ),
        *_episode_layers(ep, window, axis=True, with_caption=False, title=time_title),
        *_journal_layers(jr, window, axis=True, with_caption=False, height=0,
                         title=time_title),
    ]
    bottom = alt.layer(*stage_layers).resolve_scale(color="independent").properties(
        height=STAGE_ROW_HEIGHT * max(len(labels_present), 2))

    return (
        alt.vconcat(top, bottom, spacing=6)
        # fit the width of the container (Streamlit would use "pad" for a layered vconcat)
        .properties(autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))
        .resolve_scale(x="shared", color="independent")
        .resolve_axis(x="independent")
        .configure_view(stroke=None)
        .configure_axis(labelFontSize=12, titleFontSize=12, titleFontWeight="normal",
                        labelColor="#3b4652", titleColor="#3b4652")
        .configure_legend(labelFontSize=12, titleFontSize=12, titleFontWeight="normal")
    )
