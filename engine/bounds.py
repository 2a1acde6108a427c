"""A numeric setting's allowed values, written once: the interval's two ends (each closed or
open, or absent), and whether only whole numbers fit.

The engine's tables (`backprop_lab.engine.config.CONFIG_BOUNDS`, the analyses' tables in
`backprop_lab.engine.lr_lab` and `backprop_lab.engine.surface`) are built from these; the
engine checks values against them, the server derives its request models' bounds from them and
serves them in `GET /api/v1/options`, so a bound lives in exactly one place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real


@dataclass(frozen=True)
class Interval:
    low: float | None  # None: no lower end
    high: float | None  # None: no upper end
    low_open: bool = False  # the low end itself is outside
    high_open: bool = False  # the high end itself is outside
    integer: bool = False  # only whole numbers fit

    def fits_type(self, value: object) -> bool:
        """A number of the right kind: an integer where one is needed (never a bool), a real
        number otherwise."""
        if isinstance(value, bool):
            return False
        return isinstance(value, Integral) if self.integer else isinstance(value, Real)

    def contains(self, value: float) -> bool:
        """Finite, and between the ends (an open end refuses itself)."""
        if not math.isfinite(value):
            return False
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        return self.high is None or not (value > self.high or (self.high_open and value == self.high))

    def __str__(self) -> str:
        """Written as mathematics: `(0, 1000]`, `[0, 1)`, `[1, ∞)`."""
        low = "−∞" if self.low is None else f"{self.low:g}"
        high = "∞" if self.high is None else f"{self.high:g}"
        opening = "(" if self.low_open or self.low is None else "["
        closing = ")" if self.high_open or self.high is None else "]"
        return f"{opening}{low}, {high}{closing}"
