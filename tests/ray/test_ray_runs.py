"""Suites on a real Ray cluster: live progress through the job's log, cancel and
timeout that leave nothing running, and the results as a local run has them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from dashboard_core.models import RunStatus, Trigger
from dashboard_core.processes.ray_executor import RayExecutor
from dashboard_core.testing.manager import SuiteManager
from tests.polling import wait_until
from tests.ray.cluster import RayCluster

Factory = Callable[..., SuiteManager]


def suite_processes(gate: Path) -> list[int]:
    """The processes of this test's suite anywhere on the host (they carry its GATE)."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get("GATE") == str(gate):
                found.append(proc.pid)
        except psutil.Error:
            continue
    return found


def job_of(manager: SuiteManager, run_id: int) -> str:
    row = manager.history.row(run_id)
    assert row is not None and row["process_ref"], "the run's Ray submission id is stored"
    return str(row["process_ref"])


def waiting_at_the_gate(manager: SuiteManager, run_id: int) -> bool:
    run = manager.run(run_id)
    return run.status is RunStatus.RUNNING and run.current_test is not None and "waits_for_the_gate" in run.current_test


def test_a_suite_on_ray_shows_live_progress_and_its_results(ray_manager: Factory, tmp_path: Path) -> None:
    manager = ray_manager()
    run_id = manager.run_suite("gated", Trigger.API).run.id
    # Live: the first test is counted while the job still runs (it waits for the gate).
    wait_until(lambda: waiting_at_the_gate(manager, run_id), 180, "the run on Ray to reach the gated test")
    live = manager.run(run_id)
    assert live.counts.collected == 3 and live.counts.passed == 1 and live.status is RunStatus.RUNNING
    assert "test_gated.py" in manager.log_tail(run_id).text  # the live log tail, from the job's log
    (tmp_path / "gate").touch()
    run = manager.wait(run_id, 180)
    assert run.status is RunStatus.PASSED, run.message
    assert run.summary() == "3 passed"
    cases = {c.nodeid: c.outcome for c in manager.detail(run_id).cases}
    assert cases == {
        "test_gated.py::test_first": "passed",
        "test_gated.py::test_waits_for_the_gate": "passed",
        "test_gated.py::test_last": "passed",
    }
    log = Path(run.log_path or "").read_text()
    assert "3 passed" in log and "dashboard-progress" not in log  # progress lines are taken out of the output


@pytest.mark.parametrize("how", ["cancel", "timeout"])
def test_cancel_and_timeout_leave_nothing_running_on_the_cluster(
    ray_manager: Factory, ray_cluster: RayCluster, tmp_path: Path, how: str
) -> None:
    manager = ray_manager("timeout_seconds = 25" if how == "timeout" else "")
    run_id = manager.run_suite("gated", Trigger.API).run.id
    wait_until(lambda: waiting_at_the_gate(manager, run_id), 180, "the run on Ray to reach the gated test")
    assert suite_processes(tmp_path / "gate"), "the suite's pytest runs on this host, found by its environment"
    if how == "cancel":
        manager.cancel(run_id)
    run = manager.wait(run_id, 120)
    assert run.status is (RunStatus.CANCELLED if how == "cancel" else RunStatus.TIMED_OUT), run.message
    job = job_of(manager, run_id)
    assert RayExecutor(ray_cluster.address).status(job) == "STOPPED"
    wait_until(lambda: not suite_processes(tmp_path / "gate"), 60, "the suite's processes to be gone")
    assert not (tmp_path / "gate").exists()
