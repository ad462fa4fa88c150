"""The local executor with real subprocesses: the event stream (started, output,
progress lines, exited), stop with grace then kill, descendants that left the
group, what a leader leaves in its group when it ends, failed starts, and
reattach by pid and start time after a simulated restart of the dashboard."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import psutil
import pytest

from dashboard_core.processes.local import LocalExecutor
from dashboard_core.processes.spec import CannotStart, LogChunk, ProcessRecord, ProcessSpec, Started
from tests.polling import wait_until
from tests.processes.helpers import Events, gone
from tests.processes.scripts import FAMILY, LEAVES, POLITE, PROGRESS, STUBBORN, argv, crashed_dashboard

ROOT = Path(__file__).parents[2]


def spec(code: str, *args: str, cwd: Path = ROOT, **kwargs: object) -> ProcessSpec:
    return ProcessSpec.of(argv(code, *args), cwd, **kwargs)  # type: ignore[arg-type]


def test_events_come_in_order_started_output_exited(tmp_path: Path) -> None:
    executor = LocalExecutor()
    go = tmp_path / "go"  # the child waits for it, so it is still there to be asked its start time
    code = (
        "import os, sys, time; print('hello'); print('oops', file=sys.stderr)\n"
        f"while not os.path.exists({str(go)!r}): time.sleep(0.01)\n"
        "sys.exit(4)"
    )
    handle = executor.start(spec(code))
    events = Events(executor, handle)
    started = events.until(lambda e: True, 30, "the first event")
    assert isinstance(started, Started) and started.record == handle.record
    assert handle.record.pid is not None and handle.record.created == psutil.Process(handle.record.pid).create_time()
    go.touch()
    assert events.exited().code == 4
    assert events.output() == b"hello\noops\n"  # stdout and stderr on one stream, all read before the exit
    assert all(isinstance(e, LogChunk) for e in events.seen[1:-1])


def test_progress_lines_arrive_as_a_stream_of_whole_lines() -> None:
    executor = LocalExecutor()
    handle = executor.start(spec(PROGRESS, progress=True))
    events = Events(executor, handle)
    assert events.exited().code == 0
    assert events.progress() == [b'{"n": 1}', b'{"n": 2}', b'{"n": 3}']  # the cut last line is not a line
    assert events.output() == b"output, not progress\n"
    assert [json.loads(line)["n"] for line in events.progress()] == [1, 2, 3]


def test_a_process_without_progress_gets_no_channel() -> None:
    executor = LocalExecutor()
    handle = executor.start(spec("import os; print(os.environ.get('DASHBOARD_PROGRESS', 'none'))"))
    events = Events(executor, handle)
    assert events.exited().code == 0
    assert events.output() == b"none\n"


def test_stop_gives_the_grace_then_kills() -> None:
    executor = LocalExecutor()
    polite = executor.start(spec(POLITE))
    stubborn = executor.start(spec(STUBBORN))
    polite_events, stubborn_events = Events(executor, polite), Events(executor, stubborn)
    for events in (polite_events, stubborn_events):
        events.until(lambda e: isinstance(e, LogChunk) and b"ready" in e.data, 30, "the program to be ready")
    executor.stop(polite, grace=30)
    executor.stop(stubborn, grace=0.5)
    assert polite_events.exited().code == 3  # it ended in its own way, within the grace
    assert b"bye" in polite_events.output()
    assert stubborn_events.exited().code == -signal.SIGKILL  # ignored SIGTERM: killed after the grace
    assert b"ignoring SIGTERM" in stubborn_events.output()
    executor.stop(stubborn, grace=0.5)  # once it has exited, a stop is nothing


def test_stop_kills_descendants_that_left_the_group(tmp_path: Path) -> None:
    pids_file = tmp_path / "pids"
    executor = LocalExecutor()
    handle = executor.start(spec(FAMILY, str(pids_file)))
    events = Events(executor, handle)
    wait_until(pids_file.exists, 30, "the family to start")
    pids = [int(p) for p in pids_file.read_text().split()]
    assert not any(gone(p) for p in pids)
    executor.stop(handle, grace=5)
    assert events.exited().code == -signal.SIGTERM
    wait_until(lambda: all(gone(p) for p in pids), 15, f"every process of the family ({pids}) to be gone")


def test_a_leader_that_ends_takes_its_group_along_and_is_not_held_by_an_escapee(tmp_path: Path) -> None:
    pids_file = tmp_path / "pids"
    executor = LocalExecutor()
    handle = executor.start(spec(LEAVES, str(pids_file), drain=0.5))
    events = Events(executor, handle)
    assert events.exited().code == 0  # while the escaped child still holds the output open
    in_group, escaped = (int(p) for p in pids_file.read_text().split())
    try:
        assert not gone(escaped)  # the exit did not wait for it
        assert b"leaving" in events.output()
        wait_until(lambda: gone(in_group), 15, "the child left in the group to be killed")
    finally:
        psutil.Process(escaped).kill()


def test_a_program_that_cannot_start_raises_the_reason(tmp_path: Path) -> None:
    executor = LocalExecutor()
    with pytest.raises(CannotStart, match=r"^cannot start: the program 'no-such-program-here' was not found"):
        executor.start(ProcessSpec.of(["no-such-program-here"], ROOT))
    with pytest.raises(CannotStart, match=r"the working directory .*nowhere does not exist or is not a directory"):
        executor.start(ProcessSpec.of([sys.executable, "-c", "pass"], tmp_path / "nowhere", progress=True))
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    with pytest.raises(CannotStart, match=r"is not executable"):
        executor.start(ProcessSpec.of([str(script)], tmp_path))


def test_reattach_after_a_restart_finds_the_orphan_by_pid_and_start_time(tmp_path: Path) -> None:
    pids_file = tmp_path / "pids"
    pid, created = crashed_dashboard(pids_file)
    family = [int(p) for p in pids_file.read_text().split()]
    assert pid == family[-1] and not any(gone(p) for p in family)  # orphans outlive the dashboard

    executor = LocalExecutor()  # the restarted dashboard
    assert executor.reattach(ProcessRecord(pid, created + 5.0)) is None  # another start time: a recycled pid
    assert executor.reattach(ProcessRecord(None, None)) is None
    handle = executor.reattach(ProcessRecord(pid, created))
    assert handle is not None and handle.record.pid == pid
    events = Events(executor, handle)
    assert isinstance(events.until(lambda e: True, 30, "the first event"), Started)
    executor.stop(handle, grace=5)
    assert events.exited().code is None  # not our child: gone, with no code to tell
    wait_until(lambda: all(gone(p) for p in family), 15, f"the orphaned family ({family}) to be gone")
    assert executor.reattach(ProcessRecord(pid, created)) is None  # gone for good
