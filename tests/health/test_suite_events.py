"""The event rules over test results, on crafted findings and runs: what "newly flaky"
means between two windows of runs, and how a rule over one suite or ``any`` suite reads
its suites' newest runs (holds, does not, cannot tell)."""

from __future__ import annotations

from datetime import UTC, datetime

from dashboard_core.health.rules import SuiteRule
from dashboard_core.health.suite_events import observe_suite_events
from dashboard_core.models import RunInfo, RunStatus, Trigger
from dashboard_core.models.findings import SuiteFinding
from dashboard_core.testing.findings import newly_flaky

NOW = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)


def runs(*ids: int, suite: str = "unit") -> list[RunInfo]:
    """Finished runs, newest first (as the history reads them)."""
    return [RunInfo(id=i, suite=suite, trigger=Trigger.API, status=RunStatus.PASSED, queued_at=NOW) for i in ids]


def test_a_test_is_newly_flaky_only_in_the_run_that_made_it_flaky() -> None:
    attempts = [
        (1, "t::flips", "passed", 0),
        (2, "t::flips", "failed", 0),  # flaky since run 2 (P then F)
        (3, "t::flips", "passed", 0),
        (3, "t::retried", "passed", 1),  # passed on a retry in run 3: flaky at once
        (1, "t::broken", "failed", 0),
        (2, "t::broken", "failed", 0),
        (3, "t::broken", "passed", 0),  # broken (FF) until run 3 passed it: flaky now
        (3, "t::fine", "passed", 0),
    ]
    assert [f.nodeid for f in newly_flaky(runs(2, 1), attempts, 10, 5)] == ["t::flips"]
    assert sorted(f.nodeid for f in newly_flaky(runs(3, 2, 1), attempts, 10, 5)) == ["t::broken", "t::retried"]
    # A window of 2: run 1 leaves it as run 3 comes; that does not make anything new.
    assert sorted(f.nodeid for f in newly_flaky(runs(3, 2, 1), attempts, 2, 5)) == ["t::broken", "t::retried"]


def finding(suite: str, run_id: int | None, shows: bool | None, *tests: str, detail: str = "") -> SuiteFinding:
    run = runs(run_id, suite=suite)[0] if run_id is not None else None
    return SuiteFinding(suite, "new flaky", run, shows, tests, detail)


def test_any_suite_holds_when_one_newest_run_shows_it_naming_its_run_and_tests() -> None:
    rule = SuiteRule(None, event="new flaky")
    seen = observe_suite_events(rule, [finding("a", 4, False), finding("b", 9, True, "t::x", "t::y")])
    assert seen.holds is True and seen.run_id == 9 and seen.tests == ("t::x", "t::y")
    assert seen.message == "run 9 of b made 2 tests flaky: t::x, t::y"
    quiet = observe_suite_events(
        rule, [finding("a", 4, False), finding("b", None, False, detail="no finished run yet")]
    )
    assert quiet.holds is False and quiet.message == "none of the 2 suites' newest runs shows a new flaky test"


def test_a_run_not_judged_yet_keeps_the_rule_as_it_is() -> None:
    rule = SuiteRule("a", event="regression")
    unsure = SuiteFinding("a", "regression", runs(5, suite="a")[0], None, detail="not judged for regressions yet")
    seen = observe_suite_events(rule, [unsure])
    assert seen.holds is None
    assert seen.message == "run 5 of a not judged for regressions yet: the rule keeps its state"
    many = [f"t::{i}" for i in range(7)]
    slower = SuiteFinding("a", "regression", runs(6, suite="a")[0], True, tuple(many))
    assert observe_suite_events(rule, [slower]).message == (
        "run 6 of a has 7 slower tests (a duration regression): t::0, t::1, t::2, t::3, t::4 and 2 more"
    )
