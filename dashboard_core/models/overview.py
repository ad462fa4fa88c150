"""The whole system at a glance, built of the other areas' models."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from dashboard_core.models.events import Event
from dashboard_core.models.health import AgentsOverview, AlertRecord, ComponentStatus
from dashboard_core.models.metrics import HostInfo, LatestSample, SelfHealth
from dashboard_core.models.testing import SuiteInfo
from dashboard_core.models.workflows import WorkflowRunInfo


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
