"""A suite's quarantine over HTTP: list it (a viewer), put a test in or take it out (an
operator, audited). A quarantined test still runs and shows; its failure does not fail the
suite's verdict."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from dashboard_core.app.quarantine import quarantine_test, quarantined, release_test
from dashboard_core.models import ErrorResponse
from dashboard_core.models.quarantine import Quarantined, QuarantineRelease, QuarantineRequest
from dashboard_core.routes.common import ERRORS, FORBIDDEN, CallerDep, Responses, RuntimeDep, Viewer, not_found
from dashboard_core.routes.tags import Tag

router = APIRouter(tags=[Tag.TESTS])

SuiteName = Annotated[str, Path(max_length=200, description="A suite's name from dashboard.toml")]
_NOT_FOUND = not_found("No such suite")
_BAD: Responses = {422: {"model": ErrorResponse, "description": "A bad body, or a test the suite has not run"}}


@router.get(
    "/testing/suites/{name}/quarantine",
    response_model=list[Quarantined],
    responses={**ERRORS, **_NOT_FOUND},
    summary="The suite's tests in quarantine: who put each there, when and why",
)
def list_quarantine(rt: RuntimeDep, _who: Viewer, name: SuiteName) -> list[Quarantined]:
    return quarantined(rt, name)


@router.post(
    "/testing/suites/{name}/quarantine",
    response_model=Quarantined,
    responses={**ERRORS, **FORBIDDEN, **_NOT_FOUND, **_BAD},
    summary="Quarantine a test: it still runs, but its failure no longer fails the suite's runs",
)
def add_to_quarantine(rt: RuntimeDep, name: SuiteName, body: QuarantineRequest, caller: CallerDep) -> Quarantined:
    return quarantine_test(rt, caller, name, body)


@router.delete(
    "/testing/suites/{name}/quarantine",
    response_model=Quarantined,
    responses={**ERRORS, **FORBIDDEN, **_NOT_FOUND, **_BAD},
    summary="Take a test out of quarantine (the body names it)",
)
def remove_from_quarantine(rt: RuntimeDep, name: SuiteName, body: QuarantineRelease, caller: CallerDep) -> Quarantined:
    return release_test(rt, caller, name, body)
