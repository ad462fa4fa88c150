"""The rule a slower test is flagged by, over hand-made histories: beyond its own
noise (median and MAD, which one slow outlier does not move), above a ratio and
an absolute floor, and never judged on too little history."""

from __future__ import annotations

import pytest

from dashboard_core.config.testing import RegressionConfig
from dashboard_core.testing.regressions import MAD_SCALE, Slowdown, baseline, judge

RULE = RegressionConfig()  # 5 runs, 5 x noise, 1.5 x median, +0.1 s


def test_noise_is_the_scaled_median_absolute_deviation() -> None:
    base = baseline([1.0, 1.1, 0.9, 1.0, 1.2], RULE)
    assert base is not None and base.runs == 5 and base.median == 1.0
    assert base.noise == pytest.approx(MAD_SCALE * 0.1)
    # The ratio is the highest of the three bars here: 1.5 s.
    assert base.limit == pytest.approx(max(1.0 + 5 * MAD_SCALE * 0.1, 1.5, 1.1))


@pytest.mark.parametrize(
    ("history", "duration", "verdict"),
    [
        ([1.0, 1.02, 0.98, 1.01, 0.99], 1.6, Slowdown.REGRESSION),  # a steady test, 60 % slower
        ([1.0, 1.02, 0.98, 1.01, 0.99], 1.4, None),  # beyond its noise but under the ratio
        ([1.0, 2.0, 1.0, 2.0, 1.5], 4.0, None),  # a noisy test: 4 s is within 5 x its spread
        ([1.0, 2.0, 1.0, 2.0, 1.5], 6.0, Slowdown.REGRESSION),
        ([0.002] * 5, 0.005, None),  # 2.5 x slower, but 3 ms: under the absolute floor
        ([0.002] * 5, 0.2, Slowdown.REGRESSION),
        ([1.0, 1.0, 1.0, 1.0, 30.0], 2.0, Slowdown.REGRESSION),  # one old hang does not hide a doubling
        ([1.0, 1.0, 1.0, 1.0, 1.0], 1.5, None),  # exactly at the limit is not beyond it
    ],
)
def test_slower_beyond_noise_ratio_and_floor(history: list[float], duration: float, verdict: Slowdown | None) -> None:
    assert judge(duration, history, RULE)[0] == verdict


def test_a_mean_and_max_rule_would_miss_the_doubling_after_an_old_hang() -> None:
    """Datadog's bar for the same history: 5 x the mean (6.8 s) and above the max (30 s)."""
    history = [1.0, 1.0, 1.0, 1.0, 30.0]
    assert not (2.0 > 5 * sum(history) / len(history) and 2.0 > max(history))
    assert judge(2.0, history, RULE)[0] is Slowdown.REGRESSION


def test_too_little_history_is_said_not_guessed() -> None:
    assert judge(1.0, [], RULE) == (None, None)  # a new test: nothing to compare with
    verdict, base = judge(1.0, [0.05, 0.05, 0.06], RULE)
    assert verdict is Slowdown.NOT_ENOUGH_HISTORY and base is not None and not base.enough and base.runs == 3
    assert judge(0.06, [0.05, 0.05, 0.06], RULE)[0] is None  # not slower: nothing to say
    assert judge(0.12, [0.05, 0.05, 0.06], RULE)[0] is None  # 2.4 x, but under the floor
    fewer = RegressionConfig(min_history=3)
    assert judge(1.0, [0.05, 0.05, 0.06], fewer)[0] is Slowdown.REGRESSION


def test_the_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="min_ratio"):
        RegressionConfig(min_ratio=0.5)
