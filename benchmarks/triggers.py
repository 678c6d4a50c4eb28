"""Benchmark: trigger statistics for 100 participant-years (issue 14).

    uv run --frozen python benchmarks/triggers.py [--participants 100] [--days 365] [--seed 1]

Simulates the cohort's daily exposures and journal case nights
(``simulators.trigger_cohort``; not timed), then times in the same run

* the baseline: building the input frames (the 12 trigger definitions x 2 lags by night,
  ``exposure_long``, joined with the nights and their strata, ``analysis_frame``);
* ``case_crossover``: every participant's one-exposure rows (closed-form Mantel-Haenszel,
  exact conditional fallback), their mutually adjusted ConditionalLogit model, q-values, and
  the pooled rows (one-exposure and adjusted) over everyone,

and prints seconds, seconds per participant-year and the ratio to the baseline. The import of
statsmodels (paid once per process, ~1-4 s) is timed separately.

Target (issue 14): < 30 s for 100 participant-years on the shared 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import polars as pl  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--participants", type=int, default=100)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)

    from detectors import triggers as tr
    from simulators.trigger_cohort import CohortParams, simulate_cohort

    cohort = simulate_cohort(a.seed, CohortParams(people=a.participants, days=a.days))
    from detectors.trigger_misclass import JOURNAL_PPV

    # as the store gives them: each journalled night with the journal's assumed PPV, so the
    # fits corrected for false case nights run as they do in `crampwatch triggers`
    nights = cohort.nights["journal"].with_columns(
        case_ppv=pl.when(pl.col("case") > 0).then(pl.lit(JOURNAL_PPV))
    )
    t = time.perf_counter()
    import statsmodels.discrete.conditional_models  # noqa: F401

    t_import = time.perf_counter() - t

    t = time.perf_counter()
    frame = tr.analysis_frame(nights, tr.exposure_long(cohort.daily))
    t_build = time.perf_counter() - t

    t, c = time.perf_counter(), time.process_time()
    out = tr.case_crossover(frame)
    t_cc, c_cc = time.perf_counter() - t, time.process_time() - c

    years = a.participants * a.days / 365
    by = out.group_by("method").len().sort("method")
    print(
        f"participant-years: {years:g}  nights: {nights.height:,}  case nights: "
        f"{int(nights['case'].sum()):,}  analysis rows: {frame.height:,}"
    )
    print(
        f"rows: {out.height} ({', '.join(f'{m} {n}' for m, n in by.iter_rows())}); "
        f"estimated {out.filter(pl.col('status') == 'estimated').height}"
    )
    print(f"statsmodels import: {t_import:.2f} s (once per process)")
    print(f"baseline, building the input frames: {t_build:.2f} s")
    print(f"trigger statistics (case_crossover): {t_cc:.2f} s wall, {c_cc:.2f} s CPU")
    print(f"seconds per participant-year: {t_cc / years:.3f}")
    print(f"ratio to building the input frames: {t_cc / max(t_build, 1e-9):.1f}x")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average (1 min): {load:.1f}; target < 30 s for 100 participant-years")


if __name__ == "__main__":
    main()
