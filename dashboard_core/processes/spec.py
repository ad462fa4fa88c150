"""What a supervised process is asked to run, what it reports while it runs, and
what the store keeps of it to find it again after a restart of the dashboard.

Everything here is plain data that could cross a network: an executor that runs
the process on another host sends the same events as the local one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# Names the channel a process writes its progress lines to (``fd:N`` for the local
# executor); set by the executor when the spec asks for progress.
PROGRESS_ENV = "DASHBOARD_PROGRESS"


@dataclass(frozen=True, slots=True)
class ProcessSpec:
    """One program to run: an argv (never a shell) in ``cwd``, with ``env`` added
    to the executor's environment.

    ``timeout``: seconds until the supervisor stops it (enforced by
    :class:`~dashboard_core.processes.supervised.SupervisedProcess`, the same on
    every executor). ``progress``: give it a channel for progress lines
    (:data:`PROGRESS_ENV`). ``drain``: after it exits, how long to wait for the
    rest of its output (a descendant that escaped may hold the pipe open).
    """

    argv: tuple[str, ...]
    cwd: Path
    env: Mapping[str, str] = field(default_factory=dict)
    timeout: float | None = None
    progress: bool = False
    drain: float = 2.0
    name: str = "process"

    @classmethod
    def of(cls, argv: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None, **kwargs: object) -> ProcessSpec:
        return cls(tuple(argv), Path(cwd), dict(env or {}), **kwargs)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class ProcessRecord:
    """What the store keeps to recognise the process after a restart: its pid and
    the leader's start time (a recycled pid has another). ``ref`` is for
    executors whose processes have another name (a job id)."""

    pid: int | None
    created: float | None
    ref: str | None = None


# -- events: what an executor reports, in order: Started, then any number of
# LogChunk and ProgressLine, then exactly one Exited ---------------------------------
@dataclass(frozen=True, slots=True)
class Started:
    record: ProcessRecord


@dataclass(frozen=True, slots=True)
class LogChunk:
    """Output (stdout and stderr together), as it came."""

    data: bytes


@dataclass(frozen=True, slots=True)
class ProgressLine:
    """One line the process wrote to its progress channel, without the newline."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Exited:
    """The process has exited and its output has been read. ``code``: its exit
    code, negative for a signal, None when the executor cannot know (a process
    found again after a restart is not our child)."""

    code: int | None


ProcessEvent = Started | LogChunk | ProgressLine | Exited


class CannotStart(Exception):
    """The program could not be started; ``str()`` is the reason as a sentence."""


class Handle:
    """An executor's reference to one started process. Executors subclass it."""

    def __init__(self, record: ProcessRecord) -> None:
        self.record = record
