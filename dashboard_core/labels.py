"""How states look on the pages: one icon and one colour per state, used by
every page so a "down" looks the same everywhere.

Icons are names of Material Symbols (https://fonts.google.com/icons), the icon font
that ships with Streamlit: pages draw them from the app's own files, so they show in a
browser without a colour emoji font and nothing is fetched from outside.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

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

Colour = Literal["green", "orange", "red", "gray", "blue", "violet"]
BLANK = "—"  # what a table cell with no value shows: never "None"


class Icon(NamedTuple):
    """A Material Symbols name and the colour it is drawn in."""

    name: str
    colour: Colour = "gray"


OK = Icon("check_circle", "green")
FAILED = Icon("cancel", "red")
BROKEN = Icon("error", "red")
WARNING = Icon("warning", "orange")
WAITING = Icon("hourglass_empty", "gray")
RUNNING = Icon("autorenew", "blue")
STOPPED = Icon("stop_circle", "gray")
SKIPPED = Icon("skip_next", "gray")
UNKNOWN = Icon("help", "gray")

COMPONENT_ICON = {
    ComponentState.HEALTHY: OK,
    ComponentState.DEGRADED: WARNING,
    ComponentState.DOWN: BROKEN,
    ComponentState.UNKNOWN: UNKNOWN,
}
COMPONENT_COLOUR: dict[ComponentState, Colour] = {state: icon.colour for state, icon in COMPONENT_ICON.items()}
SAFETY_ICON = {"safe": Icon("verified_user", "green"), "warning": WARNING, "critical": Icon("gpp_bad", "red")}
SAFETY_COLOUR: dict[str, Colour] = {status: icon.colour for status, icon in SAFETY_ICON.items()}
ALERT_ICON = {
    AlertState.OK: OK,
    AlertState.PENDING: Icon("pending", "orange"),
    AlertState.FIRING: Icon("local_fire_department", "red"),
    AlertState.RESOLVED: Icon("task_alt", "green"),
}
KIND_WORDS = {
    EventKind.COMPONENT: "component",
    EventKind.AGENT: "agent",
    EventKind.ALERT: "alert",
    EventKind.TEST_RUN: "test run",
    EventKind.TEST_REGRESSION: "test regression",
    EventKind.WORKFLOW: "workflow",
    EventKind.SYSTEM: "system",
    EventKind.ANNOTATION: "annotation",
    EventKind.AUDIT: "audit",
}
SEVERITY_ICON = {
    Severity.INFO: Icon("info", "blue"),
    Severity.WARNING: WARNING,
    Severity.CRITICAL: Icon("report", "red"),
}
AGENT_ICON = {
    AgentState.ONLINE: Icon("radio_button_checked", "green"),
    AgentState.OFFLINE: Icon("radio_button_unchecked", "red"),
    AgentState.MISSING: UNKNOWN,
}
RUN_ICON = {
    RunStatus.QUEUED: WAITING,
    RunStatus.RUNNING: RUNNING,
    RunStatus.PASSED: OK,
    RunStatus.FAILED: FAILED,
    RunStatus.CANCELLED: STOPPED,
    RunStatus.TIMED_OUT: Icon("timer_off", "orange"),
    RunStatus.ERROR: BROKEN,
    RunStatus.INTERRUPTED: WARNING,
}
RUN_COLOUR: dict[RunStatus, Colour] = {
    RunStatus.PASSED: "green",
    RunStatus.FAILED: "red",
    RunStatus.ERROR: "red",
    RunStatus.TIMED_OUT: "orange",
}
OUTCOME_ICON = {
    "passed": OK,
    "failed": FAILED,
    "error": BROKEN,
    "skipped": SKIPPED,
    "xfailed": Icon("do_not_disturb_on", "orange"),
    "xpassed": Icon("priority_high", "orange"),
}
STEP_ICON = {
    StepStatus.PENDING: WAITING,
    StepStatus.RUNNING: RUNNING,
    StepStatus.SUCCEEDED: OK,
    StepStatus.FAILED: FAILED,
    StepStatus.STOPPED: STOPPED,
    StepStatus.SKIPPED: SKIPPED,
    StepStatus.INTERRUPTED: WARNING,
    StepStatus.BACKING_OFF: Icon("timer", "orange"),
}
WORKFLOW_ICON = {
    WorkflowStatus.RUNNING: RUNNING,
    WorkflowStatus.SUCCEEDED: OK,
    WorkflowStatus.FAILED: FAILED,
    WorkflowStatus.STOPPED: STOPPED,
    WorkflowStatus.INTERRUPTED: WARNING,
}
