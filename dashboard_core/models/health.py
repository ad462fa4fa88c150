"""Component health, agents and their heartbeats, safety (alert rules)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, Strict, StringConstraints

from dashboard_core.models.silences import Ack, Mute


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
    maintenance: str | None = Field(
        None, description="The maintenance window in force over it now: its checks go on, its alerts are muted."
    )


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

    status: str = Field(
        "ok", min_length=1, max_length=64, description="What the agent says of itself: ok, busy, error…"
    )
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
    maintenance: str | None = Field(None, description="The maintenance window in force over it now, if any.")


class HeartbeatResponse(BaseModel):
    success: Literal[True] = True
    agent: AgentInfo
    ttl_seconds: float = Field(description="Send the next heartbeat before this many seconds pass.")


class AgentsOverview(BaseModel):
    online: int
    total: int
    agents: list[AgentInfo]


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
    muted: Mute | None = Field(None, description="The silence or maintenance window that kept it quiet, if any.")
    acknowledged: Ack | None = Field(None, description="Who acknowledged it, when, and their note.")
    run_id: int | None = Field(None, description="Suite rules: the test run the alert is about.")


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
    channel_errors: list[str] = Field(
        default_factory=list,
        description="Every notification channel of the rule that fails (the webhook, then each Apprise URL, "
        "its secrets masked): its last failure, until a delivery to it works.",
    )
    muted: Mute | None = Field(
        None,
        description="The silence or maintenance window that keeps the rule's alerts quiet now, if any (the safety report).",
    )


SafetyStatus = Literal["safe", "warning", "critical"]


class SafetyReport(BaseModel):
    status: SafetyStatus
    firing: list[AlertRecord]
    rules: list[RuleStatus]
    alertmanager_error: str | None = Field(
        None, description="Why posting alerts or silences to Alertmanager fails now, if it does."
    )
