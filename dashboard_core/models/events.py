"""Events: what happened, to what, how bad; and a page of them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from dashboard_core.models.health import Severity


class EventKind(StrEnum):
    COMPONENT = "component"  # a component's state changed
    AGENT = "agent"  # an agent came online, went offline
    ALERT = "alert"  # a rule fired or resolved
    TEST_RUN = "test_run"  # a run started or finished
    TEST_REGRESSION = "test_regression"  # a finished run has tests slower beyond their noise
    WORKFLOW = "workflow"  # a workflow started or stopped
    SYSTEM = "system"  # the dashboard itself
    ANNOTATION = "annotation"  # an annotation was added, edited or deleted
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
