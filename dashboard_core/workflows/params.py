"""Workflow parameters: checked against their declared types when a run starts,
then handed to steps as environment variables (``PARAM_<NAME>``) or as whole
argv items (an item that is exactly ``{name}``). Never through a shell, never
spliced into a longer string: ``; rm -rf /tmp/x`` reaches the program as one
literal argument."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dashboard_core.config import ParamConfig, WorkflowConfig

Value = str | int | float | bool
MAX_TEXT = 4096  # a parameter is a value, not a payload
_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}


class ParamError(ValueError):
    """A bad parameter; ``str()`` names it and says why. ``errors``: one line per problem."""

    def __init__(self, message: str, errors: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.errors = list(errors) or [message]


def coerce(param: ParamConfig, value: Any) -> Value:
    """The value as the parameter's type, or :class:`ParamError` saying why not."""
    if param.type == "bool":
        if isinstance(value, bool):
            result: Value = value
        elif isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            result = value.strip().lower() in _TRUE
        else:
            raise ParamError(f"expected true or false, got {value!r}")
    elif param.type == "int":
        if isinstance(value, bool) or not isinstance(value, int | str | float):
            raise ParamError(f"expected a whole number, got {value!r}")
        try:
            number = float(value) if isinstance(value, str) else value
            if isinstance(number, float) and (not math.isfinite(number) or number != int(number)):
                raise ValueError
            result = int(number)
        except (ValueError, OverflowError):
            raise ParamError(f"expected a whole number, got {value!r}") from None
    elif param.type == "float":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ParamError(f"expected a number, got {value!r}")
        try:
            result = float(value)
        except ValueError:
            raise ParamError(f"expected a number, got {value!r}") from None
        if not math.isfinite(result):
            raise ParamError(f"expected a finite number, got {value!r}")
    else:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ParamError(f"expected text, got {value!r}")
        result = str(value)
        if len(result) > MAX_TEXT:
            raise ParamError(f"is {len(result):,} characters long; at most {MAX_TEXT:,}")
        if "\x00" in result:
            raise ParamError("contains a NUL character, which no program can receive")
    if param.choices is not None and result not in [coerce_choice(param, c) for c in param.choices]:
        allowed = ", ".join(repr(c) for c in param.choices)
        raise ParamError(f"{result!r} is not one of the choices: {allowed}")
    return result


def coerce_choice(param: ParamConfig, choice: Value) -> Value:
    return str(choice) if param.type == "str" else (float(choice) if param.type == "float" else int(choice))


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
    from dashboard_core.config import PLACEHOLDER

    out = []
    for item in argv:
        match = PLACEHOLDER.match(item)
        out.append(as_text(values[match.group(1)]) if match and match.group(1) in values else item)
    return out


def environment(values: Mapping[str, Value]) -> dict[str, str]:
    """``PARAM_<NAME>`` for every parameter (the name upper-cased)."""
    return {f"PARAM_{name.upper()}": as_text(value) for name, value in values.items()}
