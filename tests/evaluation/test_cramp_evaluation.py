"""The cramp evaluation protocol (evaluation/candidates.py, evaluation/cramps.py) on one small
nightgen development seed: candidates are labelled by the truth, the figures add up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from evaluation import candidates as C
from evaluation import cramps as E


def test_label_candidates_by_onset_tolerance_or_overlap() -> None:
    t0 = datetime(2025, 1, 1, 2, tzinfo=UTC)
    cand = pl.DataFrame(
        {
            "participant_id": ["a", "a", "a", "b"],
            "start_utc": [t0, t0 + timedelta(minutes=20), t0 + timedelta(minutes=4), t0],
            "end_utc": [
                t0 + timedelta(minutes=2),
                t0 + timedelta(minutes=22),
                t0 + timedelta(minutes=6),
                t0 + timedelta(minutes=2),
            ],
        }
    )
    truth = pl.DataFrame(
        {"participant_id": ["a"], "start_utc": [t0], "end_utc": [t0 + timedelta(minutes=1)]}
    )
    out = C.label_candidates(cand, truth)
    assert out["y"].to_list() == [True, False, True, False]
    assert out["truth_idx"].to_list() == [0, -1, 0, -1]


def test_dev_and_held_out_seeds_are_disjoint() -> None:
    for fam, (dev, held) in C.SEEDS.items():
        assert dev and held and not set(dev) & set(held), fam


def test_a_simulator_key_covers_the_code_it_reaches_through_imports(tmp_path, monkeypatch) -> None:
    """A change to any of the project's modules that a family's simulator or its input glue
    reaches, directly or through an import of an import (the shared Apple layout, the export
    ingest, an importer the registry loads by name, the store's SQL schema, the sleep detector
    and its imports), reruns the family: its cached candidates would otherwise be stale. A
    module nothing reaches does not."""
    import shutil

    ignore = shutil.ignore_patterns("__pycache__", ".cache")
    for pkg in ("simulators", "pipeline", "detectors"):
        shutil.copytree(C.ROOT / pkg, tmp_path / pkg, ignore=ignore)
    monkeypatch.setattr(C, "ROOT", tmp_path)
    keys = {fam: [C._simulator_key(fam)] for fam in ("nocturne", "nightgen-hr1")}
    unreached = tmp_path / "simulators" / "rawgen.py"  # no family imports it
    unreached.write_text(unreached.read_text() + "\n# changed\n")
    assert all(C._simulator_key(f) == k[0] for f, k in keys.items())
    exports_only = (
        "simulators/export_ingest.py",  # imported by nocturne's ingest
        "simulators/apple_export/layout.py",  # imported by nocturne's writers
        "pipeline/importers/fitabase.py",  # loaded by name by the importer registry
        "pipeline/migrations/0001_init.sql",  # the store's schema, read as a resource
    )
    both = (
        "detectors/sleep.py",  # the glue's sleep detector (every family)
        # an import of an import: sleep.py -> actigraphy.py -> actigraphy_counts.py
        "detectors/actigraphy_counts.py",
    )
    for changed in exports_only + both:
        f = tmp_path / changed
        f.write_text(
            f.read_text() + "\n-- changed\n"
            if f.suffix == ".sql"
            else f.read_text() + "\n# changed\n"
        )
        for fam in keys:
            keys[fam].append(C._simulator_key(fam))
    assert len(set(keys["nocturne"])) == 1 + len(exports_only) + len(both)
    # nightgen reaches neither the exports, the importers nor the store, only the sleep
    # detector and what it imports
    n = keys["nightgen-hr1"]
    assert n[: 1 + len(exports_only)] == [n[0]] * (1 + len(exports_only))
    assert len(set(n)) == 1 + len(both)
    # one import line naming several modules, one of them renamed
    (tmp_path / "simulators" / "solo.py").write_text(
        "from simulators import export_ingest, apple_export as ae\n"
    )
    reached = {
        f.relative_to(tmp_path).as_posix()
        for f in C._code_closure([tmp_path / "simulators" / "solo.py"])
    }
    assert {"simulators/export_ingest.py", "simulators/apple_export/__init__.py"} <= reached
    # relative imports, one and two levels up
    pkg = tmp_path / "simulators" / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "b.py").write_text("x = 1\n")
    (pkg / "a.py").write_text("from .b import x\nfrom ..export_ingest import ingest\n")
    reached = {f.relative_to(tmp_path).as_posix() for f in C._code_closure([pkg / "a.py"])}
    assert {"simulators/pkg/b.py", "simulators/export_ingest.py"} <= reached


@pytest.mark.slow
def test_figures_on_a_dev_seed_add_up() -> None:
    d = E.load_data("nightgen-hr300", 11)
    assert d.y.sum() > 0 and d.truth.height > 0
    ev = E.evaluate([d], E.cramp_model.load_model())
    s = ev["all"]
    assert s["tp"] + s["fn"] == d.truth.height
    assert s["f1"] == pytest.approx(2 * s["tp"] / (2 * s["tp"] + s["fp"] + s["fn"]))
    assert 0 < ev["cand_recall"] <= 1
    assert sum(r["n"] for r in ev["reliability"]) == int((~d.hard).sum())


def test_rescore_reproduces_the_detector_s_confidences() -> None:
    # cached candidates are rescored when the stored model changes: the rescoring must be the
    # detector's own last step, so on fresh candidates it changes nothing
    from detectors.cramps import score_cramp_candidates
    from detectors.sleep import detect_sleep
    from simulators.nightgen import GenConfig, generate

    g = generate(GenConfig(participants=1, nights=6, seed=3, hr_resolution_s=300))
    periods, segments = detect_sleep(g.sleep_segments, g.samples)
    cand = score_cramp_candidates(g.samples, segments, periods)
    assert cand.height > 0 and (cand["confidence"] > 0).any()
    again = C.rescore(
        cand.with_columns(pl.lit(0.5).alias("confidence"), pl.lit("x").alias("label"))
    )
    assert again["confidence"].to_list() == cand["confidence"].to_list()
    assert again["label"].to_list() == cand["label"].to_list()


def _toy(family: str, seed: int, flip: bool) -> E.Data:
    # one informative feature (the first): y follows it, or its opposite when flipped
    import numpy as np

    rng = np.random.default_rng(seed)
    n = 400
    X = np.zeros((n, len(E.cramp_model.FEATURES)))
    X[:, 0] = rng.uniform(0, 1, n)
    y = (X[:, 0] > 0.5) != flip
    return E.Data(
        family,
        seed,
        X,
        y,
        np.zeros(n, bool),
        np.ones(n),
        pl.DataFrame(),
        pl.DataFrame(),
        {},
        np.zeros(n, bool),
    )


def test_family_weights_change_the_fit_and_are_recorded() -> None:
    import numpy as np

    a, b = _toy("fam-a", 1, flip=False), _toy("fam-b", 2, flip=True)
    x = np.zeros((2, len(E.cramp_model.FEATURES)))
    x[:, 0] = [0.1, 0.9]

    def margin(model: dict) -> float:  # score of a high minus a low first feature
        s = E.cramp_model.raw_scores(x, model)
        return float(s[1] - s[0])

    plain = E.fit([a, b], "logistic")
    down = E.fit([a, b], "logistic", {"fam-b": 0.1})
    up = E.fit([a, b], "logistic", {"fam-a": 0.1})
    # the down-weighted family's (opposite) relation loses: the sign follows the heavier one
    assert margin(down) > 0 > margin(up)
    assert abs(margin(plain)) < min(margin(down), -margin(up))
    assert E.fit([a], "gbt", {"fam-a": 2.0})["family_weights"] == {"fam-a": 2.0}
    assert E.fit([a], "gbt")["family_weights"] == {}


@pytest.mark.parametrize("arg", ["nocturne", "nightgen=0.3", "nocturne=x", "nocturne=-1"])
def test_a_bad_weight_is_a_usage_error_before_anything_loads(arg: str, capsys) -> None:
    with pytest.raises(SystemExit) as e:
        E.main(["--weight", arg])
    assert e.value.code == 2 and "--weight" in capsys.readouterr().err
