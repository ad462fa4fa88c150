"""What the pages' live cards and charts fetch (``metrics/live_feed.py`` says why),
and the Plotly library they draw with, vendored in ``dashboard_core/assets``
(its README says what and why) so nothing is fetched from outside."""

from __future__ import annotations

import gzip
import re
import zoneinfo
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from dashboard_core.app import queries
from dashboard_core.routes.common import ERRORS, CallerDep, QueryWindow, Responses, RuntimeDep
from dashboard_core.routes.metrics import history_csv_link
from dashboard_core.routes.tags import Tag

router = APIRouter(tags=[Tag.METRICS])

# plotly.js's cartesian bundle (scatter and heatmap are all the charts draw): 1.5 MB to parse, not the
# full bundle's 4.8 MB. Its version, from its header, is in the path, so a browser may keep it for good.
PLOTLY_BUNDLE = resources.files("dashboard_core").joinpath("assets/plotly-cartesian.min.js")


def _bundle_version() -> str:
    with PLOTLY_BUNDLE.open("rb") as script:
        found = re.search(rb"plotly\.js \(cartesian - minified\) v(\S+)", script.read(200))
    if found is None:
        raise RuntimeError(f"{PLOTLY_BUNDLE} has no plotly.js version header: replace it as its README says.")
    return found.group(1).decode()


PLOTLY_JS_VERSION = _bundle_version()
PLOTLY_JS = f"/ui/plotly-cartesian-{PLOTLY_JS_VERSION}.min.js"
_JSON: Responses = {200: {"content": {"application/json": {}}, "description": "The payload the page's component draws"}}
Since = Annotated[int | None, Query(description="UTC epoch milliseconds of the newest point the caller has")]
Tz = Annotated[str, Query(description="IANA time zone of the chart's axis, e.g. Europe/Berlin")]


def _json(payload: dict[str, Any]) -> Response:
    body = orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY)
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})


def _zone(tz: str) -> str:
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise HTTPException(400, f"tz {tz!r} is not an IANA time zone such as UTC or Europe/Berlin.") from None
    return tz


@router.get(
    "/ui/cards",
    response_class=Response,
    responses={**ERRORS, **_JSON},
    summary="The live cards: values, changes over a minute, sparklines (only new points after `since`)",
)
def cards(rt: RuntimeDep, since: Since = None) -> Response:
    from dashboard_core.metrics import live_feed  # not loaded until a page asks

    return _json(live_feed.cards_payload(rt.live_cards(), since))


@router.get(
    "/ui/charts",
    response_class=Response,
    responses={**ERRORS, **_JSON},
    summary="The history charts of a window as Plotly figures, with what it takes to extend them",
)
def charts(rt: RuntimeDep, win: QueryWindow, request: Request, tz: Tz = "UTC") -> Response:
    from dashboard_core.metrics import live_feed  # not loaded until a page asks

    view = live_feed.ChartsView(
        win, _zone(tz), live=not (request.query_params.get("start") or request.query_params.get("end"))
    )
    read = rt.read_history(win)
    figures = rt.figures.figures(read.chart_rows(), view.tz)
    return _json(live_feed.charts_payload(view, read, figures, history_csv_link(win.start, win.end)))


@router.get(
    "/ui/charts/points",
    response_class=Response,
    responses={**ERRORS, **_JSON},
    summary="The charts' rows after `since`, at a resolution (`full` or a tier such as `10s`)",
)
def points(
    rt: RuntimeDep,
    since: Annotated[int, Query(description="UTC epoch milliseconds of the newest point the chart has")],
    step: Annotated[str, Query(description="`full`, or the tier the chart is drawn at (its `step`)")] = "full",
    tz: Tz = "UTC",
) -> Response:
    from dashboard_core.metrics import live_feed

    try:
        rows = rt.history_tail(since, step)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    return _json(live_feed.points_payload(rows, _zone(tz)))


@router.get(
    "/ui/version",
    response_class=Response,
    responses={**ERRORS, **_JSON},
    summary="A digest of what a page part shows (`overview`, or `events`: the newest event's id); "
    "the part redraws when it changes",
)
def version(rt: RuntimeDep, caller: CallerDep, view: Literal["overview", "events"] = "overview") -> Response:
    if view == "events":
        return _json({"version": str(rt.events.last_id)})
    ov = queries.overview(rt, caller)
    return _json({"version": queries.overview_version(ov, datetime.now(UTC))})


@router.get(PLOTLY_JS, include_in_schema=False)
def plotly_js(request: Request) -> Response:
    """plotly.js's cartesian bundle; its version is in the path, so the browser
    may keep it for good. Gzipped when the browser takes it (1.5 MB becomes
    0.5 MB), compressed once and kept."""
    headers = {"Cache-Control": "public, max-age=31536000, immutable", "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(_plotly_gz(), media_type="text/javascript", headers={**headers, "Content-Encoding": "gzip"})
    return Response(_plotly_raw(), media_type="text/javascript", headers=headers)


def _plotly_raw() -> bytes:
    return PLOTLY_BUNDLE.read_bytes()


@cache
def _plotly_gz() -> bytes:
    return gzip.compress(_plotly_raw(), 6)
