"""The parameter type of :mod:`simulators.bedside.ranges`: a documented range and its draw."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Range:
    low: float
    high: float
    unit: str
    source: str
    dist: str = "uniform"
    mode: float | None = None

    def draw(self, rng: np.random.Generator, size=None):
        lo, hi = self.low, self.high
        if self.dist == "int":
            return rng.integers(int(lo), int(hi) + 1, size)
        if self.dist == "loguniform":
            return np.exp(rng.uniform(np.log(lo), np.log(hi), size))
        if self.dist == "int_tri":
            return np.rint(rng.triangular(lo, self.mode, hi, size)).astype(np.int64)
        if self.dist == "tri":
            return rng.triangular(lo, self.mode, hi, size)
        return rng.uniform(lo, hi, size)
