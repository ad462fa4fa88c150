"""Runs on a Ray cluster: ``[ray]`` (where the cluster is), and the settings a
suite or a workflow step shares to run as a Ray job (:class:`RayPlacement`:
``executor = "ray"`` and what its jobs ask of the cluster)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

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


class RayPlacement(_Strict):
    """Where a suite or a workflow step runs, and what its Ray jobs ask of the
    cluster: one set of settings (and one check) for both."""

    executor: Literal["local", "ray"] = Field(
        "local", description="Where it runs: 'local' (this host) or 'ray' (a job on the [ray] cluster)."
    )
    ray_cpus: float | None = Field(None, ge=0, description="ray: CPUs each job asks for (entrypoint_num_cpus).")
    ray_memory_mb: int | None = Field(None, ge=1, description="ray: memory each job asks for, in MiB.")
    ray_resources: dict[str, float] = Field(
        default_factory=dict, description="ray: custom resources each job asks for, e.g. {gpu_box = 1}."
    )

    def ray_only_settings(self) -> list[str]:
        """The Ray settings given (they need ``executor = "ray"``)."""
        return [k for k in ("ray_cpus", "ray_memory_mb", "ray_resources") if getattr(self, k)]

    @model_validator(mode="after")
    def _ray_settings_need_ray(self) -> RayPlacement:
        given = self.ray_only_settings() + self._more_ray_only()
        if given and self.executor != "ray":
            raise ValueError(f'{", ".join(given)} only apply to executor = "ray"')
        return self

    def _more_ray_only(self) -> list[str]:
        """A subclass's own Ray-only settings that were given (a suite's ``shards``)."""
        return []
