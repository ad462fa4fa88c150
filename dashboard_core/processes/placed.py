"""Which executor runs a suite or a workflow step: the default (local) one, or,
for ``executor = "ray"``, a Ray executor with that suite's or step's CPUs, memory
and resources, made at its first use (``ray`` is imported only then) and kept
under a key (the suite's or the step's name)."""

from __future__ import annotations

import threading

from dashboard_core.config import Config
from dashboard_core.config.ray import RayPlacement
from dashboard_core.processes.executor import Executor

MIB = 1024 * 1024


class PlacedExecutors:
    def __init__(self, config: Config, default: Executor) -> None:
        self.config = config
        self.default = default
        self._ray: dict[str, Executor] = {}
        self._lock = threading.Lock()

    def placed(self, key: str, placement: RayPlacement, shards: int = 1) -> Executor:
        """Raises :class:`~dashboard_core.processes.spec.CannotStart` when Ray is not installed."""
        if placement.executor != "ray":
            return self.default
        with self._lock:
            found = self._ray.get(key)
            if found is None:
                from dashboard_core.processes.ray_executor import RayExecutor, RayResources

                assert self.config.ray.address is not None  # the config refuses a Ray placement without one
                resources = RayResources(
                    cpus=placement.ray_cpus,
                    memory_bytes=placement.ray_memory_mb * MIB if placement.ray_memory_mb else None,
                    resources=dict(placement.ray_resources),
                )
                found = RayExecutor(
                    self.config.ray.address, resources, upload=self.config.ray.upload_working_dir, shards=shards
                )
                self._ray[key] = found
            return found
