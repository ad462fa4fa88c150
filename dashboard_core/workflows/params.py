"""Workflow parameters: checked against their declared types when a run starts,
then handed to steps as environment variables (``PARAM_<NAME>``) or as whole
argv items (an item that is exactly ``{name}``). Never through a shell, never
spliced into a longer string: ``; rm -rf /tmp/x`` reaches the program as one
literal argument. The type rules themselves are :mod:`dashboard_core.param_types`,
which the config checks defaults with."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dashboard_core.config import PLACEHOLDER, WorkflowConfig
from dashboard_core.param_types import ParamError, Value, coerce

__all__ = ["ParamError", "Value", "as_text", "coerce", "environment", "resolve", "substitute"]


def resolve(workflow: WorkflowConfig, given: Mapping[str, Any]) -> dict[str, Value]:
    """Every parameter's value for a run: given, else its default. Raises
    :class:`ParamError` listing every problem, each naming its parameter."""
    declared = {p.name: p for p in workflow.params}
    errors = [f"params.{name}: {workflow.name!r} has no parameter {name!r}" for name in given if name not in declared]
    values: dict[str, Value] = {}
    for name, param in declared.items():
        if name in given and given[name] is not None:
            try:
                values[name] = coerce(param, given[name])
            except ParamError as exc:
                errors.append(f"params.{name}: {exc}")
        elif param.default is not None:
            values[name] = coerce(param, param.default)
        elif param.required:
            errors.append(f"params.{name}: required")
    if errors:
        raise ParamError(f"The parameters of {workflow.name!r} are not valid.", errors)
    return values


def as_text(value: Value) -> str:
    """How a value is written into argv and the environment (bools as true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) and value != int(value) else str(value)


def substitute(argv: Sequence[str], values: Mapping[str, Value]) -> list[str]:
    """Replace each argv item that is exactly ``{name}`` by that value, as one item."""
    out = []
    for item in argv:
        match = PLACEHOLDER.match(item)
        out.append(as_text(values[match.group(1)]) if match and match.group(1) in values else item)
    return out


def environment(values: Mapping[str, Value]) -> dict[str, str]:
    """``PARAM_<NAME>`` for every parameter (the name upper-cased)."""
    return {f"PARAM_{name.upper()}": as_text(value) for name, value in values.items()}
