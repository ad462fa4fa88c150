"""The workflow supervisor holds its guard only to read or change memory: no
store write (a step's or a run's state, an event) and no process start happens
under it. Checked by instruments on a real store and a real executor; a whole
life of runs goes through them: an autostart service that backs off and gives
up, a job whose failed step skips what needs it, a stop, and the dashboard's stop."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dashboard_core.config import Config
from dashboard_core.events import EventLog
from dashboard_core.models import StepStatus, Trigger, WorkflowStatus
from dashboard_core.workflows.supervisor import WorkflowSupervisor
from tests.processes.watched import Watch, WatchedExecutor, WatchedStore
from tests.workflows.conftest import PY, finished, q, wait_step


def test_no_store_write_or_start_under_the_supervisors_guard(
    workflows_config: Callable[..., Config], script: Callable[[str, str], str], tmp_path: Path
) -> None:
    gated = script("gated", "sys.exit(0 if wait_for(sys.argv[1]) else 1)")
    config = workflows_config(
        f"""
[[workflows]]
name = "svc"
service = true
autostart = true
restart = "on-failure"
backoff_seconds = 0.05
max_restarts = 2
[[workflows.steps]]
name = "serve"
argv = {q([PY, "-c", "raise SystemExit(1)"])}

[[workflows]]
name = "job"
[[workflows.steps]]
name = "a"
argv = {q([PY, "-c", "print('a')"])}
[[workflows.steps]]
name = "b"
argv = {q([PY, "-c", "raise SystemExit(2)"])}
depends_on = ["a"]
[[workflows.steps]]
name = "c"
argv = {q([PY, "-c", "pass"])}
depends_on = ["b"]

[[workflows]]
name = "long"
concurrent = true
grace_seconds = 1
[[workflows.steps]]
name = "wait"
argv = {q([PY, gated, str(tmp_path / "never")])}
[[workflows.steps]]
name = "after"
argv = {q([PY, "-c", "pass"])}
depends_on = ["wait"]
"""
    )
    watch = Watch()
    store = WatchedStore(config.data_dir, watch)
    supervisor = WorkflowSupervisor(config, store, EventLog(store), poll=0.05, executor=WatchedExecutor(watch))
    watch.guards.append(supervisor.guard)
    try:
        supervisor.start()
        (service,) = supervisor.active()
        assert finished(supervisor, service.id).message.startswith("gave up after 2 restarts")
        job = finished(supervisor, supervisor.start_run("job", {}, Trigger.UI).id)
        assert [s.status for s in job.steps] == [StepStatus.SUCCEEDED, StepStatus.FAILED, StepStatus.SKIPPED]
        stopped = supervisor.start_run("long", {}, Trigger.UI).id
        wait_step(supervisor, stopped, "wait", "running")
        assert supervisor.stop_run(stopped).status is WorkflowStatus.STOPPED
        interrupted = supervisor.start_run("long", {}, Trigger.UI).id
        wait_step(supervisor, interrupted, "wait", "running")
    finally:
        supervisor.stop()
        store.close()
    assert watch.violations == []
    assert watch.counts["starts"] == 3 + 2 + 2 and watch.counts["writes"] >= 25
