"""A workflow step on a real Ray cluster (``executor = "ray"``) beside local steps:
its output and exit code reach the run, the next local step starts after it, a
failing Ray step fails the run; a stop of the run leaves its job STOPPED and
nothing running; a restart of the dashboard (a stop, or a crash) leaves the step
to its job, and the next supervisor follows it again by its submission id."""

from __future__ import annotations

import json
import sqlite3
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from dashboard_core.config import Config, load_config
from dashboard_core.models import StepInfo, WorkflowRunInfo
from dashboard_core.processes.ray_executor import RayExecutor
from dashboard_core.store import FILE_NAME
from dashboard_core.workflows.supervisor import WorkflowSupervisor
from tests.polling import wait_until
from tests.ray.cluster import RayCluster
from tests.ray.test_ray_runs import suite_processes

q = json.dumps

REMOTE = textwrap.dedent(
    """
    import os, pathlib, sys, time
    print("hello from ray", os.environ["WHERE"], flush=True)
    gate = pathlib.Path(os.environ["GATE"])
    deadline = time.monotonic() + 240
    while not gate.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    print("through the gate", flush=True)
    sys.exit(int(sys.argv[1]))
    """
)


def workflow_toml(tmp_path: Path, address: str) -> str:
    """``mixed``: a local step, then ``remote`` on Ray (it waits for ``tmp_path/gate``
    and exits with the ``code`` parameter), then a local step that needs it."""
    remote = tmp_path / "remote"
    remote.mkdir(exist_ok=True)
    (remote / "remote.py").write_text(REMOTE)
    marks = tmp_path / "marks"
    py = q(sys.executable)
    prepare = q(f"import pathlib; pathlib.Path({str(marks)!r}).write_text('prepared')")
    return f"""
[storage]
data_dir = {q(str(tmp_path / "data"))}

[ray]
address = {q(address)}

[[workflows]]
name = "mixed"
params = [{{ name = "code", type = "int", default = 0 }}]

[[workflows.steps]]
name = "prepare"
argv = [{py}, "-c", {prepare}]

[[workflows.steps]]
name = "remote"
argv = [{py}, "remote.py", "{{code}}"]
cwd = {q(str(remote))}
env = {{ GATE = {q(str(tmp_path / "gate"))}, WHERE = "on-the-cluster" }}
executor = "ray"
ray_cpus = 1
depends_on = ["prepare"]

[[workflows.steps]]
name = "after"
argv = [{py}, "-c", "print('after the ray step')"]
depends_on = ["remote"]
"""


@pytest.fixture
def config(tmp_path: Path, ray_cluster: RayCluster) -> Config:
    path = tmp_path / "dashboard.toml"
    path.write_text(workflow_toml(tmp_path, ray_cluster.address))
    return load_config(path)


@pytest.fixture
def supervisors(
    config: Config, supervisor_factory: Callable[..., WorkflowSupervisor]
) -> Callable[[], WorkflowSupervisor]:
    """Started supervisors of the Ray workflows: tests/workflows' factory, on this config."""
    return lambda: supervisor_factory(config=config)


def step(info: WorkflowRunInfo, name: str) -> StepInfo:
    return next(s for s in info.steps if s.name == name)


def remote_waiting(supervisor: WorkflowSupervisor, run_id: int) -> bool:
    """The Ray step runs and its first line came back through the job's log."""
    s = step(supervisor.detail(run_id), "remote")
    return s.status.value == "running" and "hello from ray on-the-cluster" in (s.log_tail or "")


def job_of(config: Config, run_id: int) -> str:
    db = sqlite3.connect(config.data_dir / FILE_NAME)
    try:
        (ref,) = db.execute(
            "SELECT process_ref FROM workflow_steps WHERE run_id = ? AND step = 'remote'", (run_id,)
        ).fetchone()
    finally:
        db.close()
    assert ref and ref.startswith("dashboard-"), "the Ray step's submission id is stored"
    return str(ref)


@pytest.mark.parametrize("code", [0, 3])
def test_a_ray_step_beside_local_steps(
    supervisors: Callable[[], WorkflowSupervisor], config: Config, ray_cluster: RayCluster, tmp_path: Path, code: int
) -> None:
    supervisor = supervisors()
    run_id = supervisor.start_run("mixed", {"code": code}).id
    wait_until(lambda: remote_waiting(supervisor, run_id), 180, "the Ray step's first output")
    live = supervisor.run(run_id)
    assert step(live, "prepare").status.value == "succeeded" and step(live, "after").status.value == "pending"
    assert (tmp_path / "marks").read_text() == "prepared"
    (tmp_path / "gate").touch()
    info = supervisor.wait(run_id, 180)
    remote, after = step(info, "remote"), step(info, "after")
    assert remote.exit_code == code
    log = Path(remote.log_path or "").read_text()
    assert "hello from ray on-the-cluster" in log and "through the gate" in log  # the job's output, whole
    assert RayExecutor(ray_cluster.address).status(job_of(config, run_id)) == ("SUCCEEDED" if code == 0 else "FAILED")
    if code == 0:
        assert info.status.value == "succeeded", info.message
        assert after.status.value == "succeeded"
        assert after.started_at is not None and remote.ended_at is not None and after.started_at >= remote.ended_at
        assert "after the ray step" in Path(after.log_path or "").read_text()
    else:
        assert info.status.value == "failed" and "step 'remote' failed: exit 3" in info.message
        assert remote.status.value == "failed" and after.status.value == "skipped"


def test_stopping_a_run_stops_its_ray_job(
    supervisors: Callable[[], WorkflowSupervisor], config: Config, ray_cluster: RayCluster, tmp_path: Path
) -> None:
    supervisor = supervisors()
    run_id = supervisor.start_run("mixed", {}).id
    wait_until(lambda: remote_waiting(supervisor, run_id), 180, "the Ray step's first output")
    assert suite_processes(tmp_path / "gate"), "the step's process runs on this host, found by its environment"
    supervisor.stop_run(run_id)
    info = supervisor.wait(run_id, 120)
    assert info.status.value == "stopped", info.message
    assert step(info, "remote").status.value == "stopped" and step(info, "after").status.value == "skipped"
    assert RayExecutor(ray_cluster.address).status(job_of(config, run_id)) == "STOPPED"
    wait_until(lambda: not suite_processes(tmp_path / "gate"), 60, "the step's processes to be gone")


@pytest.mark.parametrize("how", ["stop", "crash"])
def test_a_ray_step_is_followed_again_after_a_restart(
    supervisors: Callable[[], WorkflowSupervisor], config: Config, ray_cluster: RayCluster, tmp_path: Path, how: str
) -> None:
    first = supervisors()
    run_id = first.start_run("mixed", {}).id
    wait_until(lambda: remote_waiting(first, run_id), 180, "the Ray step's first output")
    job = job_of(config, run_id)
    if how == "stop":
        first.stop()  # leaves the run to its Ray job
    else:
        first._abandon()  # as kill -9: the drivers walk away, nothing is recorded or stopped
    ray = RayExecutor(ray_cluster.address)
    assert ray.status(job) == "RUNNING"  # the job went on without the dashboard
    assert first.history.get(run_id).status.value == "running"  # type: ignore[union-attr]

    second = supervisors()
    resumed = second.run(run_id)
    assert resumed.status.value == "running" and step(resumed, "remote").status.value == "running", resumed
    wait_until(lambda: remote_waiting(second, run_id), 60, "the followed step's output, read again")
    (tmp_path / "gate").touch()
    info = second.wait(run_id, 180)
    assert info.status.value == "succeeded", info.message
    assert step(info, "remote").exit_code == 0 and step(info, "after").status.value == "succeeded"
    assert "through the gate" in Path(step(info, "remote").log_path or "").read_text()
    assert ray.status(job) == "SUCCEEDED"
