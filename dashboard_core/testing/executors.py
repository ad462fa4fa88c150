"""Which executor runs a suite: the manager's own (local) one, or a Ray executor
for a suite with ``executor = "ray"``, one per suite (its CPUs, memory and
resources), made at its first run: ``ray`` is imported only then."""

from __future__ import annotations

import threading

from dashboard_core.config import Config, SuiteConfig
from dashboard_core.processes.executor import Executor

MIB = 1024 * 1024


class SuiteExecutors:
    def __init__(self, config: Config, default: Executor) -> None:
        self.config = config
        self.default = default
        self._ray: dict[str, Executor] = {}
        self._lock = threading.Lock()

    def for_suite(self, suite: SuiteConfig) -> Executor:
        """Raises :class:`~dashboard_core.processes.spec.CannotStart` when Ray is not installed."""
        if suite.executor != "ray":
            return self.default
        with self._lock:
            found = self._ray.get(suite.name)
            if found is None:
                from dashboard_core.processes.ray_executor import RayExecutor, RayResources

                assert self.config.ray.address is not None  # the config refuses a Ray suite without one
                resources = RayResources(
                    cpus=suite.ray_cpus,
                    memory_bytes=suite.ray_memory_mb * MIB if suite.ray_memory_mb else None,
                    resources=dict(suite.ray_resources),
                )
                found = RayExecutor(
                    self.config.ray.address,
                    resources,
                    upload=self.config.ray.upload_working_dir,
                    shards=suite.shards,
                )
                self._ray[suite.name] = found
            return found
