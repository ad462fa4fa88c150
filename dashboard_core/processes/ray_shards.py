"""One run as N Ray jobs (a pytest suite's ``shards``): their event streams merged
into one, as if one process had run every test.

Each job gets ``DASHBOARD_SHARD=i/N`` (the pytest plugin keeps every N-th
collected test, starting at the i-th: a deterministic split of one collection).
The merge, on the progress lines: one ``collected`` line with the sum, once every
shard has counted its own; a file that cannot be collected once (every shard
collects every file); one environment line; one ``SessionFinish`` at the end with
the merged exit status. Output lines get a ``[shard i/N]`` prefix, whole lines only,
so the shards' output never interleaves within a line.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

from dashboard_core.processes.spec import Exited, LogChunk, ProcessEvent, ProgressLine, Started

SHARD_ENV = "DASHBOARD_SHARD"
NO_TESTS = 5  # pytest's exit code when a shard got no test (more shards than tests)


def merged_exit(codes: list[int | None]) -> int | None:
    """None if any end was not seen; a signal's code if any was killed; else the
    worst pytest code, leaving out "no tests" unless every shard had none."""
    if any(c is None for c in codes):
        return None
    known = [c for c in codes if c is not None]
    killed = [c for c in known if c < 0]
    if killed:
        return killed[0]
    ran = [c for c in known if c != NO_TESTS]
    return max(ran) if ran else NO_TESTS


class ShardMerge:
    """Folds the shards' events into one stream's (not thread-safe: one consumer)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.collected: dict[int, int] = {}
        self.rootdir: str | None = None
        self.collected_sent = False
        self.collect_errors: set[str] = set()
        self.environment_sent = False
        self.partial: dict[int, bytes] = {}
        self.ended: set[int] = set()

    def progress(self, shard: int, line: bytes) -> list[ProcessEvent]:
        try:
            record: Any = json.loads(line)
        except ValueError:
            return [ProgressLine(line)]
        if not isinstance(record, dict):
            return [ProgressLine(line)]
        kind = record.get("$report_type") or record.get("event")
        if kind == "collected":
            self.collected[shard] = int(record.get("count") or 0)
            self.rootdir = self.rootdir or record.get("rootdir")
            return self._collected_when_all()
        if kind == "environment":
            if self.environment_sent:
                return []
            self.environment_sent = True
        elif kind == "CollectReport":
            nodeid = str(record.get("nodeid"))
            if nodeid in self.collect_errors:
                return []
            self.collect_errors.add(nodeid)
        elif kind == "SessionFinish":
            return []  # one at the end, for the whole run
        return [ProgressLine(line)]

    def output(self, shard: int, data: bytes, final: bool = False) -> list[ProcessEvent]:
        text = self.partial.pop(shard, b"") + data
        lines = text.split(b"\n")
        rest = lines.pop()
        if rest and not final:
            self.partial[shard] = rest
        elif rest:
            lines.append(rest)
        prefix = f"[shard {shard + 1}/{self.n}] ".encode()
        chunk = b"".join(prefix + line + b"\n" for line in lines)
        return [LogChunk(chunk)] if chunk else []

    def shard_ended(self, shard: int) -> list[ProcessEvent]:
        self.ended.add(shard)
        return self.output(shard, b"", final=True) + self._collected_when_all()

    def finish(self, code: int | None) -> list[ProcessEvent]:
        events = self._collected_when_all(force=True)
        if code is not None and code >= 0:
            events.append(ProgressLine(json.dumps({"$report_type": "SessionFinish", "exitstatus": code}).encode()))
        return events

    def _collected_when_all(self, force: bool = False) -> list[ProcessEvent]:
        if self.collected_sent or not (force or all(i in self.collected or i in self.ended for i in range(self.n))):
            return []
        if not self.collected:
            return []
        self.collected_sent = True
        record = {"event": "collected", "count": sum(self.collected.values()), "rootdir": self.rootdir}
        return [ProgressLine(json.dumps(record).encode())]


def merge_streams(streams: list[Callable[[], Iterator[ProcessEvent]]], started: Started) -> Iterator[ProcessEvent]:
    """Read each shard's events on a thread of its own; yield them merged, ending with one ``Exited``."""
    n = len(streams)
    inbox: queue.SimpleQueue[tuple[int, ProcessEvent | None]] = queue.SimpleQueue()

    def pump(i: int) -> None:
        try:
            for event in streams[i]():
                inbox.put((i, event))
        finally:
            inbox.put((i, None))

    for i in range(n):
        threading.Thread(target=pump, args=(i,), name=f"shard-{i + 1}-of-{n}", daemon=True).start()
    merge = ShardMerge(n)
    codes: dict[int, int | None] = {}
    running = n
    yield started
    while running:
        i, event = inbox.get()
        if event is None:
            running -= 1
            codes.setdefault(i, None)
            yield from merge.shard_ended(i)
        elif isinstance(event, ProgressLine):
            yield from merge.progress(i, event.data)
        elif isinstance(event, LogChunk):
            yield from merge.output(i, event.data)
        elif isinstance(event, Exited):
            codes[i] = event.code
    code = merged_exit([codes.get(i) for i in range(n)])
    yield from merge.finish(code)
    yield Exited(code)
