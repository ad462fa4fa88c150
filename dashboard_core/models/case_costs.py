"""What tests cost (CPU, peak memory): the heaviest of a run or of a suite, and the
tests whose cost grew (``GET /api/testing/runs/{id}/heaviest``,
``GET /api/testing/suites/{name}/heaviest``, ``GET /api/testing/suites/{name}/cost-growth``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from dashboard_core.models.testing import CaseOutcome

CostMetric = Literal["cpu", "memory"]  # CPU seconds (user + system), or peak resident memory


class CaseCost(BaseModel):
    """One test's cost: in one run, or its median over a suite's recent runs."""

    nodeid: str
    outcome: CaseOutcome = Field(description="Its outcome (in a suite's view: in the newest of those runs).")
    duration: float = Field(description="Wall seconds, setup to teardown.")
    cpu_user_seconds: float
    cpu_system_seconds: float
    cpu_seconds: float = Field(description="User + system.")
    cpu_ratio: float | None = Field(
        None, description="CPU seconds per wall second: ~1 computing, ~0 waiting, >1 several threads at once."
    )
    peak_rss_bytes: int | None = Field(
        None, description="Peak resident memory of the process that ran it, while it ran; null where not measured."
    )
    runs: int = Field(1, description="Runs the figures are the median of (1 for one run).")


class HeaviestTests(BaseModel):
    suite: str
    run_id: int | None = Field(None, description="The run (a run's view); null for a suite's.")
    runs: int = Field(description="Runs looked at (1 for a run's view).")
    by: CostMetric
    measured: int = Field(description="Tests with figures; command suites and runs from before have none.")
    items: list[CaseCost] = Field(default_factory=list, description="Heaviest first.")


class CostGrowth(BaseModel):
    """A test that cost more in the run than it usually does."""

    nodeid: str
    metric: CostMetric
    now: float = Field(description="In the run: CPU seconds, or bytes of peak resident memory.")
    median: float = Field(description="Its median over the earlier runs.")
    spread: float = Field(description="The interquartile range (Q3 - Q1) of those runs.")
    threshold: float = Field(description="What 'now' had to exceed (the rule in the model's description).")
    baseline_runs: int = Field(description="Earlier runs with a figure for this test.")
    growth_percent: float = Field(description="now / median - 1, in %.")


class CostGrowthReport(BaseModel):
    """The tests of one run whose CPU or memory grew beyond their noise."""

    suite: str
    run_id: int | None = Field(None, description="The run judged (the suite's newest finished run by default).")
    window: int = Field(description="Earlier finished runs of the suite the baseline is read from.")
    rule: str = Field(description="The rule, in words.")
    items: list[CostGrowth] = Field(default_factory=list, description="Largest growth first.")
