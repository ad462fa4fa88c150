"""Agents (heartbeats in, the registry out), component health and safety."""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, HTTPException, Path

from dashboard_core.config import NAME_PATTERN
from dashboard_core.health.agents import TooManyAgents
from dashboard_core.models import AgentsOverview, HeartbeatRequest, HeartbeatResponse
from dashboard_core.routes.common import ERRORS, RuntimeDep

AgentName = Annotated[
    str, Path(pattern=NAME_PATTERN, description="Letters, digits, '_', '.', '-'; at most 64 characters.")
]


def add(api: FastAPI) -> None:
    @api.post(
        "/agents/{name}/heartbeat",
        response_model=HeartbeatResponse,
        responses={**ERRORS, 422: {"description": "A bad name or body"}},
        summary="An agent says it is alive (status, role, task, metrics)",
    )
    def heartbeat(rt: RuntimeDep, name: AgentName, beat: HeartbeatRequest) -> HeartbeatResponse:
        try:
            agent = rt.agents.heartbeat(name, beat)
        except TooManyAgents as exc:
            raise HTTPException(409, str(exc)) from None
        return HeartbeatResponse(agent=agent, ttl_seconds=rt.config.agents.ttl_seconds)

    @api.get(
        "/dashboard/agents",
        response_model=AgentsOverview,
        responses=ERRORS,
        summary="Every agent: online, offline or missing, with its last heartbeat",
    )
    def agents(rt: RuntimeDep) -> AgentsOverview:
        return rt.agents.overview()
