"""Processes: a low-rate scan for the top-N tables and the watched processes.

A full scan of the process table is what makes Glances and Netdata expensive,
so it runs at its own, slower cadence. Watched processes are matched during
that scan and then read directly, by pid, at the host sampling rate.
"""

from __future__ import annotations

import logging
import os
import pwd
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Literal

import psutil

from dashboard_core.config import WatchConfig
from dashboard_core.metrics.fields import Field
from dashboard_core.metrics.procfs import Reader, default_reader

log = logging.getLogger(__name__)

WATCH_CPU = Field("watch.cpu", "%", "Watched process CPU (100 % = one core)", label="process", short="CPU")
WATCH_RSS = Field(
    "watch.rss", "bytes", "Watched process resident memory", label="process", dtype="float64", short="RSS"
)
WATCH_COUNT = Field("watch.count", "processes", "Watched processes running", label="process", short="processes")


@dataclass(frozen=True, slots=True)
class WatchRule:
    """A watched process: ``label`` names the columns; ``pattern`` matches the
    process name exactly (``match="name"``) or the command line as a regex;
    ``match="self"`` is this process (the dashboard's server), by its pid: on a
    host with other dashboards a pattern would match theirs too."""

    label: str
    pattern: str
    match: Literal["name", "cmdline", "self"] = "name"

    def matches(self, name: str, cmdline: str, pid: int | None = None) -> bool:
        if self.match == "self":
            return pid == os.getpid()
        if self.match == "name":
            return name == self.pattern
        return re.search(self.pattern, cmdline) is not None

    @classmethod
    def of(cls, watch: WatchConfig) -> WatchRule:
        """The rule a ``[[watch]]`` entry of the config describes."""
        return cls(label=watch.label, pattern=watch.pattern or "", match=watch.match)


@dataclass(frozen=True, slots=True)
class ProcessRow:
    pid: int
    name: str
    user: str
    cpu_percent: float
    rss: float
    memory_percent: float
    cmdline: str


class ProcessScanner:
    """One pass over the process table per :meth:`scan`.

    CPU % is each process's CPU-time delta over the time since the previous
    scan (a process seen for the first time reads 0 %); user names are looked
    up once per uid; memory % is RSS over total memory. ``reader`` is where the
    readings come from (/proc on Linux, psutil elsewhere).
    """

    def __init__(
        self,
        reader: Reader | None = None,
        clock: Callable[[], float] = time.monotonic,
        total_memory: Callable[[], float] = lambda: float(psutil.virtual_memory().total),
    ) -> None:
        self._read = reader or default_reader()
        self._clock = clock
        self._total_memory = total_memory
        self._cpu: dict[int, tuple[object, float]] = {}  # pid -> (start identity, CPU seconds)
        self._scanned_at: float | None = None
        self._users: dict[int, str] = {}

    def scan(self, with_cmdline: bool = False) -> list[ProcessRow]:
        now = self._clock()
        elapsed = now - self._scanned_at if self._scanned_at is not None else 0.0
        total_memory = self._total_memory()
        rows: list[ProcessRow] = []
        cpu_now: dict[int, tuple[object, float]] = {}
        for r in self._read(with_cmdline):
            cpu_percent = 0.0
            if r.cpu_seconds is not None:
                cpu_now[r.pid] = (r.started, r.cpu_seconds)
                previous = self._cpu.get(r.pid)
                # A reused pid is another process: no delta against the old one.
                if previous is not None and previous[0] == r.started and elapsed > 0:
                    cpu_percent = max(0.0, (r.cpu_seconds - previous[1]) / elapsed * 100.0)
            rows.append(
                ProcessRow(
                    pid=r.pid,
                    name=r.name,
                    user=self._user(r.uid) if r.uid is not None else "",
                    cpu_percent=cpu_percent,
                    rss=r.rss,
                    memory_percent=r.rss / total_memory * 100.0 if total_memory else 0.0,
                    cmdline=r.cmdline,
                )
            )
        self._cpu = cpu_now
        self._scanned_at = now
        return rows

    def _user(self, uid: int) -> str:
        name = self._users.get(uid)
        if name is None:
            try:
                name = pwd.getpwuid(uid).pw_name
            except KeyError:  # a uid with no passwd entry (containers)
                name = str(uid)
            self._users[uid] = name
        return name


def top_processes(rows: Sequence[ProcessRow], n: int, by: Literal["cpu", "memory"]) -> list[ProcessRow]:
    key = (lambda r: r.cpu_percent) if by == "cpu" else (lambda r: r.rss)
    return sorted(rows, key=key, reverse=True)[:n]


class WatchedProcessesSource:
    """CPU %, RSS and count of the processes each rule matches.

    Matching happens in :meth:`rematch` (called after each slow scan); samples
    read only the matched pids, through process objects of its own so that its
    CPU % baseline is independent of the scan's.
    """

    name = "watched processes"
    fields = (WATCH_CPU, WATCH_RSS, WATCH_COUNT)

    def __init__(self, rules: Sequence[WatchRule], ps: ModuleType = psutil) -> None:
        self.rules = list(rules)
        self._ps = ps
        self._procs: dict[str, dict[int, psutil.Process]] = {r.label: {} for r in self.rules}

    @property
    def needs_cmdline(self) -> bool:
        return any(r.match == "cmdline" for r in self.rules)

    def rematch(self, rows: Sequence[ProcessRow]) -> None:
        for rule in self.rules:
            current = self._procs[rule.label]
            matched = {r.pid for r in rows if rule.matches(r.name, r.cmdline, r.pid)}
            for pid in list(current):
                if pid not in matched:
                    del current[pid]
            for pid in matched - current.keys():
                try:
                    proc = self._ps.Process(pid)
                    proc.cpu_percent()  # sets the baseline; the next sample reads a real value
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                current[pid] = proc

    def sample(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for label, procs in self._procs.items():
            cpu = rss = 0.0
            alive = 0
            for pid, proc in list(procs.items()):
                try:
                    with proc.oneshot():
                        if proc.status() == psutil.STATUS_ZOMBIE:  # exited, not yet reaped
                            raise psutil.NoSuchProcess(pid)
                        cpu += proc.cpu_percent()
                        rss += proc.memory_info().rss
                    alive += 1
                except psutil.NoSuchProcess:
                    del procs[pid]
                except psutil.AccessDenied:
                    continue
            out[WATCH_COUNT.column(label)] = float(alive)
            if alive:
                out[WATCH_CPU.column(label)] = cpu
                out[WATCH_RSS.column(label)] = rss
        return out
