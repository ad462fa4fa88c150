"""Test suites and their runs: status, counts, cases, requests and answers of the API."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from dashboard_core.models.quarantine import Quarantined


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed out"
    ERROR = "error"  # could not start, or the test tool itself broke
    INTERRUPTED = "interrupted"  # the dashboard stopped during the run

    @property
    def finished(self) -> bool:
        return self not in (RunStatus.QUEUED, RunStatus.RUNNING)


class Trigger(StrEnum):
    UI = "ui"
    API = "api"
    CLI = "cli"
    SYSTEM = "system"  # the dashboard itself: an autostart service, a restart after a crash


CaseOutcome = Literal["passed", "failed", "error", "skipped", "xfailed", "xpassed"]


class RunCounts(BaseModel):
    collected: int | None = Field(None, description="Tests collected; null until collection ends.")
    done: int = Field(0, description="Tests finished so far.")
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    xfailed: int = 0
    xpassed: int = 0

    @classmethod
    def of(cls, tally: Mapping[str, int], collected: int | None, done: int) -> RunCounts:
        """From outcome -> count (the outcome ``error`` counts as ``errors``)."""
        return cls(
            collected=collected,
            done=done,
            passed=tally.get("passed", 0),
            failed=tally.get("failed", 0),
            errors=tally.get("error", 0),
            skipped=tally.get("skipped", 0),
            xfailed=tally.get("xfailed", 0),
            xpassed=tally.get("xpassed", 0),
        )


def summary_line(c: RunCounts) -> str:
    """pytest's closing line: ``1 failed, 7 passed, 1 skipped ...``, in its order."""
    pairs = [
        ("failed", c.failed),
        ("passed", c.passed),
        ("skipped", c.skipped),
        ("xfailed", c.xfailed),
        ("xpassed", c.xpassed),
        ("error" if c.errors == 1 else "errors", c.errors),
    ]
    return ", ".join(f"{n} {word}" for word, n in pairs if n) or "no tests ran"


class SubtestInfo(BaseModel):
    """One subtest of a test (``unittest`` ``subTest``, pytest's ``subtests`` fixture)."""

    name: str = Field(description="As pytest names it: ``[msg] (i=1)``.")
    outcome: CaseOutcome
    duration: float = Field(0.0, description="seconds; inside its test's own")
    message: str | None = None
    traceback: str | None = None


class CaseInfo(BaseModel):
    nodeid: str
    outcome: CaseOutcome
    duration: float = Field(description="seconds, setup + call + teardown")
    message: str | None = Field(None, description="The failure or skip reason, one line.")
    traceback: str | None = None
    ordinal: int = Field(
        0, ge=0, description="Where the test is in the order the tests ran (0 first); cases are listed failures first."
    )
    retries: int = Field(0, ge=0, description="Times pytest-rerunfailures ran it again within this run.")
    quarantined: bool = Field(
        False, description="In quarantine when the run ended: its failure did not fail the run's verdict."
    )
    # What the test cost, measured by the dashboard's pytest plugin in the process that ran it, from the
    # start of its setup to the end of its teardown; null for command suites (JUnit) and older runs.
    cpu_user_seconds: float | None = Field(None, description="CPU seconds in user mode, setup to teardown.")
    cpu_system_seconds: float | None = Field(None, description="CPU seconds in the kernel, setup to teardown.")
    peak_rss_bytes: int | None = Field(
        None, description="Peak resident memory of the process that ran the test, while it ran (bytes)."
    )
    started_at: datetime | None = Field(None, description="When its setup started.")

    @property
    def cpu_seconds(self) -> float | None:
        """User + system CPU seconds; None when not measured."""
        if self.cpu_user_seconds is None or self.cpu_system_seconds is None:
            return None
        return self.cpu_user_seconds + self.cpu_system_seconds

    @property
    def cpu_ratio(self) -> float | None:
        """CPU seconds per wall second (``duration``): about 1 for a test that computes, near 0 for one
        that waits, above 1 for one whose threads compute at once. None when not measured."""
        cpu = self.cpu_seconds
        return cpu / self.duration if cpu is not None and self.duration > 0 else None

    subtests: list[SubtestInfo] = Field(
        default_factory=list,
        description="Its subtests in the order they ran. pytest counts a failed one as failed (and the test fails with"
        " it); passed ones are not in the run's counts.",
    )


class RunInfo(BaseModel):
    """One run of a suite, live while it runs."""

    id: int
    suite: str
    trigger: Trigger
    status: RunStatus
    message: str = Field("", description="What happened, in words: the exit code, or why it did not finish.")
    queued_at: datetime
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_seconds: float | None = Field(None, description="Wall time so far while running; final when finished.")
    exit_code: int | None = None
    counts: RunCounts = RunCounts()
    current_test: str | None = None
    eta_seconds: float | None = Field(None, description="Estimated seconds left, from earlier runs' durations.")
    queue_position: int | None = Field(None, description="1 = next to start; null unless queued.")
    rerun_of: int | None = Field(None, description="The run whose failed tests this run repeats.")
    selected: int | None = Field(None, description="Node ids selected for this run (re-runs); null = the whole suite.")
    log_path: str | None = None

    @property
    def pass_rate(self) -> float | None:
        """Passed share of the tests that passed, failed or errored."""
        c = self.counts
        judged = c.passed + c.failed + c.errors
        return c.passed / judged if judged else None

    def summary(self) -> str:
        return summary_line(self.counts)


class RunDetail(RunInfo):
    cases: list[CaseInfo] = Field(default_factory=list)
    log_tail: str = Field("", description="The newest whole lines of output, up to a few thousand characters.")
    log_tail_cut: bool = Field(False, description="Earlier output is not in log_tail: the whole log has it.")


class RunPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[RunInfo]


class SuiteInfo(BaseModel):
    name: str
    description: str
    kind: Literal["pytest", "command"]
    command: list[str] = Field(description="The argv it runs (run-specific file paths shown as placeholders).")
    cwd: str
    timeout_seconds: float | None
    workers: int
    active_run: RunInfo | None = Field(None, description="The queued or running run, if any.")
    last_run: RunInfo | None = Field(None, description="The newest finished run, if any (a re-run included).")
    last_full_run: RunInfo | None = Field(None, description="The newest finished run of the whole suite, if any.")


class RunSuiteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    test_suite: str = Field(min_length=1, max_length=200, description="A suite's name from dashboard.toml.")
    rerun_failed_of: int | None = Field(
        None, ge=1, le=2**62, description="Run only the tests that failed or errored in this earlier run of the suite."
    )
    trigger: Literal["api", "cli"] = Field("api", description="Who asks: recorded with the run.")


class RunSuiteResponse(BaseModel):
    success: Literal[True] = True
    test_id: str = Field(description="The run's id, as a string.")
    status: RunStatus
    already_running: bool = Field(
        description="True when the suite was already queued or running: that run is returned."
    )
    message: str


class FlakyTest(BaseModel):
    nodeid: str
    runs: int = Field(description="Runs among the last N in which the test passed, failed or errored.")
    passed: int
    failed: int
    flips: int = Field(description="Times its outcome changed between pass and fail, oldest to newest.")
    history: str = Field(
        description="Outcomes oldest to newest: P pass, R passed on a retry, F fail or error, - not run."
    )
    last_outcome: CaseOutcome
    # Verdicts beyond the flip count (flaky, broken, recovered; retries; quarantine).
    verdict: Literal["flaky", "broken", "recovered"] = Field(
        "flaky",
        description="flaky: its outcome flipped, or it passed only on a retry; broken: it failed in every run"
        " it ran in; recovered: flaky before, then passed testing.flaky_recovery_runs runs in a row.",
    )
    retries: int = Field(0, description="Retries within these runs (pytest-rerunfailures), all runs together.")
    passes_in_a_row: int = Field(0, description="Passes without a retry since it last failed or was retried.")
    quarantine: Quarantined | None = Field(None, description="Set while the test is in quarantine.")
