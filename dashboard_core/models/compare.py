"""Two runs of a suite side by side: what each test did in each, how its time and
resources moved, whether the move stands out from its noise, and what changed
around the suite (Python, packages, commit). The host's load over each run is
added by the application layer (``dashboard_core.app.run_compare``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

CaseChange = Literal["newly failing", "newly passing", "still failing", "added", "removed", "changed", "unchanged"]
DurationVerdict = Literal["slower", "faster", "no change", "too few runs"]
PackageChangeKind = Literal["added", "removed", "upgraded", "downgraded", "changed"]


class DurationTest(BaseModel):
    """A Mann-Whitney U test of a test's durations on each side (passed runs only)."""

    verdict: DurationVerdict
    p_value: float | None = Field(None, description="Two-sided; null when too few runs for any answer.")
    base_runs: int = Field(description="Passed durations on the base's side (the base run and the runs before it).")
    head_runs: int = Field(
        description="Passed durations on the head's side (the head run and the runs since the base)."
    )
    base_median: float | None = None
    head_median: float | None = None
    smallest_p: float | None = Field(
        None, description="The smallest p-value these sample sizes allow: 'too few runs' when it is above alpha."
    )


class ResourceDelta(BaseModel):
    base: float | None = None
    head: float | None = None
    delta: float | None = Field(None, description="head - base; null unless both were measured.")


class CaseComparison(BaseModel):
    nodeid: str
    change: CaseChange
    base_outcome: str | None = None
    head_outcome: str | None = None
    base_seconds: float | None = None
    head_seconds: float | None = None
    delta_seconds: float | None = Field(None, description="head - base; null for a test in one run only.")
    ratio: float | None = Field(None, description="head / base seconds; null when either is missing or base is 0.")
    duration: DurationTest | None = Field(None, description="Null for a test in one run only.")
    resources: dict[str, ResourceDelta] = Field(
        default_factory=dict, description="cpu_user_seconds, cpu_system_seconds, peak_rss_bytes: where measured."
    )


class RunEnvironment(BaseModel):
    """What a run ran in, recorded as it started (null: not known for this run)."""

    python: str | None = Field(None, description="The suite interpreter's version, e.g. 3.11.2 (pytest suites).")
    executable: str | None = None
    packages: dict[str, str] = Field(default_factory=dict, description="Installed distributions: name -> version.")
    recorded: bool = Field(False, description="False for runs before this was recorded and for command suites.")
    git_commit: str | None = Field(None, description="HEAD of the suite's folder; null when it is no git repository.")
    git_dirty: bool | None = Field(None, description="Uncommitted changes (untracked files included) at the start.")


class PackageChange(BaseModel):
    name: str
    change: PackageChangeKind
    base: str | None = None
    head: str | None = None


class EnvironmentDiff(BaseModel):
    known: bool = Field(description="Both runs recorded their environment; if not, no package change can be told.")
    python_base: str | None = None
    python_head: str | None = None
    python_changed: bool = False
    executable_changed: bool = False
    packages: list[PackageChange] = Field(default_factory=list, description="Added, removed, up- and downgraded.")
    commit_base: str | None = None
    commit_head: str | None = None
    commit_changed: bool = False
    dirty_base: bool | None = None
    dirty_head: bool | None = None
