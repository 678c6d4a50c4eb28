"""Nights: sleep, heart rate, detected cramp episodes and journal entries, night by night;
dehydration-condition days with their evidence."""

from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

from dashboards import charts, queries, state
from dashboards.format import (
    dehydration_table,
    evidence_table,
    format_offset,
    hhmm,
    md_escape,
    night_label,
    nights_table,
    sleep_method_text,
    table_height,
)

DISCLAIMER = (
    "Episodes are *likely* (confidence ≥ 0.7) or *possible* (0.4–0.7) nocturnal leg-cramp "
    "episodes estimated from heart rate, movement and sleep stages; dehydration days are days "
    "with conditions that *likely* or *possibly* led to a fluid deficit. Neither is a diagnosis."
)


def headline(pid: str) -> None:
    s = state.load(queries.summary, participant_id=pid)
    cols = st.columns(4)
    cols[0].metric(
        "Nights with sleep data",
        s["nights_with_sleep"],
        border=True,
        help="Nights with a detected main sleep period (noon to noon).",
    )
    cols[1].metric(
        "Nights with cramp episodes",
        s["nights_with_cramp_episodes"],
        border=True,
        help=f"Nights with at least one likely or possible episode; "
        f"{s['nights_with_likely_cramp']} with a likely one.",
    )
    cols[2].metric(
        "Dehydration-condition days",
        s["dehydration_days"],
        border=True,
        help="Days flagged likely or possible by the dehydration-condition detector.",
    )
    cols[3].metric(
        "Journal-reported cramps",
        s["journal_cramps"],
        border=True,
        help="Entries of kind ‘cramp’ in the participant's journal.",
    )
    if s["first_night"] is not None:
        st.caption(
            f"Sleep data from the night of {s['first_night']:%d %b %Y} to the night of "
            f"{s['last_night']:%d %b %Y}."
        )


NIGHTS_COLUMNS = {
    "night_of": st.column_config.DateColumn(
        "Night of", format="ddd D MMM YYYY", help="Local date of the evening the night starts"
    ),
    "sleep_local": st.column_config.TextColumn(
        "Sleep (local)", help="Main sleep period, local time"
    ),
    "asleep_h": st.column_config.NumberColumn("Asleep (h)", format="%.1f"),
    "sleep_from": st.column_config.TextColumn(
        "Sleep found from",
        help="How the sleep period was found. From movement only (no heart rate), periods "
        "are often hours too long: the hours asleep may be overstated.",
    ),
    "cramp_episodes": st.column_config.TextColumn(
        "Cramp episodes", help="Detected likely/possible episodes and the highest confidence"
    ),
    "max_confidence": st.column_config.ProgressColumn(
        "Max confidence", min_value=0.0, max_value=1.0, format="%.2f"
    ),
    "journal_cramp": st.column_config.CheckboxColumn("Journal cramp"),
    "dehydration_day_before": st.column_config.TextColumn(
        "Dehydration day before",
        help="Dehydration condition on the day before the night (same date as ‘Night of’)",
    ),
}


def choose_night(pid: str, nights: pl.DataFrame) -> date | None:
    """Nights table, newest first; the selected row (default: newest) is returned."""
    flagged_only = st.toggle(
        "Only nights with a cramp episode, a journal cramp or a dehydration day before",
        key=f"nights_flagged_only_{pid}",
    )
    if flagged_only:
        nights = nights.filter(
            pl.col("cramp_episodes").gt(0)
            | pl.col("journal_cramp")
            | pl.col("dehydration_day_before")
        )
        if nights.height == 0:
            st.info("No night with a cramp episode, a journal cramp or a dehydration day before.")
            return None
    # one selection state per participant and filter: row numbers mean different nights
    key = f"nights_table_{pid}{'_flagged' if flagged_only else ''}"
    selection = st.dataframe(
        nights_table(nights),
        key=key,
        hide_index=True,
        column_config=NIGHTS_COLUMNS,
        on_select="rerun",
        selection_mode="single-row-required",
        selection_default={"selection": {"rows": [0]}},
        height=table_height(nights.height, max_rows=8),
        placeholder="—",
    )
    rows = selection.selection.rows if selection is not None else []
    index = rows[0] if rows and rows[0] < nights.height else 0
    return nights.get_column("night_of")[index]


EVIDENCE_COLUMNS = {
    "signal": st.column_config.TextColumn("Evidence"),
    "value": st.column_config.TextColumn("Value"),
    "unit": st.column_config.TextColumn("Unit"),
    "key": st.column_config.TextColumn("Key", help="Key in the episode's evidence JSON"),
}


def evidence_view(evidence: str | None, *, key: str) -> None:
    """Body signals as a table; model internals (method, logit terms...) in an expander."""
    table = evidence_table(evidence)
    signals = table.filter(~pl.col("detail")).drop("detail")
    details = table.filter(pl.col("detail")).drop("detail")
    st.dataframe(
        signals,
        hide_index=True,
        width="stretch",
        column_config=EVIDENCE_COLUMNS,
        key=f"evidence_{key}",
        height=table_height(signals.height),
    )
    if details.height:
        with st.expander("Model details"):
            st.dataframe(
                details,
                hide_index=True,
                width="stretch",
                column_config=EVIDENCE_COLUMNS,
                key=f"evidence_details_{key}",
                height=table_height(details.height),
            )


def journal_line(entry: dict) -> str:
    """``03:25 · **cramp** · severity 6/10 · right calf · 8 min — “note”``"""
    parts = [hhmm(entry["time_local"]), f"**{md_escape(entry['kind'].replace('_', ' '))}**"]
    if entry["severity"] is not None:
        parts.append(f"severity {entry['severity']}/10")
    where = " ".join(md_escape(x) for x in (entry["body_side"], entry["muscle"]) if x)
    if where:
        parts.append(where)
    if entry["duration_s"] is not None:
        parts.append(f"{entry['duration_s'] / 60:.0f} min")
    line = " · ".join(parts)
    if entry["note"]:
        line += f" — “{md_escape(entry['note'])}”"
    return line


def night_view(pid: str, night_of: date) -> None:
    detail = state.load(queries.night_detail, participant_id=pid, night_of=night_of)
    st.subheader(night_label(night_of))
    if detail is None:
        st.info("No sleep, heart-rate or journal data for this night.")
        return
    period = detail["sleep_period"]
    offset = format_offset(detail["utc_offset_s"])
    if period is not None:
        asleep = "—" if period["asleep_s"] is None else f"{period['asleep_s'] / 3600:.1f} h"
        _, how, uncertain = sleep_method_text(period["method"])
        st.caption(
            f"Sleep {hhmm(period['start_local'])}–{hhmm(period['end_local'])} "
            f"(asleep {asleep}), found {how}; shown ± 1 h, local time ({offset}). "
            f"Heart-rate gaps longer than "
            f"{int(charts.MAX_HR_GAP.total_seconds() // 60)} min are left blank."
        )
        if uncertain:
            st.warning(
                f"Sleep period found {how} (asleep {asleep}). Treat its start, end and "
                "length as rough.",
                icon=":material/warning:",
            )
    else:
        st.caption(f"No main sleep period was detected; showing 20:00–10:00 local ({offset}).")

    hr, stages = detail["heart_rate"], detail["stages"]
    episodes, journal = detail["episodes"], detail["journal"]
    if hr.height == 0 and stages.height == 0:
        st.info("No heart-rate samples or sleep stages recorded in this window.")
    else:
        if hr.height == 0:
            st.caption("No heart-rate samples recorded in this window.")
        # charts.night_chart, built once per snapshot and night (state.night_chart_spec)
        spec = state.night_chart_spec(pid, night_of, time_title=f"local time ({offset})")
        if spec is not None:  # None only if a publish removed the night since the read above
            st.vega_lite_chart(spec, width="stretch")

    left, right = st.columns(2, gap="large")
    with left:
        st.markdown("**Detected episodes**")
        if episodes.height == 0:
            st.caption("No likely or possible cramp episode detected this night.")
        for ep in episodes.iter_rows(named=True):
            minutes = (ep["end_utc"] - ep["start_utc"]).total_seconds() / 60
            st.markdown(
                f"{md_escape(ep['label'].capitalize())} cramp episode · confidence **{ep['confidence']:.2f}**"
                f" · {hhmm(ep['start_local'])}–{hhmm(ep['end_local'])} local "
                f"({minutes:.0f} min)"
            )
            evidence_view(ep["evidence"], key=ep["episode_id"])
            st.caption(
                f"Detector {md_escape(ep['detector_version'])} · "
                f"episode {md_escape(ep['episode_id'])}"
            )
    with right:
        st.markdown("**Journal**")
        if journal.height == 0:
            st.caption("No journal entries in this window.")
        for entry in journal.iter_rows(named=True):
            st.markdown(journal_line(entry))


def dehydration_view(pid: str) -> None:
    days = state.load(queries.dehydration_days, participant_id=pid)
    if days.height == 0:
        st.info("No dehydration-condition days detected for this participant.")
        return
    st.caption(
        "Days whose heat exposure, estimated sweat loss, logged fluids or body-mass "
        "change point to a fluid deficit, newest first. Select a day for all of its "
        "evidence. Outdoor columns are the day's weather at the participant's "
        "locations, where known."
    )
    selection = st.dataframe(
        dehydration_table(days),
        hide_index=True,
        width="stretch",
        placeholder="—",
        key=f"dehydration_table_{pid}",
        on_select="rerun",
        selection_mode="single-row-required",
        selection_default={"selection": {"rows": [0]}},
        height=table_height(days.height, max_rows=8),
        column_config={
            "day": st.column_config.DateColumn("Day", format="ddd D MMM YYYY"),
            "label": st.column_config.TextColumn("Level"),
            "confidence": st.column_config.ProgressColumn(
                "Confidence", min_value=0.0, max_value=1.0, format="%.2f"
            ),
        },
    )
    rows = selection.selection.rows if selection is not None else []
    day = days.row(rows[0] if rows and rows[0] < days.height else 0, named=True)
    st.markdown(
        f"**{day['local_date']:%a %d %b %Y}** · {md_escape(day['label'])} "
        f"dehydration condition · confidence **{day['confidence']:.2f}**"
    )
    evidence_view(day["evidence"], key=f"dehydration_{pid}_{day['local_date']}")


def main() -> None:
    pid = state.participant()
    if pid is None:
        st.stop()
    tz = state.participant_tz()
    st.title(f"Nights · {pid}")
    st.caption(f"Local time{f' ({tz})' if tz else ''}. {DISCLAIMER}")
    headline(pid)

    nights_tab, dehydration_tab = st.tabs(["Nights", "Dehydration days"])
    with nights_tab:
        nights = state.load(queries.nights, participant_id=pid)
        if nights.height == 0:
            st.info("No nights with sleep data, episodes or journal cramps yet.")
        elif (night := choose_night(pid, nights)) is not None:
            night_view(pid, night)
    with dehydration_tab:
        dehydration_view(pid)


main()
