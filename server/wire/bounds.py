"""Request fields bounded by the engine's tables: a pydantic `Field` made from an `Interval`, so
the API refuses (422) exactly what the engine would, and no bound is written a second time."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from backprop_lab.engine.bounds import Interval


def within(interval: Interval, **extra: Any) -> Any:
    """A `Field` whose `ge`/`gt` and `le`/`lt` are `interval`'s ends (`extra`: description, …)."""
    low, high = interval.low, interval.high
    return Field(
        ge=None if interval.low_open else low,
        gt=low if interval.low_open else None,
        le=None if interval.high_open else high,
        lt=high if interval.high_open else None,
        **extra,
    )


def counted(interval: Interval, **extra: Any) -> Any:
    """A list `Field` whose length lies in `interval` (closed, whole numbers)."""
    low = None if interval.low is None else int(interval.low)
    high = None if interval.high is None else int(interval.high)
    return Field(min_length=low, max_length=high, **extra)
