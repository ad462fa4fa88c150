"""Counters become per-second rates, with Prometheus-style reset handling."""

from __future__ import annotations

import math

from dashboard_core.metrics.rates import RateConverter


def test_first_reading_has_no_rate() -> None:
    rates = RateConverter().convert(0.0, {"c": 100.0})
    assert math.isnan(rates["c"])


def test_rate_is_increase_over_elapsed_seconds() -> None:
    conv = RateConverter()
    conv.convert(10.0, {"c": 1000.0})
    assert conv.convert(10.5, {"c": 1500.0}) == {"c": 1000.0}
    assert conv.convert(12.5, {"c": 1500.0}) == {"c": 0.0}


def test_a_counter_reset_counts_the_new_value_as_the_increase() -> None:
    conv = RateConverter()
    conv.convert(0.0, {"c": 5000.0})
    assert conv.convert(2.0, {"c": 300.0}) == {"c": 150.0}  # restarted from zero
    assert conv.convert(3.0, {"c": 400.0}) == {"c": 100.0}


def test_no_time_elapsed_gives_nan_not_infinity() -> None:
    conv = RateConverter()
    conv.convert(1.0, {"c": 1.0})
    assert math.isnan(conv.convert(1.0, {"c": 2.0})["c"])


def test_counters_are_independent_and_may_come_and_go() -> None:
    conv = RateConverter()
    conv.convert(0.0, {"a": 0.0})
    out = conv.convert(1.0, {"a": 10.0, "b": 7.0})
    assert out["a"] == 10.0 and math.isnan(out["b"])
    assert conv.convert(2.0, {"b": 9.0}) == {"b": 2.0}
