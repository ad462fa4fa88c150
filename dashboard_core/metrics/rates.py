"""Turn cumulative counters into per-second rates.

A counter that goes down was reset (a reboot of the counter's owner, an
interface re-created, a 32-bit wrap): like Prometheus' ``rate()``, the new value
is then taken as the increase since zero. The first reading of a counter has no
rate yet and is NaN.
"""

from __future__ import annotations

import math


class RateConverter:
    def __init__(self) -> None:
        self._last: dict[str, tuple[float, float]] = {}

    def convert(self, t: float, counters: dict[str, float]) -> dict[str, float]:
        """Rates at time ``t`` (seconds) for the given counter readings."""
        rates: dict[str, float] = {}
        last = self._last
        for column, value in counters.items():
            previous = last.get(column)
            last[column] = (t, value)
            if previous is None or math.isnan(value):
                rates[column] = math.nan
                continue
            t0, v0 = previous
            dt = t - t0
            if dt <= 0 or math.isnan(v0):
                rates[column] = math.nan
                continue
            increase = value - v0 if value >= v0 else value
            rates[column] = increase / dt
        return rates
