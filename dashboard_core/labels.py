"""How states look on the pages: one emoji and one colour per state, used by
every page so a "down" looks the same everywhere."""

from __future__ import annotations

from typing import Literal

from dashboard_core.models import (
    AgentState,
    AlertState,
    ComponentState,
    EventKind,
    RunStatus,
    Severity,
    StepStatus,
    WorkflowStatus,
)

Colour = Literal["green", "orange", "red", "gray"]
BLANK = "—"  # what a table cell with no value shows: never "None"

COMPONENT_EMOJI = {
    ComponentState.HEALTHY: "🟢",
    ComponentState.DEGRADED: "🟠",
    ComponentState.DOWN: "🔴",
    ComponentState.UNKNOWN: "⚪",
}
COMPONENT_COLOUR: dict[ComponentState, Colour] = {
    ComponentState.HEALTHY: "green",
    ComponentState.DEGRADED: "orange",
    ComponentState.DOWN: "red",
    ComponentState.UNKNOWN: "gray",
}
SAFETY_EMOJI = {"safe": "🟢", "warning": "🟠", "critical": "🔴"}
SAFETY_COLOUR: dict[str, Colour] = {"safe": "green", "warning": "orange", "critical": "red"}
ALERT_EMOJI = {AlertState.OK: "🟢", AlertState.PENDING: "🟡", AlertState.FIRING: "🔥", AlertState.RESOLVED: "✅"}
KIND_WORDS = {
    EventKind.COMPONENT: "component",
    EventKind.AGENT: "agent",
    EventKind.ALERT: "alert",
    EventKind.TEST_RUN: "test run",
    EventKind.WORKFLOW: "workflow",
    EventKind.SYSTEM: "system",
    EventKind.AUDIT: "audit",
}
SEVERITY_EMOJI = {Severity.INFO: "ℹ️", Severity.WARNING: "⚠️", Severity.CRITICAL: "🚨"}
AGENT_EMOJI = {AgentState.ONLINE: "🟢", AgentState.OFFLINE: "🔴", AgentState.MISSING: "⚪"}
RUN_EMOJI = {
    RunStatus.QUEUED: "⏳",
    RunStatus.RUNNING: "🔄",
    RunStatus.PASSED: "✅",
    RunStatus.FAILED: "❌",
    RunStatus.CANCELLED: "⏹️",
    RunStatus.TIMED_OUT: "⌛",
    RunStatus.ERROR: "💥",
    RunStatus.INTERRUPTED: "⚠️",
}
RUN_COLOUR: dict[RunStatus, Colour] = {
    RunStatus.PASSED: "green",
    RunStatus.FAILED: "red",
    RunStatus.ERROR: "red",
    RunStatus.TIMED_OUT: "orange",
}
OUTCOME_EMOJI = {"passed": "✅", "failed": "❌", "error": "💥", "skipped": "⏭️", "xfailed": "🟡", "xpassed": "🟠"}
STEP_EMOJI = {
    StepStatus.PENDING: "⏳",
    StepStatus.RUNNING: "🔄",
    StepStatus.SUCCEEDED: "✅",
    StepStatus.FAILED: "❌",
    StepStatus.STOPPED: "⏹️",
    StepStatus.SKIPPED: "⏭️",
    StepStatus.INTERRUPTED: "⚠️",
    StepStatus.BACKING_OFF: "⏱️",
}
WORKFLOW_EMOJI = {
    WorkflowStatus.RUNNING: "🔄",
    WorkflowStatus.SUCCEEDED: "✅",
    WorkflowStatus.FAILED: "❌",
    WorkflowStatus.STOPPED: "⏹️",
    WorkflowStatus.INTERRUPTED: "⚠️",
}
