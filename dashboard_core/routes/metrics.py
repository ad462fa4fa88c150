"""Metric routes: the fields, the newest sample, history as CSV, the top processes (now or at a moment)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

from dashboard_core.metrics.export import csv_filename
from dashboard_core.metrics.history_read import HistoryRead
from dashboard_core.metrics.windows import Window, WindowError, parse_time
from dashboard_core.models import ErrorResponse, FieldInfo, LatestSample, ProcessInfo
from dashboard_core.routes.common import ERRORS, QueryWindow, RuntimeDep, Viewer, csv_download
from dashboard_core.routes.tags import Tag
from dashboard_core.runtime import Runtime
from dashboard_core.timeline.moment import ProcessMoment, moment_at
from dashboard_core.units import utc_iso

if TYPE_CHECKING:  # loaded with the first CSV
    import pandas as pd

HISTORY_CSV = "/metrics/history.csv"

router = APIRouter(tags=[Tag.METRICS])


def history_csv_link(start: datetime, end: datetime) -> str:
    """A page-relative link to the CSV of a window, for an ``<a download>``:
    the server streams the file, so no copy is held per browser session."""
    query = urlencode({"start": utc_iso(start, "microseconds"), "end": utc_iso(end, "microseconds")})
    return f"api{HISTORY_CSV}?{query}"


@router.get(
    "/metrics/fields",
    response_model=list[FieldInfo],
    responses=ERRORS,
    summary="Every metric: name, unit, meaning, gauge or rate",
)
def fields(rt: RuntimeDep) -> list[FieldInfo]:
    return [
        FieldInfo(name=f.name, unit=f.unit, description=f.description, kind=f.kind, label=f.label) for f in rt.fields
    ]


@router.get(
    "/metrics/latest",
    response_model=LatestSample,
    responses={**ERRORS, 404: {"model": ErrorResponse, "description": "No sample yet"}},
    summary="The newest sample",
)
def latest(rt: RuntimeDep) -> LatestSample:
    sample = rt.latest()
    if sample is None:
        raise HTTPException(404, "No sample has been taken yet; retry in a second.")
    return sample


@router.get(
    HISTORY_CSV,
    response_class=Response,
    responses={
        **ERRORS,
        200: {
            "content": {"text/csv": {}},
            "description": "ISO 8601 UTC timestamps, one column per metric. The X-Resolution header says what "
            "the rows are: `full` (every sample) or a tier of the store (`10s`, `1m`: timestamps are bucket "
            "starts, values means, then `column:min` and `column:max` columns when the tier keeps them).",
        },
        413: {"model": ErrorResponse, "description": "The window holds more rows than csv_max_rows"},
    },
    summary="Metric history as CSV",
)
def history_csv(rt: RuntimeDep, win: QueryWindow) -> Response:
    frame, read = history_csv_frame(rt, win)
    return csv_download(frame, csv_filename("metrics", win.start, win.end), {"X-Resolution": read.token})


def history_csv_frame(rt: Runtime, win: Window) -> tuple[pd.DataFrame, HistoryRead]:
    """The window's history as the CSV holds it (and the read it came from); a 413
    past ``csv_max_rows``. Shared with the evidence bundle, whose metrics.csv is this CSV."""
    read = rt.read_history(win, extremes=True)
    frame = read.csv_frame()
    limit = rt.config.api.csv_max_rows
    if len(frame) > limit:
        raise HTTPException(
            413, f"The window holds {len(frame):,} rows, more than csv_max_rows ({limit:,}); ask for a shorter one."
        )
    return frame, read


@router.get(
    "/metrics/processes",
    response_model=list[ProcessInfo],
    responses=ERRORS,
    summary="Top processes by CPU or memory",
)
def processes(
    rt: RuntimeDep,
    by: Literal["cpu", "memory"] = "cpu",
    n: Annotated[int, Query(ge=1, le=500)] = 10,
) -> list[ProcessInfo]:
    return rt.top_processes(by, n)


@router.get(
    "/metrics/processes/at",
    response_model=ProcessMoment,
    responses=ERRORS,
    summary="The top processes and the runs going on at a moment",
)
def processes_at(
    rt: RuntimeDep,
    _who: Viewer,
    at: Annotated[str, Query(description="ISO 8601 time (UTC if no offset), e.g. 2026-12-06T10:00:00Z")],
) -> ProcessMoment:
    try:
        moment = parse_time(at, "at")
    except WindowError as exc:
        raise HTTPException(400, str(exc)) from None
    sampler = rt.config.sampler
    return moment_at(
        rt.snapshots,
        rt.store,
        moment,
        scan_interval=sampler.process_interval_seconds,
        top_n=sampler.top_n,
        now=datetime.now(UTC),
    )
