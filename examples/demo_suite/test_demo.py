"""A demo suite that shows every outcome the dashboard reports.

It ships with the dashboard so a new user can press Run at once. Outcomes:
passed, failed, error (in a fixture), skipped, xfailed, xpassed, a slow test,
parametrised tests and a test that writes to stdout and stderr.
"""

from __future__ import annotations

import sys
import time

import pytest


def test_passes() -> None:
    assert 1 + 1 == 2


def test_fails() -> None:
    expected = {"status": "healthy", "latency_ms": 120}
    actual = {"status": "degraded", "latency_ms": 950}
    assert actual == expected


@pytest.fixture
def broken_fixture() -> None:
    raise RuntimeError("the fixture could not connect to the test database")


def test_errors_in_setup(broken_fixture: None) -> None:
    pass


@pytest.mark.skip(reason="needs a GPU, which this machine has not")
def test_skipped() -> None:
    pass


@pytest.mark.xfail(reason="known bug: rounding of negative durations")
def test_expected_failure() -> None:
    assert round(-2.5) == -3


@pytest.mark.xfail(reason="flaky upstream, sometimes fixed")
def test_unexpected_pass() -> None:
    assert True


def test_slow() -> None:
    time.sleep(1.0)  # the demo's slow test: shows up in "slowest tests" and the ETA


@pytest.mark.parametrize(("celsius", "fahrenheit"), [(0, 32), (100, 212), (-40, -40), (37, 99)])
def test_parametrised(celsius: float, fahrenheit: float) -> None:
    assert round(celsius * 9 / 5 + 32) == fahrenheit


def test_writes_output() -> None:
    print("some progress written to stdout")
    print("a warning written to stderr", file=sys.stderr)
    assert True
