"""Days and triggers: the article's cramp triggers day by day (heat, fluids, sweat and
exercise, body mass, nutrient intake, medications and conditions) beside the nights with
cramp episodes that follow them. Values come from ``daily_exposures`` as the pipeline wrote
them; this page only shows them."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl
import streamlit as st

from dashboards import charts, queries, state
from dashboards.format import days_table, md_escape, profile_lines, table_height

INTRO = (
    "Each day's measured exposure to the known cramp triggers, with the cramp episodes of the "
    "night that follows it. Gaps mean the data was not recorded, never zero. Lining up is not "
    "proof of cause: `crampwatch triggers` estimates which triggers precede the cramp nights "
    "(odds ratios with their uncertainty), and none of this is a diagnosis."
)
DEFAULT_WINDOW_DAYS = 90


def headline(frame: pl.DataFrame) -> None:
    counts = days_headline(frame)
    cols = st.columns(4)
    cols[0].metric(
        "Nights with cramp episodes",
        counts["cramp_nights"],
        border=True,
        help="Nights after these days with a likely or possible episode.",
    )
    cols[1].metric(
        "Days with heat index ≥ 80 °F",
        counts["heat_days"],
        border=True,
        help="Days with at least one outdoor hour at or above the NWS caution "
        f"level; {counts['weather_days']} of {counts['days']} days have weather.",
    )
    cols[2].metric(
        "Days with fluids logged",
        f"{counts['fluid_logged_days']} of {counts['days']}",
        border=True,
        help="Days whose water log is complete enough to count.",
    )
    cols[3].metric(
        "Dehydration-condition days",
        counts["dehydration_days"],
        border=True,
        help="Days flagged likely or possible by the dehydration-condition detector.",
    )


def days_headline(frame: pl.DataFrame) -> dict[str, int]:
    """Counts over the chosen days (plain counting of what the table holds)."""
    return {
        "days": frame.height,
        "cramp_nights": frame.filter(pl.col("cramp_episodes_night_after") > 0).height,
        "heat_days": frame.filter(pl.col("outdoor_hi_ge_80f_h") > 0).height,
        "weather_days": frame.filter(pl.col("outdoor_hi_max_c").is_not_null()).height,
        "fluid_logged_days": frame.filter(pl.col("fluid_log_status") == "logged").height,
        "dehydration_days": frame.filter(pl.col("dehydration_label").is_not_null()).height,
    }


def profile_view(pid: str) -> None:
    profile = state.load(queries.profile, participant_id=pid)
    if profile is None:
        st.caption("No participant profile (conditions and medications unknown).")
        return
    for line in profile_lines(profile):
        st.markdown(line)


def choose_window(pid: str, frame: pl.DataFrame) -> tuple[date, date]:
    first, last = frame.get_column("local_date").min(), frame.get_column("local_date").max()
    default = (max(first, last - timedelta(days=DEFAULT_WINDOW_DAYS - 1)), last)
    if first == last:
        return first, last
    return st.slider(
        "Days",
        min_value=first,
        max_value=last,
        value=default,
        format="D MMM YYYY",
        key=f"days_window_{pid}",
    )


DAYS_COLUMNS = {
    "day": st.column_config.DateColumn("Day", format="ddd D MMM YYYY"),
    "cramps_night_after": st.column_config.TextColumn(
        "Cramps the night after", help="Detected likely/possible episodes; journal entries"
    ),
    "heat_index_max_c": st.column_config.NumberColumn("Heat index max (°C)", format="%.1f"),
    "hours_hi_ge_80f": st.column_config.NumberColumn("Hours HI ≥ 80 °F", format="%d"),
    "bedroom_temp_max_c": st.column_config.NumberColumn(
        "Bedroom max (°C)",
        format="%.1f",
        help="the indoor sensor named bedroom, else the mean of the indoor sensors",
    ),
    "bedroom_hours_hi_ge_80f": st.column_config.NumberColumn(
        "Bedroom hours HI ≥ 80 °F", format="%d", help="NWS Caution band or above, indoors"
    ),
    "sweat_loss_ml": st.column_config.NumberColumn("Sweat (mL)", format="%.0f"),
    "fluid_logged_ml": st.column_config.NumberColumn("Fluids logged (mL)", format="%.0f"),
    "fluid_need_ml": st.column_config.NumberColumn("Need (mL)", format="%.0f"),
    "fluid_log": st.column_config.TextColumn("Fluid log"),
    "workouts": st.column_config.NumberColumn("Workouts", format="%d"),
    "active_energy_kcal": st.column_config.NumberColumn("Active energy (kcal)", format="%.0f"),
    "mass_change_next_morning_pct": st.column_config.NumberColumn(
        "Next-morning mass change (%)", format="%.1f"
    ),
    "dehydration": st.column_config.TextColumn("Dehydration condition"),
    "magnesium": st.column_config.TextColumn("Magnesium (7 d)"),
    "calcium": st.column_config.TextColumn("Calcium (7 d)"),
    "potassium": st.column_config.TextColumn("Potassium (7 d)"),
    "vitamin_d": st.column_config.TextColumn("Vitamin D (7 d)"),
}


def main() -> None:
    pid = state.participant()
    if pid is None:
        st.stop()
    tz = state.participant_tz()
    st.title(f"Days and triggers · {pid}")
    st.caption(f"Local days{f' ({tz})' if tz else ''}. {INTRO}")
    try:
        profile_view(pid)
        days = state.load(queries.days, participant_id=pid)
    except duckdb.CatalogException:  # a snapshot written by a version before daily_exposures
        st.info(
            "This database predates daily exposures: run `crampwatch detect` (or the "
            "nightly flow) once to add them, then reload this page."
        )
        return
    except duckdb.BinderException:
        if not state.load(queries.missing_day_columns):
            raise  # a real query error, not an old snapshot
        # written before a later daily_exposures column (a migration the snapshot predates)
        st.info(
            "This database was written by an older crampwatch: run `crampwatch detect` "
            "(or the nightly flow) once to update it, then reload this page."
        )
        return
    if days.height == 0:
        st.info(
            "No daily exposures yet: they are computed by `crampwatch detect` (or the "
            "nightly flow) once samples or weather are imported."
        )
        return
    window = choose_window(pid, days)
    chosen = days.filter(pl.col("local_date").is_between(*window))
    headline(chosen)
    st.altair_chart(charts.days_chart(charts.days_frame(days), window), width="stretch")

    st.markdown("**Day by day** (newest first)")
    table = days_table(chosen)
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config=DAYS_COLUMNS,
        key=f"days_table_{pid}",
        placeholder="—",
        height=table_height(table.height, max_rows=12),
    )
    st.download_button(
        "Download these days (CSV)",
        chosen.write_csv(),
        file_name=f"{pid}_days.csv",
        mime="text/csv",
        key=f"days_csv_{pid}",
        help="Every column shown above, with units in the column names (docs/data-model.md).",
    )
    st.caption(
        md_escape(
            "Sources: heat index NWS/Rothfusz; sweat Gonzalez 2009/2012; fluid need EFSA 2010; "
            "2 % body-mass loss ACSM (Sawka 2007); intakes against NIH reference intakes (IOM). "
            "Methods: docs/detectors/dehydration.md."
        )
    )


main()
