"""Where a supervised process's output goes.

:class:`CappedLog`: a log file capped in size: the head goes to the file as it
comes, the tail is kept in memory, and at close the file gets a line saying how
much was cut, then the tail. A runaway test printing gigabytes costs at most the
cap. :class:`TailBuffer`: only the end of the output, in memory (a command check
needs its last line). Either is a :class:`LogSink`.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from pathlib import Path
from typing import BinaryIO, Protocol

from dashboard_core.processes.log_tail import LogTail, tail_of


class LogSink(Protocol):
    def write(self, data: bytes) -> None:
        """Take more output; raises ValueError once closed."""
        ...


class CappedLog:
    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = path
        self._head_room = max_bytes // 2
        self._tail_room = max_bytes - self._head_room
        self._file: BinaryIO = open(path, "wb")  # noqa: SIM115 - closed in close()
        self._tail: deque[bytes] = deque()
        self._tail_bytes = 0
        self._lock = threading.Lock()  # the output pump writes, pages read the tail
        self.total = 0  # bytes received

    def write(self, data: bytes) -> None:
        with self._lock:
            if self._file.closed:
                raise ValueError(f"{self.path}: the log is closed")
            self.total += len(data)
            if self._head_room > 0:
                head, data = data[: self._head_room], data[self._head_room :]
                self._file.write(head)
                self._file.flush()
                self._head_room -= len(head)
            if data:
                self._tail.append(data)
                self._tail_bytes += len(data)
                while self._tail_bytes - len(self._tail[0]) >= self._tail_room:
                    self._tail_bytes -= len(self._tail.popleft())

    def tail(self, max_bytes: int = 4000) -> LogTail:
        """The newest output, for a live view while the run goes on: the tail in
        memory, and the end of the head in the file while the tail is short."""
        with self._lock:
            if self._file.closed:  # the file is whole: head, the cut, tail
                return read_tail(self.path, max_bytes)
            want = max_bytes + 1  # one byte more: the end of the line before, see tail_of
            chunks: list[bytes] = []
            size = 0
            for chunk in reversed(self._tail):
                chunks.append(chunk)
                size += len(chunk)
                if size >= want:
                    break
            data = b"".join(reversed(chunks))[-want:]
            dropped = self.total - self._file.tell() - self._tail_bytes  # output neither in the head nor the tail
            if len(data) < want and not dropped:
                data = _read_end(self.path, want - len(data)) + data
        return tail_of(data, whole=len(data) < want and not dropped)

    def close(self) -> None:
        with self._lock:
            if self._file.closed:
                return
            tail = b"".join(self._tail)[-self._tail_room :] if self._tail_room else b""
            cut = self.total - self._file.tell() - len(tail)
            if cut > 0:
                self._file.write(
                    f"\n[... {cut:,} bytes of output cut here: the log keeps its head and tail ...]\n".encode()
                )
            self._file.write(tail)
            self._file.close()


class TailBuffer:
    """The last ``keep`` bytes (at least) of the output, in memory."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self._data = bytearray()
        self._lock = threading.Lock()

    def write(self, data: bytes) -> None:
        with self._lock:
            self._data += data
            if len(self._data) > 2 * self.keep:
                del self._data[: -self.keep]

    def last_line(self) -> str:
        """The last line that is not blank, stripped ("" if none)."""
        with self._lock:
            text = bytes(self._data).decode(errors="replace")
        lines = [line.strip() for line in text.splitlines()]
        return next((line for line in reversed(lines) if line), "")


def read_tail(path: Path, max_bytes: int = 4000) -> LogTail:
    """The newest output in a log file (none if it is gone)."""
    data = _read_end(path, max_bytes + 1)
    return tail_of(data, whole=len(data) <= max_bytes)


def _read_end(path: Path, n: int) -> bytes:
    """The last ``n`` bytes of a file (b"" if it is gone)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - n))
            return f.read()
    except OSError:
        return b""
