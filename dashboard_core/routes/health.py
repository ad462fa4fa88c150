"""Agents (heartbeats in, the registry out), component health and safety."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request

from dashboard_core.app import actions
from dashboard_core.config import NAME_PATTERN
from dashboard_core.models import (
    MAX_HEARTBEAT_BYTES,
    AgentInfo,
    AgentsOverview,
    AlertRecord,
    ComponentStatus,
    ErrorResponse,
    HeartbeatRequest,
    HeartbeatResponse,
    SafetyReport,
)
from dashboard_core.routes.common import ERRORS, FORBIDDEN, CallerDep, RuntimeDep, not_found
from dashboard_core.routes.tags import Tag
from dashboard_core.runtime import Runtime

ComponentName = Annotated[str, Path(max_length=200, description="A component's name from dashboard.toml")]
AgentName = Annotated[
    str, Path(pattern=NAME_PATTERN, description="Letters, digits, '_', '.', '-'; at most 64 characters.")
]


async def _heartbeat_size(request: Request) -> None:
    """A heartbeat is small: the registry keeps the last one of up to 1,000 agents.
    (FastAPI has read the body already; its validation comes after this check.)"""
    size = len(await request.body())
    if size > MAX_HEARTBEAT_BYTES:
        raise HTTPException(
            413,
            f"A heartbeat body may be at most {MAX_HEARTBEAT_BYTES:,} bytes; this one has {size:,}. "
            "Send fewer or shorter metrics, or a shorter task.",
        )


router = APIRouter()


@router.post(
    "/agents/{name}/heartbeat",
    tags=[Tag.AGENTS],
    response_model=HeartbeatResponse,
    responses={
        **ERRORS,
        **FORBIDDEN,
        409: {"model": ErrorResponse, "description": "The registry is full (a new agent cannot join)"},
        413: {
            "model": ErrorResponse,
            "description": f"The body is larger than {MAX_HEARTBEAT_BYTES:,} bytes (or auth.max_body_bytes)",
        },
        422: {"model": ErrorResponse, "description": "A bad name or body"},
    },
    summary="An agent says it is alive (status, role, task, metrics)",
    dependencies=[Depends(_heartbeat_size)],
)
def heartbeat(rt: RuntimeDep, name: AgentName, beat: HeartbeatRequest, caller: CallerDep) -> HeartbeatResponse:
    agent = actions.heartbeat(rt, caller, name, beat)
    return HeartbeatResponse(agent=agent, ttl_seconds=rt.config.agents.ttl_seconds)


@router.delete(
    "/agents/{name}",
    tags=[Tag.AGENTS],
    response_model=AgentInfo,
    responses={
        **ERRORS,
        **FORBIDDEN,
        **not_found("No such agent"),
        409: {"model": ErrorResponse, "description": "The agent is named in agents.expected"},
    },
    summary="Remove an agent from the registry (admins; audited); it joins again with its next heartbeat",
)
def remove_agent(rt: RuntimeDep, name: AgentName, caller: CallerDep) -> AgentInfo:
    return actions.remove_agent(rt, caller, name)


@router.get(
    "/dashboard/agents",
    tags=[Tag.AGENTS],
    response_model=AgentsOverview,
    responses=ERRORS,
    summary="Every agent: online, offline or missing, with its last heartbeat",
)
def agents(rt: RuntimeDep) -> AgentsOverview:
    return rt.agents.overview()


@router.get(
    "/components",
    tags=[Tag.COMPONENTS],
    response_model=list[ComponentStatus],
    responses=ERRORS,
    summary="Every component: state, latency, failures, last error, performance and uptime",
)
def components(rt: RuntimeDep) -> list[ComponentStatus]:
    return rt.health.statuses()


@router.get(
    "/components/{name}",
    tags=[Tag.COMPONENTS],
    response_model=ComponentStatus,
    responses={**ERRORS, **not_found("No such component")},
    summary="One component's health",
)
def component(rt: RuntimeDep, name: ComponentName) -> ComponentStatus:
    return _component(rt, name)


@router.post(
    "/dashboard/components/check",
    tags=[Tag.COMPONENTS],
    response_model=list[ComponentStatus],
    responses={**ERRORS, **FORBIDDEN},
    summary="Check every component now, all at once (operators; audited)",
)
def check_all(rt: RuntimeDep, caller: CallerDep) -> list[ComponentStatus]:
    return actions.check_all_components(rt, caller)


@router.post(
    "/components/{name}/check",
    tags=[Tag.COMPONENTS],
    response_model=ComponentStatus,
    responses={**ERRORS, **FORBIDDEN, **not_found("No such component")},
    summary="Check a component now (instead of waiting for its interval)",
)
def check_now(rt: RuntimeDep, name: ComponentName, caller: CallerDep) -> ComponentStatus:
    return actions.check_component(rt, caller, name)


@router.get(
    "/dashboard/safety",
    tags=[Tag.SAFETY],
    response_model=SafetyReport,
    responses=ERRORS,
    summary="Overall safety (safe, warning, critical), the alerts firing and every rule's state",
)
def safety(rt: RuntimeDep) -> SafetyReport:
    report = rt.alerts.report()
    if rt.alertmanager is not None:  # [alerting.alertmanager]: say when talking to it fails
        report.alertmanager_error = rt.alertmanager.problem()
    return report


@router.get(
    "/safety/alerts",
    tags=[Tag.SAFETY],
    response_model=list[AlertRecord],
    responses={**ERRORS, **not_found("No such rule")},
    summary="Alert history, newest first",
)
def alerts(
    rt: RuntimeDep,
    rule: Annotated[str | None, Query(max_length=200, description="Only this rule's alerts")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AlertRecord]:
    if rule is not None and rt.alerts.rule(rule) is None:
        known = ", ".join(a.name for a in rt.config.alerts) or "none are configured"
        raise HTTPException(404, f"There is no alert rule named {rule!r}. Known rules: {known}.")
    return rt.alerts.history(limit, rule)


def _component(rt: Runtime, name: str) -> ComponentStatus:
    status = rt.health.status(name)
    if status is None:
        known = ", ".join(c.name for c in rt.config.components) or "none are configured"
        raise HTTPException(404, f"There is no component named {name!r}. Known components: {known}.")
    return status
