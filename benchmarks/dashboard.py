"""Benchmark: the dashboard under load while a nightly run writes to the same store.

    uv run --frozen python benchmarks/dashboard.py [--clients 20 --duration-s 60 --json FILE]
    uv run --frozen python benchmarks/dashboard.py --clients 2 --duration-s 1 --no-browser \\
        --sample-nights 7 --baseline-s 2                      # the smoke test's tiny version

Everything is real, nothing is mocked:

* **store**: ``crampwatch run sample_data/inbox`` into a fresh store (the bundled sample data:
  two participants, 90 nights each; ``--sample-nights N`` generates a smaller variant with
  ``simulators.sample`` instead), copied twice: the store the dashboard serves, and a
  baseline copy for the writer's runs without load;
* **server**: the ``crampwatch dashboard --db STORE --address 127.0.0.1 --port FREE`` command
  (its Streamlit child reads the published snapshot), started while the store is built; one
  page is loaded to warm it up (imports, caches) before anything is timed;
* **lightweight clients** (``--clients``): Streamlit's own websocket protocol
  (``/_stcore/stream``, protobuf ``BackMsg``/``ForwardMsg`` of the installed Streamlit), one
  session each, all in this process's event loop. Each pages through the Nights page the way
  the browser front end does: it sends a rerun with the widget states, picking a night row
  in the nights table (its selection state, a random night of the participant) and now and
  then another participant in the sidebar picker (a random one of the options shown, which
  grow as the writer adds people), then reads the page's messages up to ``script_finished``,
  then waits ``--think-s`` (random 0.5x-1.5x) before the next page;
* **one real browser** (unless ``--no-browser``): headless Debian Chromium
  (``/usr/bin/chromium``, Playwright's sync API, in a child process) clicking night rows in
  the nights table, switching participants in the picker and loading the page anew every
  sixth step (and first in each phase); a step's time runs from the click (or ``goto``)
  until the new night's heading, its chart and the end of the script run are on screen;
* **writer** during the load: back-to-back ``crampwatch run INBOX --db STORE`` rounds (the
  nightly command: import what is new, detect, publish the snapshot) on the served store,
  each on a new inbox of two new participants (``--round-nights`` nights each, a new
  ``simulators.sample`` seed per round, the sample's participants.csv and journal under the
  new ids), as long as the load lasts; the load lasts ``--duration-s`` and at least until
  the writer's round in progress ends. Then every websocket client pages once more: the
  participants its picker shows must be all the store holds (the last publish was seen).

Figures are ratios against a baseline of the same run (the machine is shared and noisy):

* page times (median and 95th percentile, seconds) per client kind under load, against the
  same kind paging alone with no writer (``--baseline-s`` per kind, before the load);
* the writer's rounds under load against the same rounds, same inboxes, same order, run on
  the baseline copy with no client connected (round 1 before the load, the rest after it,
  the server stopped): ``sum under load / sum alone``.

Also printed: pages served per second under load, and the participants each client's picker
shows on its first page after the last publish. Progress goes to stderr; ``--json`` also
holds every page time and every error.

Errors (count and the first messages), per kind: a page whose run did not finish
successfully, an exception element, an error alert, a page that is not the Nights page of
the chosen participant (the "database is busy" or "not readable" stops), a timeout, a broken
websocket (also a keepalive ping the server leaves unanswered for 20 s); in the browser, exceptions on the page, console errors and page errors; a failed
writer round; a traceback in the server's log. The readers must never be blocked (they read
the snapshot, not the store the writer holds), so every count should be 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import os
import random
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SAMPLE_INBOX = REPO / "sample_data" / "inbox"
CHROMIUM = "/usr/bin/chromium"
# the flags of tests/dashboards/browser_driver.py (stack-verified.md section 5 (b))
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
NIGHTS_METRIC = "Nights with sleep data"
BROWSER_TABLE_ROWS = 8  # the nights table shows 8 rows (dashboards.format.table_height)
ROUND_SEED = 7_000  # simulators.sample seed of round i: ROUND_SEED + i
MAX_ROUNDS = 60
FIRST_ERRORS = 5

WS = "websocket"
BROWSER_RERUN = "browser, widget"
BROWSER_LOAD = "browser, page load"
KINDS = (WS, BROWSER_RERUN, BROWSER_LOAD)


def _crampwatch() -> list[str]:
    exe = Path(sys.executable).parent / "crampwatch"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("crampwatch")
    return [found] if found else [sys.executable, "-m", "pipeline.cli"]


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    for var in ("PREFECT_API_URL", "CRAMPWATCH_DB"):  # the default path: in-process, --db
        env.pop(var, None)
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


T0 = time.monotonic()


def progress(message: str) -> None:
    print(f"[{time.monotonic() - T0:6.1f} s] {message}", file=sys.stderr, flush=True)


def percentile(xs: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0-100); nan for no values."""
    if not xs:
        return math.nan
    s = sorted(xs)
    return s[max(0, math.ceil(q / 100 * len(s)) - 1)]


# ----------------------------------------------------------------------------- the data


def _sample_inbox(out: Path, seed: int, nights: int) -> Path:
    from simulators.sample.write import generate

    generate(out, seed, nights)
    return out / "inbox"


def make_round_inbox(work: Path, i: int, nights: int) -> Path:
    """Inbox of round ``i``: the sample's two personas under new ids ``load-NN-a/b``
    (Apple export, weather, bedroom sensor, participants.csv and journal), a new seed."""
    gen = _sample_inbox(work / f"gen-{i:02d}", ROUND_SEED + i, nights)
    inbox = work / f"round-{i:02d}"
    inbox.mkdir()
    ids = {"p01": f"load-{i:02d}-a", "p02": f"load-{i:02d}-b"}
    for old, new in ids.items():
        shutil.copytree(gen / old, inbox / new)
    for name in ("participants.csv", "journal.csv"):
        lines = (gen / name).read_text(encoding="utf-8").splitlines(keepends=True)
        for old, new in ids.items():
            lines = [new + ln[len(old) :] if ln.startswith(old + ",") else ln for ln in lines]
        (inbox / name).write_text("".join(lines), encoding="utf-8", newline="")
    shutil.rmtree(work / f"gen-{i:02d}")
    return inbox


def copy_store(src: Path, dst: Path) -> None:
    from pipeline.config import data_dir, snapshot_path

    for a, b in ((src, dst), (snapshot_path(src), snapshot_path(dst))):
        shutil.copy2(a, b)
        if Path(str(a) + ".wal").exists():
            shutil.copy2(str(a) + ".wal", str(b) + ".wal")
    if data_dir(src).is_dir():
        shutil.copytree(data_dir(src), data_dir(dst))


def run_cli(argv: list[str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, cwd=REPO, env=_child_env(), capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(
            f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stdout[-2000:]}"
            f"{proc.stderr[-2000:]}"
        )
    return seconds, proc.stdout


def participant_count(db: Path) -> int:
    from pipeline.store import connect_reader

    with connect_reader(db) as con:
        return con.execute("SELECT count(*) FROM participants").fetchall()[0][0]


# ------------------------------------------------------------------------ the recording


@dataclass
class Record:
    pages: dict[tuple[str, str], list[float]] = field(default_factory=dict)  # (kind, phase)
    errors: dict[str, list[str]] = field(default_factory=dict)  # kind -> messages
    warnings: list[str] = field(default_factory=list)
    picker_sizes: list[int] = field(default_factory=list)
    #: client -> participants in the picker on its first page started after the last write
    picker_after: dict[int, int] = field(default_factory=dict)
    phase: str = "warm-up"

    def page(self, kind: str, seconds: float, phase: str | None = None) -> None:
        self.pages.setdefault((kind, phase or self.phase), []).append(seconds)

    def error(self, kind: str, message: str) -> None:
        self.errors.setdefault(kind, []).append(f"[{self.phase}] {message}"[:400])

    def n_errors(self) -> int:
        return sum(len(v) for v in self.errors.values())


# ------------------------------------------------------------- lightweight websocket client


class PageProblem(Exception):
    pass


@dataclass
class PageSeen:
    seconds: float = 0.0
    h1: str | None = None
    h3: str | None = None
    widgets: dict[str, str] = field(default_factory=dict)  # id -> element kind
    options: list[str] = field(default_factory=list)
    option_default: int = 0
    nights: int | None = None
    problems: list[str] = field(default_factory=list)


class WsClient:
    """One Streamlit session over ``/_stcore/stream``, paging through the Nights page."""

    def __init__(self, url: str, rng: random.Random, timeout_s: float):
        self.url = url.replace("http://", "ws://").rstrip("/") + "/_stcore/stream"
        self.rng = rng
        self.timeout_s = timeout_s
        self.ws = None
        self.states: dict[str, str] = {}  # widget id -> string_value sent with every rerun
        self.participant: str | None = None  # whose page the next rerun should show
        self.last: PageSeen | None = None

    async def connect(self) -> None:
        from websockets.asyncio.client import connect

        self.ws = await connect(
            self.url, subprotocols=["streamlit"], max_size=None, open_timeout=self.timeout_s
        )
        self.states.clear()
        self.participant = None

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
            self.ws = None

    async def rerun(self) -> PageSeen:
        from streamlit.proto.Alert_pb2 import Alert
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        back = BackMsg()
        back.rerun_script.query_string = ""
        for wid, value in self.states.items():
            w = back.rerun_script.widget_states.widgets.add()
            w.id = wid
            w.string_value = value
        seen = PageSeen()
        t0 = time.monotonic()
        deadline = t0 + self.timeout_s
        await self.ws.send(back.SerializeToString())
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise PageProblem(f"no script_finished within {self.timeout_s:g} s")
            try:
                data = await asyncio.wait_for(self.ws.recv(), timeout=left)
            except TimeoutError:
                raise PageProblem(f"no script_finished within {self.timeout_s:g} s") from None
            msg = ForwardMsg.FromString(data)
            kind = msg.WhichOneof("type")
            if kind == "script_finished":
                if msg.script_finished != ForwardMsg.FINISHED_SUCCESSFULLY:
                    name = ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)
                    seen.problems.append(f"script finished with {name}")
                break
            if kind == "page_not_found":
                seen.problems.append(f"page not found: {msg.page_not_found.page_name}")
            elif kind == "session_event" and msg.session_event.HasField(
                "script_compilation_exception"
            ):
                exc = msg.session_event.script_compilation_exception
                seen.problems.append(f"compilation error {exc.type}: {exc.message}")
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                ek = element.WhichOneof("type")
                el = getattr(element, ek)
                if ek == "heading":
                    if el.tag == "h1":
                        seen.h1 = el.body
                    elif el.tag == "h3" and seen.h3 is None:
                        seen.h3 = el.body
                elif ek == "selectbox":
                    seen.widgets[el.id] = ek
                    seen.options = list(el.options)
                    seen.option_default = el.default
                elif ek in ("dataframe", "arrow_data_frame", "checkbox") and el.id:
                    seen.widgets[el.id] = ek
                elif ek == "metric" and el.label == NIGHTS_METRIC:
                    seen.nights = int(el.body)
                elif ek == "exception":
                    text = f"exception {el.type}: {el.message}".strip()
                    if el.is_warning:
                        seen.problems.append("warning " + text)
                    else:
                        seen.problems.append(text)
                elif ek == "alert":
                    if el.format == Alert.ERROR:
                        seen.problems.append(f"error alert: {el.body}")
                    elif el.format in (Alert.WARNING, Alert.INFO) and (
                        "database" in el.body or "crampwatch demo" in el.body
                    ):  # app.py's stops: busy, unreadable, no tables, no participants
                        seen.problems.append(f"stopped: {el.body}")
        seen.seconds = time.monotonic() - t0
        return seen

    def _picker_id(self, seen: PageSeen) -> str | None:
        return next((w for w, k in seen.widgets.items() if k == "selectbox"), None)

    @staticmethod
    def _shown(seen: PageSeen) -> str | None:
        """The participant whose Nights page this is (from its title)."""
        prefix = "Nights · "
        return seen.h1[len(prefix) :] if seen.h1 and seen.h1.startswith(prefix) else None

    def next_step(self) -> None:
        """Choose the next page from the last one: another night, sometimes another person.
        Like the browser, every rerun carries the picker's value and the table's selection."""
        seen = self.last
        picker = self._picker_id(seen)
        shown = self._shown(seen)
        label = next((o for o in seen.options if o.split(" · ")[0] == shown), None)
        others = [o for o in seen.options if o != label]
        if picker and others and (not seen.nights or self.rng.random() < 0.15):
            choice = self.rng.choice(others)
            self.participant = choice.split(" · ")[0]
            self.states = {picker: choice}  # the old person's table is gone
            return
        self.participant = shown
        table = next((w for w in seen.widgets if w.endswith(f"-nights_table_{shown}")), None)
        if table and seen.nights:
            row = self.rng.randrange(seen.nights)
            self.states[table] = json.dumps(
                {"selection": {"rows": [row], "columns": [], "cells": []}}
            )
        if picker and label:
            self.states[picker] = label

    def check(self, seen: PageSeen) -> list[str]:
        """What is wrong with the page: ``self.participant``'s Nights page is expected (any
        participant's on a session's first page: the picker's choice stays when new people
        appear, though they may sort first)."""
        problems = [p for p in seen.problems if not p.startswith("warning ")]
        shown = self._shown(seen)
        ids = [o.split(" · ")[0] for o in seen.options]
        if shown is None or shown not in ids:
            problems.append(f"not a Nights page: title {seen.h1!r}")
        elif self.participant is not None and shown != self.participant:
            problems.append(f"not the Nights page of {self.participant}: title {seen.h1!r}")
        return problems


async def ws_client_loop(
    i: int,
    url: str,
    rec: Record,
    stop: asyncio.Event,
    think_s: float,
    timeout_s: float,
    seed: int,
    first_page: asyncio.Event | None = None,
) -> None:
    rng = random.Random(seed * 1000 + i)
    client = WsClient(url, rng, timeout_s)
    try:
        while not stop.is_set():
            try:
                if client.ws is None:
                    await client.connect()
                    client.last = None
                if client.last is not None:
                    client.next_step()
                phase = rec.phase
                seen = await client.rerun()
            except PageProblem as exc:
                rec.error(WS, f"client {i}: {exc}")
                await client.close()
                continue
            except Exception as exc:  # noqa: BLE001 - a broken websocket is what we count
                rec.error(WS, f"client {i}: {type(exc).__name__}: {exc}")
                await client.close()
                await asyncio.sleep(1)
                continue
            finally:
                if first_page is not None:
                    first_page.set()
                    first_page = None
            problems = client.check(seen)
            for p in problems:
                rec.error(WS, f"client {i}: {p}")
            rec.warnings += [f"client {i}: {p}" for p in seen.problems if p.startswith("warning")]
            if not problems:
                rec.page(WS, seen.seconds, phase)
            if seen.options:
                rec.picker_sizes.append(len(seen.options))
                if phase == "after":
                    rec.picker_after.setdefault(i, len(seen.options))
            client.last = seen
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), think_s * rng.uniform(0.5, 1.5))
    finally:
        await client.close()


# ------------------------------------------------------------------ the browser (child process)


def browser_worker(url: str, think_s: float, timeout_s: float, seed: int) -> int:
    """``--browser-worker URL``: Chromium paging the dashboard; commands on stdin (``go TAG``,
    ``pause``, ``quit``), one JSON line per event on stdout."""
    from playwright.sync_api import sync_playwright

    rng = random.Random(seed)
    timeout_ms = int(timeout_s * 1000)
    tag = "warm-up"

    def emit(**obj) -> None:
        print(json.dumps(obj), flush=True)

    def on_console(m) -> None:
        if m.type == "error":
            emit(ev="error", tag=tag, msg=f"console error: {m.text}")

    def on_request_failed(r) -> None:
        if "ERR_ABORTED" not in (r.failure or ""):  # a reload cancels what is in flight
            emit(ev="error", tag=tag, msg=f"request failed: {r.url} {r.failure}")

    def wait_done(page) -> None:
        page.wait_for_selector(
            '[data-testid="stVegaLiteChart"] svg, [data-testid="stVegaLiteChart"] canvas',
            timeout=timeout_ms,
        )
        page.wait_for_function(
            "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
            timeout=timeout_ms,
        )

    def page_state(page) -> dict:
        return page.evaluate(
            """() => {
              const h1 = document.querySelector('h1'), h3 = document.querySelector('h3');
              const m = [...document.querySelectorAll('[data-testid="stMetric"]')].map(e => [
                e.querySelector('[data-testid="stMetricLabel"]')?.innerText.trim(),
                e.querySelector('[data-testid="stMetricValue"]')?.innerText.trim()]);
              const ex = [...document.querySelectorAll('[data-testid="stException"]')];
              return {h1: h1 && h1.innerText.trim(), h3: h3 && h3.innerText.trim(),
                      metrics: Object.fromEntries(m),
                      exceptions: ex.map(e => e.innerText.slice(0, 300))};
            }"""
        )

    def load(page) -> None:
        page.goto(url, wait_until="domcontentloaded", timeout=timeout_ms)
        page.wait_for_function(
            "() => { const h = document.querySelector('h1'); "
            "return h && h.innerText.startsWith('Nights'); }",
            timeout=timeout_ms,
        )
        wait_done(page)

    def click_row(page, row: int) -> None:
        before = page_state(page)["h3"] or ""
        grid = page.locator('[data-testid="stDataFrame"]').first
        box = grid.bounding_box()
        page.mouse.click(box["x"] + 14, box["y"] + 35 + 35 * row + 17.5)
        page.wait_for_function(
            "(b) => { const h = document.querySelector('h3'); "
            "return h && h.innerText.trim() !== b; }",
            arg=before,
            timeout=timeout_ms,
        )
        wait_done(page)

    def switch(page, state: dict) -> str | None:
        page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
        options = page.get_by_role("option").all_inner_texts()
        current = (state["h1"] or "").removeprefix("Nights · ")
        others = [o.strip() for o in options if o.split(" · ")[0].strip() != current]
        if not others:
            page.keyboard.press("Escape")
            return None
        label = rng.choice(others)
        pid = label.split(" · ")[0]
        page.get_by_role("option", name=label, exact=True).first.click()
        page.wait_for_function(
            "(t) => { const h = document.querySelector('h1'); return h && h.innerText.trim() === t; }",
            arg=f"Nights · {pid}",
            timeout=timeout_ms,
        )
        wait_done(page)
        return pid

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.on("console", on_console)
        page.on("pageerror", lambda e: emit(ev="error", tag=tag, msg=f"page error: {e}"))
        page.on("requestfailed", on_request_failed)
        page.set_default_timeout(timeout_ms)
        try:  # warm-up: the first load starts the session and fills the server's caches
            load(page)
        except Exception as exc:  # noqa: BLE001
            emit(ev="error", tag=tag, msg=f"first load: {type(exc).__name__}: {exc}"[:400])
        emit(ev="ready", tag=tag)
        row, step = 0, 1
        active = False
        while True:
            if not active or select.select([sys.stdin], [], [], 0)[0]:
                line = sys.stdin.readline()
                cmd = line.split()
                if not cmd or cmd[0] == "quit":
                    break
                if cmd[0] == "pause":
                    active = False
                    emit(ev="paused", tag=tag)
                elif cmd[0] == "go":  # each phase starts with a page load
                    active, tag, step = True, cmd[1], 0
                continue
            t0 = time.monotonic()
            action = BROWSER_RERUN
            try:
                if step % 6 == 0:
                    action = BROWSER_LOAD
                    load(page)
                    row = 0
                else:
                    state = page_state(page)
                    nights = int(state["metrics"].get(NIGHTS_METRIC) or 0)
                    rows = [r for r in range(min(nights, BROWSER_TABLE_ROWS)) if r != row]
                    if step % 6 == 3 or not rows:
                        if switch(page, state) is not None:
                            row = 0
                    else:
                        row = rng.choice(rows)
                        click_row(page, row)
                seconds = time.monotonic() - t0
                state = page_state(page)
                if state["exceptions"]:
                    emit(
                        ev="error", tag=tag, msg=f"exception on the page: {state['exceptions'][0]}"
                    )
                elif not (state["h1"] or "").startswith("Nights · "):
                    emit(ev="error", tag=tag, msg=f"not the Nights page: title {state['h1']!r}")
                else:
                    emit(ev="page", tag=tag, kind=action, s=round(seconds, 4))
            except Exception as exc:  # noqa: BLE001 - a timeout or a lost page is what we count
                emit(ev="error", tag=tag, msg=f"{action}: {type(exc).__name__}: {exc}"[:400])
                step = -1  # load the page anew
            step += 1
            time.sleep(think_s * rng.uniform(0.5, 1.5))
        browser.close()
    emit(ev="bye", tag=tag)
    return 0


class Browser:
    """The browser worker, driven from the event loop."""

    def __init__(self, rec: Record):
        self.rec = rec
        self.proc: asyncio.subprocess.Process | None = None
        self.reader: asyncio.Task | None = None
        self.events: asyncio.Queue = asyncio.Queue()
        self.stderr = b""

    async def start(self, url: str, think_s: float, timeout_s: float, seed: int) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--browser-worker",
            url,
            "--think-s",
            str(think_s),
            "--page-timeout-s",
            str(timeout_s),
            "--seed",
            str(seed),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=REPO,
            env=_child_env(),
        )
        self.reader = asyncio.create_task(self._read())
        self.stderr_task = asyncio.create_task(self._read_stderr())

    async def _read_stderr(self) -> None:
        self.stderr = await self.proc.stderr.read()

    async def _read(self) -> None:
        async for line in self.proc.stdout:
            try:
                ev = json.loads(line)
            except json.JSONDecodeError:
                continue
            if ev["ev"] == "page":
                self.rec.page(ev["kind"], ev["s"], ev["tag"])
            elif ev["ev"] == "error":
                self.rec.errors.setdefault("browser", []).append(f"[{ev['tag']}] {ev['msg']}")
            await self.events.put(ev)

    async def send(self, line: str) -> None:
        self.proc.stdin.write((line + "\n").encode())
        await self.proc.stdin.drain()

    async def wait_for(self, ev_name: str, timeout_s: float) -> dict:
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.returncode is not None and self.events.empty():
                raise RuntimeError(
                    f"browser worker: no {ev_name!r} event "
                    f"(exit {self.proc.returncode}): {self.stderr.decode()[-1500:]}"
                )
            try:
                ev = await asyncio.wait_for(self.events.get(), timeout=min(left, 1.0))
            except TimeoutError:
                continue
            if ev["ev"] == ev_name:
                return ev

    async def pages_of(self, tag: str, n: int, timeout_s: float) -> None:
        """Wait until ``n`` steps (pages or errors) tagged ``tag`` arrived."""
        got = 0
        deadline = time.monotonic() + timeout_s
        while got < n and time.monotonic() < deadline:
            try:
                ev = await asyncio.wait_for(self.events.get(), timeout=1.0)
            except TimeoutError:
                if self.proc.returncode is not None:
                    return
                continue
            if ev.get("tag") == tag and ev["ev"] in ("page", "error"):
                got += 1

    async def quit(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(Exception):
            await self.send("quit")
        try:
            await asyncio.wait_for(self.proc.wait(), timeout=60)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        if self.reader is not None:
            await self.reader


# ------------------------------------------------------------------------------- the server


def start_server(db: Path, port: int, log: Path) -> subprocess.Popen:
    argv = _crampwatch() + [
        "dashboard",
        "--db",
        str(db),
        "--address",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with log.open("w") as fh:
        return subprocess.Popen(
            argv, cwd=log.parent, env=_child_env(), stdout=fh, stderr=subprocess.STDOUT
        )


def stop_server(proc: subprocess.Popen) -> None:
    """SIGTERM to ``crampwatch dashboard``, which passes it on to its Streamlit child."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ------------------------------------------------------------------------------ the phases


async def writer_rounds(
    db: Path, inboxes: list[Path], until: float, rec: Record, work: Path, nights: int
) -> list[dict]:
    """Back-to-back ``crampwatch run`` rounds on ``db`` until ``until`` (at least one); past
    the prepared ``inboxes`` (appended to), new ones are generated between rounds."""
    out = []
    for i in itertools.count():
        if i > 0 and time.monotonic() >= until or i >= MAX_ROUNDS:
            break
        if i == len(inboxes):
            inboxes.append(await asyncio.to_thread(make_round_inbox, work, i + 1, nights))
            progress(f"writer inbox {i + 1} generated during the load")
        inbox = inboxes[i]
        t0 = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            *_crampwatch(),
            "run",
            str(inbox),
            "--db",
            str(db),
            cwd=REPO,
            env=_child_env(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await proc.communicate()
        seconds = time.perf_counter() - t0
        text = stdout.decode()
        if proc.returncode != 0:
            rec.error(
                "writer",
                f"round {i + 1}: crampwatch run exited {proc.returncode}: "
                + (stderr.decode() or text).strip()[-300:],
            )
        progress(f"writer round {i + 1} under load: {seconds:.1f} s")
        out.append(
            {"round": i + 1, "inbox": inbox.name, "seconds": seconds, "ok": proc.returncode == 0}
        )
    return out


async def single_ws_baseline(url: str, rec: Record, seconds: float, args) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(
        ws_client_loop(-1, url, rec, stop, args.think_s, args.page_timeout_s, args.seed)
    )
    await asyncio.sleep(seconds)
    stop.set()
    await task


async def load_phases(url: str, served: Path, inboxes: list[Path], rec: Record, args) -> dict:
    timings: dict = {}
    # warm-up: the server's first page imports the pages' modules and fills its caches
    warm = WsClient(url, random.Random(0), args.page_timeout_s)
    await warm.connect()
    try:
        seen = await warm.rerun()
        for p in warm.check(seen):
            rec.error(WS, f"warm-up page: {p}")
        if seen.options:
            rec.picker_sizes.append(len(seen.options))
    finally:
        await warm.close()
    progress(f"warm-up page: {seen.seconds:.1f} s")
    browser = None
    if not args.no_browser:
        browser = Browser(rec)
        await browser.start(url, args.think_s, args.page_timeout_s, args.seed)
        await browser.wait_for("ready", timeout_s=args.page_timeout_s + 60)  # first load

    # baselines: each kind alone, no writer
    rec.phase = "alone"
    if browser is not None:
        await browser.send("go alone")
        await asyncio.sleep(args.baseline_s)
        await browser.send("pause")
        await browser.wait_for("paused", timeout_s=args.page_timeout_s + 30)
    await single_ws_baseline(url, rec, args.baseline_s, args)
    progress("baselines alone done")

    # load: every client gets its first page, then the writer starts
    rec.phase = "warm-up"
    stop = asyncio.Event()
    firsts = [asyncio.Event() for _ in range(args.clients)]
    clients = [
        asyncio.create_task(
            ws_client_loop(
                i, url, rec, stop, args.think_s, args.page_timeout_s, args.seed, firsts[i]
            )
        )
        for i in range(args.clients)
    ]
    if browser is not None:
        await browser.send("go warm-up")
    for ev in firsts:
        await ev.wait()
    rec.phase = "load"
    if browser is not None:
        await browser.send("go load")
    progress(f"load: {args.clients} clients on their first page; writer starts")
    t0 = time.monotonic()
    rounds = await writer_rounds(
        served, inboxes, t0 + args.duration_s, rec, served.parent, args.round_nights
    )
    timings["writer_busy_s"] = time.monotonic() - t0
    left = t0 + args.duration_s - time.monotonic()
    if left > 0:
        await asyncio.sleep(left)
    timings["load_s"] = time.monotonic() - t0
    progress(f"load done after {timings['load_s']:.1f} s")
    # every client pages once more after the last publish: does it see all the new people?
    rec.phase = "after"
    deadline = time.monotonic() + args.page_timeout_s + 2 * args.think_s
    while len(rec.picker_after) < args.clients and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    progress(f"{len(rec.picker_after)} of {args.clients} clients paged after the last publish")
    stop.set()
    await asyncio.gather(*clients)
    if browser is not None:
        await browser.quit()
    timings["rounds"] = rounds
    return timings


# ------------------------------------------------------------------------------ the report


def summarise(
    rec: Record, rounds_load: list[dict], rounds_alone: list[dict], load_s: float
) -> dict:
    kinds = {}
    for kind in KINDS:
        load = rec.pages.get((kind, "load"), [])
        alone = rec.pages.get((kind, "alone"), [])
        if not load and not alone:
            continue
        p50, p95 = percentile(load, 50), percentile(load, 95)
        a50, a95 = percentile(alone, 50), percentile(alone, 95)
        kinds[kind] = {
            "pages_load": len(load),
            "pages_per_s": len(load) / load_s,
            "p50_s": p50,
            "p95_s": p95,
            "pages_alone": len(alone),
            "alone_p50_s": a50,
            "alone_p95_s": a95,
            "p50_ratio": p50 / a50 if alone else math.nan,
            "p95_ratio": p95 / a95 if alone else math.nan,
        }
    write_load_s = sum(r["seconds"] for r in rounds_load)
    write_alone_s = sum(r["seconds"] for r in rounds_alone)
    return {
        "kinds": kinds,
        "page_seconds": {
            f"{k} / {ph}": [round(x, 3) for x in v] for (k, ph), v in rec.pages.items()
        },
        "errors": {k: len(v) for k, v in rec.errors.items()},
        "errors_total": rec.n_errors(),
        "first_errors": [m for v in rec.errors.values() for m in v][:FIRST_ERRORS],
        "all_errors": {k: v[:500] for k, v in rec.errors.items()},
        "warnings": rec.warnings[:FIRST_ERRORS],
        "writer": {
            "rounds": len(rounds_load),
            "under_load_s": [round(r["seconds"], 3) for r in rounds_load],
            "alone_s": [round(r["seconds"], 3) for r in rounds_alone],
            "ratio": write_load_s / write_alone_s if write_alone_s else math.nan,
        },
    }


def print_report(s: dict, cfg: dict) -> None:
    print(
        f"dashboard under load: {cfg['clients']} websocket clients"
        + ("" if cfg["no_browser"] else " + 1 Chromium")
        + f", {cfg['load_s']:.0f} s of load (think {cfg['think_s']:g} s); writer: "
        f"{s['writer']['rounds']} x `crampwatch run` (2 new participants x "
        f"{cfg['round_nights']} nights each) on the served store; {os.cpu_count()} CPUs, "
        f"load {cfg['loadavg']:.1f}"
    )
    print(f"store: {cfg['store']}")
    print(
        f"  {'client kind':20s} {'pages':>6s} {'p50 s':>7s} {'p95 s':>7s}   "
        f"{'alone: pages':>12s} {'p50 s':>7s} {'p95 s':>7s}   {'p50 x':>6s} {'p95 x':>6s}"
    )
    for kind, k in s["kinds"].items():
        print(
            f"  {kind:20s} {k['pages_load']:6d} {k['p50_s']:7.2f} {k['p95_s']:7.2f}   "
            f"{k['pages_alone']:12d} {k['alone_p50_s']:7.2f} {k['alone_p95_s']:7.2f}   "
            f"{k['p50_ratio']:6.2f} {k['p95_ratio']:6.2f}"
        )
    rate = sum(k["pages_per_s"] for k in s["kinds"].values())
    print(f"pages under load: {rate:.2f}/s")
    by_kind = ", ".join(f"{k} {n}" for k, n in s["errors"].items()) or "none"
    print(f"errors: {s['errors_total']} ({by_kind})")
    for m in s["first_errors"]:
        print(f"  {m}")
    if s["warnings"]:
        print(f"warnings on pages: {len(s['warnings'])}, first: {s['warnings'][0]}")
    w = s["writer"]
    print(
        "nightly run seconds, under load: "
        + ", ".join(f"{x:.1f}" for x in w["under_load_s"])
        + "; alone: "
        + ", ".join(f"{x:.1f}" for x in w["alone_s"])
    )
    print(f"nightly run under load / alone: {w['ratio']:.2f}x")
    after = ", ".join(map(str, cfg["picker_after"])) or "-"
    print(
        f"participants in the picker: {cfg['picker_first']} at the start; after the last "
        f"publish {after} (clients' first page then; store: {cfg['participants_end']})"
    )


# ---------------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=20, help="lightweight websocket clients")
    ap.add_argument("--duration-s", type=float, default=60, help="seconds of load (at least)")
    ap.add_argument("--json", type=Path, help="also write every figure here")
    ap.add_argument("--think-s", type=float, default=1.0, help="mean pause between pages")
    ap.add_argument(
        "--baseline-s", type=float, default=15, help="seconds each kind pages alone first"
    )
    ap.add_argument("--no-browser", action="store_true", help="no Chromium client")
    ap.add_argument(
        "--sample-nights",
        type=int,
        help="build the store from a generated sample of this many nights (>= 7) instead "
        "of the bundled sample_data/",
    )
    ap.add_argument("--round-nights", type=int, default=7, help="nights per writer inbox")
    ap.add_argument("--page-timeout-s", type=float, default=120)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", type=Path, help="keep the stores, inboxes and logs here")
    ap.add_argument("--browser-worker", metavar="URL", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.browser_worker:
        return browser_worker(args.browser_worker, args.think_s, args.page_timeout_s, args.seed)
    if not args.no_browser and not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} not installed (apt-get install -y chromium), or pass --no-browser")

    work = args.keep or Path(tempfile.mkdtemp(prefix="crampwatch-dashboard-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    cw = _crampwatch()
    server = None
    try:
        from dashboards.serve import wait_healthy

        # the server starts while the store is built (it has no session before the load)
        served, alone = work / "served.duckdb", work / "alone.duckdb"
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        server = start_server(served, port, work / "server.log")
        # the store: the bundled sample (or a smaller generated one)
        if args.sample_nights:
            inbox = _sample_inbox(work / "base-sample", 20250615, args.sample_nights)
            store_desc = f"generated sample, 2 participants x {args.sample_nights} nights"
        else:
            inbox = SAMPLE_INBOX
            store_desc = "sample_data/inbox, 2 participants x 90 nights"
        base = work / "base.duckdb"
        build_s, _ = run_cli(cw + ["run", str(inbox), "--db", str(base)])
        progress(f"store built in {build_s:.1f} s ({store_desc})")
        wait_healthy(url, timeout_s=120, proc=server)
        progress(f"crampwatch dashboard serving {url}")
        copy_store(base, served)
        copy_store(base, alone)
        # round 1 alone sizes the pool of inboxes (rounds under load usually take longer;
        # the machine's noise may halve a round; more are generated if needed)
        inboxes = [make_round_inbox(work, 1, args.round_nights)]
        first_s, _ = run_cli(cw + ["run", str(inboxes[0]), "--db", str(alone)])
        progress(f"writer round 1 alone: {first_s:.1f} s")
        n_pool = math.ceil(2 * args.duration_s / first_s) + (args.duration_s > first_s)
        n_pool = min(MAX_ROUNDS, max(1, n_pool))
        inboxes += [make_round_inbox(work, i, args.round_nights) for i in range(2, n_pool + 1)]
        progress(f"{n_pool} writer inboxes ready")

        rec = Record()
        loadavg0 = os.getloadavg()[0]
        timings = asyncio.run(load_phases(url, served, inboxes, rec, args))
        stop_server(server)
        server = None
        progress("server stopped")
        log = (work / "server.log").read_text(errors="replace")
        for block in log.split("Traceback (most recent call last)")[1:]:
            rec.errors.setdefault("server", []).append(
                "traceback in the server log: " + block.strip().splitlines()[-1][:300]
            )

        rounds_load = timings["rounds"]
        rounds_alone = [{"round": 1, "seconds": first_s}]
        for r in rounds_load[1:]:
            seconds, _ = run_cli(cw + ["run", str(inboxes[r["round"] - 1]), "--db", str(alone)])
            rounds_alone.append({"round": r["round"], "seconds": seconds})
            progress(f"writer round {r['round']} alone: {seconds:.1f} s")

        s = summarise(rec, rounds_load, rounds_alone, timings["load_s"])
        cfg = {
            "clients": args.clients,
            "no_browser": args.no_browser,
            "duration_s": args.duration_s,
            "load_s": timings["load_s"],
            "writer_busy_s": timings["writer_busy_s"],
            "think_s": args.think_s,
            "baseline_s": args.baseline_s,
            "round_nights": args.round_nights,
            "store": store_desc,
            "store_build_s": build_s,
            "loadavg": loadavg0,
            "cpus": os.cpu_count(),
            "picker_first": rec.picker_sizes[0] if rec.picker_sizes else None,
            "picker_after": sorted(set(rec.picker_after.values())),
            "participants_end": participant_count(served),
        }
        print_report(s, cfg)
        if args.json:
            args.json.write_text(json.dumps({"config": cfg, **s}, indent=1, default=str))
        return 0
    finally:
        if server is not None:
            stop_server(server)
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
