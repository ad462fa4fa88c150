"""Judging the event rules over test results (``suite <name|any> new flaky | regression |
gate failed``) from what :meth:`AlertInputs.suite_findings` says of each suite's newest run.

An event rule holds while the newest run shows the event, so its alert fires when a run
shows it and resolves when a later run of the suite does not. A later run that shows it
for other tests (newly flaky, slower) ends that alert and fires a new one naming them
(:attr:`Observation.tests`); one that shows it for the same tests, or a gate that fails
again, keeps it firing. When the newest run cannot tell yet (the regression watch has
not judged it; it was cancelled), the rule keeps its state.
"""

from __future__ import annotations

from collections.abc import Sequence

from dashboard_core.health.alert_state import Observation
from dashboard_core.health.rules import SuiteRule
from dashboard_core.models.findings import SuiteFinding

SHOWN_TESTS = 5  # tests named in a message; the rest counted


def observe_suite_events(spec: SuiteRule, findings: Sequence[SuiteFinding]) -> Observation:
    """Holds when any of the suites' newest runs shows the event; None when none does and
    one cannot tell."""
    event = spec.event
    showing = [f for f in findings if f.shows]
    if showing:
        newest = max(showing, key=lambda f: f.run.id if f.run else 0)
        tests = tuple(t for f in showing for t in f.tests)
        message = "; ".join(_shows(f) for f in showing)
        return Observation(True, None, message, run_id=newest.run.id if newest.run else None, tests=tests)
    unsure = [f for f in findings if f.shows is None]
    if unsure:
        said = "; ".join(f"{_run(f)} {f.detail}" for f in unsure)
        return Observation(None, None, f"{said}: the rule keeps its state")
    if len(findings) == 1:
        return Observation(False, None, _not(findings[0]))
    return Observation(False, None, f"none of the {len(findings)} suites' newest runs shows {_event_words(event)}")


def _run(f: SuiteFinding) -> str:
    return f"run {f.run.id} of {f.suite}" if f.run is not None else f"suite {f.suite}"


def _names(tests: Sequence[str]) -> str:
    shown = ", ".join(tests[:SHOWN_TESTS])
    return shown + (f" and {len(tests) - SHOWN_TESTS} more" if len(tests) > SHOWN_TESTS else "")


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _shows(f: SuiteFinding) -> str:
    if f.event == "new flaky":
        return f"{_run(f)} made {_count(len(f.tests), 'test')} flaky: {_names(f.tests)}"
    if f.event == "regression":
        return f"{_run(f)} has {_count(len(f.tests), 'slower test')} (a duration regression): {_names(f.tests)}"
    return f"{_run(f)} failed {f.detail.removeprefix('failed: ')}"


def _not(f: SuiteFinding) -> str:
    if f.run is None:
        return f"suite {f.suite} has {f.detail}"
    if f.event == "new flaky":
        return f"{_run(f)} made no test flaky"
    if f.event == "regression":
        return f"{_run(f)} has no duration regression"
    return f"{_run(f)} {f.run.status.value}, not failed by a quality gate"


def _event_words(event: str) -> str:
    return {"new flaky": "a new flaky test", "regression": "a duration regression"}.get(event, "a quality gate failed")
