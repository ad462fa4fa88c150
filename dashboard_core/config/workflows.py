"""Workflows and services: ``[[workflows]]`` with their params and steps, and ``[workflow]``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from dashboard_core.config.base import NAME_PATTERN, _refuse_repeats, _Strict
from dashboard_core.config.ray import RayPlacement
from dashboard_core.dag import GraphError, topological_order
from dashboard_core.param_types import ParamError, coerce

PARAM_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
PLACEHOLDER = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")  # a whole argv item: {name}


class ParamConfig(_Strict):
    """A typed workflow parameter, given when the workflow is started."""

    name: str = Field(pattern=PARAM_PATTERN, description="Letters, digits and '_'; not starting with a digit.")
    type: Literal["str", "int", "float", "bool"] = Field("str", description="str, int, float or bool.")
    default: str | int | float | bool | None = Field(None, description="Used when the start leaves it out.")
    choices: list[str | int | float] | None = Field(None, min_length=1, description="The only values allowed.")
    min: float | None = Field(None, description="int and float: the smallest value allowed (inclusive).")
    max: float | None = Field(None, description="int and float: the largest value allowed (inclusive).")
    required: bool = Field(False, description="The start must give it (a default makes this moot).")
    description: str = Field("", max_length=500, description="Shown in the start form.")

    @model_validator(mode="after")
    def _default_fits(self) -> ParamConfig:
        if (self.min is not None or self.max is not None) and self.type not in ("int", "float"):
            raise ValueError(f"min and max are for int and float parameters, not {self.type}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is above max ({self.max:g})")
        if self.default is not None:
            try:
                coerce(self, self.default)
            except ParamError as exc:
                raise ValueError(f"default: {exc}") from None
        if self.choices is not None and self.type == "bool":
            raise ValueError("a bool parameter cannot have choices")
        return self


class StepConfig(RayPlacement):
    """One step: a program on this host, or a job on the [ray] cluster (``executor = "ray"``)."""

    name: str = Field(pattern=NAME_PATTERN, description="Unique in its workflow.")
    argv: list[str] = Field(min_length=1, description="The program and its arguments; '{param}' items are replaced.")
    cwd: Path = Field(Path("."), description="Working directory, relative to the config file.")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables.")
    timeout_seconds: float | None = Field(None, gt=0, description="Stop the step after this long; none = never.")
    depends_on: list[str] = Field(default_factory=list, description="Steps that must succeed first.")


class WorkflowConfig(_Strict):
    name: str = Field(pattern=NAME_PATTERN, description="Unique name.")
    description: str = Field("", max_length=500, description="One line for its card.")
    params: list[ParamConfig] = Field(default_factory=list, description="Typed parameters given at start.")
    steps: list[StepConfig] = Field(min_length=1, description="Ordered steps; depends_on makes a DAG.")
    max_parallel: int = Field(2, ge=1, le=64, description="Independent steps that may run at once.")
    concurrent: bool = Field(False, description="Allow a second run while one is going.")
    service: bool = Field(False, description="A long-running service: one step, kept up by the restart policy.")
    restart: Literal["never", "on-failure", "always"] = Field(
        "on-failure", description="service: restart after an exit (never, on-failure, always)."
    )
    backoff_seconds: float = Field(1.0, gt=0, le=3600, description="service: first wait before a restart; doubles.")
    backoff_max_seconds: float = Field(60.0, gt=0, le=86400, description="service: the longest wait.")
    max_restarts: int = Field(10, ge=0, le=100_000, description="service: give up after this many restarts in a row.")
    autostart: bool = Field(False, description="service: start with the dashboard (and again after a restart).")
    grace_seconds: float = Field(5.0, ge=0, le=300, description="Between SIGTERM and SIGKILL when stopped.")

    @model_validator(mode="after")
    def _valid_graph(self) -> WorkflowConfig:
        names = [s.name for s in self.steps]
        _refuse_repeats("step names", names)
        params = {p.name for p in self.params}
        for step in self.steps:
            for item in step.argv:
                match = PLACEHOLDER.match(item)
                if match and match.group(1) not in params:
                    raise ValueError(f"step {step.name!r}: argv item {item!r} names no parameter of this workflow")
        if self.service:
            if len(self.steps) != 1:
                raise ValueError("a service has exactly one step")
        elif self.autostart:
            raise ValueError("autostart is for services (service = true)")
        try:
            topological_order({s.name: s.depends_on for s in self.steps})
        except GraphError as exc:
            raise ValueError(str(exc)) from None
        return self

    def step(self, name: str) -> StepConfig | None:
        return next((s for s in self.steps if s.name == name), None)


class WorkflowsConfig(_Strict):
    log_max_bytes: int = Field(2_000_000, ge=10_000, description="Largest log kept per step; head and tail kept.")
