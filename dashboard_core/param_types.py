"""The types a workflow parameter may have, and how a value is checked against one.

One set of rules for both places a value meets its declaration: the config (a
parameter's default, checked when the file is loaded) and the start of a run (a
given value). It sits below the config, so the config can use it without
importing the workflows package above it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal, Protocol

Value = str | int | float | bool
MAX_TEXT = 4096  # a parameter is a value, not a payload
_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}


class Declared(Protocol):
    """What a value is checked against (``config.ParamConfig`` is one)."""

    @property
    def type(self) -> Literal["str", "int", "float", "bool"]: ...
    @property
    def choices(self) -> Sequence[str | int | float] | None: ...
    @property
    def min(self) -> float | None: ...
    @property
    def max(self) -> float | None: ...


class ParamError(ValueError):
    """A bad parameter; ``str()`` names it and says why. ``errors``: one line per problem."""

    def __init__(self, message: str, errors: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.errors = list(errors) or [message]


def coerce(param: Declared, value: Any) -> Value:
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
    if isinstance(result, int | float) and not isinstance(result, bool):
        _within_bounds(param, result)
    return result


def bounds_text(param: Declared) -> str:
    """``between 1 and 1000``, ``at least 1``, ``at most 1000``; empty without bounds."""
    low, high = param.min, param.max
    if low is not None and high is not None:
        return f"between {low:g} and {high:g}"
    if low is not None:
        return f"at least {low:g}"
    return f"at most {high:g}" if high is not None else ""


def _within_bounds(param: Declared, number: float) -> None:
    """A number outside the declared ``min``/``max`` is refused, saying the bounds."""
    if (param.min is not None and number < param.min) or (param.max is not None and number > param.max):
        raise ParamError(f"{number:g} is out of bounds: must be {bounds_text(param)}")


def coerce_choice(param: Declared, choice: Value) -> Value:
    return str(choice) if param.type == "str" else (float(choice) if param.type == "float" else int(choice))
