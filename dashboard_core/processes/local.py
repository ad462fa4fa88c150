"""The local executor: a subprocess of the dashboard, in a session of its own.

Output (stdout and stderr on one pipe) and progress lines (a second pipe, named
to the process by ``DASHBOARD_PROGRESS=fd:N``) are read by threads and sent as
events, as a remote executor would send them; the dashboard never opens a file
the process writes. The leader's exit is seen the moment it happens (a blocking
``waitid`` that leaves the zombie, so its pid cannot be reused meanwhile); what
it left in its process group is then killed, and the rest of its output is read
for at most ``spec.drain`` seconds (a descendant that escaped the group may
hold the pipe open). A process found again after a restart (:meth:`reattach`) is
not our child: it can be stopped and watched until it is gone, not read.
"""

from __future__ import annotations

import io
import logging
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import IO, cast

import psutil

from dashboard_core.processes.executor import Usage
from dashboard_core.processes.spec import (
    PROGRESS_ENV,
    CannotStart,
    Exited,
    Handle,
    LogChunk,
    ProcessEvent,
    ProcessRecord,
    ProcessSpec,
    ProgressLine,
    Started,
)
from dashboard_core.processes.tree import ProcessTree, alive, kill_tree, same_process, signal_group
from dashboard_core.processes.words import cannot_start_words

log = logging.getLogger(__name__)

READ_SIZE = 65536
TRICKLE_BYTES = 4096  # a read smaller than this is a trickle: let more gather first
TRICKLE_WAIT = 0.05  # (pytest flushes a dot per test), but never past the exit
ORPHAN_POLL = 0.05


class LocalHandle(Handle):
    """A subprocess we started: its Popen, its event queue, whether it has exited."""

    def __init__(self, record: ProcessRecord, spec: ProcessSpec, popen: subprocess.Popen[bytes]) -> None:
        super().__init__(record)
        self.spec = spec
        self.popen = popen
        self.queue: queue.SimpleQueue[ProcessEvent] = queue.SimpleQueue()
        self.exited = threading.Event()  # the leader has exited (and been reaped)
        self.stopping = False
        self.lock = threading.Lock()
        self.tree = ProcessTree()


class OrphanHandle(Handle):
    """A process left by an earlier dashboard, found by pid and start time."""

    def __init__(self, record: ProcessRecord, proc: psutil.Process) -> None:
        super().__init__(record)
        self.proc = proc
        self.tree = ProcessTree(proc)


class LocalExecutor:
    name = "local"

    def start(self, spec: ProcessSpec) -> LocalHandle:
        env = {**os.environ, **spec.env}
        progress_read: int | None = None
        progress_write: int | None = None
        if spec.progress:
            progress_read, progress_write = os.pipe()  # neither end is inherited but by pass_fds
            env[PROGRESS_ENV] = f"fd:{progress_write}"
        try:
            popen = subprocess.Popen(
                list(spec.argv),
                cwd=spec.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: a stop kills it whole
                pass_fds=(progress_write,) if progress_write is not None else (),
            )
        except OSError as exc:
            _close(progress_read)
            raise CannotStart(cannot_start_words(spec.argv, spec.cwd, exc)) from None
        except (ValueError, subprocess.SubprocessError) as exc:
            _close(progress_read)
            raise CannotStart(f"cannot start {spec.argv[0]!r}: {exc}") from None
        finally:
            _close(progress_write)  # the child has its own copy
        created = None
        try:
            leader = psutil.Process(popen.pid)
            created = leader.create_time()  # not reaped yet: even a zombie has it
        except psutil.Error:
            leader = None
        handle = LocalHandle(ProcessRecord(popen.pid, created), spec, popen)
        handle.tree.leader = leader
        handle.queue.put(Started(handle.record))
        readers = [threading.Thread(target=_pump_output, args=(handle,), name=f"{spec.name}-output", daemon=True)]
        if progress_read is not None:
            reader = os.fdopen(progress_read, "rb", buffering=0)
            readers.append(
                threading.Thread(
                    target=_pump_progress, args=(handle, reader), name=f"{spec.name}-progress", daemon=True
                )
            )
        for thread in readers:
            thread.start()
        threading.Thread(target=_wait, args=(handle, readers), name=f"{spec.name}-exit", daemon=True).start()
        return handle

    def events(self, handle: Handle) -> Iterator[ProcessEvent]:
        if isinstance(handle, OrphanHandle):
            yield Started(handle.record)
            while alive(handle.proc):
                time.sleep(ORPHAN_POLL)  # not our child: no exit to wait for, only its absence
            yield Exited(None)
            return
        assert isinstance(handle, LocalHandle)
        while True:
            event = handle.queue.get()
            yield event
            if isinstance(event, Exited):
                return

    def stop(self, handle: Handle, grace: float) -> None:
        if isinstance(handle, OrphanHandle):
            pid = handle.record.pid
            if pid is not None:
                threading.Thread(target=kill_tree, args=(pid, grace), name="orphan-stop", daemon=True).start()
            return
        assert isinstance(handle, LocalHandle)
        with handle.lock:
            if handle.stopping or handle.exited.is_set():
                return
            handle.stopping = True
        threading.Thread(
            target=kill_tree,
            args=(handle.popen.pid, grace, handle.exited.is_set),  # the waiter reaps it: ask, don't poll
            name=f"{handle.spec.name}-stop",
            daemon=True,
        ).start()

    def reattach(self, record: ProcessRecord) -> Handle | None:
        proc = same_process(record.pid, record.created)
        return OrphanHandle(record, proc) if proc is not None else None

    def usage(self, handle: Handle) -> Usage:
        if isinstance(handle, LocalHandle) and handle.exited.is_set():
            return None, None
        if isinstance(handle, LocalHandle | OrphanHandle):
            return handle.tree.usage()
        return None, None


def _pump_output(handle: LocalHandle) -> None:
    out = cast(io.BufferedReader, handle.popen.stdout)  # stdout=PIPE, buffered: read1 returns what is there
    with out:
        for chunk in iter(lambda: out.read1(READ_SIZE), b""):
            handle.queue.put(LogChunk(chunk))
            if len(chunk) < TRICKLE_BYTES:  # let a trickle gather; heavy output is read at once
                handle.exited.wait(TRICKLE_WAIT)


def _pump_progress(handle: LocalHandle, reader: IO[bytes]) -> None:
    """Complete lines only: a last line without its newline was cut by the process's end."""
    partial = b""
    with reader:
        for chunk in iter(lambda: reader.read(READ_SIZE), b""):
            lines = (partial + chunk).split(b"\n")
            partial = lines.pop()
            for line in lines:
                if line.strip():
                    handle.queue.put(ProgressLine(line))
            if len(chunk) < TRICKLE_BYTES:  # a line per test: let a few gather (fewer wake-ups beside the run)
                handle.exited.wait(TRICKLE_WAIT)


def _wait(handle: LocalHandle, readers: list[threading.Thread]) -> None:
    pid = handle.popen.pid
    try:
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)  # the exit, the moment it happens; not reaped yet
    except ChildProcessError:  # pragma: no cover - reaped elsewhere
        pass
    signal_group(pid, signal.SIGKILL)  # what it left in its group goes with it (its pid is still ours)
    handle.popen.wait()
    handle.exited.set()
    deadline = time.monotonic() + handle.spec.drain
    for thread in readers:
        thread.join(max(0.0, deadline - time.monotonic()))
    if any(t.is_alive() for t in readers):
        log.info("%s (pid %s): a descendant still holds its output open; not waiting for it", handle.spec.name, pid)
    handle.queue.put(Exited(handle.popen.returncode))


def _close(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)
