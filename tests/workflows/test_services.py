"""Services: restart policies, exponential back-off measured by observed restarts,
giving up, the reset of the count after a stable run, stop during back-off."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from dashboard_core.config import WorkflowConfig
from dashboard_core.models import EventKind, Severity, StepStatus, Trigger, WorkflowStatus
from dashboard_core.workflows import service as service_rules
from dashboard_core.workflows.service import backoff_delay, should_restart, stable_after
from dashboard_core.workflows.supervisor import WorkflowSupervisor
from tests.polling import wait_until
from tests.workflows.conftest import PY, finished, q, steps_of

Factory = Callable[..., WorkflowSupervisor]
Script = Callable[[str, str], str]

# Appends its start time to a file, stays up until a gate appears (or for a while), exits with a code.
STARTS = """
append(sys.argv[1], repr(time.time()))
if len(sys.argv) > 3:
    wait_for(sys.argv[3], float(sys.argv[4]) if len(sys.argv) > 4 else 60)
sys.exit(int(sys.argv[2]))
"""


def service(script: Script, starts: Path, code: int, settings: str, *extra: str) -> str:
    argv = [PY, script("starts", STARTS), str(starts), str(code), *extra]
    return f"""
[[workflows]]
name = "svc"
service = true
{settings}
[[workflows.steps]]
name = "serve"
argv = {q(argv)}
"""


def start_times(path: Path) -> list[float]:
    return [float(x) for x in path.read_text().split()] if path.exists() else []


def test_restarts_back_off_exponentially_then_give_up(
    supervisor_factory: Factory, script: Script, tmp_path: Path
) -> None:
    starts = tmp_path / "starts"
    settings = "restart = 'on-failure'\nbackoff_seconds = 0.2\nbackoff_max_seconds = 1.0\nmax_restarts = 4"
    supervisor = supervisor_factory(service(script, starts, 1, settings))
    run_id = supervisor.start_run("svc", {}, Trigger.UI).id
    run = finished(supervisor, run_id, timeout=60)
    assert run.status is WorkflowStatus.FAILED
    assert run.message.startswith("gave up after 4 restarts")
    assert run.steps[0].restarts == 4 and run.steps[0].status is StepStatus.FAILED
    times = start_times(starts)
    assert len(times) == 5  # the first start and 4 restarts
    gaps = [b - a for a, b in zip(times, times[1:])]
    for gap, wait in zip(gaps, [0.2, 0.4, 0.8, 1.0]):
        assert gap >= wait - 0.02, (gaps, "a restart came before its back-off")
    assert gaps[3] > gaps[0], gaps  # the waits grew
    log = supervisor.step_log(run_id, "serve").read_text()
    assert [line for line in log.splitlines() if line.startswith("---")] == [
        f"--- restart {n} after exit 1 ---" for n in range(1, 5)
    ]
    restarts = [
        e
        for e in reversed(supervisor.events.latest(20, kinds=[EventKind.WORKFLOW]))
        if e.data.get("to") == StepStatus.BACKING_OFF.value
    ]
    assert [e.data["restarts"] for e in restarts] == [1, 2, 3, 4]
    assert all(e.severity is Severity.WARNING for e in restarts)
    assert restarts[0].message.endswith("the service ended (exit 1); restart 1 of at most 4 in 0.2 s")
    finish = supervisor.events.latest(1, kinds=[EventKind.WORKFLOW])[0]
    assert finish.severity is Severity.WARNING and "gave up after 4 restarts" in finish.message


# Crashes on its first start, serves on the next until a gate appears.
CRASH_ONCE = """
first = not pathlib.Path(sys.argv[1]).exists()
pathlib.Path(sys.argv[1]).touch()
print("first attempt: boom" if first else "serving", flush=True)
if first:
    sys.exit(1)
wait_for(sys.argv[2])
"""


def test_the_live_tail_of_a_restarted_service_starts_at_its_current_attempt(
    supervisor_factory: Factory, script: Script, tmp_path: Path
) -> None:
    argv = [PY, script("crash_once", CRASH_ONCE), str(tmp_path / "crashed"), str(tmp_path / "gate")]
    supervisor = supervisor_factory(f"""
[[workflows]]
name = "svc"
service = true
backoff_seconds = 0.05
[[workflows.steps]]
name = "serve"
argv = {q(argv)}
""")
    run_id = supervisor.start_run("svc", {}, Trigger.UI).id
    step = wait_until(
        # the whole line: the driver may copy "serving" and its newline in two pieces
        lambda: next((s for s in supervisor.detail(run_id).steps if "serving\n" in (s.log_tail or "")), None),
        30,
        "the second attempt's output in the tail",
    )
    assert step.log_tail == "--- restart 1 after exit 1 ---\nserving\n"  # not the first attempt's "boom"
    assert step.log_tail_cut is True  # the first attempt is in the whole log
    assert "first attempt: boom" in supervisor.step_log(run_id, "serve").read_text()
    (tmp_path / "gate").touch()
    assert finished(supervisor, run_id).status is WorkflowStatus.SUCCEEDED
    stored = supervisor.detail(run_id).steps[0]  # from the file now
    assert (stored.log_tail, stored.log_tail_cut) == ("--- restart 1 after exit 1 ---\nserving\n", True)


def test_restart_never_ends_the_run_with_the_step(supervisor_factory: Factory, script: Script, tmp_path: Path) -> None:
    starts = tmp_path / "starts"
    supervisor = supervisor_factory(service(script, starts, 1, "restart = 'never'\nbackoff_seconds = 0.05"))
    run = finished(supervisor, supervisor.start_run("svc", {}, Trigger.UI).id)
    assert run.status is WorkflowStatus.FAILED and run.message == "the service ended: exit 1"
    assert len(start_times(starts)) == 1 and run.steps[0].restarts == 0


def test_on_failure_does_not_restart_after_exit_0(supervisor_factory: Factory, script: Script, tmp_path: Path) -> None:
    starts = tmp_path / "starts"
    supervisor = supervisor_factory(service(script, starts, 0, "restart = 'on-failure'\nbackoff_seconds = 0.05"))
    run = finished(supervisor, supervisor.start_run("svc", {}, Trigger.UI).id)
    assert run.status is WorkflowStatus.SUCCEEDED and run.message == "the service ended: exit 0"
    assert len(start_times(starts)) == 1


def test_always_restarts_after_exit_0(supervisor_factory: Factory, script: Script, tmp_path: Path) -> None:
    starts = tmp_path / "starts"
    settings = "restart = 'always'\nbackoff_seconds = 0.05\nmax_restarts = 2"
    supervisor = supervisor_factory(service(script, starts, 0, settings))
    run = finished(supervisor, supervisor.start_run("svc", {}, Trigger.UI).id)
    assert run.status is WorkflowStatus.FAILED and run.message.startswith("gave up after 2 restarts")
    assert len(start_times(starts)) == 3


def test_a_service_that_cannot_start_is_retried_then_given_up(supervisor_factory: Factory) -> None:
    supervisor = supervisor_factory(
        """
[[workflows]]
name = "svc"
service = true
backoff_seconds = 0.05
max_restarts = 2
[[workflows.steps]]
name = "serve"
argv = ["no-such-program-here"]
"""
    )
    run_id = supervisor.start_run("svc", {}, Trigger.UI).id
    run = finished(supervisor, run_id)
    assert run.status is WorkflowStatus.FAILED and run.message.startswith(
        "gave up after 2 restarts (last: cannot start"
    )
    log = supervisor.step_log(run_id, "serve").read_text()
    assert log.count("cannot start: the program 'no-such-program-here' was not found") == 3
    assert "--- restart 2 after a failed start ---" in log


def test_a_stop_during_back_off_ends_the_run_at_once(
    supervisor_factory: Factory, script: Script, tmp_path: Path
) -> None:
    starts = tmp_path / "starts"
    settings = "backoff_seconds = 60\nbackoff_max_seconds = 60"
    supervisor = supervisor_factory(service(script, starts, 1, settings))
    run_id = supervisor.start_run("svc", {}, Trigger.UI).id

    def backing_off() -> bool:
        step = supervisor.run(run_id).steps[0]
        return step.status is StepStatus.BACKING_OFF and step.next_restart_at is not None

    wait_until(backing_off, 30, "the service to back off")
    step = supervisor.run(run_id).steps[0]
    assert step.restarts == 1 and step.message == "exit 1; restart 1 of at most 10 in 60 s"
    began = time.monotonic()
    run = supervisor.stop_run(run_id)
    assert time.monotonic() - began < 2
    assert run.status is WorkflowStatus.STOPPED
    assert steps_of(run) == {"serve": ("stopped", "exit 1; stopped while waiting to restart")}
    assert len(start_times(starts)) == 1


def test_a_running_service_is_stopped_with_its_process(
    supervisor_factory: Factory, script: Script, tmp_path: Path
) -> None:
    starts = tmp_path / "starts"
    supervisor = supervisor_factory(service(script, starts, 0, "", str(tmp_path / "gate")))
    run_id = supervisor.start_run("svc", {}, Trigger.UI).id
    wait_until(lambda: start_times(starts), 30, "the service to start")
    run = supervisor.stop_run(run_id)
    assert run.status is WorkflowStatus.STOPPED
    assert steps_of(run) == {"serve": ("stopped", "killed by SIGTERM (stopped)")}


def test_a_service_that_stayed_up_starts_counting_restarts_again(
    supervisor_factory: Factory, script: Script, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each attempt stays up 0.4 s, longer than 2 × backoff_max: never a crash loop."""
    monkeypatch.setattr(service_rules, "STABLE_MIN_SECONDS", 0.0)
    starts = tmp_path / "starts"
    settings = "backoff_seconds = 0.05\nbackoff_max_seconds = 0.1\nmax_restarts = 1"
    supervisor = supervisor_factory(service(script, starts, 1, settings, str(tmp_path / "never"), "0.4"))
    run_id = supervisor.start_run("svc", {}, Trigger.UI).id
    wait_until(lambda: len(start_times(starts)) >= 4, 30, "a fourth start (max_restarts is 1)")
    run = supervisor.run(run_id)
    assert run.status is WorkflowStatus.RUNNING and run.steps[0].restarts == 1
    assert supervisor.stop_run(run_id).status is WorkflowStatus.STOPPED


def rules(**settings: object) -> WorkflowConfig:
    return WorkflowConfig.model_validate(
        {"name": "svc", "service": True, "steps": [{"name": "s", "argv": ["x"]}], **settings}
    )


def test_the_back_off_doubles_up_to_its_maximum() -> None:
    wf = rules(backoff_seconds=0.5, backoff_max_seconds=3)
    assert [backoff_delay(wf, n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert backoff_delay(wf, 100_000) == 3.0
    assert stable_after(wf) == service_rules.STABLE_MIN_SECONDS
    assert stable_after(rules(backoff_max_seconds=60)) == 120


def test_which_policy_restarts_what() -> None:
    assert [
        should_restart(rules(restart=p), ok) for p in ("never", "on-failure", "always") for ok in (True, False)
    ] == [
        False,
        False,
        False,
        True,
        True,
        True,
    ]
