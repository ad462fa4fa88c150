"""Every operation that changes something, one function each, for the API and the pages alike.

Each one: the role check (:meth:`Caller.require`, its wording written once), the operation,
the audit line (who, what, from where), and any refusal as a :class:`~dashboard_core.app.caller.Refusal`.
A front end calls it and shows the result or the refusal; it checks no role and writes no
audit line of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dashboard_core.app.caller import Caller, NotAllowed, NotFound, refusing
from dashboard_core.auth.audit import audit
from dashboard_core.health.agents import REMOVED
from dashboard_core.models import AgentInfo, ComponentStatus, HeartbeatRequest, RunInfo, Trigger, WorkflowRunInfo
from dashboard_core.runtime import Runtime

OPERATOR, ADMIN = "operator", "admin"


@dataclass(frozen=True, slots=True)
class SuiteStart:
    """A run asked for: the new one, or the one already queued or running (``created`` False)."""

    run: RunInfo
    created: bool

    @property
    def message(self) -> str:
        if self.created:
            return f"Run {self.run.id} of {self.run.suite!r} is {self.run.status}."
        return f"{self.run.suite!r} is already {self.run.status} as run {self.run.id}; no second run was started."


def _audit(rt: Runtime, caller: Caller, action: str, target: str) -> None:
    audit(rt.events, caller.principal, action, target, caller.address)


# -- test suites ----------------------------------------------------------------------------
def run_suite(
    rt: Runtime, caller: Caller, suite: str, trigger: Trigger, *, rerun_failed_of: int | None = None
) -> SuiteStart:
    """Run a suite (or only the tests that failed in an earlier run of it)."""
    caller.require(OPERATOR, "run suites")
    with refusing():
        result = rt.tests.run_suite(suite, trigger, rerun_failed_of=rerun_failed_of)
    if result.created:
        _audit(rt, caller, "ran suite", f"{result.run.suite} (run {result.run.id})")
    return SuiteStart(result.run, result.created)


def cancel_run(rt: Runtime, caller: Caller, run_id: int) -> RunInfo:
    caller.require(OPERATOR, "cancel test runs")
    with refusing():
        run = rt.tests.cancel(run_id)
    _audit(rt, caller, "cancelled test run", f"{run.id} of {run.suite}")
    return run


# -- workflows -------------------------------------------------------------------------------
def start_workflow(
    rt: Runtime, caller: Caller, workflow: str, params: Mapping[str, object], trigger: Trigger
) -> WorkflowRunInfo:
    caller.require(OPERATOR, "start workflows")
    with refusing():
        run = rt.workflows.start_run(workflow, params, trigger)
    _audit(rt, caller, "started workflow", f"{run.workflow} (run {run.id})")
    return run


def stop_workflow(rt: Runtime, caller: Caller, run_id: int) -> WorkflowRunInfo:
    caller.require(OPERATOR, "stop workflows")
    with refusing():
        run = rt.workflows.stop_run(run_id)
    _audit(rt, caller, "stopped workflow", f"{run.workflow} (run {run.id})")
    return run


def restart_workflow(rt: Runtime, caller: Caller, run_id: int, trigger: Trigger) -> WorkflowRunInfo:
    caller.require(OPERATOR, "restart workflows")
    with refusing():
        run = rt.workflows.restart_run(run_id, trigger)
    _audit(rt, caller, "restarted workflow", f"{run.workflow} (run {run_id}, now run {run.id})")
    return run


# -- components and agents -------------------------------------------------------------------
def check_component(rt: Runtime, caller: Caller, name: str) -> ComponentStatus:
    """Check a component now instead of at its next interval (not audited: it changes nothing)."""
    caller.require(OPERATOR, "check components now")
    status = rt.health.check_now(name)
    if status is None:
        status = rt.health.status(name)
    if status is None:
        known = ", ".join(c.name for c in rt.config.components) or "none are configured"
        raise NotFound(f"There is no component named {name!r}. Known components: {known}.")
    return status


def check_all_components(rt: Runtime, caller: Caller) -> list[ComponentStatus]:
    """Check every component now, all at once (after a deploy, say), instead of at their intervals."""
    caller.require(OPERATOR, "check components now")
    statuses = rt.health.check_all_now()
    _audit(rt, caller, "checked every component", f"({len(statuses)})")
    return statuses


def remove_agent(rt: Runtime, caller: Caller, name: str) -> AgentInfo:
    """Drop an agent from the registry and the store; it joins again with its next heartbeat."""
    caller.require(ADMIN, "remove agents")
    with refusing():
        removed = rt.agents.remove(name)
    _audit(rt, caller, REMOVED, name)
    return removed


def heartbeat(rt: Runtime, caller: Caller, name: str, beat: HeartbeatRequest) -> AgentInfo:
    """An agent says it is alive (an agent token only for its own name; else operator or above)."""
    if not caller.principal.may_beat_for(name):
        raise NotAllowed(f"{caller.principal.label} may not send heartbeats for {name!r}.")
    with refusing():
        return rt.agents.heartbeat(name, beat)
