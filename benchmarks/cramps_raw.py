"""Benchmark: raw-accelerometry sleep period + cramp detection for one night.

Builds one seeded simulated night (``simulators/rawgen.py``; ~8 h of sleep at 50 Hz,
about 1.6 M samples x 3 axes with the evening and morning wake, HR every second) and times

* ``floor``: one ``butter(4, [0.5, 15] Hz)`` ``sosfiltfilt`` over the night's three axes (the
  single largest array operation the detector must do), as the in-process baseline,
* ``night``: :func:`detectors.cramps_raw.analyse_night` on the same arrays,

best of ``--repeats`` runs each, and prints seconds, samples per second and the ratio
night / floor (the machine is shared: ratios, not absolute times, are the comparable figure).

    uv run python benchmarks/cramps_raw.py
    uv run python benchmarks/cramps_raw.py --fs 25 --hours 8 --repeats 5
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy import signal

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detectors.cramps_raw import analyse_night  # noqa: E402
from simulators.rawgen import RawGenConfig, generate_night  # noqa: E402


def best(fn, repeats: int) -> float:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return min(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fs", type=float, default=50.0)
    ap.add_argument("--hours", type=float, default=8.0)
    ap.add_argument("--hr-spacing", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    if a.hours < 2:
        ap.error("--hours must be at least 2 (the simulated night's cramps and wake bouts)")
    g = generate_night(
        RawGenConfig(seed=42, fs_hz=a.fs, hr_spacing_s=a.hr_spacing, cramps=(2, 2)),
        0,
        sleep_h=a.hours,
    )
    n = g.t_us.size
    acc = g.acc_g
    # the detector's own band: 0.5-15 Hz, upper edge 0.45 fs where the rate cannot carry 15 Hz
    sos = signal.butter(4, [0.5, min(15.0, 0.45 * a.fs)], "bandpass", fs=a.fs, output="sos")
    floor = best(lambda: signal.sosfiltfilt(sos, acc.astype(np.float64), axis=0), a.repeats)
    res = {}
    night = best(
        lambda: res.setdefault("r", analyse_night(g.t_us, acc, g.hr_t_us, g.hr_bpm)), a.repeats
    )
    r = analyse_night(g.t_us, acc, g.hr_t_us, g.hr_bpm)
    print(
        f"night: {n:,} samples x 3 at {a.fs:g} Hz ({n / a.fs / 3600:.2f} h recorded, "
        f"{a.hours:g} h sleep), {r.events.height} movement events, "
        f"{len(r.candidates)} candidates"
    )
    print(f"floor (one band-pass sosfiltfilt): {floor:.3f} s")
    print(f"analyse_night:                     {night:.3f} s  ({n / night / 1e6:.2f} M samples/s)")
    print(f"ratio night / floor:               {night / floor:.1f}")


if __name__ == "__main__":
    main()
