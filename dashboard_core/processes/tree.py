"""A process and its descendants on this host: stop them all, measure them all.

:func:`kill_tree` sends SIGTERM to the process group led by a pid and to every
descendant (also those that moved to a group of their own, with ``setsid``),
then SIGKILL to what is left after the grace period. :class:`ProcessTree` reads
the CPU and memory of a process and its descendants.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable

import psutil

USAGE_CACHE_SECONDS = 1.0


def kill_tree(pid: int, grace: float, exited: Callable[[], bool] | None = None) -> None:
    """SIGTERM the process group led by ``pid``, SIGKILL what is left after
    ``grace`` seconds, including descendants that moved to a group of their own.

    ``exited`` tells (and reaps) the leader when it is our child; otherwise psutil does.
    """
    try:
        leader: psutil.Process | None = psutil.Process(pid)
        family = leader.children(recursive=True) if leader is not None else []
    except psutil.NoSuchProcess:
        leader, family = None, []
    if exited is None:
        exited = lambda: leader is None or not alive(leader)  # noqa: E731
    signal_group(pid, signal.SIGTERM)
    for p in family:
        _signal(p, signal.SIGTERM)
    deadline = time.monotonic() + grace
    still = [p for p in family if alive(p)]
    while (not exited() or still) and time.monotonic() < deadline:
        time.sleep(0.05)  # polling the processes' exit, with a deadline
        still = [p for p in still if alive(p)]
    signal_group(pid, signal.SIGKILL)
    for p in family:
        _signal(p, signal.SIGKILL)


def alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def same_process(pid: int | None, created: float | None) -> psutil.Process | None:
    """The live process with this pid and start time, or None (gone, a zombie, or
    the pid recycled by another process)."""
    if not pid or created is None:
        return None
    try:
        proc = psutil.Process(pid)
        if abs(proc.create_time() - created) > 0.01 or proc.status() == psutil.STATUS_ZOMBIE:
            return None
    except psutil.Error:
        return None
    return proc


def signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _signal(proc: psutil.Process, sig: signal.Signals) -> None:
    try:
        proc.send_signal(sig)
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        pass


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
