"""Processes: a low-rate scan for the top-N tables and the watched processes.

A full scan of the process table is what makes Glances and Netdata expensive,
so it runs at its own, slower cadence. Watched processes are matched during
that scan and then read directly, by pid, at the host sampling rate.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Literal

import psutil

from dashboard_core.metrics.fields import Field

log = logging.getLogger(__name__)

WATCH_CPU = Field("watch.cpu", "%", "Watched process CPU (100 % = one core)", label="process", short="CPU")
WATCH_RSS = Field(
    "watch.rss", "bytes", "Watched process resident memory", label="process", dtype="float64", short="RSS"
)
WATCH_COUNT = Field("watch.count", "processes", "Watched processes running", label="process", short="processes")

_SCAN_ATTRS = ["pid", "name", "username", "cpu_percent", "memory_info", "memory_percent"]
_CMDLINE_CHARS = 300


@dataclass(frozen=True, slots=True)
class WatchRule:
    """A watched process: ``label`` names the columns; ``pattern`` matches the
    process name exactly (``match="name"``) or the command line as a regex."""

    label: str
    pattern: str
    match: Literal["name", "cmdline"] = "name"

    def matches(self, name: str, cmdline: str) -> bool:
        if self.match == "name":
            return name == self.pattern
        return re.search(self.pattern, cmdline) is not None


@dataclass(frozen=True, slots=True)
class ProcessRow:
    pid: int
    name: str
    user: str
    cpu_percent: float
    rss: float
    memory_percent: float
    cmdline: str


def scan_processes(ps: ModuleType = psutil, with_cmdline: bool = False) -> list[ProcessRow]:
    """One pass over the process table. CPU % compares with the previous scan
    (psutil keeps the process objects between calls); the first scan reads 0."""
    attrs = [*_SCAN_ATTRS, "cmdline"] if with_cmdline else _SCAN_ATTRS
    rows: list[ProcessRow] = []
    for proc in ps.process_iter(attrs, ad_value=None):
        info = proc.info
        mem = info.get("memory_info")
        cmd = info.get("cmdline") or []
        rows.append(
            ProcessRow(
                pid=info["pid"],
                name=info.get("name") or "",
                user=info.get("username") or "",
                cpu_percent=float(info.get("cpu_percent") or 0.0),
                rss=float(mem.rss) if mem is not None else 0.0,
                memory_percent=float(info.get("memory_percent") or 0.0),
                cmdline=" ".join(cmd)[:_CMDLINE_CHARS],
            )
        )
    return rows


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
            matched = {r.pid for r in rows if rule.matches(r.name, r.cmdline)}
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
