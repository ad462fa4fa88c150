"""Typed vocabulary shared by the Runtime, the API and the pages."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, Strict, StringConstraints


class HealthResponse(BaseModel):
    success: bool
    message: str
    timestamp: datetime


class ErrorResponse(BaseModel):
    """Every 4xx/5xx body of the API."""

    success: Literal[False] = False
    message: str = Field(description="What went wrong, as a sentence.")
    errors: list[str] = Field(default_factory=list, description="One line per invalid input, if any.")


class EndpointInfo(BaseModel):
    method: str
    path: str
    summary: str


class ApiInfo(BaseModel):
    name: str
    version: str
    docs: str
    endpoints: list[EndpointInfo]


class FieldInfo(BaseModel):
    name: str
    unit: str
    description: str
    kind: Literal["gauge", "rate"]
    label: str | None = Field(None, description="Label name for labelled fields; columns read name[label value].")


class LatestSample(BaseModel):
    timestamp: datetime
    values: dict[str, float | None] = Field(
        description="Column -> value; null where a reading is missing (no rate yet, source failed)."
    )


class HostInfo(BaseModel):
    hostname: str
    platform: str
    cpu_cores: int
    memory_total: int = Field(description="bytes")
    boot_time: datetime


class SelfHealth(BaseModel):
    """The dashboard's own health, shown on the Overview page."""

    started_at: datetime
    uptime_seconds: float
    sampling_interval_seconds: float
    process_interval_seconds: float
    samples_held: int
    capacity: int
    history_span_seconds: float
    bytes_per_row: int
    sampler_running: bool
    sampler_cpu_ms_per_sample: float | None
    process_scan_cpu_ms: float | None
    sampler_crashes: int
    sampler_last_crash: str | None
    failing_sources: dict[str, str]
    store_error: str | None = Field(
        None, description="While the store cannot be written (a full disk): since when, how often and why, in words"
    )
    process_rss: int = Field(description="bytes, the whole dashboard server process")
    process_cpu_percent: float = Field(description="% of one core, the whole server process, since start")


class ProcessInfo(BaseModel):
    pid: int
    name: str
    user: str
    cpu_percent: float
    rss: int
    memory_percent: float
    cmdline: str




# -- test suites ---------------------------------------------------------------------
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


class CaseInfo(BaseModel):
    nodeid: str
    outcome: CaseOutcome
    duration: float = Field(description="seconds, setup + call + teardown")
    message: str | None = Field(None, description="The failure or skip reason, one line.")
    traceback: str | None = None
    ordinal: int = Field(
        0, ge=0, description="Where the test is in the order the tests ran (0 first); cases are listed failures first."
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
    log_tail: str = Field("", description="The newest output, up to a few thousand characters.")


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
    already_running: bool = Field(description="True when the suite was already queued or running: that run is returned.")
    message: str


class FlakyTest(BaseModel):
    nodeid: str
    runs: int = Field(description="Runs among the last N in which the test passed, failed or errored.")
    passed: int
    failed: int
    flips: int = Field(description="Times its outcome changed between pass and fail, oldest to newest.")
    history: str = Field(description="Outcomes oldest to newest: P pass, F fail or error, - not run.")
    last_outcome: CaseOutcome


# -- component health ----------------------------------------------------------------
class ComponentState(StrEnum):
    UNKNOWN = "unknown"  # not checked yet
    HEALTHY = "healthy"
    DEGRADED = "degraded"  # slower than its threshold, or some of the last checks failed
    DOWN = "down"  # the last down_after checks failed


class CheckResult(BaseModel):
    """One check of one component."""

    ok: bool
    latency_ms: float | None = Field(None, description="How long the check took; null if it could not be timed.")
    message: str = Field("", description="What was found, or what went wrong, as a sentence.")
    at: datetime


class ComponentStatus(BaseModel):
    name: str
    description: str
    check: str = Field(description="What is checked, in words: 'GET http://... expects 200'.")
    state: ComponentState
    latency_ms: float | None = None
    consecutive_failures: int = 0
    last_error: str | None = Field(None, description="The last failure, as a sentence.")
    last_checked: datetime | None = None
    state_since: datetime | None = Field(None, description="When the state last changed.")
    performance_percent: float | None = Field(None, description="Share of checks that succeeded in the last hour.")
    uptime_24h_percent: float | None = Field(None, description="Share of checks that succeeded in 24 h (store).")
    uptime_7d_percent: float | None = Field(None, description="Share of checks that succeeded in 7 days (store).")


# -- agents --------------------------------------------------------------------------
class AgentState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"  # no heartbeat within the TTL
    MISSING = "missing"  # named in the config, never seen


# Bounds of a heartbeat: the registry keeps up to 1,000 agents' last one, in memory and the store.
MAX_METRICS = 50
MAX_METRIC_NAME = 100
MAX_HEARTBEAT_BYTES = 32_768  # the JSON body; the fields' own bounds fit in a quarter of it
MetricName = Annotated[str, StringConstraints(min_length=1, max_length=MAX_METRIC_NAME)]
# A reading is a finite JSON number. Strict: pydantic's lax float would take true,
# false and "1", which the schema (type: number) says are not numbers.
MetricValue = Annotated[FiniteFloat, Strict()]


class HeartbeatRequest(BaseModel):
    """What an agent says of itself; the JSON body may be at most 32,768 bytes."""

    model_config = ConfigDict(extra="forbid")

    status: str = Field("ok", min_length=1, max_length=64, description="What the agent says of itself: ok, busy, error…")
    role: str | None = Field(None, max_length=200, description="What the agent does.")
    task: str | None = Field(None, max_length=1000, description="What it is working on now.")
    metrics: dict[MetricName, MetricValue] = Field(
        default_factory=dict,
        max_length=MAX_METRICS,
        description=f"Numeric readings, e.g. {{'queue': 3, 'tokens_per_s': 41.5}}; finite (no NaN or Infinity); "
        f"at most {MAX_METRICS}, names of 1 to {MAX_METRIC_NAME} characters.",
    )


class AgentInfo(BaseModel):
    name: str
    state: AgentState
    status: str | None = None
    role: str | None = None
    task: str | None = None
    metrics: dict[str, float] = Field(default_factory=dict)
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    expected: bool = Field(False, description="Named in the config's agents.expected.")


class HeartbeatResponse(BaseModel):
    success: Literal[True] = True
    agent: AgentInfo
    ttl_seconds: float = Field(description="Send the next heartbeat before this many seconds pass.")


class AgentsOverview(BaseModel):
    online: int
    total: int
    agents: list[AgentInfo]


# -- safety (alert rules) ------------------------------------------------------------
class AlertState(StrEnum):
    OK = "ok"
    PENDING = "pending"  # the condition holds, not yet for its duration
    FIRING = "firing"
    RESOLVED = "resolved"  # fired, and the condition no longer holds


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class AlertRecord(BaseModel):
    """One firing of a rule: an interval with the value's extremes and mean."""

    id: int
    rule: str
    severity: Severity
    state: AlertState
    began_at: datetime = Field(description="When the condition started to hold.")
    fired_at: datetime | None = None
    ended_at: datetime | None = None
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    message: str = ""


class RuleStatus(BaseModel):
    name: str
    rule: str
    severity: Severity
    description: str
    state: AlertState
    since: datetime | None = Field(None, description="When the state last changed.")
    value: float | None = Field(None, description="The value the rule saw last, if it is numeric.")
    message: str = Field("", description="What the rule sees now, in words.")
    webhook_error: str | None = Field(None, description="The last webhook failure, if any.")


SafetyStatus = Literal["safe", "warning", "critical"]


class SafetyReport(BaseModel):
    status: SafetyStatus
    firing: list[AlertRecord]
    rules: list[RuleStatus]


# -- events --------------------------------------------------------------------------
class EventKind(StrEnum):
    COMPONENT = "component"  # a component's state changed
    AGENT = "agent"  # an agent came online, went offline
    ALERT = "alert"  # a rule fired or resolved
    TEST_RUN = "test_run"  # a run started or finished
    WORKFLOW = "workflow"  # a workflow started or stopped
    SYSTEM = "system"  # the dashboard itself
    AUDIT = "audit"  # who did what, when, from where (admins only)


class Event(BaseModel):
    id: int = Field(description="Increases by one with each event; resume a stream from here.")
    at: datetime
    kind: EventKind
    severity: Severity
    source: str = Field(description="The component, agent, rule, suite or workflow it is about.")
    message: str
    data: dict[str, object] = Field(default_factory=dict)


class EventPage(BaseModel):
    events: list[Event]
    last_id: int = Field(description="The newest event id in the store (0 if none).")


class Overview(BaseModel):
    """The whole system at a glance: ``GET /api/dashboard/overview`` and the Overview page."""

    host: HostInfo
    dashboard: SelfHealth
    latest: LatestSample | None
    components: list[ComponentStatus]
    agents: AgentsOverview
    safety: Literal["safe", "warning", "critical"]
    firing: list[AlertRecord] = Field(description="Alerts firing now, worst first.")
    suites: list[SuiteInfo] = Field(description="Each test suite with its running and last run.")
    workflows: list[WorkflowRunInfo] = Field(description="Workflow runs going on now (services included).")
    events: list[Event] = Field(description="The newest events, newest first.")


# -- workflows -----------------------------------------------------------------------
class StepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    STOPPED = "stopped"
    SKIPPED = "skipped"  # never ran: a step it needs failed, or the run was stopped first
    INTERRUPTED = "interrupted"  # the dashboard stopped while it ran
    BACKING_OFF = "backing off"  # a service waiting to be restarted

    @property
    def finished(self) -> bool:
        return self not in (StepStatus.PENDING, StepStatus.RUNNING, StepStatus.BACKING_OFF)


class WorkflowStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    STOPPED = "stopped"
    INTERRUPTED = "interrupted"

    @property
    def finished(self) -> bool:
        return self is not WorkflowStatus.RUNNING


class StepInfo(BaseModel):
    name: str
    status: StepStatus
    depends_on: list[str] = Field(default_factory=list)
    message: str = Field("", description="What happened, in words.")
    exit_code: int | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_seconds: float | None = None
    restarts: int = Field(0, description="Services: restarts so far in a row.")
    next_restart_at: datetime | None = Field(None, description="Services backing off: when the next start is due.")
    cpu_percent: float | None = Field(None, description="Running: CPU of its process tree, % of one core.")
    rss: int | None = Field(None, description="Running: resident memory of its process tree, bytes.")
    log_path: str | None = None
    log_tail: str | None = Field(None, description="The newest output (in a run's detail only).")


class WorkflowRunInfo(BaseModel):
    id: int
    workflow: str
    trigger: Trigger
    params: dict[str, str | int | float | bool] = Field(default_factory=dict)
    status: WorkflowStatus
    message: str = ""
    started_at: datetime
    ended_at: datetime | None = None
    duration_seconds: float | None = None
    steps: list[StepInfo] = Field(default_factory=list)


class ParamInfo(BaseModel):
    name: str
    type: Literal["str", "int", "float", "bool"]
    default: str | int | float | bool | None = None
    choices: list[str | int | float] | None = None
    required: bool = False
    description: str = ""


class WorkflowInfo(BaseModel):
    name: str
    description: str
    service: bool
    concurrent: bool
    params: list[ParamInfo]
    steps: list[StepInfo] = Field(description="The steps as configured (status pending), with depends_on.")
    restart: Literal["never", "on-failure", "always"] | None = Field(None, description="Services: the restart policy.")
    autostart: bool = False
    active_runs: list[WorkflowRunInfo] = Field(default_factory=list)
    last_run: WorkflowRunInfo | None = Field(None, description="The newest finished run, if any.")


class WorkflowList(BaseModel):
    workflows: list[WorkflowInfo]
    active: list[WorkflowRunInfo] = Field(description="Runs going on now, oldest first.")


class WorkflowStartRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workflow: str = Field(min_length=1, max_length=200, description="A workflow's name from dashboard.toml.")
    params: dict[str, str | int | float | bool | None] = Field(
        default_factory=dict, max_length=100, description="Parameter values; checked against their declared types."
    )


class WorkflowStartResponse(BaseModel):
    success: Literal[True] = True
    run_id: str
    status: WorkflowStatus
    message: str
