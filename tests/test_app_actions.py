"""The application layer's actions over a real Runtime: each checks the role in one wording,
acts, writes one audit line with who and from where, and turns the domain's refusals into
one typed Refusal; and no front end checks a role or writes an audit line of its own."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dashboard_core.app import actions
from dashboard_core.app.caller import Caller, Conflict, NotAllowed, NotFound, Refusal
from dashboard_core.auth.principals import Principal
from dashboard_core.models import HeartbeatRequest, Trigger
from dashboard_core.runtime import Runtime
from tests.polling import wait_until
from tests.security import security_config

ROOT = Path(__file__).parents[1]
VIEWER = Caller(Principal("vera", "viewer", "user"), "10.0.0.4")
OPERATOR = Caller(Principal("otto", "operator", "user"), "10.0.0.5")
ADMIN = Caller(Principal("ada", "admin", "user"), "10.0.0.6")
AGENT = Caller(Principal("researcher-1", "agent", "token", agent="researcher-1"), "10.0.0.7")


@pytest.fixture(scope="module")
def rt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    runtime = Runtime(security_config(tmp_path_factory.mktemp("app")))
    runtime.start()
    try:
        yield runtime
    finally:
        runtime.stop()


def audit_after(rt: Runtime, after: int) -> list[dict[str, Any]]:
    return [e.data for e in rt.events.since(after, 1000) if e.kind.value == "audit"]


ACTS: dict[str, tuple[Callable[[Runtime, Caller], Any], str, str]] = {
    "run suites": (lambda rt, c: actions.run_suite(rt, c, "tiny", Trigger.UI), "operator", "run suites"),
    "cancel runs": (lambda rt, c: actions.cancel_run(rt, c, 1), "operator", "cancel test runs"),
    "start": (lambda rt, c: actions.start_workflow(rt, c, "hello", {}, Trigger.UI), "operator", "start workflows"),
    "stop": (lambda rt, c: actions.stop_workflow(rt, c, 1), "operator", "stop workflows"),
    "restart": (lambda rt, c: actions.restart_workflow(rt, c, 1, Trigger.UI), "operator", "restart workflows"),
    "check": (lambda rt, c: actions.check_component(rt, c, "this-process"), "operator", "check components now"),
    "remove": (lambda rt, c: actions.remove_agent(rt, c, "nobody"), "admin", "remove agents"),
}


@pytest.mark.parametrize("name", ACTS)
def test_a_role_below_the_one_needed_is_refused_in_one_wording_and_nothing_happens(rt: Runtime, name: str) -> None:
    act, role, doing = ACTS[name]
    before, runs = rt.events.last_id, rt.tests.runs(limit=500).total
    for caller in (VIEWER, AGENT) if role == "operator" else (VIEWER, OPERATOR):
        with pytest.raises(NotAllowed) as refused:
            act(rt, caller)
        label = caller.principal.label
        assert str(refused.value) == f"{label} may not {doing}: it needs the {role} role or above."
        assert refused.value.status == 403
    assert audit_after(rt, before) == [] and rt.tests.runs(limit=500).total == runs


def test_an_operator_runs_a_suite_and_the_audit_says_who_and_from_where(rt: Runtime) -> None:
    before = rt.events.last_id
    started = actions.run_suite(rt, OPERATOR, "tiny", Trigger.UI)
    assert started.created and started.message == f"Run {started.run.id} of 'tiny' is {started.run.status}."
    again = actions.run_suite(rt, OPERATOR, "tiny", Trigger.UI)
    if not again.created:  # still queued or running: that run, no second one, no second audit line
        assert again.run.id == started.run.id and "no second run was started" in again.message
    rt.tests.wait(started.run.id, 120)
    lines = audit_after(rt, before)
    assert {"who": "otto", "role": "operator", "action": "ran suite", "target": f"tiny (run {started.run.id})",
            "from": "10.0.0.5"} in lines  # fmt: skip


def test_the_domains_refusals_come_out_as_one_typed_refusal(rt: Runtime) -> None:
    with pytest.raises(Refusal) as unknown_suite:
        actions.run_suite(rt, OPERATOR, "nope", Trigger.UI)
    assert unknown_suite.value.status == 404 and "nope" in str(unknown_suite.value)
    with pytest.raises(Refusal) as unknown_run:
        actions.cancel_run(rt, OPERATOR, 10**9)
    assert unknown_run.value.status == 404
    with pytest.raises(Refusal) as bad_params:
        actions.start_workflow(rt, OPERATOR, "hello", {"times": "many"}, Trigger.UI)
    assert bad_params.value.status == 422 and any(line.startswith("params.times") for line in bad_params.value.errors)
    with pytest.raises(NotFound, match="no component named 'nope'"):
        actions.check_component(rt, OPERATOR, "nope")
    with pytest.raises(NotFound):
        actions.remove_agent(rt, ADMIN, "nobody-here")
    with pytest.raises(Conflict, match="agents.expected"):
        actions.remove_agent(rt, ADMIN, "researcher-1")


def test_workflow_and_agent_actions_are_audited(rt: Runtime) -> None:
    before = rt.events.last_id
    run = actions.start_workflow(rt, OPERATOR, "hello", {"greeting": "hey"}, Trigger.UI)
    wait_until(lambda: rt.workflows.run(run.id).status.finished, 60, "the workflow run to finish")
    again = actions.restart_workflow(rt, OPERATOR, run.id, Trigger.UI)
    actions.heartbeat(rt, AGENT, "researcher-1", HeartbeatRequest(status="ok"))
    with pytest.raises(NotAllowed, match="may not send heartbeats for 'someone-else'"):
        actions.heartbeat(rt, AGENT, "someone-else", HeartbeatRequest(status="ok"))
    actions.heartbeat(rt, OPERATOR, "helper-9", HeartbeatRequest(status="ok"))
    removed = actions.remove_agent(rt, ADMIN, "helper-9")
    assert removed.name == "helper-9" and all(a.name != "helper-9" for a in rt.agents.agents())
    done = {(d["who"], d["action"], d["target"]) for d in audit_after(rt, before)}
    assert ("otto", "started workflow", f"hello (run {run.id})") in done
    assert ("otto", "restarted workflow", f"hello (run {run.id}, now run {again.id})") in done
    assert ("ada", "removed agent", "helper-9") in done
    wait_until(lambda: rt.workflows.run(again.id).status.finished, 60, "the restarted run to finish")


def test_no_front_end_checks_a_role_or_writes_an_audit_line_itself() -> None:
    """The role check and the audit live in the application layer: routes and pages call it."""
    front_ends = [*(ROOT / "dashboard_core" / "routes").glob("*.py"), *(ROOT / "pages").glob("*.py")]
    front_ends += [ROOT / "ui" / "widgets.py", ROOT / "dashboard_core" / "api.py"]
    found = []
    for path in front_ends:
        text = path.read_text(encoding="utf-8")
        for pattern in (r"\baudit\(", r"\.can\(", r"\.require\(", r"may_beat_for"):
            if re.search(pattern, text):
                found.append(f"{path.relative_to(ROOT)}: {pattern}")
    assert found == []


def test_check_all_components_checks_every_one_at_once_and_is_audited(rt: Runtime) -> None:
    """The worked example of CONTRIBUTING.md, its action."""
    with pytest.raises(NotAllowed, match="vera \\(viewer\\) may not check components now"):
        actions.check_all_components(rt, VIEWER)
    before = rt.events.last_id
    statuses = actions.check_all_components(rt, OPERATOR)
    assert [s.name for s in statuses] == ["this-process"] and statuses[0].last_checked is not None
    assert [(d["who"], d["action"]) for d in audit_after(rt, before)] == [("otto", "checked every component")]
