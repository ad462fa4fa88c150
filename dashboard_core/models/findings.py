"""What a suite's newest run shows that an event rule over test results watches for
(``suite <name|any> new flaky | regression | gate failed``): the vocabulary shared by
the rules (:mod:`dashboard_core.health`) and the test results that answer them
(:mod:`dashboard_core.testing.findings`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from dashboard_core.models.testing import RunInfo

SuiteEvent = Literal["new flaky", "regression", "gate failed"]
SUITE_EVENTS: tuple[SuiteEvent, ...] = get_args(SuiteEvent)


@dataclass(frozen=True, slots=True)
class SuiteFinding:
    """Whether ``run`` (the suite's newest run that can show ``event``) shows it.

    ``shows`` None: it cannot be told yet (the regression watch has not judged the run,
    the run was cancelled), and a rule keeps its state. ``tests``: the tests it names
    (newly flaky, slower), ``detail``: what else the run says (the gates it broke).
    """

    suite: str
    event: SuiteEvent
    run: RunInfo | None
    shows: bool | None
    tests: tuple[str, ...] = ()
    detail: str = ""
