"""Test-suite routes: run a suite, list and read runs, cancel, downloads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import FileResponse, Response

from dashboard_core.app import actions
from dashboard_core.app.case_costs import cost_growth, heaviest_of_run, heaviest_of_suite
from dashboard_core.app.regressions import RunRegressions, run_regressions, suite_regressions
from dashboard_core.app.run_compare import RunComparison, compare_runs, comparison_csv, comparison_name
from dashboard_core.app.run_story import test_run_story
from dashboard_core.models import (
    ErrorResponse,
    FlakyTest,
    RunDetail,
    RunInfo,
    RunPage,
    RunStatus,
    RunSuiteRequest,
    RunSuiteResponse,
    SuiteInfo,
    Trigger,
)
from dashboard_core.models.case_costs import CostGrowthReport, CostMetric, HeaviestTests
from dashboard_core.models.resources import RunResources
from dashboard_core.routes.common import ERRORS, FORBIDDEN, CallerDep, Responses, RuntimeDep, download, not_found
from dashboard_core.routes.tags import Tag
from dashboard_core.testing.compare import HISTORY_RUNS
from dashboard_core.testing.costs import COST_WINDOW
from dashboard_core.testing.reports import export_name, run_csv, run_junit

_NOT_FOUND = not_found("No such suite or run")
_CONFLICT: Responses = {409: {"model": ErrorResponse, "description": "Not possible in the run's current state"}}
RunId = Annotated[int, Path(ge=1, le=2**62, description="A run's id")]


router = APIRouter(tags=[Tag.TESTS])


@router.post(
    "/dashboard/testing/run-suite",
    response_model=RunSuiteResponse,
    responses={
        **ERRORS,
        **FORBIDDEN,
        **_NOT_FOUND,
        **_CONFLICT,
        422: {"model": ErrorResponse, "description": "Bad body"},
    },
    summary="Run a test suite (or get the run already going)",
)
def run_suite(body: RunSuiteRequest, rt: RuntimeDep, caller: CallerDep) -> RunSuiteResponse:
    start = actions.run_suite(rt, caller, body.test_suite, Trigger(body.trigger), rerun_failed_of=body.rerun_failed_of)
    run = start.run
    return RunSuiteResponse(
        test_id=str(run.id), status=run.status, already_running=not start.created, message=start.message
    )


@router.get("/testing/suites", response_model=list[SuiteInfo], responses=ERRORS, summary="The configured test suites")
def suites(rt: RuntimeDep) -> list[SuiteInfo]:
    return rt.tests.suites()


@router.get(
    "/testing/suites/{name}/flaky",
    response_model=list[FlakyTest],
    responses={**ERRORS, **_NOT_FOUND},
    summary="Tests whose outcome flipped in the suite's last N runs",
)
def flaky(
    rt: RuntimeDep,
    name: Annotated[str, Path(max_length=200)],
    n: Annotated[int | None, Query(ge=2, le=500, description="Runs to look at (default testing.flaky_window)")] = None,
) -> list[FlakyTest]:
    return rt.tests.flaky(name, n)


@router.get("/testing/runs", response_model=RunPage, responses=ERRORS, summary="Test runs, newest first")
def runs(
    rt: RuntimeDep,
    suite: Annotated[str | None, Query(max_length=200)] = None,
    status: RunStatus | None = None,
    trigger: Trigger | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> RunPage:
    return rt.tests.runs(suite=suite, status=status, trigger=trigger, limit=limit, offset=offset)


@router.get(
    "/testing/runs/{run_id}",
    response_model=RunDetail,
    responses={**ERRORS, **_NOT_FOUND},
    summary="One run with its test cases and the tail of its log",
)
def run_detail(rt: RuntimeDep, run_id: RunId) -> RunDetail:
    return rt.tests.detail(run_id)


@router.post(
    "/testing/runs/{run_id}/cancel",
    response_model=RunInfo,
    responses={**ERRORS, **FORBIDDEN, **_NOT_FOUND, **_CONFLICT},
    summary="Cancel a queued or running run",
)
def cancel(rt: RuntimeDep, run_id: RunId, caller: CallerDep) -> RunInfo:
    return actions.cancel_run(rt, caller, run_id)


@router.get(
    "/testing/runs/{run_id}/log",
    response_class=FileResponse,
    responses={**ERRORS, **_NOT_FOUND, **_CONFLICT, 200: {"content": {"text/plain": {}}}},
    summary="The run's whole output log (capped: head and tail)",
)
def run_log(rt: RuntimeDep, run_id: RunId) -> FileResponse:
    run = rt.tests.run(run_id)
    return FileResponse(
        rt.tests.log_file(run_id), media_type="text/plain; charset=utf-8", filename=export_name(run, "log")
    )


@router.get(
    "/testing/runs/{run_id}/cases.csv",
    response_class=Response,
    responses={**ERRORS, **_NOT_FOUND, 200: {"content": {"text/csv": {}}}},
    summary="The run's test cases as CSV",
)
def run_cases_csv(rt: RuntimeDep, run_id: RunId) -> Response:
    run = rt.tests.detail(run_id)
    return download(run_csv(run), "text/csv; charset=utf-8", export_name(run, "csv"))


@router.get(
    "/testing/runs/{run_id}/junit.xml",
    response_class=Response,
    responses={**ERRORS, **_NOT_FOUND, 200: {"content": {"application/xml": {}}}},
    summary="The run as JUnit XML",
)
def run_junit_xml(rt: RuntimeDep, run_id: RunId) -> Response:
    run = rt.tests.detail(run_id)
    return download(run_junit(run), "application/xml", export_name(run, "xml"))


@router.get(
    "/testing/runs/{run_id}/resources",
    response_model=RunResources,
    responses={**ERRORS, **_NOT_FOUND},
    summary="The run's own process tree over time (CPU, memory) and the host's CPU and memory meanwhile",
)
def run_resources(rt: RuntimeDep, run_id: RunId) -> RunResources:
    return test_run_story(rt, run_id)


# -- duration regressions (issue 24, item 3) ------------------------------------------
@router.get(
    "/testing/runs/{run_id}/regressions",
    response_model=RunRegressions,
    responses={**ERRORS, **_NOT_FOUND, **_CONFLICT},
    summary="The finished run's tests that got slower beyond their noise, and whether the host was busy meanwhile",
)
def run_regressions_route(rt: RuntimeDep, run_id: RunId) -> RunRegressions:
    return run_regressions(rt, run_id)


@router.get(
    "/testing/suites/{name}/regressions",
    response_model=RunRegressions,
    responses={**ERRORS, **_NOT_FOUND},
    summary="The regressions of the suite's newest finished run",
)
def suite_regressions_route(rt: RuntimeDep, name: Annotated[str, Path(max_length=200)]) -> RunRegressions:
    return suite_regressions(rt, name)


# -- comparing two runs ---------------------------------------------------------------------
_CANNOT_COMPARE: Responses = {
    422: {
        "model": ErrorResponse,
        "description": "Runs of different suites, a run not finished, or none to compare with",
    }
}
WithRun = Annotated[
    int | None,
    Query(
        alias="with",
        ge=1,
        le=2**62,
        description="The run to compare with (the base); default: the last passed full run of the suite before this one.",
    ),
]
HistoryRuns = Annotated[
    int, Query(ge=1, le=200, description="Runs a side the duration tests read, at most (default 40).")
]


@router.get(
    "/testing/runs/{run_id}/compare",
    response_model=RunComparison,
    responses={**ERRORS, **_NOT_FOUND, **_CANNOT_COMPARE},
    summary="Compare the run with another run of its suite: test by test, host load, environment",
)
def compare_run(
    rt: RuntimeDep, run_id: RunId, with_run: WithRun = None, history: HistoryRuns = HISTORY_RUNS
) -> RunComparison:
    return compare_runs(rt, run_id, with_run, history)


@router.get(
    "/testing/runs/{run_id}/compare.csv",
    response_class=Response,
    responses={**ERRORS, **_NOT_FOUND, **_CANNOT_COMPARE, 200: {"content": {"text/csv": {}}}},
    summary="The comparison as CSV, one row per test",
)
def compare_run_csv(
    rt: RuntimeDep, run_id: RunId, with_run: WithRun = None, history: HistoryRuns = HISTORY_RUNS
) -> Response:
    comparison = compare_runs(rt, run_id, with_run, history)
    return download(comparison_csv(comparison), "text/csv; charset=utf-8", comparison_name(comparison))


# -- what tests cost (CPU, peak memory): dashboard_core.app.case_costs -----------------
By = Annotated[CostMetric, Query(description="cpu: CPU seconds (user + system); memory: peak resident memory")]
Limit = Annotated[int, Query(ge=1, le=500, description="Tests to list")]
SuiteName = Annotated[str, Path(max_length=200, description="A suite's name from dashboard.toml")]


@router.get(
    "/testing/runs/{run_id}/heaviest",
    response_model=HeaviestTests,
    responses={**ERRORS, **_NOT_FOUND},
    summary="The run's heaviest tests by CPU seconds or peak memory (measured by the dashboard's pytest plugin)",
)
def run_heaviest(rt: RuntimeDep, run_id: RunId, by: By = "cpu", limit: Limit = 10) -> HeaviestTests:
    return heaviest_of_run(rt, run_id, by, limit)


@router.get(
    "/testing/suites/{name}/heaviest",
    response_model=HeaviestTests,
    responses={**ERRORS, **_NOT_FOUND},
    summary="The suite's heaviest tests: each test's median cost over its last N finished runs",
)
def suite_heaviest(
    rt: RuntimeDep,
    name: SuiteName,
    by: By = "cpu",
    limit: Limit = 10,
    n: Annotated[int, Query(ge=1, le=500, description="Finished runs to look at")] = COST_WINDOW,
) -> HeaviestTests:
    return heaviest_of_suite(rt, name, by, limit, n)


@router.get(
    "/testing/suites/{name}/cost-growth",
    response_model=CostGrowthReport,
    responses={**ERRORS, **_NOT_FOUND},
    summary="Tests of a run (the newest by default) whose CPU or memory grew beyond their noise",
)
def suite_cost_growth(
    rt: RuntimeDep,
    name: SuiteName,
    run: Annotated[
        int | None, Query(ge=1, le=2**62, description="The run to judge (a run of this suite); the newest finished")
    ] = None,
    window: Annotated[
        int, Query(ge=1, le=500, description="Earlier finished runs the baseline is read from")
    ] = COST_WINDOW,
) -> CostGrowthReport:
    return cost_growth(rt, name, run, window)
