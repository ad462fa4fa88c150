"""The state machine of a supervised process, after Supervisor's ``process.py``:
the states and the transitions between them in one table; everything else reads
the state.

A test run and a workflow step go STOPPED → STARTING → RUNNING → EXITED (or
STOPPING → STOPPED when cancelled, timed out or interrupted; FATAL when the
program cannot start). A service's step goes on from EXITED or FATAL to
BACKOFF and, when its back-off is over, to STARTING again.
"""

from __future__ import annotations

from enum import StrEnum


class ProcessState(StrEnum):
    STOPPED = "stopped"  # not running: never started, or stopped on request
    STARTING = "starting"  # the executor is starting it
    RUNNING = "running"
    STOPPING = "stopping"  # asked to stop (SIGTERM sent; SIGKILL after the grace)
    EXITED = "exited"  # ended by itself
    FATAL = "fatal"  # could not be started
    BACKOFF = "backoff"  # waiting to be started again


S = ProcessState
TRANSITIONS: dict[ProcessState, frozenset[ProcessState]] = {
    S.STOPPED: frozenset({S.STARTING}),
    S.STARTING: frozenset({S.RUNNING, S.FATAL, S.STOPPING}),
    S.RUNNING: frozenset({S.EXITED, S.STOPPING}),
    S.STOPPING: frozenset({S.STOPPED, S.FATAL}),
    S.EXITED: frozenset({S.STARTING, S.BACKOFF}),
    S.FATAL: frozenset({S.STARTING, S.BACKOFF}),
    S.BACKOFF: frozenset({S.STARTING, S.STOPPED}),
}
FINAL = frozenset({S.STOPPED, S.EXITED, S.FATAL})  # not running and nothing pending
LIVE = frozenset({S.STARTING, S.RUNNING, S.STOPPING})  # a process is (or is about to be) there


class IllegalTransition(RuntimeError):
    def __init__(self, old: ProcessState, new: ProcessState) -> None:
        super().__init__(f"a supervised process cannot go from {old} to {new}")


class StateMachine:
    """Holds one state; :meth:`to` moves it along the table or raises. Not locked:
    its owner changes it under its own lock."""

    def __init__(self, state: ProcessState = S.STOPPED) -> None:
        self.state = state

    def can(self, new: ProcessState) -> bool:
        return new in TRANSITIONS[self.state]

    def to(self, new: ProcessState) -> None:
        if new not in TRANSITIONS[self.state]:
            raise IllegalTransition(self.state, new)
        self.state = new
