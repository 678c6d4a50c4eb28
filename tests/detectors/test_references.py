"""Every threshold names its source: parameter fields cite REFERENCES keys that exist."""

from __future__ import annotations

import dataclasses
import inspect
import re
from pathlib import Path

import pytest

import detectors
from detectors.actigraphy import ActigraphyParams
from detectors.cramps import CrampParams
from detectors.cramps_raw import RawCrampParams
from detectors.dehydration import DehydrationParams
from detectors.dehydration_params import BodyWaterParams
from detectors.references import REFERENCES
from detectors.sleep import SleepParams

KEY = re.compile(r"\[([a-z][a-z0-9_]+)\]")
DETECTORS_DIR = Path(detectors.__file__).parent


def _field_comments(cls: type) -> dict[str, str]:
    """Comment text attached to each dataclass field: the comment lines right above it plus
    its inline comment (a blank or any other line breaks the attachment)."""
    out: dict[str, str] = {}
    pending: list[str] = []
    for line in inspect.getsource(cls).splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            pending.append(stripped)
            continue
        m = re.match(r"(\w+)\s*:\s*[^=]+=", stripped)
        if m:
            inline = stripped.split("#", 1)[1] if "#" in stripped else ""
            out[m.group(1)] = " ".join(pending) + " " + inline
        pending = []
    return out


@pytest.mark.parametrize(
    "cls",
    [
        CrampParams,
        DehydrationParams,
        BodyWaterParams,
        SleepParams,
        RawCrampParams,
        ActigraphyParams,
    ],
)
def test_every_parameter_cites_a_known_reference(cls: type) -> None:
    comments = _field_comments(cls)
    missing = []
    for f in dataclasses.fields(cls):
        if f.name == "name":
            continue
        keys = KEY.findall(comments.get(f.name, ""))
        if not keys or any(k not in REFERENCES for k in keys):
            missing.append((f.name, keys))
    assert not missing, f"{cls.__name__} fields without a valid [reference]: {missing}"


def test_grade_d_assumptions_are_labelled() -> None:
    comments = _field_comments(DehydrationParams) | _field_comments(CrampParams)
    for name in (
        "indoor_temp_c",
        "partial_log_frac",
        "default_age_y",
        "conf_heat_sweat_exposure",
        "act_spread_floor_kcal_min",
        "plm_short_bout_max_s",
        "walk_cadence_steps_min",
    ):
        assert "grade D" in comments[name], name


def test_every_cited_key_in_the_package_exists() -> None:
    cited = set()
    for path in DETECTORS_DIR.glob("*.py"):
        for line in path.read_text().splitlines():
            if "#" in line:  # citations live in comments; code has [idx] subscripts
                cited |= set(KEY.findall(line.split("#", 1)[1]))
    assert len(cited) > 15
    unknown = sorted(cited - set(REFERENCES))
    assert not unknown, f"cited but not in REFERENCES: {unknown}"


def test_references_are_complete_strings() -> None:
    for key, text in REFERENCES.items():
        assert re.search(r"\(\d{4}\)|\d{4}|https?://", text), key
        assert len(text) > 40, key
