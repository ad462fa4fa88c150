"""One attempt of a workflow step: a subprocess in its own session, its output
pumped into the step's capped log, its exit seen the moment it happens.

The argv is a list (never a shell). A program that cannot start gives the
reason as a sentence, never an exception. :meth:`StepProcess.kill` stops the
whole tree (SIGTERM to the group and to every descendant, SIGKILL after the
grace period). When the leader exits by itself, whatever it left in its process
group is killed too, so a finished step leaves nothing behind.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import psutil

from dashboard_core.testing.capped_log import CappedLog
from dashboard_core.testing.runner import RunSpec, _cannot_start, _signal_group, kill_tree

PUMP_JOIN_SECONDS = 2.0  # an escaped descendant may hold the pipe open: don't wait on it longer
USAGE_CACHE_SECONDS = 1.0


class StepProcess:
    """Call :meth:`start`; ``done`` is set once the process has exited and its
    output has been read; then ``returncode`` is final. ``on_done`` is called then."""

    def __init__(
        self,
        argv: Sequence[str],
        cwd: Path,
        env: Mapping[str, str],
        log: CappedLog,
        on_done: Callable[[], None] | None = None,
    ) -> None:
        self.argv = list(argv)
        self.cwd = cwd
        self.env = dict(env)
        self.log = log
        self.pid: int | None = None
        self.created: float | None = None  # the leader's create time, to recognise it after a restart
        self.returncode: int | None = None
        self.done = threading.Event()
        self._exited = threading.Event()  # the leader has exited (and been reaped)
        self._on_done = on_done
        self._proc: subprocess.Popen[bytes] | None = None
        self._killing = False
        self._lock = threading.Lock()
        self._tree = ProcessTree()

    def start(self) -> str | None:
        """None once started; else why it cannot start (a sentence)."""
        try:
            self._proc = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop kills it whole
            )
        except OSError as exc:
            return _cannot_start(RunSpec(argv=self.argv, cwd=self.cwd, workdir=self.cwd), exc)
        except (ValueError, subprocess.SubprocessError) as exc:
            return f"cannot start {self.argv[0]!r}: {exc}"
        self.pid = self._proc.pid
        try:
            leader = psutil.Process(self.pid)
            self.created = leader.create_time()
            self._tree.leader = leader
        except psutil.Error:
            pass
        pump = threading.Thread(target=self._pump, args=(self._proc,), name="workflow-step-output", daemon=True)
        pump.start()
        threading.Thread(target=self._wait, args=(self._proc, pump), name="workflow-step-exit", daemon=True).start()
        return None

    def kill(self, grace: float) -> bool:
        """Stop the whole tree in the background; False if already being stopped or done."""
        with self._lock:
            if self._proc is None or self._killing or self._exited.is_set():
                return False
            self._killing = True
        threading.Thread(
            target=kill_tree, args=(self._proc.pid, grace, self._exited.is_set), name="workflow-step-stop", daemon=True
        ).start()
        return True

    def usage(self) -> tuple[float | None, int | None]:
        """CPU % (of one core) and RSS (bytes) of the whole tree; cached about a second.
        CPU is None until a second reading gives an interval to measure over."""
        if self._exited.is_set():
            return None, None
        return self._tree.usage()

    # -- inside --------------------------------------------------------------------
    def _pump(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        with proc.stdout as out:
            for chunk in iter(lambda: out.read1(65536), b""):
                try:
                    self.log.write(chunk)
                except ValueError:  # the log was closed: an escaped descendant outlived the step
                    return

    def _wait(self, proc: subprocess.Popen[bytes], pump: threading.Thread) -> None:
        proc.wait()  # a blocking waitpid: returns the moment the leader exits
        self._exited.set()
        _signal_group(proc.pid, signal.SIGKILL)  # what it left in its group goes with it
        pump.join(PUMP_JOIN_SECONDS)
        self.returncode = proc.returncode
        self.done.set()
        if self._on_done is not None:
            self._on_done()


class ProcessTree:
    """CPU and memory of a process and its descendants. CPU % needs two readings:
    the psutil.Process objects are kept between calls, so ``cpu_percent(None)``
    measures over the time since the previous reading, without sleeping."""

    def __init__(self, leader: psutil.Process | None = None, cache_seconds: float = USAGE_CACHE_SECONDS) -> None:
        self.leader = leader
        self.cache_seconds = cache_seconds
        self._known: dict[int, psutil.Process] = {}
        self._cached: tuple[float, float | None, int | None] | None = None
        self._lock = threading.Lock()

    def usage(self) -> tuple[float | None, int | None]:
        with self._lock:
            now = time.monotonic()
            if self._cached is not None and now - self._cached[0] < self.cache_seconds:
                return self._cached[1], self._cached[2]
            cpu, rss = self._read()
            self._cached = (now, cpu, rss)
            return cpu, rss

    def _read(self) -> tuple[float | None, int | None]:
        if self.leader is None:
            return None, None
        try:
            members = [self.leader, *self.leader.children(recursive=True)]
        except psutil.Error:
            return None, None
        cpu, rss, measured, seen = 0.0, 0, False, {}
        for proc in members:
            known = self._known.get(proc.pid)
            try:
                if known is not None and known == proc:  # same pid and create time: a second reading
                    cpu += known.cpu_percent(None)
                    measured = True
                else:
                    known = proc
                    known.cpu_percent(None)  # the first reading starts the interval
                rss += known.memory_info().rss
            except psutil.Error:
                continue
            seen[proc.pid] = known
        self._known = seen
        return (cpu if measured else None), (rss if seen else None)
