"""Which candidate episodes to ask the person about first (the episode review).

The per-person model (``detectors.calibration``) is a logistic confidence
``sigmoid(slope * logit_wo + intercept)`` and a candidate is reported when it reaches
``POSSIBLE_MIN`` (0.4), i.e. when its logit reaches ``logit(0.4) = -0.405``. The answers
that move that model are the ones about candidates near this boundary: a candidate far
above it stays detected, one far below stays discarded, whatever the intercept is fitted
to within reason, so confirming or rejecting it changes neither the fit nor the F1 the fit
maximises. The review therefore uses **uncertainty sampling** (Lewis & Gale 1994; Settles
2009, section 3.1, "least confident" / margin for a binary model): candidates are ranked by
their distance to the boundary under the person's *current* model, ``|z - logit(0.4)|``.
Distances are binned at the intercept grid step (0.25 logit units: candidates in the same
bin teach the grid search the same thing) and ties go to the more recent night (the person
remembers last night better than a night three weeks ago).

Left out: suppressed candidates (a confounder veto: confidence 0 whatever the intercept),
candidates whose confidence cap is below the boundary (``movement_channel_missing``:
never reportable) and candidates farther from the boundary than any fitted intercept can
move it (:data:`MAX_MARGIN`, 3 logit units), as their answer cannot change a detection;
and candidates already labelled (onset within 5 min of a current label's start).

References
----------
.. [1] Settles B (2009). Active Learning Literature Survey. Computer Sciences Technical
   Report 1648, University of Wisconsin-Madison.
.. [2] Lewis DD, Gale WA (1994). A sequential algorithm for training text classifiers.
   Proc. SIGIR '94, 3-12. doi:10.1007/978-1-4471-2099-5_1
"""

from __future__ import annotations

import json
import math

import numpy as np
import polars as pl

from detectors.calibration import (
    INTERCEPT_GRID,
    LABEL_TOLERANCE_S,
    _caps,
    _logit_wo,
    model_of,
)
from detectors.cramp_params import CrampParams
from detectors.schema import POSSIBLE_MIN

#: logit of the reporting threshold: the decision boundary
BOUNDARY_LOGIT = math.log(POSSIBLE_MIN / (1.0 - POSSIBLE_MIN))
#: bin width of the distance to the boundary: the intercept grid step
MARGIN_BIN = float(INTERCEPT_GRID[1] - INTERCEPT_GRID[0])
#: candidates farther than this from the boundary are not asked about: no intercept of the
#: grid (the brief's -4 +- 3) moves the boundary past them, so their answer cannot change a
#: detection, and a wrong answer about them (people answer ~20 % of prompts wrongly in the
#: label-learning evaluation) would only pull the fit towards a fake cramp (issue 10)
MAX_MARGIN = float(max(abs(w - CrampParams().w_intercept) for w in INTERCEPT_GRID))

REVIEW_SCHEMA_EXTRA: dict[str, pl.DataType] = {
    "logit_person": pl.Float64,  # logit under the person's current model
    "confidence_person": pl.Float64,  # its confidence (caps applied)
    "margin": pl.Float64,  # |logit_person - logit(0.4)|
    "rank": pl.UInt32,  # 1 = ask first
}


def rank_for_review(
    candidates: pl.DataFrame,
    labels: pl.DataFrame | None = None,
    *,
    params: CrampParams | None = None,
    scored_with: CrampParams | dict[str, CrampParams] | None = None,
    n: int | None = None,
    max_margin: float | None = MAX_MARGIN,
) -> pl.DataFrame:
    """Rank unlabelled cramp candidates by how much the person's answer would teach.

    Parameters
    ----------
    candidates : polars.DataFrame
        :func:`detectors.cramps.score_cramp_candidates` rows (every candidate, ``evidence``
        JSON with ``logit``), scored with ``scored_with``.
    labels : polars.DataFrame, optional
        Current labels (``participant_id``, ``start_utc``): candidates of the same
        participant whose onset is within 5 min of a label's start are left out.
    params : CrampParams, optional
        The person's current parameters (default: ``scored_with``): the model whose
        boundary the ranking is about.
    scored_with : CrampParams or dict, optional
        The parameters the candidates were scored with (default: ``CrampParams()``), or
        ``params_id -> CrampParams`` for candidates with a ``params_id`` column (the stored
        ``cramp_candidates``, which nights scored under different sets can mix).
    n : int, optional
        Keep the first ``n`` per participant.
    max_margin : float or None
        Leave out candidates farther than this (logit units) from the boundary (default
        :data:`MAX_MARGIN`); None keeps every candidate (to score them all, not to ask).

    Returns
    -------
    polars.DataFrame
        The candidates' columns plus ``logit_person``, ``confidence_person``, ``margin`` and
        ``rank`` (1 = ask first, per participant), sorted by participant and rank.
    """
    scored_with = scored_with or CrampParams()
    if isinstance(scored_with, dict):
        params = params or CrampParams()
        base_of = scored_with
    else:
        params = params or scored_with
        base_of = None
    out_schema = {**candidates.schema, **REVIEW_SCHEMA_EXTRA}
    cand = candidates.filter(pl.col("suppressed_by").is_null())
    if labels is not None and labels.height and cand.height:
        lab = labels.select("participant_id", _lab_s=pl.col("start_utc").dt.epoch("us"))
        hit = (
            cand.with_row_index("_i")
            .join(lab, on="participant_id", how="inner")
            .filter(
                (pl.col("start_utc").dt.epoch("us") - pl.col("_lab_s")).abs()
                <= int(LABEL_TOLERANCE_S * 1e6)
            )
            .get_column("_i")
            .to_list()
        )
        cand = cand.with_row_index("_i").filter(~pl.col("_i").is_in(hit)).drop("_i")
    if cand.height == 0:
        return pl.DataFrame(schema=out_schema)
    ev = [json.loads(e) for e in cand["evidence"].to_list()]
    bases = (
        [scored_with] * len(ev)
        if base_of is None
        else [base_of[i] for i in cand["params_id"].to_list()]
    )
    models = {id(b): model_of(params, b) for b in bases}
    z = np.array(
        [
            models[id(b)][0] * _logit_wo(e, b) + models[id(b)][1]
            for e, b in zip(ev, bases, strict=True)
        ]
    )
    cap = np.array([_caps(e, b) for e, b in zip(ev, bases, strict=True)])
    conf = np.minimum(1.0 / (1.0 + np.exp(-z)), cap)
    out = (
        cand.with_columns(
            logit_person=pl.Series(z, dtype=pl.Float64),
            confidence_person=pl.Series(conf, dtype=pl.Float64),
            margin=pl.Series(np.abs(z - BOUNDARY_LOGIT), dtype=pl.Float64),
            _reportable=pl.Series(cap >= POSSIBLE_MIN),
        )
        .filter(pl.col("_reportable"))
        .drop("_reportable")
    )
    if max_margin is not None:
        out = out.filter(pl.col("margin") <= max_margin)
    out = (
        out.with_columns(_bin=(pl.col("margin") / MARGIN_BIN).floor())
        .sort(["participant_id", "_bin", "start_utc"], descending=[False, False, True])
        .with_columns(rank=pl.int_range(1, pl.len() + 1, dtype=pl.UInt32).over("participant_id"))
        .drop("_bin")
    )
    if n is not None:
        out = out.filter(pl.col("rank") <= n)
    return out.select(list(out_schema))
