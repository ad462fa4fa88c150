"""After a crash: what a dead dashboard left running is found by pid and start
time and stopped (a recycled pid is left alone), and runs are told interrupted
in the words every component uses."""

from __future__ import annotations

from pathlib import Path

import psutil

from dashboard_core.processes.local import LocalExecutor
from dashboard_core.processes.recovery import interrupted_during, kill_leftover
from dashboard_core.processes.spec import ProcessRecord
from tests.polling import wait_until
from tests.processes.helpers import gone
from tests.processes.scripts import crashed_dashboard


def test_a_leftover_is_killed_with_its_family_and_only_once(tmp_path: Path) -> None:
    pids_file = tmp_path / "pids"
    pid, created = crashed_dashboard(pids_file)
    family = [int(p) for p in pids_file.read_text().split()]
    executor = LocalExecutor()
    assert kill_leftover(executor, ProcessRecord(pid, created + 1.0)) is False  # a recycled pid: not ours
    assert psutil.pid_exists(pid) and not gone(pid)
    assert kill_leftover(executor, ProcessRecord(pid, created), grace=5) is True
    assert gone(pid)  # it waited for the end
    wait_until(lambda: all(gone(p) for p in family), 15, f"the whole family ({family}) to be gone")
    assert kill_leftover(executor, ProcessRecord(pid, created)) is False


def test_the_words_of_an_interrupted_run() -> None:
    assert interrupted_during(0.0, 90.0, killed=False) == (
        "interrupted: the dashboard stopped during this run (last seen running at 1970-01-01 00:00:00 UTC, "
        "noticed at start-up at 1970-01-01 00:01:30 UTC)"
    )
    assert interrupted_during(0.0, 90.0, killed=True).endswith("; the processes it left behind were killed")
