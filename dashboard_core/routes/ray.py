"""The Ray cluster suites run on (``[ray] address``): its nodes, CPUs, GPUs and the
jobs this dashboard submitted, read from Ray's own HTTP API (a viewer may read it)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from dashboard_core.app.ray_cluster import API_WAIT, ray_cluster
from dashboard_core.models import ErrorResponse
from dashboard_core.models.ray_cluster import RayCluster
from dashboard_core.routes.common import ERRORS, RuntimeDep, Viewer
from dashboard_core.routes.tags import Tag

router = APIRouter(tags=[Tag.RAY])


@router.get(
    "/ray/cluster",
    response_model=RayCluster,
    responses={**ERRORS, 404: {"model": ErrorResponse, "description": "No Ray cluster is configured ([ray] address)"}},
    summary="The Ray cluster: its nodes (state, CPUs, GPUs, memory) and the jobs this dashboard submitted",
)
def cluster(rt: RuntimeDep, _who: Viewer) -> RayCluster:
    view = ray_cluster(rt, API_WAIT)
    if view is None:
        raise HTTPException(404, "No Ray cluster is configured: set [ray] address in dashboard.toml.")
    return view
