"""A test run the manager has going on, as memory holds it: how it looks now
(:func:`live_info`), how long it has left (:func:`eta_seconds`), and what is saved
when it ends (:func:`final_results`: a command suite's results come from its
JUnit XML)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dashboard_core.config import SuiteConfig
from dashboard_core.models import CaseInfo, RunCounts, RunInfo, RunStatus, SubtestInfo, Trigger
from dashboard_core.processes.board import Heartbeat, Outbox
from dashboard_core.testing.junit import JunitError, counts_of, parse_junit
from dashboard_core.testing.progress import CaseResult
from dashboard_core.testing.run_verdict import final_verdict
from dashboard_core.testing.runner import SuiteRun
from dashboard_core.units import from_epoch

FINISHING = "finishing: its verdict is being made"


@dataclass(frozen=True, slots=True)
class Final:
    """What a finished run is saved as."""

    status: RunStatus
    message: str
    counts: RunCounts
    cases: list[CaseInfo]
    values: dict[str, Any]  # the columns of its row


@dataclass(eq=False)
class ActiveRun:
    id: int
    suite: SuiteConfig
    trigger: Trigger
    queued_at: datetime
    selection: list[str] | None
    rerun_of: int | None
    expected: float | None  # seconds, from earlier runs
    run: SuiteRun | None = None  # None while queued
    starting: bool = False  # taken from the queue, its process being started
    cancel_asked: bool = False  # while starting
    cancelling: bool = False  # queued, its cancel being saved
    heartbeat: Heartbeat = field(default_factory=Heartbeat)
    rootdir_saved: bool = False
    saved_counts: RunCounts | None = None
    final: Final | None = None  # once finished: what is (being) saved
    outbox: Outbox = field(default_factory=Outbox)


def eta_seconds(expected: float | None, elapsed: float, done: int, collected: int | None) -> float | None:
    """Seconds left: earlier runs' typical duration minus the time spent, or,
    without history (or once past it), the pace so far over the tests left."""
    if expected is not None and elapsed < expected:
        return expected - elapsed
    if collected and done:
        return max(0.0, elapsed / done * (collected - done))
    return None


def live_info(a: ActiveRun, queue_position: int | None, concurrency: int) -> RunInfo:
    """What a run looks like right now, from memory."""
    base: dict[str, Any] = dict(
        id=a.id,
        suite=a.suite.name,
        trigger=a.trigger,
        queued_at=a.queued_at,
        rerun_of=a.rerun_of,
        selected=len(a.selection) if a.selection is not None else None,
    )
    if a.run is None:
        return RunInfo(
            **base,
            status=RunStatus.QUEUED,
            message="starting" if a.starting else f"waiting for a free slot ({concurrency} runs at once)",
            queue_position=queue_position,
        )
    run = a.run
    snap = run.snapshot(with_cases=False)
    started = run.started_at or a.queued_at
    finished = run.wait(0)
    elapsed = ((run.ended_at if finished and run.ended_at else datetime.now(UTC)) - started).total_seconds()
    status, message, counts = run.status, run.message or ("stopping…" if run.stopping else "running"), snap.counts
    if a.final is not None:  # its results, while the store cannot take them yet
        status, message, counts = a.final.status, a.final.message, a.final.counts
    elif finished:  # ended, its verdict not made yet (quarantine and gates may change the tool's)
        status, message = RunStatus.RUNNING, FINISHING
    return RunInfo(
        **base,
        status=status,
        message=message,
        started_at=run.started_at,
        ended_at=run.ended_at,
        duration_seconds=elapsed,
        exit_code=run.exit_code,
        counts=counts,
        current_test=snap.current,
        eta_seconds=None if finished else eta_seconds(a.expected, elapsed, snap.counts.done, snap.counts.collected),
        log_path=str(run.log_path),
    )


def final_results(a: ActiveRun, held: Collection[str] = frozenset()) -> Final:
    """The finished run's verdict, counts and cases, and the columns to save; ``held``: the
    suite's tests in quarantine."""
    run = a.run
    assert run is not None
    snap = run.snapshot()
    cases = [case_info(c) for c in snap.cases]
    counts, status, message = snap.counts, run.status, run.message
    if a.suite.kind == "command":
        cases, counts, status, message = _junit_results(run, status, message)
    duration = (run.ended_at - run.started_at).total_seconds() if run.ended_at and run.started_at else None
    status, message, cases = final_verdict(
        status, message, counts, cases, held=held, gates=a.suite.gates, full_run=a.selection is None, duration=duration
    )
    values: dict[str, Any] = dict(
        status=status,
        message=message,
        started_at=run.started_at,  # again: the save at its start may have failed (a full disk)
        log_path=str(run.log_path),
        ended_at=run.ended_at or datetime.now(UTC),
        updated_at=datetime.now(UTC),
        exit_code=run.exit_code,
        counts=counts,
        rootdir=snap.rootdir,
    )
    return Final(status, message, counts, cases, values)


def case_info(c: CaseResult) -> CaseInfo:
    return CaseInfo(
        nodeid=c.nodeid,
        outcome=c.outcome,
        duration=c.duration,
        message=c.message,
        traceback=c.traceback,
        ordinal=c.ordinal,
        retries=c.retries,
        cpu_user_seconds=c.cpu_user_seconds,
        cpu_system_seconds=c.cpu_system_seconds,
        peak_rss_bytes=c.peak_rss_bytes,
        started_at=from_epoch(c.started_at),
        subtests=[
            SubtestInfo(name=t.name, outcome=t.outcome, duration=t.duration, message=t.message, traceback=t.traceback)
            for t in c.subtests
        ],
    )


def _junit_results(run: SuiteRun, status: RunStatus, message: str) -> tuple[list[CaseInfo], RunCounts, RunStatus, str]:
    """A command suite's cases and counts from its JUnit XML, and the verdict on both."""
    path = run.spec.junit_xml
    if path is None:
        return [], RunCounts(), status, message
    try:
        results = parse_junit(path)
    except JunitError as exc:
        if status is RunStatus.PASSED:
            status = RunStatus.ERROR
        return [], RunCounts(), status, f"{message}; {exc}"
    cases = [case_info(c) for c in results]
    counts = RunCounts.of(counts_of(results), collected=len(cases), done=len(cases))
    if status is RunStatus.PASSED and (counts.failed or counts.errors):
        status, message = RunStatus.FAILED, f"{message}, but its JUnit XML reports failures"
    return cases, counts, status, message
