"""The supervisor with real subprocesses: DAG order and parallelism, failures that
skip dependents, stop and timeout killing whole trees, start failures, 409s,
live CPU/RSS, capped logs, events, and recovery after a crash of the dashboard."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from dashboard_core.models import EventKind, Severity, StepStatus, Trigger, WorkflowStatus
from dashboard_core.store import open_store
from dashboard_core.workflows.supervisor import (
    AlreadyRunning,
    NoStepLog,
    NotRunning,
    UnknownStep,
    UnknownWorkflow,
    UnknownWorkflowRun,
    WorkflowError,
    WorkflowSupervisor,
)
from tests.polling import wait_until
from tests.workflows.conftest import PY, finished, gone, q, steps_of, wait_step

Factory = Callable[..., WorkflowSupervisor]
Script = Callable[[str, str], str]

# Records its start and end; with a wait, first waits for the other branch's marker.
BRANCH = """
folder, name, other, wait = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
start = time.time()
pathlib.Path(folder, name + ".started").touch()
saw = wait_for(os.path.join(folder, other + ".started"), wait) if wait else None
append(os.path.join(folder, "times"), json.dumps({"step": name, "start": start, "end": time.time(), "saw": saw}))
sys.exit(1 if saw is False else 0)
"""

# A child in its group and a grandchild that escaped it (setsid); all pids to a file, then waits.
FAMILY = """
import subprocess
out = sys.argv[1]
kids = [subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"]),
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True)]
with open(out + ".tmp", "w") as f:
    f.write(" ".join(str(k.pid) for k in kids) + f" {os.getpid()}")
os.replace(out + ".tmp", out)
time.sleep(120)
"""

GATED = """
append(sys.argv[1], str(os.getpid()))
sys.exit(0 if wait_for(sys.argv[2]) else 1)
"""


def diamond(script: Script, folder: Path, max_parallel: int, wait: float) -> str:
    branch = script("branch", BRANCH)

    def step(name: str, other: str, needs: list[str], w: float = 0) -> str:
        argv = [PY, branch, str(folder), name, other, str(w)]
        return f"[[workflows.steps]]\nname = {q(name)}\nargv = {q(argv)}\ndepends_on = {q(needs)}\n"

    return (
        f'[[workflows]]\nname = "diamond"\nmax_parallel = {max_parallel}\n'
        + step("a", "-", [])
        + step("b", "c", ["a"], wait)
        + step("c", "b", ["a"], wait)
        + step("d", "-", ["b", "c"])
    )


def times(folder: Path) -> dict[str, dict[str, float]]:
    lines = (folder / "times").read_text().splitlines()
    return {r["step"]: r for r in map(json.loads, lines)}


def test_a_diamond_runs_its_branches_side_by_side_and_joins_after_both(
    supervisor_factory: Factory, script: Script, tmp_path: Path
) -> None:
    folder = tmp_path / "marks"
    folder.mkdir()
    supervisor = supervisor_factory(diamond(script, folder, max_parallel=2, wait=30))
    run = finished(supervisor, supervisor.start_run("diamond", {}, Trigger.UI).id)
    assert run.status is WorkflowStatus.SUCCEEDED, run
    assert run.message == "all 4 steps succeeded"
    t = times(folder)
    assert t["b"]["saw"] and t["c"]["saw"]  # each saw the other start before it ended: they overlapped
    assert t["a"]["end"] <= min(t["b"]["start"], t["c"]["start"])
    assert t["d"]["start"] >= max(t["b"]["end"], t["c"]["end"])
    assert [s.depends_on for s in run.steps] == [[], ["a"], ["a"], ["b", "c"]]
    assert all(s.exit_code == 0 and s.message == "exit 0" and s.duration_seconds is not None for s in run.steps)


def test_max_parallel_1_runs_one_step_at_a_time_in_config_order(
    supervisor_factory: Factory, script: Script, tmp_path: Path
) -> None:
    folder = tmp_path / "marks"
    folder.mkdir()
    supervisor = supervisor_factory(diamond(script, folder, max_parallel=1, wait=0))
    run = finished(supervisor, supervisor.start_run("diamond", {}, Trigger.UI).id)
    assert run.status is WorkflowStatus.SUCCEEDED, run
    t = times(folder)
    assert t["b"]["end"] <= t["c"]["start"]  # b first (config order), c only after it
    assert t["c"]["end"] <= t["d"]["start"]


def test_a_failing_step_skips_what_needs_it_and_the_run_fails(
    supervisor_factory: Factory, script: Script, tmp_path: Path
) -> None:
    fails = script("fails", "print('about to fail'); sys.exit(3)")
    ok = script("ok", "print('fine')")
    supervisor = supervisor_factory(
        f"""
[[workflows]]
name = "job"
[[workflows.steps]]
name = "fetch"
argv = {q([PY, fails])}
[[workflows.steps]]
name = "build"
argv = {q([PY, ok])}
depends_on = ["fetch"]
[[workflows.steps]]
name = "deploy"
argv = {q([PY, ok])}
depends_on = ["build"]
[[workflows.steps]]
name = "lint"
argv = {q([PY, ok])}
"""
    )
    run = finished(supervisor, supervisor.start_run("job", {}, Trigger.API).id)
    assert run.status is WorkflowStatus.FAILED
    assert run.message == "step 'fetch' failed: exit 3"
    assert steps_of(run) == {
        "fetch": ("failed", "exit 3"),
        "build": ("skipped", "skipped: 'fetch' failed"),
        "deploy": ("skipped", "skipped: 'fetch' failed"),
        "lint": ("succeeded", "exit 0"),
    }
    assert run.steps[0].exit_code == 3
    assert supervisor.run(run.id) == run  # the store says the same as memory did


def test_stop_kills_every_process_of_the_step_and_skips_the_pending_ones(
    supervisor_factory: Factory, script: Script, tmp_path: Path
) -> None:
    pids_file = tmp_path / "pids"
    family = script("family", FAMILY)
    supervisor = supervisor_factory(
        f"""
[[workflows]]
name = "job"
grace_seconds = 2
[[workflows.steps]]
name = "tree"
argv = {q([PY, family, str(pids_file)])}
[[workflows.steps]]
name = "after"
argv = {q([PY, "-c", "pass"])}
depends_on = ["tree"]
"""
    )
    run_id = supervisor.start_run("job", {}, Trigger.UI).id
    wait_until(pids_file.exists, 30, "the step to start its children")
    pids = [int(p) for p in pids_file.read_text().split()]
    assert all(psutil.pid_exists(p) for p in pids)
    stopped = supervisor.stop_run(run_id)
    assert stopped.status is WorkflowStatus.STOPPED and stopped.message == "stopped"
    assert steps_of(stopped) == {
        "tree": ("stopped", "killed by SIGTERM (stopped)"),
        "after": ("skipped", "skipped: the run was stopped"),
    }
    wait_until(lambda: all(gone(p) for p in pids), 15, f"every process of the step ({pids}) to be gone")
    with pytest.raises(NotRunning) as refused:
        supervisor.stop_run(run_id)
    assert refused.value.http_status == 409 and "has already finished (stopped)" in str(refused.value)
    with pytest.raises(UnknownWorkflowRun) as unknown:
        supervisor.stop_run(9999)
    assert unknown.value.http_status == 404


def test_a_step_past_its_timeout_fails_and_its_tree_is_killed(
    supervisor_factory: Factory, script: Script, tmp_path: Path
) -> None:
    pids_file = tmp_path / "pids"
    family = script("family", FAMILY)
    supervisor = supervisor_factory(
        f"""
[[workflows]]
name = "slow"
grace_seconds = 2
[[workflows.steps]]
name = "tree"
argv = {q([PY, family, str(pids_file)])}
timeout_seconds = 2
"""
    )
    run = finished(supervisor, supervisor.start_run("slow", {}, Trigger.UI).id)
    assert run.status is WorkflowStatus.FAILED
    assert steps_of(run) == {"tree": ("failed", "timed out after 2 s")}
    assert run.message == "step 'tree' failed: timed out after 2 s"
    pids = [int(p) for p in pids_file.read_text().split()]  # written well within the 2 s
    wait_until(lambda: all(gone(p) for p in pids), 15, f"every process of the step ({pids}) to be gone")


def test_a_program_that_cannot_start_fails_its_step_with_the_reason(
    supervisor_factory: Factory, tmp_path: Path
) -> None:
    supervisor = supervisor_factory(
        f"""
[[workflows]]
name = "missing"
[[workflows.steps]]
name = "run"
argv = ["no-such-program-here", "--version"]

[[workflows]]
name = "nowhere"
[[workflows.steps]]
name = "run"
argv = {q([PY, "-c", "pass"])}
cwd = {q(str(tmp_path / "nowhere"))}

[[workflows]]
name = "fine"
[[workflows.steps]]
name = "run"
argv = {q([PY, "-c", "pass"])}
"""
    )
    missing = finished(supervisor, supervisor.start_run("missing", {}, Trigger.UI).id)
    assert missing.status is WorkflowStatus.FAILED
    status, message = steps_of(missing)["run"]
    assert status == "failed" and message.startswith("cannot start: the program 'no-such-program-here' was not found")
    assert missing.message == f"step 'run' failed: {message}"
    assert message in Path(supervisor.step_log(missing.id, "run")).read_text()
    nowhere = finished(supervisor, supervisor.start_run("nowhere", {}, Trigger.UI).id)
    assert f"the working directory {tmp_path / 'nowhere'} does not exist" in nowhere.steps[0].message
    assert finished(supervisor, supervisor.start_run("fine", {}, Trigger.UI).id).status is WorkflowStatus.SUCCEEDED


def gated_workflows(script: Script, tmp_path: Path) -> str:
    gated = script("gated", GATED)
    argv = q([PY, gated, str(tmp_path / "started"), str(tmp_path / "gate")])
    return f"""
[[workflows]]
name = "single"
[[workflows.steps]]
name = "wait"
argv = {argv}

[[workflows]]
name = "many"
concurrent = true
[[workflows.steps]]
name = "wait"
argv = {argv}
"""


def test_a_second_start_is_refused_unless_the_workflow_is_concurrent(
    supervisor_factory: Factory, script: Script, tmp_path: Path
) -> None:
    supervisor = supervisor_factory(gated_workflows(script, tmp_path))
    first = supervisor.start_run("single", {}, Trigger.UI)
    with pytest.raises(AlreadyRunning) as refused:
        supervisor.start_run("single", {}, Trigger.API)
    assert refused.value.http_status == 409 and refused.value.run_id == first.id
    assert f"already running (run {first.id})" in str(refused.value)
    a = supervisor.start_run("many", {}, Trigger.UI)
    b = supervisor.start_run("many", {}, Trigger.UI)
    assert {r.id for r in supervisor.active()} == {first.id, a.id, b.id}
    (tmp_path / "gate").touch()
    for run_id in (first.id, a.id, b.id):
        assert finished(supervisor, run_id).status is WorkflowStatus.SUCCEEDED


def test_two_starts_at_once_start_exactly_one_run(supervisor_factory: Factory, script: Script, tmp_path: Path) -> None:
    supervisor = supervisor_factory(gated_workflows(script, tmp_path))
    barrier = threading.Barrier(2)
    results: list[object] = []

    def start() -> None:
        barrier.wait(10)
        try:
            results.append(supervisor.start_run("single", {}, Trigger.API))
        except WorkflowError as exc:
            results.append(exc)

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(type(r).__name__ for r in results) == ["AlreadyRunning", "WorkflowRunInfo"]
    (tmp_path / "gate").touch()


def test_unknown_names_are_404s_naming_what_exists(supervisor_factory: Factory, script: Script, tmp_path: Path) -> None:
    supervisor = supervisor_factory(gated_workflows(script, tmp_path))
    with pytest.raises(UnknownWorkflow) as unknown:
        supervisor.start_run("nope", {}, Trigger.API)
    assert unknown.value.http_status == 404
    assert str(unknown.value) == "There is no workflow named 'nope'. Known workflows: single, many."
    with pytest.raises(UnknownWorkflow):
        supervisor.runs("nope")
    with pytest.raises(UnknownWorkflowRun):
        supervisor.run(12345)
    with pytest.raises(UnknownWorkflowRun):
        supervisor.detail(12345)


def test_a_running_step_reports_cpu_and_memory_of_its_tree(
    supervisor_factory: Factory, script: Script, tmp_path: Path
) -> None:
    burn = script("burn", "while not os.path.exists(sys.argv[1]):\n    sum(range(20000))\n")
    supervisor = supervisor_factory(
        f"""
[[workflows]]
name = "burn"
[[workflows.steps]]
name = "spin"
argv = {q([PY, burn, str(tmp_path / "gate")])}
"""
    )
    run_id = supervisor.start_run("burn", {}, Trigger.UI).id
    wait_step(supervisor, run_id, "spin", "running")

    def figures() -> tuple[float, int] | None:
        step = supervisor.run(run_id).steps[0]
        return (step.cpu_percent, step.rss) if step.cpu_percent is not None and step.rss else None

    cpu, rss = wait_until(figures, 30, "a second reading of the step's CPU")
    assert isinstance(cpu, float) and cpu >= 0 and rss > 1_000_000
    (tmp_path / "gate").touch()
    run = finished(supervisor, run_id)
    assert run.steps[0].cpu_percent is None and run.steps[0].rss is None  # figures are for running steps


def test_logs_keep_the_output_and_huge_output_keeps_head_and_tail(supervisor_factory: Factory, script: Script) -> None:
    talk = script("talk", "print('hello from the step'); print('to stderr', file=sys.stderr)")
    flood = script("flood", "sys.stdout.write('HEAD\\n' + 'x' * 5_000_000 + '\\nTAIL\\n')")
    supervisor = supervisor_factory(
        f"""
[[workflows]]
name = "logs"
[[workflows.steps]]
name = "talk"
argv = {q([PY, talk])}
[[workflows.steps]]
name = "flood"
argv = {q([PY, flood])}
[[workflows.steps]]
name = "never"
argv = {q([PY, "-c", "import sys; sys.exit(1)"])}
depends_on = ["talk"]
[[workflows.steps]]
name = "skipped"
argv = {q([PY, "-c", "pass"])}
depends_on = ["never"]
""",
        settings="log_max_bytes = 100000",
    )
    run = finished(supervisor, supervisor.start_run("logs", {}, Trigger.UI).id)
    talk_log = supervisor.step_log(run.id, "talk")
    assert talk_log == Path(run.steps[0].log_path or "") and talk_log.name == "talk.log"
    assert talk_log.read_text() == "hello from the step\nto stderr\n"
    text = supervisor.step_log(run.id, "flood").read_text()
    assert text.startswith("HEAD\n") and text.endswith("TAIL\n")
    assert "bytes of output cut here" in text and len(text) < 100_000 + 200
    detail = supervisor.detail(run.id)
    tails = {s.name: s.log_tail for s in detail.steps}
    assert tails["talk"] == "hello from the step\nto stderr\n"
    assert tails["flood"] == "TAIL\n"  # the newest whole line: the 5 MB line before it is cut, so left out
    cut = {s.name: s.log_tail_cut for s in detail.steps}
    assert cut == {"talk": False, "flood": True, "never": False, "skipped": False}
    assert tails["skipped"] == ""
    assert supervisor.run(run.id).steps[0].log_tail is None  # tails are in the detail only
    with pytest.raises(NoStepLog):
        supervisor.step_log(run.id, "skipped")
    with pytest.raises(UnknownStep) as unknown:
        supervisor.step_log(run.id, "nope")
    assert unknown.value.http_status == 404 and "Its steps: talk, flood, never, skipped." in str(unknown.value)


def test_the_live_tail_shows_output_while_the_step_runs(
    supervisor_factory: Factory, script: Script, tmp_path: Path
) -> None:
    speak = script("speak", "print('working on it', flush=True)\nwait_for(sys.argv[1])\nprint('done')")
    supervisor = supervisor_factory(
        f"""
[[workflows]]
name = "speak"
[[workflows.steps]]
name = "speak"
argv = {q([PY, speak, str(tmp_path / "gate")])}
"""
    )
    run_id = supervisor.start_run("speak", {}, Trigger.UI).id
    wait_until(lambda: supervisor.detail(run_id).steps[0].log_tail == "working on it\n", 30, "the first line")
    (tmp_path / "gate").touch()
    assert finished(supervisor, run_id).status is WorkflowStatus.SUCCEEDED
    assert supervisor.detail(run_id).steps[0].log_tail == "working on it\ndone\n"


def test_events_tell_when_runs_start_and_how_they_end(supervisor_factory: Factory) -> None:
    supervisor = supervisor_factory(
        f"""
[[workflows]]
name = "ok"
[[workflows.steps]]
name = "run"
argv = {q([PY, "-c", "pass"])}

[[workflows]]
name = "bad"
[[workflows.steps]]
name = "run"
argv = {q([PY, "-c", "raise SystemExit(2)"])}
"""
    )
    ok = finished(supervisor, supervisor.start_run("ok", {}, Trigger.UI).id)
    bad = finished(supervisor, supervisor.start_run("bad", {}, Trigger.API).id)
    events = list(reversed(supervisor.events.latest(10, kinds=[EventKind.WORKFLOW])))
    assert [(e.source, e.severity, e.message) for e in events] == [
        ("ok", Severity.INFO, f"Run {ok.id} of ok started (ui)"),
        ("ok", Severity.INFO, f"Run {ok.id} of ok succeeded: the step succeeded"),
        ("bad", Severity.INFO, f"Run {bad.id} of bad started (api)"),
        ("bad", Severity.WARNING, f"Run {bad.id} of bad failed: step 'run' failed: exit 2"),
    ]
    assert events[1].data == {"run_id": ok.id, "from": "running", "to": "succeeded", "trigger": "ui"}
    assert events[0].data["from"] is None and events[0].data["to"] == "running"


def test_restart_stops_the_run_and_starts_it_again_with_the_same_params(
    supervisor_factory: Factory, script: Script, tmp_path: Path
) -> None:
    gated = script("gated", GATED)
    supervisor = supervisor_factory(
        f"""
[[workflows]]
name = "job"
[[workflows.params]]
name = "who"
[[workflows.steps]]
name = "wait"
argv = {q([PY, gated, str(tmp_path / "started"), str(tmp_path / "gate"), "{who}"])}
"""
    )
    first = supervisor.start_run("job", {"who": "me"}, Trigger.UI)
    wait_step(supervisor, first.id, "wait", "running")
    second = supervisor.restart_run(first.id, Trigger.API)
    assert second.id != first.id and second.params == {"who": "me"} and second.trigger is Trigger.API
    assert supervisor.run(first.id).status is WorkflowStatus.STOPPED
    (tmp_path / "gate").touch()
    assert finished(supervisor, second.id).status is WorkflowStatus.SUCCEEDED
    third = supervisor.restart_run(second.id, Trigger.UI)  # a finished run: just started again
    assert finished(supervisor, third.id).status is WorkflowStatus.SUCCEEDED


def test_the_listing_shows_params_steps_active_and_last_runs(
    supervisor_factory: Factory, script: Script, tmp_path: Path
) -> None:
    supervisor = supervisor_factory(
        gated_workflows(script, tmp_path)
        + """
[[workflows.params]]
name = "count"
type = "int"
default = 3
description = "how many"
"""
    )
    (tmp_path / "gate").touch()
    first = finished(supervisor, supervisor.start_run("single", {}, Trigger.UI).id)
    (tmp_path / "gate").unlink()
    active = supervisor.start_run("single", {}, Trigger.UI)
    listing = supervisor.workflows()
    single, many = listing.workflows
    assert single.name == "single" and not single.concurrent and not single.service and single.restart is None
    assert [s.status for s in single.steps] == [StepStatus.PENDING]
    assert [r.id for r in single.active_runs] == [active.id] and [r.id for r in listing.active] == [active.id]
    assert single.last_run is not None and single.last_run.id == first.id
    assert many.concurrent and many.last_run is None and many.active_runs == []
    assert [(p.name, p.type, p.default, p.description) for p in many.params] == [("count", "int", 3, "how many")]
    total, runs = supervisor.runs()
    assert total == 2 and [r.id for r in runs] == [active.id, first.id]
    assert runs[0].status is WorkflowStatus.RUNNING and runs[1].status is WorkflowStatus.SUCCEEDED
    assert supervisor.runs("many") == (0, [])
    assert [r.id for r in supervisor.runs(limit=1, offset=1)[1]] == [first.id]
    (tmp_path / "gate").touch()
    finished(supervisor, active.id)


def test_stopping_the_dashboard_interrupts_runs_killing_stubborn_steps(
    supervisor_factory: Factory, script: Script, tmp_path: Path
) -> None:
    stubborn = script(
        "stubborn",
        "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "append(sys.argv[1], str(os.getpid()))\nwait_for(sys.argv[2])\n",
    )
    supervisor = supervisor_factory(
        f"""
[[workflows]]
name = "job"
grace_seconds = 0.5
[[workflows.steps]]
name = "stubborn"
argv = {q([PY, stubborn, str(tmp_path / "pid"), str(tmp_path / "gate")])}
[[workflows.steps]]
name = "later"
argv = {q([PY, "-c", "pass"])}
depends_on = ["stubborn"]
"""
    )
    run_id = supervisor.start_run("job", {}, Trigger.UI).id
    wait_until((tmp_path / "pid").exists, 30, "the stubborn step to start")
    pid = int((tmp_path / "pid").read_text())
    began = time.monotonic()
    supervisor.stop()
    assert time.monotonic() - began < 0.5 + 4  # the grace, then SIGKILL, then a little
    run = supervisor.run(run_id)
    assert run.status is WorkflowStatus.INTERRUPTED and run.message == "interrupted: the dashboard stopped"
    assert steps_of(run) == {
        "stubborn": ("interrupted", "interrupted: the dashboard stopped (killed by SIGKILL)"),
        "later": ("skipped", "skipped: the dashboard stopped"),
    }
    wait_until(lambda: gone(pid), 15, "the stubborn step to be killed")
    with pytest.raises(WorkflowError) as refused:
        supervisor.start_run("job", {}, Trigger.UI)
    assert refused.value.http_status == 503


def test_after_a_crash_runs_are_interrupted_orphans_killed_and_services_started_again(
    supervisor_factory: Factory, script: Script, tmp_path: Path
) -> None:
    gated = script("gated", GATED)
    text = f"""
[[workflows]]
name = "job"
[[workflows.steps]]
name = "first"
argv = {q([PY, gated, str(tmp_path / "job-pids"), str(tmp_path / "gate")])}
[[workflows.steps]]
name = "second"
argv = {q([PY, "-c", "pass"])}
depends_on = ["first"]

[[workflows]]
name = "svc"
service = true
autostart = true
[[workflows.steps]]
name = "serve"
argv = {q([PY, gated, str(tmp_path / "svc-pids"), str(tmp_path / "gate")])}
"""
    crashed = supervisor_factory(text)
    (service_run,) = crashed.active()
    assert service_run.workflow == "svc" and service_run.trigger is Trigger.SYSTEM
    job = crashed.start_run("job", {}, Trigger.UI)
    wait_until((tmp_path / "job-pids").exists, 30, "the job's first step to start")
    wait_until((tmp_path / "svc-pids").exists, 30, "the service to start")
    job_pid = int((tmp_path / "job-pids").read_text())
    svc_pid = int((tmp_path / "svc-pids").read_text())
    crashed._abandon()  # its threads stop driving, as in a dead process; its children go on

    restarted = supervisor_factory(config=crashed.config)
    run = restarted.run(job.id)
    assert run.status is WorkflowStatus.INTERRUPTED
    assert run.message.startswith("interrupted: the dashboard stopped during this run (last seen running at")
    assert run.message.endswith("; the processes it left behind were killed") and run.ended_at is not None
    assert steps_of(run) == {
        "first": ("interrupted", "interrupted: the dashboard stopped while it ran"),
        "second": ("skipped", "skipped: the dashboard stopped before it ran"),
    }
    assert restarted.run(service_run.id).status is WorkflowStatus.INTERRUPTED
    wait_until(lambda: gone(job_pid) and gone(svc_pid), 15, "the orphaned steps to be killed")
    (again,) = restarted.active()
    assert again.workflow == "svc" and again.id != service_run.id and again.trigger is Trigger.SYSTEM
    wait_until(lambda: len((tmp_path / "svc-pids").read_text().split()) == 2, 30, "the service to start again")
    events = restarted.events.latest(20, kinds=[EventKind.WORKFLOW])
    assert any(e.data.get("run_id") == job.id and e.data.get("to") == "interrupted" for e in events)


def test_history_outlives_the_supervisor(supervisor_factory: Factory, tmp_path: Path) -> None:
    supervisor = supervisor_factory(
        f"""
[[workflows]]
name = "job"
[[workflows.params]]
name = "n"
type = "int"
default = 2
[[workflows.steps]]
name = "run"
argv = {q([PY, "-c", "print('hi')"])}
"""
    )
    run = finished(supervisor, supervisor.start_run("job", {}, Trigger.CLI).id)
    store = open_store(supervisor.config.data_dir)
    try:
        other = WorkflowSupervisor(supervisor.config, store, supervisor.events)
        stored = other.run(run.id)
    finally:
        store.close()
    assert stored.params == {"n": 2} and stored.trigger is Trigger.CLI
    assert stored.status is WorkflowStatus.SUCCEEDED and stored.steps[0].message == "exit 0"
    assert stored.duration_seconds is not None and stored.steps[0].duration_seconds is not None
