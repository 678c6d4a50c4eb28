"""Chart builders: polars frames in, Altair charts out. No SQL, no ``st.*``.

Time axes use *local wall-clock* timestamps (naive, from the ``*_local`` columns) on a UTC
scale, so the browser's own time zone never shifts what the participant experienced.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import altair as alt
import polars as pl

from dashboards.format import STAGE_LABELS
from detectors.heat import NWS_HEAT_BAND_LABELS, nws_heat_band_expr

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
#: the bedroom sensor's line on the heat panel (distinct from the NWS band colours)
BEDROOM_COLOUR = "#3d4f9f"

#: a line is broken where consecutive heart-rate samples are further apart than this
MAX_HR_GAP = timedelta(minutes=15)

HR_HEIGHT = 260
STAGE_ROW_HEIGHT = 18


def _dt(ts: datetime) -> alt.DateTime:
    """Naive local timestamp as a Vega-Lite date on the chart's UTC scale.

    (Epoch-millisecond numbers as scale domain or axis values break temporal scales in the
    Vega-Lite 6 that Streamlit 1.67 ships: marks collapse and labels vanish.)
    """
    return alt.DateTime(
        year=ts.year,
        month=ts.month,
        date=ts.day,
        hours=ts.hour,
        minutes=ts.minute,
        seconds=ts.second,
        utc=True,
    )


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


def _time_x(
    domain: tuple[datetime, datetime],
    *,
    field: str = "time_local",
    axis: bool = True,
    title: str | None = None,
) -> alt.X:
    return alt.X(
        f"{field}:T",
        title=None,
        scale=alt.Scale(type="utc", domain=[_dt(domain[0]), _dt(domain[1])], nice=False),
        axis=alt.Axis(
            format="%H:%M",
            labelAngle=0,
            values=_hour_ticks(domain),
            grid=True,
            gridOpacity=0.4,
            labels=axis,
            ticks=axis,
            domain=axis,
            title=title if axis else None,
            titleFontWeight="normal",
        ),
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
        return hr.with_columns(
            pl.lit(0).alias("segment"),
            pl.lit("").alias("time_label"),
            pl.lit(True).alias("isolated"),
        )
    hr = hr.sort("time_local").with_columns(
        ((pl.col("time_local").diff() > max_gap).fill_null(False).cum_sum())
        .cast(pl.Int32)
        .alias("segment"),
        pl.col("time_local").dt.strftime("%H:%M").alias("time_label"),
    )
    return hr.with_columns(
        (pl.len().over("segment") == 1).alias("isolated"),
    )


def _episode_frame(episodes: pl.DataFrame) -> pl.DataFrame:
    return episodes.select(
        "start_local",
        "end_local",
        "label",
        "confidence",
        (pl.col("label") + " · " + pl.col("confidence").round(2).cast(pl.String)).alias("caption"),
        (
            pl.col("start_local").dt.strftime("%H:%M")
            + "–"
            + pl.col("end_local").dt.strftime("%H:%M")
        ).alias("span"),
    )


def _journal_frame(journal: pl.DataFrame) -> pl.DataFrame:
    severity = (
        pl.when(pl.col("severity").is_not_null())
        .then(pl.lit(" ") + pl.col("severity").cast(pl.String) + "/10")
        .otherwise(pl.lit(""))
    )
    return journal.select(
        "time_local",
        "kind",
        (pl.lit("journal: ") + pl.col("kind").str.replace_all("_", " ") + severity).alias(
            "caption"
        ),
        pl.col("time_local").dt.strftime("%H:%M").alias("time_label"),
        pl.col("note").fill_null(""),
    )


def _episode_layers(
    ep: pl.DataFrame,
    window: tuple[datetime, datetime],
    *,
    axis: bool,
    with_caption: bool,
    title: str | None = None,
) -> list[alt.Chart]:
    x = _time_x(window, field="start_local", axis=axis, title=title)
    legend = (
        alt.Legend(orient="top", direction="horizontal", symbolType="square", symbolOpacity=0.35)
        if with_caption and ep.height
        else None
    )
    colour = alt.Color(
        "label:N",
        title="cramp episode",
        scale=alt.Scale(domain=list(LABEL_COLOURS), range=list(LABEL_COLOURS.values())),
        legend=legend,
    )
    tooltip = [alt.Tooltip("caption:N", title="episode"), alt.Tooltip("span:N", title="local")]
    base = alt.Chart(ep)
    layers = [
        base.mark_rect(opacity=0.16, clip=True).encode(
            x=x, x2="end_local:T", color=colour, tooltip=tooltip
        )
    ]
    if with_caption:
        layers.append(
            base.mark_text(
                align="left", baseline="top", dx=3, dy=0, fontSize=11, fontWeight="bold", clip=True
            ).encode(
                x=x,
                y=alt.value(4),
                text="caption:N",
                color=alt.Color(
                    "label:N",
                    scale=alt.Scale(domain=list(LABEL_COLOURS), range=list(LABEL_COLOURS.values())),
                    legend=None,
                ),
            )
        )
    return layers


def _journal_layers(
    jr: pl.DataFrame,
    window: tuple[datetime, datetime],
    *,
    axis: bool,
    with_caption: bool,
    height: int,
    title: str | None = None,
) -> list[alt.Chart]:
    x = _time_x(window, field="time_local", axis=axis, title=title)
    tooltip = [
        alt.Tooltip("caption:N", title="entry"),
        alt.Tooltip("time_label:N", title="local"),
        alt.Tooltip("note:N"),
    ]
    base = alt.Chart(jr)
    layers = [
        base.mark_rule(color=JOURNAL_COLOUR, strokeDash=[4, 3], strokeWidth=1.5, clip=True).encode(
            x=x, tooltip=tooltip
        )
    ]
    if with_caption:
        layers.append(
            base.mark_text(
                align="left", baseline="bottom", dx=4, fontSize=11, color=JOURNAL_COLOUR, clip=True
            ).encode(x=x, y=alt.value(height - 4), text="caption:N")
        )
    return layers


def hr_domain(hr: pl.DataFrame) -> list[float]:
    """Heart-rate axis range: at least 45-90 bpm, so that small nightly wiggles are not
    magnified into apparent events; widened to the data (5 bpm headroom) when needed."""
    values = hr.get_column("heart_rate_bpm").drop_nulls()
    lo = min(45.0, float(values.min()) - 5) if values.len() else 45.0
    hi = max(90.0, float(values.max()) + 5) if values.len() else 90.0
    return [5 * (lo // 5), 5 * -(-hi // 5)]


def night_chart(
    hr: pl.DataFrame,
    stages: pl.DataFrame,
    episodes: pl.DataFrame,
    journal: pl.DataFrame,
    window: tuple[datetime, datetime],
    time_title: str = "local time",
) -> alt.VConcatChart:
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
        y=alt.Y(
            "heart_rate_bpm:Q",
            title="Heart rate (bpm)",
            scale=alt.Scale(domain=hr_domain(hr), zero=False, nice=False),
        ),
        tooltip=[
            alt.Tooltip("time_label:N", title="local"),
            alt.Tooltip("heart_rate_bpm:Q", title="bpm", format=".0f"),
        ],
    )
    hr_layers = [
        *_episode_layers(ep, window, axis=False, with_caption=True),
        hr_base.mark_line(
            color=HR_COLOUR, strokeWidth=1.6, interpolate="monotone", clip=True
        ).encode(detail="segment:N"),
        hr_base.transform_filter(alt.datum.isolated).mark_circle(
            color=HR_COLOUR, size=16, clip=True
        ),
        *_journal_layers(jr, window, axis=False, with_caption=True, height=HR_HEIGHT),
    ]
    # Options go into the constructors: every method call on a layered or concatenated chart
    # (properties, resolve_*, configure_*) deep-copies the whole tree again (about half of the
    # build time before). The spec is the same as chained (compared on all sample nights).
    top = alt.layer(*hr_layers, height=HR_HEIGHT)

    present = (
        [s for s in STAGE_ORDER if s in set(stages.get_column("stage").to_list())]
        if stages.height
        else []
    )
    st_frame = stages.select(
        "stage",
        "start_local",
        "end_local",
        pl.col("stage").replace_strict(STAGE_LABELS, default=pl.col("stage")).alias("stage_label"),
        (
            pl.col("start_local").dt.strftime("%H:%M")
            + "–"
            + pl.col("end_local").dt.strftime("%H:%M")
        ).alias("span"),
    )
    st_frame = _chart_time(st_frame, "start_local", "end_local")
    labels_present = [STAGE_LABELS.get(s, s) for s in present] or ["no stage data"]
    xb = _time_x(window, field="start_local", title=time_title)
    stage_layers = [
        alt.Chart(st_frame)
        .mark_rect(clip=True)
        .encode(
            x=xb,
            x2="end_local:T",
            y=alt.Y(
                "stage_label:N",
                title=None,
                sort=labels_present,
                scale=alt.Scale(domain=labels_present, paddingInner=0.15),
                axis=alt.Axis(ticks=False, domain=False, labelPadding=6),
            ),
            color=alt.Color(
                "stage:N",
                scale=alt.Scale(domain=list(STAGE_COLOURS), range=list(STAGE_COLOURS.values())),
                legend=None,
            ),
            tooltip=[
                alt.Tooltip("stage_label:N", title="stage"),
                alt.Tooltip("span:N", title="local"),
            ],
        ),
        *_episode_layers(ep, window, axis=True, with_caption=False, title=time_title),
        *_journal_layers(jr, window, axis=True, with_caption=False, height=0, title=time_title),
    ]
    bottom = alt.layer(
        *stage_layers,
        resolve=alt.Resolve(scale=alt.ScaleResolveMap(color="independent")),
        height=STAGE_ROW_HEIGHT * max(len(labels_present), 2),
    )

    return alt.vconcat(
        top,
        bottom,
        spacing=6,
        # fit the width of the container (Streamlit would use "pad" for a layered vconcat)
        autosize=alt.AutoSizeParams(type="fit-x", contains="padding"),
        resolve=alt.Resolve(
            scale=alt.ScaleResolveMap(x="shared", color="independent"),
            axis=alt.AxisResolveMap(x="independent"),
        ),
        config=alt.Config(
            view=alt.ViewConfig(stroke=None),
            axis=alt.AxisConfig(
                labelFontSize=12,
                titleFontSize=12,
                titleFontWeight="normal",
                labelColor="#3b4652",
                titleColor="#3b4652",
            ),
            legend=alt.LegendConfig(labelFontSize=12, titleFontSize=12, titleFontWeight="normal"),
        ),
    )


# --------------------------------------------------------------------------------------------
# days and triggers: one column of panels over local calendar days

#: colours of the NWS heat-index bands (bands and names: detectors.heat)
HEAT_BAND_COLOURS = {
    "none": "#d5dde5",
    "caution": "#f3d27a",
    "extreme_caution": "#e89a3c",
    "danger": "#d0582f",
    "extreme_danger": "#8e1b1b",
}
HEAT_BANDS = [(NWS_HEAT_BAND_LABELS[k], c) for k, c in HEAT_BAND_COLOURS.items()]
FLUID_STATUS_COLOURS = {"logged": "#4a90c2", "partial": "#a9c8e0", "not_logged": "#d5dde5"}
NUTRIENT_SERIES = {
    "magnesium_7d_pct_rda": "magnesium (% RDA)",
    "calcium_7d_pct_rda": "calcium (% RDA)",
    "potassium_7d_pct_ai": "potassium (% AI)",
    "vitamin_d_7d_pct_rda": "vitamin D (% RDA)",
}
NUTRIENT_COLOURS = ["#2e7d6b", "#7a5ea8", "#c27c2c", "#c2a02c"]
DAY_PANEL_HEIGHT = 120


def _heat_band(hi_c: pl.Expr) -> pl.Expr:
    """NWS band label of a heat index in °C (:func:`detectors.heat.nws_heat_band_expr`)."""
    return nws_heat_band_expr(hi_c, unit="c").replace_strict(
        NWS_HEAT_BAND_LABELS, default=None, return_dtype=pl.String
    )


def days_frame(days: pl.DataFrame) -> pl.DataFrame:
    """``queries.days`` shaped for :func:`days_chart`: ISO day strings (parsed as UTC dates by
    Vega-Lite, so no browser zone shifts a day) and the display-only derived labels."""
    return days.with_columns(
        pl.col("local_date").cast(pl.String).alias("day"),
        pl.col("local_date").dt.strftime("%a %d %b %Y").alias("day_label"),
        _heat_band(pl.col("outdoor_hi_max_c")).alias("heat_band"),
        pl.col("fluid_log_status")
        .replace_strict(
            {"logged": "logged", "partial": "partly logged", "not_logged": "not logged"},
            default=pl.col("fluid_log_status"),
        )
        .alias("fluid_status_label"),
    )


def _day_x(window: tuple[date, date], *, axis: bool, centre: bool = False) -> alt.X:
    """Shared day axis; bars fill their day, ``centre`` puts points and lines mid-day."""
    lo = datetime(window[0].year, window[0].month, window[0].day)
    hi = datetime(window[1].year, window[1].month, window[1].day) + timedelta(days=1)
    return alt.X(
        "utcyearmonthdate(day):T",
        title=None,
        scale=alt.Scale(type="utc", domain=[_dt(lo), _dt(hi)], nice=False),
        axis=alt.Axis(
            format="%d %b",
            labelAngle=0,
            grid=False,
            labels=axis,
            ticks=axis,
            domain=axis,
            tickCount=12,
            title="local date" if axis else None,
        ),
        **({"bandPosition": 0.5} if centre else {}),
    )


def days_chart(days: pl.DataFrame, window: tuple[date, date]) -> alt.VConcatChart:
    """Cramp nights above the day's triggers: heat index, fluids, sweat and activity, the next
    morning's body-mass change and the 7-day nutrient intakes, day by day.

    ``days``: :func:`days_frame` of ``queries.days``; ``window``: first and last local date.
    A panel shows gaps where the table is NULL (no data), never zeros.
    """
    frame = days.filter(pl.col("local_date").is_between(*window))
    tip_day = alt.Tooltip("day_label:N", title="day")

    def panel(title: str, *layers: alt.Chart, height: int = DAY_PANEL_HEIGHT) -> alt.LayerChart:
        return alt.layer(*layers).properties(
            height=height,
            title=alt.TitleParams(
                title, anchor="start", fontSize=13, fontWeight="normal", color="#3b4652"
            ),
        )

    base = alt.Chart(frame)
    x = _day_x(window, axis=False)
    x_mid = _day_x(window, axis=False, centre=True)

    # cramp nights: detected (coloured by label) and journal-reported, one row each
    cramps = pl.concat(
        [
            frame.filter(pl.col("cramp_episodes_night_after") > 0).select(
                "day",
                "day_label",
                pl.lit("detected").alias("row"),
                pl.col("cramp_label_night_after").alias("what"),
                pl.col("cramp_episodes_night_after").alias("n"),
            ),
            frame.filter(pl.col("journal_cramps_night_after") > 0).select(
                "day",
                "day_label",
                pl.lit("journal").alias("row"),
                pl.lit("journal").alias("what"),
                pl.col("journal_cramps_night_after").alias("n"),
            ),
        ],
        how="vertical_relaxed",
    )
    cramp_colours = {**LABEL_COLOURS, "journal": JOURNAL_COLOUR}
    cramp_panel = panel(
        "Cramp episodes in the night after the day",
        alt.Chart(cramps)
        .mark_point(filled=True, size=70, opacity=0.9)
        .encode(
            x=x_mid,
            y=alt.Y(
                "row:N",
                title=None,
                sort=["detected", "journal"],
                scale=alt.Scale(domain=["detected", "journal"]),
                axis=alt.Axis(ticks=False, domain=False, labelPadding=6),
            ),
            color=alt.Color(
                "what:N",
                title="cramps",
                scale=alt.Scale(domain=list(cramp_colours), range=list(cramp_colours.values())),
            ),
            shape=alt.Shape(
                "row:N",
                legend=None,
                scale=alt.Scale(domain=["detected", "journal"], range=["circle", "triangle-down"]),
            ),
            tooltip=[
                tip_day,
                alt.Tooltip("what:N", title="label"),
                alt.Tooltip("n:Q", title="episodes / entries"),
            ],
        ),
        height=56,
    )

    heat_layers = []
    heat_title = "Outdoor heat index, daily max (°C) · dehydration-condition days marked"
    if frame.get_column("indoor_hi_max_c").is_not_null().any():  # a bedroom sensor
        heat_title = (
            "Heat index, daily max (°C): outdoor (bars), bedroom sensor (line) · "
            "dehydration-condition days marked"
        )
        heat_layers.append(
            base.mark_line(
                color=BEDROOM_COLOUR,
                strokeWidth=2,
                point=alt.OverlayMarkDef(color=BEDROOM_COLOUR, size=14),
            ).encode(
                x=x_mid,
                y=alt.Y("indoor_hi_max_c:Q", title="°C"),
                tooltip=[
                    tip_day,
                    alt.Tooltip(
                        "indoor_hi_max_c:Q", title="bedroom heat index max °C", format=".1f"
                    ),
                    alt.Tooltip("indoor_temp_max_c:Q", title="bedroom temp max °C", format=".1f"),
                    alt.Tooltip("indoor_hi_ge_80f_h:Q", title="bedroom hours HI ≥ 80 °F"),
                ],
            )
        )
    heat_panel = panel(
        heat_title,
        base.mark_bar(opacity=0.9).encode(
            x=x,
            y=alt.Y("outdoor_hi_max_c:Q", title="°C"),
            color=alt.Color(
                "heat_band:N",
                title="NWS heat-index band",
                scale=alt.Scale(
                    domain=[b for b, _ in HEAT_BANDS], range=[c for _, c in HEAT_BANDS]
                ),
            ),
            tooltip=[
                tip_day,
                alt.Tooltip("outdoor_hi_max_c:Q", title="heat index max °C", format=".1f"),
                alt.Tooltip("outdoor_temp_max_c:Q", title="air temp max °C", format=".1f"),
                alt.Tooltip("outdoor_hi_ge_80f_h:Q", title="hours HI ≥ 80 °F"),
                alt.Tooltip("outdoor_wbgt_max_c:Q", title="WBGT max °C", format=".1f"),
                alt.Tooltip("heat_band:N", title="band"),
            ],
        ),
        base.transform_filter(alt.datum.dehydration_label != None)  # noqa: E711 (Vega expression)
        .mark_text(text="▲", dy=-8, fontSize=12, color=LABEL_COLOURS["likely"])
        .encode(
            x=x_mid,
            y="outdoor_hi_max_c:Q",
            tooltip=[
                tip_day,
                alt.Tooltip("dehydration_label:N", title="dehydration"),
                alt.Tooltip("dehydration_episode_confidence:Q", title="confidence", format=".2f"),
            ],
        ),
        *heat_layers,
    )

    fluid_panel = panel(
        "Fluids: logged beverages (bars) against the day's need (ticks), mL",
        base.mark_bar().encode(
            x=x,
            y=alt.Y("fluid_logged_ml:Q", title="mL"),
            color=alt.Color(
                "fluid_log_status:N",
                title="fluid log",
                scale=alt.Scale(
                    domain=list(FLUID_STATUS_COLOURS), range=list(FLUID_STATUS_COLOURS.values())
                ),
            ),
            tooltip=[
                tip_day,
                alt.Tooltip("fluid_status_label:N", title="log"),
                alt.Tooltip("fluid_logged_ml:Q", title="logged mL", format=",.0f"),
                alt.Tooltip("fluid_need_ml:Q", title="need mL", format=",.0f"),
                alt.Tooltip("fluid_balance_ml:Q", title="balance mL", format=",.0f"),
            ],
        ),
        base.mark_tick(color="#2f3e4e", thickness=2).encode(
            x=x,
            y="fluid_need_ml:Q",
            tooltip=[
                tip_day,
                alt.Tooltip("fluid_need_ml:Q", title="need mL", format=",.0f"),
                alt.Tooltip("sweat_loss_ml:Q", title="of which sweat mL", format=",.0f"),
            ],
        ),
    )

    activity_panel = panel(
        "Estimated sweat loss (mL) · workouts and active energy in the tooltip",
        base.mark_bar(color="#5f9c8b").encode(
            x=x,
            y=alt.Y("sweat_loss_ml:Q", title="mL"),
            tooltip=[
                tip_day,
                alt.Tooltip("sweat_loss_ml:Q", title="sweat mL", format=",.0f"),
                alt.Tooltip("sweat_loss_pct_bm:Q", title="sweat % body mass", format=".2f"),
                alt.Tooltip("workouts_count:Q", title="workouts"),
                alt.Tooltip("workout_min:Q", title="workout min", format=".0f"),
                alt.Tooltip("active_energy_kcal:Q", title="active kcal", format=",.0f"),
                alt.Tooltip("steps:Q", title="steps", format=",.0f"),
            ],
        ),
    )

    mass_panel = panel(
        "Next-morning body-mass change against the 7-morning baseline (%)",
        alt.Chart(pl.DataFrame({"y": [-1.0, -2.0]}))
        .mark_rule(strokeDash=[4, 3], color="#8a96a3")
        .encode(y="y:Q"),
        base.mark_bar(color="#8e7cc3").encode(
            x=x,
            y=alt.Y("next_morning_mass_change_pct:Q", title="%"),
            tooltip=[
                tip_day,
                alt.Tooltip(
                    "next_morning_mass_change_pct:Q", title="next-morning change %", format=".2f"
                ),
                alt.Tooltip(
                    "sleeping_hr_delta_bpm:Q", title="sleeping HR vs baseline bpm", format=".1f"
                ),
            ],
        ),
    )

    nutrients = frame.unpivot(
        index=["day", "day_label"],
        on=list(NUTRIENT_SERIES),
        variable_name="nutrient",
        value_name="pct",
    ).with_columns(pl.col("nutrient").replace_strict(NUTRIENT_SERIES))
    x_axis = _day_x(window, axis=True, centre=True)
    nutrient_panel = panel(
        "Intake, 7-day mean against the reference intake (%) · 100 % = RDA or AI",
        alt.Chart(pl.DataFrame({"y": [100.0]}))
        .mark_rule(strokeDash=[4, 3], color="#8a96a3")
        .encode(y="y:Q"),
        alt.Chart(nutrients)
        .mark_line(point=alt.OverlayMarkDef(size=12))
        .encode(
            x=x_axis,
            y=alt.Y("pct:Q", title="%"),
            color=alt.Color(
                "nutrient:N",
                title="nutrient",
                scale=alt.Scale(domain=list(NUTRIENT_SERIES.values()), range=NUTRIENT_COLOURS),
            ),
            tooltip=[
                tip_day,
                alt.Tooltip("nutrient:N"),
                alt.Tooltip("pct:Q", title="% of reference", format=".0f"),
            ],
        ),
    )

    return (
        alt.vconcat(
            cramp_panel,
            heat_panel,
            fluid_panel,
            activity_panel,
            mass_panel,
            nutrient_panel,
            spacing=14,
        )
        .properties(autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))
        .resolve_scale(x="shared", color="independent", shape="independent")
        .resolve_axis(x="independent")
        .resolve_legend(color="independent")
        .configure_view(stroke=None)
        .configure_axis(
            labelFontSize=12,
            titleFontSize=12,
            titleFontWeight="normal",
            labelColor="#3b4652",
            titleColor="#3b4652",
        )
        .configure_legend(
            labelFontSize=12, titleFontSize=12, titleFontWeight="normal", orient="right"
        )
    )
