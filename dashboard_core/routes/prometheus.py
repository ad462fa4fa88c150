"""Prometheus both ways: ``GET /api/metrics`` for a Prometheus to scrape, and
the fleet view's reads of a configured Prometheus (its targets, a host's
history as CSV, which the Metrics page links to).

prometheus_client and the fleet's client (pandas) load with the first request
that needs them: the API is built at start-up, and an idle server needs neither."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from dashboard_core.metrics.export import csv_filename
from dashboard_core.models import ErrorResponse
from dashboard_core.routes.common import ERRORS, QueryWindow, RuntimeDep, csv_download
from dashboard_core.routes.tags import Tag
from dashboard_core.runtime import Runtime
from dashboard_core.units import utc_iso

if TYPE_CHECKING:
    from dashboard_core.metrics.prometheus_source import PrometheusSource

FLEET_CSV = "/prometheus/history.csv"


class TargetInfo(BaseModel):
    instance: str
    job: str
    up: bool
    last_scrape: datetime | None = Field(None, description="When Prometheus last scraped it.")
    nodename: str | None = Field(None, description="The host's name, from node_uname_info.")


def fleet_csv_link(instance: str, start: datetime, end: datetime) -> str:
    """A page-relative link to a remote host's history as CSV (for an ``<a download>``)."""
    query = urlencode(
        {"instance": instance, "start": utc_iso(start, "microseconds"), "end": utc_iso(end, "microseconds")}
    )
    return f"api{FLEET_CSV}?{query}"


def fleet_csv_filename(instance: str, start: datetime, end: datetime) -> str:
    """``metrics_web-1_9100_20261125T080000Z_20261125T081500Z.csv``."""
    return csv_filename(f"metrics_{_safe(instance)}", start, end)


_UPSTREAM: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorResponse, "description": "No Prometheus server is configured (prometheus.url)"},
    502: {"model": ErrorResponse, "description": "Prometheus cannot be reached or refused the query"},
    504: {"model": ErrorResponse, "description": "Prometheus did not answer within prometheus.timeout_seconds"},
}


def _source(rt: Runtime) -> PrometheusSource:
    from dashboard_core.metrics.prometheus_source import source_for

    source = source_for(rt.config.prometheus)
    if source is None:
        raise HTTPException(404, "No Prometheus server is configured: set prometheus.url in dashboard.toml.")
    return source


router = APIRouter(tags=[Tag.PROMETHEUS])


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        **ERRORS,
        200: {"content": {"text/plain": {}}, "description": "Prometheus text format"},
    },
    summary="Every metric in the Prometheus text format, for a Prometheus to scrape",
)
def metrics(rt: RuntimeDep) -> Response:  # rt: the dependency answers 503 while starting
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    from dashboard_core.collector import build_registry

    registry = build_registry(lambda: rt)  # a registry of its own for each scrape, never the global default
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


@router.get(
    "/prometheus/targets",
    response_model=list[TargetInfo],
    responses={**ERRORS, **_UPSTREAM},
    summary="The configured Prometheus' node_exporter targets (up{job=...}): the fleet view's hosts",
)
def targets(rt: RuntimeDep) -> list[TargetInfo]:
    from dashboard_core.metrics.prometheus_api import PrometheusError

    try:
        found = _source(rt).targets()
    except PrometheusError as exc:
        raise HTTPException(exc.http_status, str(exc)) from None
    return [
        TargetInfo(instance=t.instance, job=t.job, up=t.up, last_scrape=t.last_scrape, nodename=t.nodename)
        for t in found
    ]


@router.get(
    FLEET_CSV,
    response_class=Response,
    responses={
        **ERRORS,
        **_UPSTREAM,
        200: {"content": {"text/csv": {}}, "description": "ISO 8601 UTC timestamps, the local CSV's columns"},
    },
    summary="A Prometheus host's history as CSV (CPU, memory, disk, network, load)",
)
def fleet_csv(
    rt: RuntimeDep,
    instance: Annotated[str, Query(min_length=1, max_length=500, description="The target's instance label")],
    win: QueryWindow,
) -> Response:
    from dashboard_core.metrics.prometheus_api import PrometheusError

    try:
        frame = _source(rt).history(instance, win.start, win.end)
    except PrometheusError as exc:
        raise HTTPException(exc.http_status, str(exc)) from None
    return csv_download(frame, fleet_csv_filename(instance, win.start, win.end))


def _safe(text: str) -> str:
    """An instance (``10.0.0.5:9100``) as part of a file name."""
    return "".join(c if c.isalnum() or c in "-." else "_" for c in text)[:80]
