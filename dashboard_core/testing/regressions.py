"""When a test got slower beyond its own noise: the statistics, no I/O.

A test's baseline is its durations in the suite's last runs where it passed:
their **median**, and their **noise**, the median absolute deviation scaled by
1.4826 (for normally spread durations it estimates the standard deviation, but
one slow outlier moves neither figure). A duration is slower than the baseline
when it is above all three of:

- ``median + mad_factor x noise``: beyond what this test's own spread explains;
- ``median x min_ratio``: a real change, not a steady test's tiny spread crossed;
- ``median + min_increase_seconds``: worth a look (a 2 ms test at 5 ms is not).

With fewer than ``min_history`` passing runs there is no baseline to trust: a
test that looks slower against what little there is gets "not enough history",
never a guess. Datadog's rule (5x the mean and above the week's maximum, once
100 runs exist) is compared in docs/tests.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from statistics import median

from dashboard_core.config.testing import RegressionConfig

MAD_SCALE = 1.4826  # MAD x this estimates the standard deviation of normally spread values


class Slowdown(StrEnum):
    """What a slower test is called (``host busy`` is decided by the host, not here)."""

    REGRESSION = "regression"
    HOST_BUSY = "host busy"
    NOT_ENOUGH_HISTORY = "not enough history"


@dataclass(frozen=True, slots=True)
class Baseline:
    runs: int  # durations it is made of
    median: float
    noise: float  # MAD x 1.4826, seconds
    limit: float  # slower than this (all three bars at once) is flagged

    @property
    def enough(self) -> bool:
        return self.limit != float("inf")


def baseline(durations: Sequence[float], rule: RegressionConfig) -> Baseline | None:
    """The baseline of these durations (None for none); its ``limit`` is infinite
    when there are fewer than ``rule.min_history``."""
    if not durations:
        return None
    middle = median(durations)
    noise = MAD_SCALE * median(abs(d - middle) for d in durations)
    if len(durations) < rule.min_history:
        return Baseline(len(durations), middle, noise, float("inf"))
    limit = max(middle + rule.mad_factor * noise, middle * rule.min_ratio, middle + rule.min_increase_seconds)
    return Baseline(len(durations), middle, noise, limit)


def judge(duration: float, history: Sequence[float], rule: RegressionConfig) -> tuple[Slowdown | None, Baseline | None]:
    """Whether ``duration`` is slower than ``history`` (the test's earlier passing
    durations): REGRESSION (before the host is asked), NOT_ENOUGH_HISTORY (too few
    runs, but slower by the ratio and the floor than the few there are), or None
    (not slower, or a test never seen before)."""
    base = baseline(history, rule)
    if base is None:
        return None, None
    if base.enough:
        return (Slowdown.REGRESSION if duration > base.limit else None), base
    looks_slower = duration > max(base.median * rule.min_ratio, base.median + rule.min_increase_seconds)
    return (Slowdown.NOT_ENOUGH_HISTORY if looks_slower else None), base
