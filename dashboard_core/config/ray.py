"""Runs on a Ray cluster: ``[ray]`` (where the cluster is) and a suite's
``executor = "ray"`` with what its jobs ask of the cluster."""

from __future__ import annotations

from pydantic import Field

from dashboard_core.config.base import _Strict


class RayConfig(_Strict):
    """The Ray cluster suites with ``executor = "ray"`` run on (its Jobs API)."""

    address: str | None = Field(
        None,
        min_length=1,
        description="The cluster's dashboard address, e.g. 'http://127.0.0.1:8265'; none = no Ray runs.",
    )
    upload_working_dir: bool = Field(
        True,
        description="Send a suite's working directory with each job (runtime_env working_dir); "
        "false = the cluster's nodes have the same path.",
    )
