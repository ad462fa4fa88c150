"""Which executor runs a suite: the manager's own (local) one, or a Ray executor
for a suite with ``executor = "ray"``, one per suite (its CPUs, memory and
resources), made at its first run: ``ray`` is imported only then."""

from __future__ import annotations

from dashboard_core.config import SuiteConfig
from dashboard_core.processes.executor import Executor
from dashboard_core.processes.placed import PlacedExecutors


class SuiteExecutors(PlacedExecutors):
    def for_suite(self, suite: SuiteConfig) -> Executor:
        """Raises :class:`~dashboard_core.processes.spec.CannotStart` when Ray is not installed."""
        return self.placed(suite.name, suite, suite.shards)
