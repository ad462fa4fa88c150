"""The process scanner: CPU % from CPU-time deltas, users, memory %, top-N."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from collections.abc import Iterator

import psutil
import pytest

from dashboard_core.metrics.processes import ProcessRow, ProcessScanner, top_processes
from tests.polling import wait_until


@pytest.fixture
def busy_child() -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield child
    finally:
        child.kill()
        child.wait(timeout=10)


def row_of(rows: list[ProcessRow], pid: int) -> ProcessRow:
    return next(r for r in rows if r.pid == pid)


def test_a_busy_process_reads_near_one_core(busy_child: subprocess.Popen[bytes]) -> None:
    scanner = ProcessScanner()
    first = row_of(scanner.scan(), busy_child.pid)
    assert first.cpu_percent == 0.0  # no delta yet
    proc = psutil.Process(busy_child.pid)
    start = sum(proc.cpu_times()[:2])
    # Let it burn at least 0.5 s of CPU so the delta dwarfs the clock-tick rounding.
    wait_until(lambda: sum(proc.cpu_times()[:2]) - start >= 0.5, timeout=30, what="the child to use 0.5 s of CPU")
    row = row_of(scanner.scan(), busy_child.pid)
    # A spinning loop gets a whole core unless the machine is loaded, when it
    # gets its share of two cores: at least 20 % even under heavy load.
    assert 20.0 <= row.cpu_percent <= 105.0, row
    assert row.user == pwd.getpwuid(os.getuid()).pw_name
    assert row.rss > 0
    assert row.memory_percent == pytest.approx(row.rss / psutil.virtual_memory().total * 100)


def test_a_reused_pid_gets_no_delta_from_the_old_process() -> None:
    """psutil hands out a new object for a new process under an old pid."""

    class Times:
        user, system = 100.0, 0.0

    class Proc:
        def __init__(self) -> None:
            self.info = {"pid": 7, "name": "x", "uids": None, "cpu_times": Times(), "memory_info": None}

    procs = [Proc()]
    clock = iter([0.0, 1.0])

    class Ps:
        @staticmethod
        def virtual_memory():  # noqa: ANN205
            return psutil.virtual_memory()

        @staticmethod
        def process_iter(attrs, ad_value=None):  # noqa: ANN001, ANN205
            return list(procs)

    scanner = ProcessScanner(ps=Ps, clock=lambda: next(clock))  # type: ignore[arg-type]
    scanner.scan()
    procs[0] = Proc()  # same pid, another process
    assert scanner.scan()[0].cpu_percent == 0.0


def test_top_processes_sorts_and_cuts() -> None:
    rows = [ProcessRow(i, f"p{i}", "u", float(i % 3), float(10 - i), 0.0, "") for i in range(6)]
    assert [r.pid for r in top_processes(rows, 2, "cpu")] == [2, 5]
    assert [r.pid for r in top_processes(rows, 3, "memory")] == [0, 1, 2]
