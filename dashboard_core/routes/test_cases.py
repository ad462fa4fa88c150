"""A page of a run's test cases: filtered, sorted and paged in the store, so a
run of 20,000 tests is read a page at a time (``GET /testing/runs/{id}`` carries
every case)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from dashboard_core.models import ErrorResponse
from dashboard_core.routes.common import ERRORS, RuntimeDep, not_found
from dashboard_core.routes.tags import Tag
from dashboard_core.testing.case_query import CasePage, CaseQuery

router = APIRouter(tags=[Tag.TESTS])


@router.get(
    "/testing/runs/{run_id}/cases",
    response_model=CasePage,
    responses={
        **ERRORS,
        **not_found("No such run"),
        422: {"model": ErrorResponse, "description": "A bad parameter (an unknown outcome or sort, a negative bound)"},
    },
    summary="A page of a run's test cases, filtered and sorted (failures first), with counts per outcome",
)
def run_cases(
    rt: RuntimeDep,
    run_id: Annotated[int, Path(ge=1, le=2**62, description="A run's id")],
    query: Annotated[CaseQuery, Query()],
) -> CasePage:
    """Each case carries its subtests (``unittest`` ``subTest``, the ``subtests``
    fixture) nested under it; ``counts`` are per outcome over the cases the other
    filters keep, for the outcome pills."""
    return rt.tests.case_page(run_id, query)
