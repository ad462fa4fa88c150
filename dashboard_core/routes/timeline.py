"""The time axis over HTTP: the marks (runs, restarts, alerts, state changes,
annotations) that overlap a window, for any chart to draw; the story of a
window (what happened in it, how the host fared) and its evidence bundle."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from dashboard_core.models import ErrorResponse
from dashboard_core.routes.common import ERRORS, QueryWindow, RuntimeDep, Viewer, download
from dashboard_core.routes.metrics import history_csv_frame
from dashboard_core.routes.tags import Tag
from dashboard_core.timeline.mark_json import CompactMarkPage, compact_json
from dashboard_core.timeline.marks import MarkKind, marks_between
from dashboard_core.timeline.story import WindowStory, read_story, window_story

router = APIRouter(tags=[Tag.EVENTS])


@router.get(
    "/timeline/marks",
    response_model=CompactMarkPage,
    responses=ERRORS,
    summary="What happened in a window (runs, restarts, alerts, state changes, annotations), by kind, oldest first",
    description="Compact, for every chart to fetch: the marks grouped by kind, times in epoch milliseconds, "
    "and a field left out when it has its default (a point has no `end`; `ongoing`, `detail` and `href` only "
    "when they say something).",
)
def marks(
    rt: RuntimeDep,
    _who: Viewer,
    window: QueryWindow,
    kind: Annotated[list[MarkKind] | None, Query(description="Only these kinds (all when left out)")] = None,
    width: Annotated[
        int | None,
        Query(
            ge=50,
            le=20_000,
            description="The chart's width in pixels: neighbouring marks of one kind, thing and outcome, each "
            "narrower than a pixel, come as one mark that says how many (all marks one by one when left out)",
        ),
    ] = None,
) -> Response:
    resolution = window.seconds / width if width else None
    page = marks_between(rt.store, window.start, window.end, kind, datetime.now(UTC), resolution_s=resolution)
    return Response(compact_json(page), media_type="application/json")


@router.get(
    "/timeline/story",
    response_model=WindowStory,
    responses=ERRORS,
    summary="The story of a window: its marks by kind, its events by kind, the host's main metrics' min/mean/max",
)
def story(rt: RuntimeDep, who: Viewer, window: QueryWindow) -> WindowStory:
    return window_story(rt, window, who)


@router.get(
    "/timeline/bundle.zip",
    response_class=Response,
    responses={
        **ERRORS,
        200: {
            "content": {"application/zip": {}},
            "description": "story.json (as /timeline/story), marks.csv, events.csv and metrics.csv (the bytes "
            "/metrics/history.csv sends for the same window)",
        },
        413: {"model": ErrorResponse, "description": "The window holds more metric rows than csv_max_rows"},
    },
    summary="The evidence bundle of a window: its story, marks, events and metric history in one zip",
)
def bundle(rt: RuntimeDep, who: Viewer, window: QueryWindow) -> Response:
    from dashboard_core.metrics.export import frame_to_csv
    from dashboard_core.timeline.bundle import bundle_filename, bundle_zip

    frame, read = history_csv_frame(rt, window)  # first: a window too long is refused before anything else is read
    told, events, _read = read_story(rt, window, who, read=read)
    body = bundle_zip(told, events, frame_to_csv(frame))
    return download(body, "application/zip", bundle_filename(window), {"X-Resolution": read.token})
