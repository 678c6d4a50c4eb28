"""Drive the running dashboard in Debian Chromium with Playwright's sync API.

Run as a separate process (``python browser_driver.py URL SCREENSHOT [options]``) so
that no Playwright event loop is ever left in the pytest process: a loop left running there
switches Prefect's dual sync/async APIs to async for the rest of the session
(stack-verified.md section 5). Prints one JSON object on stdout: the page state (title, metrics, exceptions, charts, night
heading, chart axis labels) first, after selecting a night, and after switching participant;
plus the screenshot path, console errors and failed (e.g. external) requests.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
# exactly the flags verified in stack-verified.md section 5 (b)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

CHART_SVG = '[data-testid="stVegaLiteChart"] svg, [data-testid="stVegaLiteChart"] canvas'


_CONTENT_HEIGHT_JS = """() => {
    const b = document.querySelector('[data-testid="stMainBlockContainer"]');
    return b ? b.getBoundingClientRect().top + b.scrollHeight : document.body.scrollHeight;
}"""


def _metrics(page) -> dict[str, str]:
    out = {}
    for m in page.locator('[data-testid="stMetric"]').all():
        label = m.locator('[data-testid="stMetricLabel"]').inner_text().strip()
        out[label] = m.locator('[data-testid="stMetricValue"]').inner_text().strip()
    return out


def _wait_idle(page, timeout_ms: int) -> None:
    """Wait until the script run finished (the running indicator is gone)."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout_ms
    )


def _chart_html(page) -> str:
    return page.locator(CHART_SVG).first.inner_html()


def _wait_chart_changed(page, before: str, timeout_ms: int) -> None:
    """After an interaction the metrics update before the chart is redrawn: wait for the
    chart itself (stack-verified.md section 5 pitfall)."""
    page.wait_for_function(
        "([sel, b]) => { const e = document.querySelector(sel); return e && e.innerHTML !== b; }",
        arg=[CHART_SVG.split(",")[0], before],
        timeout=timeout_ms,
    )
    _wait_idle(page, timeout_ms)
    page.wait_for_timeout(500)  # Vega transitions


def _select_night(page, row: int, timeout_ms: int) -> None:
    """Click the selection cell of a nights-table row (the grid is a canvas: use geometry)."""
    grid = page.locator('[data-testid="stDataFrame"]').first
    box = grid.bounding_box()
    header_px = row_px = 35  # Streamlit's default header and row heights
    before = _chart_html(page)
    page.mouse.click(box["x"] + 14, box["y"] + header_px + row_px * row + row_px / 2)
    _wait_chart_changed(page, before, timeout_ms)


def _choose_participant(page, participant: str, timeout_ms: int) -> None:
    before = _chart_html(page)
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name=participant).first.click()
    _wait_chart_changed(page, before, timeout_ms)


def _state(page) -> dict:
    return {
        "title": page.locator("h1").first.inner_text().strip(),
        "metrics": _metrics(page),
        "exceptions": page.locator('[data-testid="stException"]').count(),
        "charts": page.locator('[data-testid="stVegaLiteChart"]').count(),
        "night": (
            page.locator("h3").first.inner_text().strip() if page.locator("h3").count() else None
        ),
        "axis_labels": page.evaluate(
            "() => [...document.querySelectorAll("
            "'[data-testid=\"stVegaLiteChart\"] svg .role-axis-label text')]"
            ".map(t => t.textContent)"
        ),
    }


def _full_page_screenshot(page, path: str) -> None:
    # Streamlit scrolls inside its main container, not the document: grow the viewport to the
    # content (until it stops growing) so that the screenshot holds the whole page.
    for _ in range(5):
        height = max(1000, int(page.evaluate(_CONTENT_HEIGHT_JS)) + 16)
        if height == page.viewport_size["height"]:
            break
        page.set_viewport_size({"width": 1440, "height": height})
        page.wait_for_timeout(800)  # charts re-layout after the resize
    page.screenshot(path=path, full_page=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("screenshot")
    ap.add_argument(
        "--flagged-only",
        action="store_true",
        help="first switch the nights table to flagged nights only",
    )
    ap.add_argument(
        "--night-row", type=int, help="select this row (0 = newest night) of the nights table first"
    )
    ap.add_argument(
        "--then-participant", help="after the screenshot, choose this participant and report again"
    )
    ap.add_argument(
        "--days-screenshot",
        help="finally open the Days and triggers page (new session) and save a "
        "full-page screenshot here",
    )
    ap.add_argument("--timezone", help="browser time zone (IANA), to prove axes ignore it")
    ap.add_argument("--timeout-s", type=float, default=60)
    args = ap.parse_args()
    timeout_ms = int(args.timeout_s * 1000)
    console_errors: list[str] = []
    failed_requests: list[str] = []
    t0 = time.monotonic()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(
                viewport={"width": 1440, "height": 1000}, timezone_id=args.timezone
            )
            page.on(
                "console", lambda m: console_errors.append(m.text) if m.type == "error" else None
            )
            page.on("requestfailed", lambda r: failed_requests.append(r.url))
            page.goto(args.url, wait_until="domcontentloaded", timeout=timeout_ms)
            page.wait_for_selector('[data-testid="stAppViewContainer"]', timeout=timeout_ms)
            page.wait_for_selector('[data-testid="stMetricValue"]', timeout=timeout_ms)
            page.wait_for_selector(CHART_SVG, timeout=timeout_ms)
            _wait_idle(page, timeout_ms)
            page.wait_for_timeout(500)
            result = {"first": _state(page)}
            if args.flagged_only:
                before = _chart_html(page)
                page.get_by_text("Only nights with", exact=False).first.click()
                _wait_chart_changed(page, before, timeout_ms)
            if args.night_row is not None:
                _select_night(page, args.night_row, timeout_ms)
                result["night_selected"] = _state(page)
            _full_page_screenshot(page, args.screenshot)
            result["screenshot"] = args.screenshot
            if args.then_participant:
                page.set_viewport_size({"width": 1440, "height": 1000})
                _choose_participant(page, args.then_participant, timeout_ms)
                result["participant_switched"] = _state(page)
            if args.days_screenshot:
                page.set_viewport_size({"width": 1440, "height": 1000})
                page.goto(
                    args.url.rstrip("/") + "/days",
                    wait_until="domcontentloaded",
                    timeout=timeout_ms,
                )
                page.wait_for_selector('[data-testid="stMetricValue"]', timeout=timeout_ms)
                page.wait_for_selector(CHART_SVG, timeout=timeout_ms)
                _wait_idle(page, timeout_ms)
                page.wait_for_timeout(800)
                days = _state(page)
                days["chart_titles"] = page.evaluate(
                    "() => [...document.querySelectorAll("
                    "'[data-testid=\"stVegaLiteChart\"] svg .role-title-text')]"
                    ".map(t => t.textContent)"
                )
                result["days"] = days
                _full_page_screenshot(page, args.days_screenshot)
            result["console_errors"] = console_errors
            result["failed_requests"] = failed_requests
            result["elapsed_s"] = round(time.monotonic() - t0, 2)
        finally:
            browser.close()
    json.dump(result, sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
