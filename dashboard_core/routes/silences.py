"""Silences and acknowledgements over HTTP: list silences (a viewer), make and expire one,
acknowledge a firing alert (an operator, audited). A silenced alert still fires, records
its interval and shows, marked; nobody is notified of it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from dashboard_core.app.silences import acknowledge_alert, create_silence, expire_silence, silences
from dashboard_core.models import AlertRecord, ErrorResponse
from dashboard_core.models.silence_requests import AckRequest, SilenceRequest
from dashboard_core.models.silences import Silence, SilenceState
from dashboard_core.routes.common import ERRORS, FORBIDDEN, CallerDep, Responses, RuntimeDep, Viewer, not_found
from dashboard_core.routes.tags import Tag

router = APIRouter(tags=[Tag.SAFETY])

SilenceId = Annotated[str, Path(min_length=1, max_length=100, description="A silence's id")]
AlertId = Annotated[int, Path(ge=1, le=2**62, description="An alert's id (GET /api/safety/alerts)")]
_BAD: Responses = {
    422: {"model": ErrorResponse, "description": "A bad body: a bad regex, an end before the start, an unknown rule"}
}
_ENDED: Responses = {409: {"model": ErrorResponse, "description": "It has ended already, or is Alertmanager's"}}
_NOT_FIRING: Responses = {409: {"model": ErrorResponse, "description": "The alert is not firing"}}


@router.get(
    "/silences",
    response_model=list[Silence],
    responses=ERRORS,
    summary="The silences: active and pending first (soonest end first), then the expired (latest first)",
)
def list_silences(
    rt: RuntimeDep,
    _who: Viewer,
    state: Annotated[SilenceState | None, Query(description="Only those in this state")] = None,
) -> list[Silence]:
    return silences(rt, state)


@router.post(
    "/silences",
    response_model=Silence,
    responses={**ERRORS, **FORBIDDEN, **_BAD},
    summary="Silence alerts by rule, component, agent, suite or label matchers, for a time",
)
def add_silence(rt: RuntimeDep, body: SilenceRequest, caller: CallerDep) -> Silence:
    return create_silence(rt, caller, body)


@router.delete(
    "/silences/{silence_id}",
    response_model=Silence,
    responses={**ERRORS, **FORBIDDEN, **not_found("No such silence"), **_ENDED},
    summary="Expire a silence now (it is kept, with its new end and who ended it)",
)
def delete_silence(rt: RuntimeDep, silence_id: SilenceId, caller: CallerDep) -> Silence:
    return expire_silence(rt, caller, silence_id)


@router.post(
    "/silences/{silence_id}/expire",
    response_model=Silence,
    responses={**ERRORS, **FORBIDDEN, **not_found("No such silence"), **_ENDED},
    summary="Expire a silence now (the same as DELETE, for clients that cannot send one)",
)
def expire(rt: RuntimeDep, silence_id: SilenceId, caller: CallerDep) -> Silence:
    return expire_silence(rt, caller, silence_id)


@router.post(
    "/alerts/{alert_id}/ack",
    response_model=AlertRecord,
    responses={**ERRORS, **FORBIDDEN, **not_found("No such alert"), **_NOT_FIRING},
    summary="Acknowledge a firing alert: who (you), when (now) and a note",
)
def ack(rt: RuntimeDep, alert_id: AlertId, body: AckRequest, caller: CallerDep) -> AlertRecord:
    return acknowledge_alert(rt, caller, alert_id, body)
