"""Putting a suite's test in quarantine and taking it out, for the API and the Tests page
alike: the role check (operator), the change, the audit line (who, what, why, from where),
and the refusals (an unknown suite 404, a test the suite never ran 422, a viewer 403)."""

from __future__ import annotations

from datetime import UTC, datetime

from dashboard_core.app.actions import OPERATOR
from dashboard_core.app.caller import Caller, NotFound, Refusal, refusing
from dashboard_core.auth.audit import audit
from dashboard_core.models.quarantine import Quarantined, QuarantineRelease, QuarantineRequest
from dashboard_core.runtime import Runtime
from dashboard_core.testing.errors import UnknownSuite
from dashboard_core.testing.quarantine import Quarantine


class UnknownTest(Refusal):
    status = 422


def quarantined(rt: Runtime, suite: str) -> list[Quarantined]:
    """The suite's tests in quarantine, oldest first."""
    _known_suite(rt, suite)
    with refusing():
        return list(Quarantine(rt.store).entries(suite).values())


def quarantine_test(rt: Runtime, caller: Caller, suite: str, request: QuarantineRequest) -> Quarantined:
    """Quarantine a test that has run in the suite: it goes on running, its failure no longer fails a run."""
    caller.require(OPERATOR, "quarantine tests")
    _known_suite(rt, suite)
    if not rt.tests.history.ran_in_suite(suite, request.nodeid):
        raise UnknownTest(
            f"No run of {suite!r} has a test {request.nodeid!r}: name a test as its runs record it"
            " (the Test column of a run's results, e.g. tests/test_api.py::test_login)."
        )
    with refusing():
        entry = Quarantine(rt.store).put(
            suite, request.nodeid, request.reason, caller.principal.name, datetime.now(UTC)
        )
    audit(
        rt.events,
        caller.principal,
        "quarantined test",
        f"{request.nodeid} of {suite}: {request.reason}",
        caller.address,
    )
    return entry


def release_test(rt: Runtime, caller: Caller, suite: str, request: QuarantineRelease) -> Quarantined:
    """Take a test out of quarantine: its failures fail runs again."""
    caller.require(OPERATOR, "take tests out of quarantine")
    _known_suite(rt, suite)
    with refusing():
        entry = Quarantine(rt.store).release(suite, request.nodeid)
    if entry is None:
        raise UnknownTest(
            f"{request.nodeid!r} is not in the quarantine of {suite!r};"
            f" GET /api/testing/suites/{suite}/quarantine lists the tests that are."
        )
    why = f": {request.reason}" if request.reason else ""
    audit(
        rt.events,
        caller.principal,
        "released test from quarantine",
        f"{request.nodeid} of {suite}{why}",
        caller.address,
    )
    return entry


def _known_suite(rt: Runtime, suite: str) -> None:
    if rt.config.suite(suite) is None:
        raise NotFound(str(UnknownSuite(suite, [s.name for s in rt.config.suites])))
