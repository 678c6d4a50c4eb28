"""The command sets polars' allocator settings before polars is imported (``pipeline.config.
ALLOCATOR_ENV``), and leaves a value the user set alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pipeline.config import ALLOCATOR_ENV

REPO = Path(__file__).resolve().parents[2]
PROBE = "import os, pipeline.cli, polars; print(os.environ['_RJEM_MALLOC_CONF'])"


def _conf(env: dict) -> str:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def test_cli_appends_its_allocator_settings_to_polars_defaults():
    env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    conf = _conf(env)
    # polars prepends its defaults; the later setting wins in jemalloc
    assert conf.endswith("," + ALLOCATOR_ENV["_RJEM_MALLOC_CONF"])


def test_cli_leaves_the_users_allocator_settings_alone():
    env = {**os.environ, "_RJEM_MALLOC_CONF": "dirty_decay_ms:0"}
    assert _conf(env).endswith(",dirty_decay_ms:0")
    assert ALLOCATOR_ENV["_RJEM_MALLOC_CONF"] not in _conf(env)
