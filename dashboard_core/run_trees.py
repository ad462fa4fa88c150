"""The Runtime's part that keeps each run's own resource story: the process trees
of the test runs and workflow steps going on, sampled by a
:class:`~dashboard_core.processes.tree_sampler.TreeSampler` and kept in the
store with their run.

What runs is read from the suite manager's and the workflow supervisor's boards
(memory, under their guards, no store read). The sampler's thread sleeps while
nothing runs; the event log wakes it when a test run or a workflow run starts,
and the suite manager and the workflow supervisor when a run's or a step's
process starts: it then reads at once, so a step shorter than its interval has
a sample too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from dashboard_core.events import EventLog
from dashboard_core.models import Event, EventKind, RunInfo, StepStatus
from dashboard_core.processes.resource_log import ResourceLog, ResourceSample, RunKey
from dashboard_core.processes.spec import ProcessRecord
from dashboard_core.processes.tree_sampler import Target, TreeSampler
from dashboard_core.store import Store
from dashboard_core.testing.manager import SuiteManager
from dashboard_core.workflows.supervisor import WorkflowSupervisor

_WAKING = {EventKind.TEST_RUN, EventKind.WORKFLOW}
READ_CACHE_RUNS = 4  # runs whose stored series are kept in memory once read (a day of a tree: ~4 MB)


class RunTrees:
    def __init__(self, store: Store, tests: SuiteManager, workflows: WorkflowSupervisor, events: EventLog) -> None:
        self.tests = tests
        self.workflows = workflows
        self.events = events
        self.log = ResourceLog(store)
        self.sampler = TreeSampler(self.targets, self.log.write)
        self._unsubscribe: Callable[[], None] | None = None
        self._lock = threading.Lock()
        self._read: dict[tuple[str, int], tuple[int, dict[str | None, list[ResourceSample]]]] = {}  # newest last

    def start(self) -> None:
        self._unsubscribe = self.events.subscribe(self._heard)
        self.tests.listeners.append(self._run_told)  # told even when the event cannot be stored
        self.workflows.step_listeners.append(self._step_told)  # a step's process started: read it now
        self.sampler.start()

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._run_told in self.tests.listeners:
            self.tests.listeners.remove(self._run_told)
        if self._step_told in self.workflows.step_listeners:
            self.workflows.step_listeners.remove(self._step_told)
        self.sampler.stop()

    def _run_told(self, _run: RunInfo) -> None:
        self.sampler.wake()

    def _step_told(self, _run_id: int, _step: str) -> None:
        self.sampler.wake()

    def _heard(self, event: Event) -> None:
        if event.kind in _WAKING:
            self.sampler.wake()

    def targets(self) -> list[Target]:
        """Every test run and workflow step going on, with its process while it has one."""
        found: list[Target] = []
        with self.tests.guard:
            for a in self.tests.board.active.values():
                process = a.run.process if a.run is not None else None
                record = process.record if process is not None and not process.done.is_set() else None
                found.append(Target(RunKey.test(a.id), *_root(record)))
        with self.workflows.guard:
            for run in self.workflows.board.active.values():
                for step in run.steps.values():
                    if step.status.finished:
                        continue
                    proc = step.proc if step.status is StepStatus.RUNNING else None
                    record = proc.record if proc is not None and not proc.done.is_set() else None
                    found.append(Target(RunKey.workflow(run.id, step.name), *_root(record)))
        return found

    def series(self, kind: str, run_id: int) -> dict[str | None, list[ResourceSample]]:
        """A run's series by step (None for a test run): what the store has, then what
        is still waiting to be written. What was read of the store is kept for the
        runs read last, so a page that refreshes every second reads only new rows."""
        waiting = self.sampler.pending(kind, run_id)  # first: a flush in between is then read from the store
        with self._lock:
            last, known = self._read.pop((kind, run_id), (0, {}))
        new, last = self.log.read(kind, run_id, last)
        for step, samples in new.items():
            known[step] = known.get(step, []) + samples
        with self._lock:
            self._read[(kind, run_id)] = (last, known)
            while len(self._read) > READ_CACHE_RUNS:
                self._read.pop(next(iter(self._read)))
        series = {step: list(samples) for step, samples in known.items()}
        for key, pending in waiting.items():
            have = series.setdefault(key.step, [])
            newest = have[-1].at if have else float("-inf")
            have.extend(s for s in pending if s.at > newest)  # written meanwhile: counted once
        return {step: samples for step, samples in sorted(series.items(), key=_by_step) if samples}


def _root(record: ProcessRecord | None) -> tuple[int | None, float | None]:
    return (record.pid, record.created) if record is not None else (None, None)


def _by_step(item: tuple[str | None, object]) -> str:
    return item[0] or ""
