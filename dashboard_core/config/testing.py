"""Test suites and how they run: ``[[suites]]`` and ``[testing]``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from dashboard_core.config.base import NAME_PATTERN, _Strict
from dashboard_core.config.ray import RayPlacement


class QualityGates(_Strict):
    """Limits a green run must also keep to, or it is failed (Allure 3's quality gates): CI can
    use ``run-suite``'s exit code. Only full runs are held to them (not a re-run of failed tests)."""

    max_failures: int | None = Field(
        None, ge=0, description="Most failed or errored tests, quarantined ones included; none = no limit."
    )
    min_tests: int | None = Field(None, ge=1, description="Fewest tests collected; none = no limit.")
    min_pass_rate: float | None = Field(
        None, ge=0, le=100, description="Lowest pass rate in %: passed of passed, failed and errored; none = no limit."
    )
    max_duration_seconds: float | None = Field(None, gt=0, description="Longest wall time of a run; none = no limit.")


class SuiteConfig(RayPlacement):
    """One test suite the dashboard can run: pytest with arguments, or any command
    that writes JUnit XML. Never run through a shell."""

    name: str = Field(pattern=NAME_PATTERN, description="Unique name: letters, digits, '_', '.', '-'.")
    description: str = Field("", max_length=500, description="One line shown on the suite's card.")
    kind: Literal["pytest", "command"] = Field("pytest", description="pytest (live progress) or any command.")
    paths: list[str] = Field(
        default_factory=list, description="pytest: files, folders or node ids; empty = pytest's own discovery."
    )
    keyword: str | None = Field(None, min_length=1, description="pytest: -k expression.")
    markers: str | None = Field(None, min_length=1, description="pytest: -m expression.")
    args: list[str] = Field(default_factory=list, description="pytest: more arguments, as a list.")
    workers: int = Field(0, ge=0, le=64, description="pytest: parallel workers (pytest-xdist -n); 0 = none.")
    python: str | None = Field(None, description="pytest: the interpreter to run it with; default the dashboard's own.")
    argv: list[str] = Field(default_factory=list, description="command: the program and its arguments.")
    junit_xml: str | None = Field(
        None, description="command: where it writes JUnit XML, relative to cwd; '{junit_xml}' in argv is replaced."
    )
    cwd: Path = Field(Path("."), description="Working directory, relative to the config file.")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables.")
    timeout_seconds: float | None = Field(1800.0, gt=0, description="Stop the run after this long; none = never.")
    gates: QualityGates = Field(
        default_factory=QualityGates, description="Quality gates: a green run that breaks one is failed."
    )
    # -- on a Ray cluster (docs/ray.md): executor and ray_* from RayPlacement, the [ray] section says where --
    shards: int = Field(
        1, ge=1, le=64, description="ray: run it as this many Ray jobs, each every N-th test; one run in the dashboard."
    )

    @model_validator(mode="after")
    def _fits_its_kind(self) -> SuiteConfig:
        pytest_only = [k for k in ("paths", "keyword", "markers", "args", "workers", "python") if getattr(self, k)]
        command_only = [k for k in ("argv", "junit_xml") if getattr(self, k)]
        if self.kind == "pytest" and command_only:
            raise ValueError(f'{", ".join(command_only)} only apply to kind = "command"')
        if self.kind == "command":
            if pytest_only:
                raise ValueError(f'{", ".join(pytest_only)} only apply to kind = "pytest"')
            if not self.argv or not self.argv[0]:
                raise ValueError("a command suite needs argv, the program and its arguments")
        if self.executor == "ray" and self.kind != "pytest":
            raise ValueError(
                'executor = "ray" runs pytest suites only (a command suite\'s JUnit file stays on the cluster)'
            )
        return self

    def _more_ray_only(self) -> list[str]:
        return ["shards"] if self.shards > 1 else []


class RegressionConfig(_Strict):
    """When a test counts as slower than it was: ``[testing.regressions]``
    (:mod:`dashboard_core.testing.regressions` applies it)."""

    history_runs: int = Field(
        20, ge=2, le=500, description="The suite's earlier finished runs a test's durations are read from."
    )
    min_history: int = Field(
        5,
        ge=2,
        le=500,
        description="Passing runs a test needs among them before it is judged; fewer: not enough history.",
    )
    mad_factor: float = Field(
        5.0, gt=0, le=100, description="Slower than the median by more than this many times its noise (1.4826 x MAD)."
    )
    min_ratio: float = Field(1.5, ge=1, le=1000, description="…and at least this many times the median…")
    min_increase_seconds: float = Field(
        0.1, ge=0, le=86400, description="…and at least this many seconds above it (a 2 ms test at 5 ms is not news)."
    )
    busy_percent: float = Field(
        50.0,
        ge=0,
        le=1000,
        description="A slowdown while other processes used at least this % of all cores is labelled 'host busy'.",
    )


class TestingConfig(_Strict):
    __test__ = False  # not a pytest class

    max_concurrent: int = Field(
        0, ge=0, le=256, description="Runs at once across suites; 0 = the number of CPU cores. Others wait in a queue."
    )
    cancel_grace_seconds: float = Field(
        5.0, ge=0, le=300, description="Seconds between SIGTERM and SIGKILL when a run is cancelled or times out."
    )
    log_max_bytes: int = Field(
        5_000_000, ge=10_000, description="Largest log kept per run; the head and tail are kept, the middle cut."
    )
    flaky_window: int = Field(10, ge=2, le=200, description="Runs looked at to find flaky tests.")
    flaky_recovery_runs: int = Field(
        5, ge=1, le=200, description="Passes in a row (no retry) after which a flaky test is no longer flaky."
    )
    regressions: RegressionConfig = Field(
        default_factory=RegressionConfig, description="Duration regressions: when a test counts as slower."
    )

    @property
    def concurrency(self) -> int:
        return self.max_concurrent or os.cpu_count() or 1
