"""A run's resource story: its own process tree over time, and the host's CPU and
memory over the same span (``GET /api/testing/runs/{id}/resources``,
``GET /api/workflows/runs/{id}/resources``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class TreeSample(BaseModel):
    at: datetime
    cpu_percent: float = Field(
        description="CPU of the whole tree since the sample before, in % of one core (200 = two cores busy)."
    )
    cpu_seconds: float = Field(description="CPU time of the tree since the run (or the step) started.")
    rss_bytes: int = Field(description="Resident memory of the tree: the sum over its processes.")
    processes: int = Field(description="Processes alive in the tree.")


class TreeSeries(BaseModel):
    step: str | None = Field(None, description="The workflow step whose tree this is; null for a test run.")
    samples: list[TreeSample] = Field(default_factory=list)
    peak_rss_bytes: int | None = None
    peak_at: datetime | None = Field(None, description="When the peak resident memory was sampled.")
    mean_cpu_percent: float | None = Field(None, description="CPU seconds over the time sampled, in % of one core.")
    cpu_seconds: float | None = None


class HostPoint(BaseModel):
    at: datetime
    cpu_percent: float | None = Field(None, description="The host's CPU busy, all cores (100 = every core busy).")
    memory_percent: float | None = Field(None, description="The host's memory in use, in %.")
    memory_used_bytes: float | None = None


class RunResources(BaseModel):
    kind: Literal["test", "workflow"] = Field(description="A test run's story, or a workflow run's.")
    run_id: int
    start: datetime | None = Field(None, description="The run's start; null if it never started.")
    end: datetime | None = Field(None, description="The run's end, or now while it runs.")
    running: bool = False
    sample_interval_seconds: float = Field(description="How often the run's tree is sampled.")
    cpu_cores: int = Field(description="The host's logical cores: the tree's CPU % over this is its share of the host.")
    trees: list[TreeSeries] = Field(default_factory=list, description="One per test run; one per step that ran.")
    host: list[HostPoint] = Field(
        default_factory=list, description="The host's metric history over the run's span, padded a little each side."
    )
    host_resolution: str = Field("", description="full (every sample) or a history tier such as 10 s.")
    peak_rss_bytes: int | None = Field(None, description="The highest resident memory of the trees together.")
    cpu_seconds: float | None = Field(None, description="CPU time of the trees together.")
    mean_cpu_percent: float | None = Field(None, description="CPU seconds over the time sampled, in % of one core.")
    summary: str = Field("", description="One sentence: peak memory, mean CPU, CPU seconds.")
    note: str = Field("", description="Why there is no tree series, when there is none.")
