"""Reading the process table: straight from /proc on Linux, through psutil elsewhere.

A full scan is the expensive part of process monitoring. psutil builds an
object and reads several files per process (~75 µs each here); one read of
``/proc/<pid>/stat`` plus a ``stat()`` of the directory gives everything the
top-N tables need (~11 µs). The proc root is a parameter, so tests can pin exact
numbers with a fake tree and also compare the real one with psutil.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

import psutil

_CMDLINE_CHARS = 300


class ProcessReading(NamedTuple):
    pid: int
    started: object  # identifies this process among all that ever had the pid
    name: str
    uid: int | None
    cpu_seconds: float | None  # user + system since the process started
    rss: float
    cmdline: str


Reader = Callable[[bool], Iterator[ProcessReading]]


class ProcReader:
    """Linux: ``/proc/<pid>/stat`` (name, CPU ticks, start time, RSS pages)."""

    def __init__(self, root: str | os.PathLike[str] = "/proc") -> None:
        self.root = Path(root)
        self._ticks = os.sysconf("SC_CLK_TCK")
        self._page = os.sysconf("SC_PAGE_SIZE")

    def __call__(self, with_cmdline: bool = False) -> Iterator[ProcessReading]:
        root = str(self.root)
        with os.scandir(root) as entries:  # closed even if the caller stops early
            for entry in entries:
                if not entry.name.isdigit():
                    continue
                try:
                    with open(f"{root}/{entry.name}/stat", "rb") as f:
                        stat = f.read()
                    uid = entry.stat(follow_symlinks=False).st_uid
                    cmdline = self._cmdline(root, entry.name) if with_cmdline else ""
                except OSError:  # exited between the listing and the read
                    continue
                # The name is in parentheses and may itself hold spaces or ')'.
                head, _, tail = stat.rpartition(b")")
                name = head.partition(b"(")[2].decode(errors="replace")
                fields = tail.split()  # fields[0] is the state (field 3 of stat)
                yield ProcessReading(
                    pid=int(entry.name),
                    started=int(fields[19]),
                    name=name,
                    uid=uid,
                    cpu_seconds=(int(fields[11]) + int(fields[12])) / self._ticks,
                    rss=float(int(fields[21]) * self._page),
                    cmdline=cmdline,
                )

    @staticmethod
    def _cmdline(root: str, pid: str) -> str:
        with open(f"{root}/{pid}/cmdline", "rb") as f:
            raw = f.read(_CMDLINE_CHARS * 4)
        return raw.rstrip(b"\0").replace(b"\0", b" ").decode(errors="replace")[:_CMDLINE_CHARS]


class PsutilReader:
    """Any OS psutil supports; psutil hands out a new object when a pid is reused."""

    def __init__(self, ps: ModuleType = psutil) -> None:
        self._ps = ps

    def __call__(self, with_cmdline: bool = False) -> Iterator[ProcessReading]:
        attrs = ["pid", "name", "uids", "cpu_times", "memory_info"] + (["cmdline"] if with_cmdline else [])
        for proc in self._ps.process_iter(attrs, ad_value=None):
            info = proc.info
            times = info.get("cpu_times")
            mem = info.get("memory_info")
            uids = info.get("uids")
            yield ProcessReading(
                pid=info["pid"],
                started=proc,
                name=info.get("name") or "",
                uid=uids.real if uids is not None else None,
                cpu_seconds=times.user + times.system if times is not None else None,
                rss=float(mem.rss) if mem is not None else 0.0,
                cmdline=" ".join(info.get("cmdline") or [])[:_CMDLINE_CHARS],
            )


def default_reader() -> Reader:
    return ProcReader() if Path("/proc/self/stat").exists() else PsutilReader()
