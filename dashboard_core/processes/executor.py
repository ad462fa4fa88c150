"""The executor interface: what runs a supervised process.

Four calls are the whole surface, shaped so that a distributed engine can be
one more implementation (Ray Jobs: ``submit_job``, ``tail_job_logs`` with
``get_job_status``, ``stop_job``; a job id in :attr:`ProcessRecord.ref`):

- :meth:`Executor.start` submits the spec and returns a handle, or raises
  :class:`CannotStart` with the reason;
- :meth:`Executor.events` is the stream of what happens (started, output,
  progress lines, exited), read by exactly one consumer, ending with ``Exited``;
- :meth:`Executor.stop` asks for a stop (SIGTERM, then SIGKILL after ``grace``)
  and returns at once: the ``Exited`` event says when it is over;
- :meth:`Executor.reattach` finds a process again after the dashboard restarted,
  from what the store kept, or None if it is gone.

Nothing assumes the process or its files are on this host: output and progress
come as events, and the supervisor writes its own log from them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from dashboard_core.processes.spec import Handle, ProcessEvent, ProcessRecord, ProcessSpec

Usage = tuple[float | None, int | None]  # CPU % of one core, RSS bytes; None: not known


class Executor(Protocol):
    def start(self, spec: ProcessSpec) -> Handle: ...

    def events(self, handle: Handle) -> Iterator[ProcessEvent]: ...

    def stop(self, handle: Handle, grace: float) -> None: ...

    def reattach(self, record: ProcessRecord) -> Handle | None: ...

    def usage(self, handle: Handle) -> Usage:
        """CPU and memory of the process and its descendants, if the executor can tell."""
        ...
