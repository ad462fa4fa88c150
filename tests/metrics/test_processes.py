"""The process scanner: CPU % from CPU-time deltas, users, memory %, top-N."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from dashboard_core.metrics.processes import ProcessRow, ProcessScanner, top_processes
from dashboard_core.metrics.procfs import ProcessReading, ProcReader, PsutilReader
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


TICK = 1 / os.sysconf("SC_CLK_TCK")  # the kernel counts CPU time in clock ticks


def cpu_and_clock(proc: psutil.Process) -> tuple[float, float]:
    return sum(proc.cpu_times()[:2]), time.monotonic()


def test_a_busy_process_reads_what_it_really_used(busy_child: subprocess.Popen[bytes]) -> None:
    """The scanner's CPU % of a spinning child lies between the bounds its CPU time and the
    clock, read just before and after each scan, allow: a whole core on a quiet machine,
    its share on a loaded one, and right either way."""
    scanner = ProcessScanner()
    proc = psutil.Process(busy_child.pid)
    before_first = cpu_and_clock(proc)
    first = row_of(scanner.scan(), busy_child.pid)
    after_first = cpu_and_clock(proc)
    assert first.cpu_percent == 0.0  # no delta yet
    # Let it burn at least 0.5 s of CPU so the delta dwarfs the clock-tick rounding.
    wait_until(lambda: sum(proc.cpu_times()[:2]) - after_first[0] >= 0.5, timeout=120, what="0.5 s of the child's CPU")
    before_second = cpu_and_clock(proc)
    row = row_of(scanner.scan(), busy_child.pid)
    after_second = cpu_and_clock(proc)
    least = (before_second[0] - after_first[0] - 2 * TICK) / (after_second[1] - before_first[1]) * 100
    most = (after_second[0] - before_first[0] + 2 * TICK) / (before_second[1] - after_first[1]) * 100
    assert least <= row.cpu_percent <= most, (least, row, most)
    assert row.user == pwd.getpwuid(os.getuid()).pw_name
    assert row.rss > 0
    assert row.memory_percent == pytest.approx(row.rss / psutil.virtual_memory().total * 100)


def reading(pid: int, started: object, cpu: float, rss: float = 0.0) -> ProcessReading:
    return ProcessReading(pid, started, "x", None, cpu, rss, "")


def test_cpu_percent_is_the_cpu_time_delta_over_the_time_between_scans() -> None:
    scans = iter([[reading(7, 1, 10.0)], [reading(7, 1, 11.5, rss=2048.0)]])
    clock = iter([100.0, 102.0])
    scanner = ProcessScanner(lambda _cmd: iter(next(scans)), clock=lambda: next(clock), total_memory=lambda: 8192.0)
    assert scanner.scan()[0].cpu_percent == 0.0
    row = scanner.scan()[0]
    assert row.cpu_percent == 75.0  # 1.5 s of CPU in 2 s
    assert row.memory_percent == 25.0


def test_a_reused_pid_gets_no_delta_from_the_old_process() -> None:
    scans = iter([[reading(7, 1, 100.0)], [reading(7, 2, 100.5)]])  # same pid, started anew
    clock = iter([0.0, 1.0])
    scanner = ProcessScanner(lambda _cmd: iter(next(scans)), clock=lambda: next(clock))
    scanner.scan()
    assert scanner.scan()[0].cpu_percent == 0.0


def write_proc(root: Path, pid: int, stat: str, cmdline: bytes = b"") -> None:
    (root / str(pid)).mkdir()
    (root / str(pid) / "stat").write_text(stat)
    (root / str(pid) / "cmdline").write_bytes(cmdline)


def test_proc_reader_parses_stat_exactly(tmp_path: Path) -> None:
    """A fake proc tree: a name with spaces and ')' in it, a non-pid entry,
    and a pid whose stat vanished (exited between listing and reading)."""
    ticks, page = os.sysconf("SC_CLK_TCK"), os.sysconf("SC_PAGE_SIZE")
    fields = ["S", "1", "42", "42", "0", "-1", "4194560", "100", "0", "0", "0"]
    fields += [str(3 * ticks), str(ticks), "0", "0", "20", "0", "1", "0", "98765", "1000000", "250"]
    write_proc(tmp_path, 42, f"42 (my (odd) name) {' '.join(fields)} 0 0 0", b"python3\0-m\0app\0")
    (tmp_path / "self").mkdir()
    (tmp_path / "99").mkdir()  # no stat file
    readings = list(ProcReader(tmp_path)(with_cmdline=True))
    assert len(readings) == 1
    r = readings[0]
    assert (r.pid, r.name, r.started) == (42, "my (odd) name", 98765)
    assert r.cpu_seconds == 4.0
    assert r.rss == 250 * page
    assert r.cmdline == "python3 -m app"
    assert r.uid == os.getuid()


def test_proc_reader_agrees_with_psutil_on_this_process() -> None:
    mine = next(r for r in ProcReader()(with_cmdline=True) if r.pid == os.getpid())
    proc = psutil.Process()
    with proc.oneshot():
        assert mine.name == proc.name()[:15]
        assert mine.cmdline == " ".join(proc.cmdline())[:300]
        assert mine.uid == proc.uids().effective
        assert abs(mine.cpu_seconds - sum(proc.cpu_times()[:2])) < 0.5  # read a moment apart
        assert abs(mine.rss - proc.memory_info().rss) < 64 * 2**20  # the test allocates as it runs
    assert {r.pid for r in ProcReader()(False)} >= {1, os.getpid()}


def test_the_psutil_reader_other_systems_use_agrees_with_proc() -> None:
    via_psutil = {r.pid: r for r in PsutilReader()(with_cmdline=True)}
    via_proc = {r.pid: r for r in ProcReader()(with_cmdline=True)}
    me = os.getpid()
    assert via_psutil[me].name == via_proc[me].name
    assert via_psutil[me].cmdline == via_proc[me].cmdline
    assert via_psutil[me].uid == os.getuid()
    assert via_psutil[me].cpu_seconds is not None and via_psutil[me].rss > 0
    rows = ProcessScanner(PsutilReader()).scan()
    assert row_of(rows, me).user == pwd.getpwuid(os.getuid()).pw_name


def test_top_processes_sorts_and_cuts() -> None:
    rows = [ProcessRow(i, f"p{i}", "u", float(i % 3), float(10 - i), 0.0, "") for i in range(6)]
    assert [r.pid for r in top_processes(rows, 2, "cpu")] == [2, 5]
    assert [r.pid for r in top_processes(rows, 3, "memory")] == [0, 1, 2]
