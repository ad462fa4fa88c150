"""A supervised process on the local executor, and on a second executor of our
own (one that starts slowly), moving along the state machine's table: runs,
exits, times out, is stopped while it starts, backs off and starts again with
its log kept, is stopped while backing off."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dashboard_core.processes.capped_log import CappedLog
from dashboard_core.processes.local import LocalExecutor, LocalHandle
from dashboard_core.processes.spec import ProcessSpec
from dashboard_core.processes.states import TRANSITIONS, IllegalTransition, ProcessState, StateMachine
from dashboard_core.processes.supervised import StopReason, SupervisedProcess
from tests.processes.scripts import PROGRESS, STUBBORN, argv

ROOT = Path(__file__).parents[2]
S = ProcessState


Make = Callable[..., SupervisedProcess]


@pytest.fixture
def make(tmp_path: Path) -> Iterator[Make]:
    """Supervised processes over a capped log each (closed at the end of the test)."""
    logs: list[CappedLog] = []

    def build(
        code: str,
        *,
        executor: LocalExecutor | None = None,
        on_progress: Callable[[bytes], None] | None = None,
        **kwargs: object,
    ) -> SupervisedProcess:
        log = CappedLog(tmp_path / f"out-{len(logs)}.log", 100_000)
        logs.append(log)
        spec = ProcessSpec.of(argv(code), ROOT, **kwargs)  # type: ignore[arg-type]
        return SupervisedProcess(spec, executor or LocalExecutor(), log, grace=0.5, on_progress=on_progress)

    yield build
    for log in logs:
        log.close()


def test_the_table_allows_what_it_says_and_nothing_else() -> None:
    for old, allowed in TRANSITIONS.items():
        for new in ProcessState:
            machine = StateMachine(old)
            if new in allowed:
                machine.to(new)
                assert machine.state is new
            else:
                with pytest.raises(IllegalTransition, match=f"from {old} to {new}"):
                    machine.to(new)
    assert set(TRANSITIONS) == set(ProcessState)


def test_a_process_runs_and_exits_by_itself(make: Make, tmp_path: Path) -> None:
    lines: list[bytes] = []
    proc = make(PROGRESS, progress=True, on_progress=lines.append)
    assert proc.state is S.STOPPED
    assert proc.start() is None
    assert proc.state in (S.RUNNING, S.EXITED)
    assert proc.wait(60)
    assert proc.state is S.EXITED and proc.exit_code == 0 and proc.stop_reason is None
    assert lines == [b'{"n": 1}', b'{"n": 2}', b'{"n": 3}']
    proc.log.close()  # type: ignore[attr-defined]
    assert (tmp_path / "out-0.log").read_text() == "output, not progress\n"
    assert proc.stop(StopReason.CANCEL) is False  # nothing left to stop


def test_a_timeout_stops_it_with_grace_then_kill(make: Make, tmp_path: Path) -> None:
    proc = make(STUBBORN, timeout=0.5)
    assert proc.start() is None
    assert proc.wait(60)
    assert proc.state is S.STOPPED and proc.stop_reason is StopReason.TIMEOUT
    assert proc.exit_code == -signal.SIGKILL  # it ignored SIGTERM for the whole grace


def test_a_program_that_cannot_start_is_fatal_with_the_reason(tmp_path: Path) -> None:
    log = CappedLog(tmp_path / "out.log", 1000)
    proc = SupervisedProcess(ProcessSpec.of(["no-such-program-here"], ROOT), LocalExecutor(), log, grace=1)
    reason = proc.start()
    log.close()
    assert reason is not None and reason.startswith("cannot start: the program 'no-such-program-here' was not found")
    assert proc.state is S.FATAL and proc.failure == reason and proc.done.is_set()


class SlowStart(LocalExecutor):
    """Starts a process only once ``go`` is set: a stop can come while it starts."""

    def __init__(self) -> None:
        self.asked = threading.Event()
        self.go = threading.Event()

    def start(self, spec: ProcessSpec) -> LocalHandle:
        self.asked.set()
        assert self.go.wait(30)
        return super().start(spec)


def test_a_stop_while_it_starts_stops_it_once_started(make: Make, tmp_path: Path) -> None:
    executor = SlowStart()
    proc = make("import time; time.sleep(120)", executor=executor)
    starter = threading.Thread(target=proc.start)
    starter.start()
    assert executor.asked.wait(30)
    assert proc.state is S.STARTING
    assert proc.stop(StopReason.CANCEL) is True
    assert proc.state is S.STOPPING
    executor.go.set()
    starter.join(30)
    assert proc.wait(60)
    assert proc.state is S.STOPPED and proc.stop_reason is StopReason.CANCEL
    assert proc.exit_code == -signal.SIGTERM


def test_a_service_backs_off_and_starts_again_into_the_same_log(make: Make, tmp_path: Path) -> None:
    proc = make("print('attempt')")
    for n in (1, 2):
        assert proc.start() is None
        assert proc.wait(60) and proc.state is S.EXITED and proc.exit_code == 0
        proc.backoff()
        assert proc.state is S.BACKOFF
        proc.log.write(f"--- restart {n} ---\n".encode())
    assert proc.stop(StopReason.CANCEL) is True  # backing off: stopped at once, nothing to kill
    assert proc.state is S.STOPPED
    proc.log.close()  # type: ignore[attr-defined]
    assert (tmp_path / "out-0.log").read_text() == "attempt\n--- restart 1 ---\nattempt\n--- restart 2 ---\n"


def test_a_progress_callback_that_fails_loses_the_line_not_the_process(make: Make, tmp_path: Path) -> None:
    seen: list[bytes] = []

    def picky(line: bytes) -> None:
        seen.append(line)
        if line.endswith(b"1}"):
            raise ValueError("cannot take this one")

    proc = make(PROGRESS, progress=True, on_progress=picky)
    assert proc.start() is None
    assert proc.wait(60)
    assert proc.state is S.EXITED and proc.exit_code == 0 and len(seen) == 3


def test_a_process_followed_again_keeps_the_time_it_already_ran(make: Make) -> None:
    """After a restart, a process found again (a Ray job; here a local one by pid)
    times out when its timeout since its start is up, not a whole timeout later."""
    first = make("import time; time.sleep(120)")
    assert first.start() is None
    assert first.record is not None
    again = make("unused", timeout=60.0)
    assert again.resume(first.record, elapsed=59.0)
    assert again.wait(30), "stopped about a second after it was followed again, not a minute"
    assert again.stop_reason is StopReason.TIMEOUT
    assert first.wait(30)
