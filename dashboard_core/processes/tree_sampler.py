"""Sampling the process trees of the runs going on, kept with each run.

While a test run or a workflow step runs, its tree (the root the executor
started, known by pid and start time, and every descendant) is read every
:data:`INTERVAL_SECONDS`: CPU, resident memory, how many processes. The
samples are buffered and written to the store in chunks
(:class:`~dashboard_core.processes.resource_log.ResourceLog`) every
:data:`FLUSH_SECONDS` and when a tree ends.

Why 2 s: each reading lists the host's processes to find the descendants
(psutil reads every ``/proc/<pid>/stat``), about as much as the sampler's own
1 s host reading; every 2 s halves that while a run goes on and still draws a
step of a few seconds, at 45 KB of store per hour of run.

What the CPU counts: user + system time of the tree's live processes plus the
children each of them has waited for (``children_user``/``children_system``), so
a short-lived compiler or worker is counted even when it started and ended
between two readings. A process that left the tree (reparented to init) takes
its time with it: the total never goes back (decreases are not counted).

Its own thread, which sleeps without a timeout while nothing runs: an idle
dashboard pays nothing (``bench/sampler_cost.py`` measures a whole idle
Runtime). It is woken (:meth:`TreeSampler.wake`) when a run or a step starts,
and reads at once even between two readings: nothing else would sample a step
that starts and ends inside one interval.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import psutil

from dashboard_core.logonce import recovered, warn_once
from dashboard_core.processes.resource_log import ResourceSample, RunKey
from dashboard_core.processes.tree import same_process

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 2.0
FLUSH_SECONDS = 30.0
MAX_BUFFERED = 3600  # samples per tree kept while the store refuses writes (2 h); older ones are dropped


@dataclass(frozen=True, slots=True)
class Target:
    """A tree to read: whose it is and its root (None while it has none: queued, backing off)."""

    key: RunKey
    pid: int | None = None
    created: float | None = None


@dataclass(frozen=True, slots=True)
class TreeReading:
    cpu_seconds: float  # cumulative, see the module's docstring
    rss_bytes: int
    processes: int


def read_tree(root: psutil.Process) -> TreeReading | None:
    """The tree under ``root`` now; None once the root is gone (or its pid is another's).
    A descendant that exits while it is read is left out, never an error."""
    try:
        if not root.is_running():  # compares the start time: a recycled pid is not ours
            return None
        members = [root, *root.children(recursive=True)]
    except psutil.Error:
        return None
    cpu, rss, alive = 0.0, 0, 0
    for proc in members:
        try:
            with proc.oneshot():
                times = proc.cpu_times()
                zombie = proc.status() == psutil.STATUS_ZOMBIE
                memory = 0 if zombie else proc.memory_info().rss
        except psutil.Error:  # gone since the listing: its time is its parent's now
            continue
        cpu += times.user + times.system + times.children_user + times.children_system
        if not zombie:
            rss += memory
            alive += 1
    if alive == 0 and cpu == 0.0:
        return None
    return TreeReading(cpu, rss, alive)


@dataclass(slots=True)
class _Meter:
    """One key's running figures across the roots it has had (a service's restarts)."""

    root: psutil.Process | None = None
    root_id: tuple[int, float] | None = None
    last_cpu: float = 0.0  # the current root's cumulative CPU at the last reading
    last_at: float = 0.0
    total: float = 0.0  # CPU seconds of every root so far


class TreeSampler:
    """``targets`` says what runs now (read from memory, cheap); ``write`` stores a
    flush's chunks (it may raise: the samples are kept and tried again)."""

    def __init__(
        self,
        targets: Callable[[], list[Target]],
        write: Callable[[Iterable[tuple[RunKey, list[ResourceSample]]]], None],
        *,
        interval: float = INTERVAL_SECONDS,
        flush_seconds: float = FLUSH_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.targets = targets
        self.write = write
        self.interval = interval
        self.flush_seconds = flush_seconds
        self.clock = clock
        self.ticks = 0  # readings passes made (tests: the thread sleeps while nothing runs)
        self._meters: dict[RunKey, _Meter] = {}
        self._buffer: dict[RunKey, list[ResourceSample]] = {}
        self._lock = threading.Lock()  # guards _buffer (readers call pending())
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_flush = time.monotonic()

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        self._stop.clear()
        self._wake.set()  # a first look: runs may have started before this thread
        self._thread = threading.Thread(target=self._loop, name="run-trees", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop and write what is buffered (best effort)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.flush()

    def wake(self) -> None:
        """A run or a step started: look now (the thread may be asleep without a timeout,
        or between two readings)."""
        self._wake.set()

    def pending(self, kind: str, run_id: int) -> dict[RunKey, list[ResourceSample]]:
        """A run's samples not written yet, by key, oldest first."""
        with self._lock:
            return {k: list(v) for k, v in self._buffer.items() if k.kind == kind and k.run_id == run_id}

    # -- the loop ----------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()  # before looking: a run that starts later wakes the next wait
            started = time.monotonic()
            try:
                busy = self.tick()
            except Exception as exc:  # noqa: BLE001 - a bug must not end the sampling of every later run
                warn_once(log, "run-trees", "Sampling the runs' process trees failed: %r; it goes on", exc)
                busy = True
            else:
                recovered(log, "run-trees", "Sampling the runs' process trees works again")
            if busy:  # the next reading when due, or at once if woken: a step may have started
                self._wake.wait(max(0.0, self.interval - (time.monotonic() - started)))
            else:
                self._wake.wait()  # nothing runs: no timeout, no cost until a run starts

    def tick(self) -> bool:
        """One pass: read every target's tree, write what is due. False when nothing
        runs and nothing is left to write (the thread may then sleep until woken)."""
        targets = self.targets()
        self.ticks += 1
        now = self.clock()
        seen: set[RunKey] = set()
        for target in targets:
            seen.add(target.key)
            sample = self._read(target, now)
            if sample is not None:
                with self._lock:
                    buffered = self._buffer.setdefault(target.key, [])
                    buffered.append(sample)
                    del buffered[:-MAX_BUFFERED]
        ended = [key for key in self._meters if key not in seen]
        for key in ended:
            del self._meters[key]
        if ended or time.monotonic() - self._last_flush >= self.flush_seconds:
            self.flush()
        return bool(targets) or bool(self._buffer)

    def _read(self, target: Target, now: float) -> ResourceSample | None:
        meter = self._meters.setdefault(target.key, _Meter())
        if target.pid is None or target.created is None:
            return None
        if meter.root_id != (target.pid, target.created):  # a new root: the key's first, or a restart
            meter.root, meter.root_id = same_process(target.pid, target.created), (target.pid, target.created)
            meter.last_cpu, meter.last_at = 0.0, target.created  # it has used nothing before it started
        if meter.root is None:
            return None
        reading = read_tree(meter.root)
        if reading is None:
            meter.root = None  # gone: nothing more to read until the next root
            return None
        used = max(0.0, reading.cpu_seconds - meter.last_cpu)
        elapsed = now - meter.last_at
        meter.total += used
        meter.last_cpu, meter.last_at = reading.cpu_seconds, now  # after a drop, growth from here counts
        percent = used / elapsed * 100 if elapsed > 0 else 0.0
        return ResourceSample(now, percent, meter.total, reading.rss_bytes, reading.processes)

    def flush(self) -> bool:
        """Write every buffered sample; False if the store refused (they are kept)."""
        self._last_flush = time.monotonic()
        with self._lock:
            chunks = [(key, list(samples)) for key, samples in self._buffer.items() if samples]
        if not chunks:
            return True
        try:
            self.write(chunks)
        except Exception as exc:  # noqa: BLE001 - a full disk, a run deleted meanwhile: keep sampling
            warn_once(log, "run-trees-write", "Cannot store the runs' resource samples: %s; kept, tried again", exc)
            return False
        recovered(log, "run-trees-write", "The runs' resource samples can be stored again")
        with self._lock:
            for key, written in chunks:
                left = [s for s in self._buffer.get(key, []) if s.at > written[-1].at]  # those taken since stay
                if left:
                    self._buffer[key] = left
                else:
                    self._buffer.pop(key, None)
        return True
