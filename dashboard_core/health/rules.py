"""Safety rules: a small, strict parser and the check of each rule against the config.

The grammar (one rule per ``[[alerts]]``, no expressions, nothing evaluated)::

    <field or column> <op> <number> [for <duration>]      cpu.total > 90 for 5m
    component <name> <down|degraded|unknown|unhealthy> [for <duration>]
    agent [<name>|any] <offline|missing|unavailable> [for <duration>]
    suite <name> failed
    suite <name|any> <new flaky|regression|gate failed>

``op`` is one of ``> >= < <= == !=``; numbers are plain (``90``, ``0.5``,
``-3``, ``1e9``); durations are ``30s``, ``5m``, ``1h``, ``1d`` or a sum like
``1m30s``. A labelled field without a label (``disk.percent > 90``) watches all
its columns and holds when any of them does; ``disk.percent[/] > 90`` watches
one. ``unhealthy`` is degraded or down; ``unavailable`` is offline or missing.
The suite events are read from the suite's newest run (``any``: of any suite):
``new flaky`` a test it made flaky, ``regression`` a slower test the regression watch
found, ``gate failed`` a quality gate failed it; none takes a duration.

:func:`parse_rule` raises :class:`RuleError` with a sentence;
:mod:`dashboard_core.health.compiled_rules` checks the names a rule uses against the
config and the metric fields.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Protocol, TypeGuard, TypeVar, get_args, overload

import numpy as np
import numpy.typing as npt

from dashboard_core import units
from dashboard_core.config import NAME_PATTERN
from dashboard_core.metrics.fields import split_column
from dashboard_core.models.findings import SUITE_EVENTS, SuiteEvent


class RuleError(ValueError):
    """A rule that cannot be parsed; ``str()`` says where and why."""


class _Compare(Protocol):
    """An ``operator`` comparison: of one value, or of every value of an array at once."""

    @overload
    def __call__(self, a: float, b: float, /) -> bool: ...
    @overload
    def __call__(self, a: npt.NDArray[np.float64], b: float, /) -> npt.NDArray[np.bool_]: ...


Op = Literal[">", ">=", "<", "<=", "==", "!="]
OPS: dict[str, _Compare] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
NEGATED: dict[str, str] = {">": "<=", ">=": "<", "<": ">=", "<=": ">", "==": "!=", "!=": "=="}

ComponentCondition = Literal["down", "degraded", "unknown", "unhealthy"]
AgentCondition = Literal["offline", "missing", "unavailable"]
COMPONENT_CONDITIONS: tuple[ComponentCondition, ...] = get_args(ComponentCondition)
AGENT_CONDITIONS: tuple[AgentCondition, ...] = get_args(AgentCondition)
ANY_AGENT = "any"
ANY_SUITE = "any"

_UNIT_SECONDS = units.DURATION_UNITS
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*(?:\[[^\[\]]*\])?")
_OP = re.compile(r">=|<=|==|!=|>|<")
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_NAME = re.compile(NAME_PATTERN)


# -- the rules --------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MetricRule:
    """``column op threshold [for seconds]``; ``label`` None on a labelled field = any column."""

    field: str
    label: str | None
    op: Op
    threshold: float
    threshold_text: str
    seconds: float = 0.0

    @property
    def column(self) -> str:
        return self.field if self.label is None else f"{self.field}[{self.label}]"

    @overload
    def test(self, value: float) -> bool: ...
    @overload
    def test(self, value: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]: ...
    def test(self, value: float | npt.NDArray[np.float64]) -> bool | npt.NDArray[np.bool_]:
        """Does the value (each value of an array) satisfy the rule?"""
        return OPS[self.op](value, self.threshold)


@dataclass(frozen=True, slots=True)
class ComponentRule:
    component: str
    condition: ComponentCondition
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class AgentRule:
    """``agent`` None means any agent."""

    agent: str | None
    condition: AgentCondition
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class SuiteRule:
    """``suite <name> failed``, or an event of the newest run (``suite`` None: ``any`` suite;
    ``suite any failed`` is about a suite named "any", as it always was)."""

    suite: str | None
    seconds: float = 0.0  # always 0: a run's verdict has no duration
    event: SuiteEvent | Literal["failed"] = "failed"


Rule = MetricRule | ComponentRule | AgentRule | SuiteRule


# -- parsing ----------------------------------------------------------------------
_Word = TypeVar("_Word", bound=str)


def _is_one_of(word: str | None, choices: tuple[_Word, ...]) -> TypeGuard[_Word]:
    """``word in choices``, which also tells the type checker which literal it is."""
    return word in choices


def parse_duration(text: str) -> float:
    """``'5m'`` -> 300.0; ``'1m30s'`` -> 90.0. Units s, m, h, d."""
    try:
        return units.parse_duration(text)
    except ValueError as exc:
        raise RuleError(str(exc)) from None


def format_span(seconds: float) -> str:
    """90.0 -> ``'1m30s'``: a duration the way a rule writes it."""
    if seconds <= 0:
        return "0s"
    parts, rest = [], seconds
    for unit, size in sorted(_UNIT_SECONDS.items(), key=lambda kv: -kv[1]):
        count = int(rest // size) if unit != "s" else rest
        if count:
            parts.append(f"{count:g}{unit}")
            rest -= count * size
    return "".join(parts)


def parse_rule(text: str) -> Rule:
    """Parse one rule; :class:`RuleError` names what was expected where."""
    words = text.split()
    if not words:
        raise RuleError("the rule is empty")
    head = words[0]
    if head == "component":
        return _component(words)
    if head == "agent":
        return _agent(words)
    if head == "suite":
        return _suite(words)
    return _metric(text.strip())


def _for_clause(words: list[str], after: str) -> float:
    """Parse the optional trailing ``for <duration>`` (``words`` is what follows ``after``)."""
    if not words:
        return 0.0
    if words[0] != "for":
        raise RuleError(f"unexpected '{' '.join(words)}' after '{after}' (expected 'for <duration>' or the end)")
    if len(words) == 1:
        raise RuleError(f"expected a duration after 'for' in '{after} for' (e.g. 30s, 5m, 1h)")
    if len(words) > 2:
        raise RuleError(f"unexpected '{' '.join(words[2:])}' after 'for {words[1]}'")
    return parse_duration(words[1])


def _metric(text: str) -> MetricRule:
    match = _FIELD.match(text)
    if match is None:
        raise RuleError(
            f"expected a metric field (e.g. cpu.total), 'component', 'agent' or 'suite' at the start of '{text}'"
        )
    column = match.group(0)
    field, label = split_column(column)
    if label is not None and not label.strip():
        raise RuleError(f"empty label in '{column}'; write '{field}' for any of its columns")
    rest = text[match.end() :].lstrip()
    if rest.startswith("[") or rest.startswith("]"):
        raise RuleError(f"unbalanced brackets after '{field}'")
    op = _OP.match(rest)
    if op is None:
        if rest.startswith("=") or rest.startswith("=>") or rest.startswith("=<"):
            raise RuleError(f"'{rest.split()[0]}' after '{column}' is not an operator; use one of > >= < <= == !=")
        if not rest:
            raise RuleError(f"expected an operator (> >= < <= == !=) after '{column}'")
        raise RuleError(f"expected an operator (> >= < <= == !=) after '{column}', got '{rest.split()[0]}'")
    rest = rest[op.end() :].lstrip()
    number = _NUMBER.match(rest)
    if number is None:
        got = f", got '{rest.split()[0]}'" if rest else ""
        raise RuleError(f"expected a number after '{column} {op.group(0)}'{got}")
    after_number = rest[number.end() :]
    if after_number and not after_number[0].isspace():
        raise RuleError(
            f"unexpected '{after_number.split()[0]}' right after the number {number.group(0)}; "
            "write a plain number in the field's unit (e.g. 90 for 90 %)"
        )
    seconds = _for_clause(after_number.split(), f"{column} {op.group(0)} {number.group(0)}")
    op_text = op.group(0)
    assert _is_one_of(op_text, get_args(Op))  # _OP matches nothing else
    return MetricRule(
        field=field,
        label=label,
        op=op_text,
        threshold=float(number.group(0)),
        threshold_text=number.group(0),
        seconds=seconds,
    )


def _checked_name(word: str | None, what: str, after: str) -> str:
    if word is None:
        raise RuleError(f"expected a {what} name after '{after}'")
    if not _NAME.match(word):
        raise RuleError(f"'{word}' is not a {what} name (letters, digits, '_', '.', '-')")
    return word


def _component(words: list[str]) -> ComponentRule:
    name = _checked_name(words[1] if len(words) > 1 else None, "component", "component")
    condition = words[2] if len(words) > 2 else None
    if not _is_one_of(condition, COMPONENT_CONDITIONS):
        got = f", got '{condition}'" if condition else ""
        raise RuleError(f"expected {_choices(COMPONENT_CONDITIONS)} after 'component {name}'{got}")
    seconds = _for_clause(words[3:], f"component {name} {condition}")
    return ComponentRule(component=name, condition=condition, seconds=seconds)


def _agent(words: list[str]) -> AgentRule:
    rest = words[1:]
    if not rest:
        raise RuleError(f"expected an agent name or {_choices(AGENT_CONDITIONS)} after 'agent'")
    name: str | None
    condition: AgentCondition
    first = rest[0]
    if _is_one_of(first, AGENT_CONDITIONS):  # no name: any agent
        name, condition, tail, said = None, first, rest[1:], f"agent {first}"
    else:
        name = _checked_name(first, "agent", "agent")
        word = rest[1] if len(rest) > 1 else None
        if not _is_one_of(word, AGENT_CONDITIONS):
            got = f", got '{word}'" if word else ""
            raise RuleError(f"expected {_choices(AGENT_CONDITIONS)} after 'agent {name}'{got}")
        condition = word
        tail, said = rest[2:], f"agent {name} {condition}"
        if name == ANY_AGENT:
            name = None
    seconds = _for_clause(tail, said)
    return AgentRule(agent=name, condition=condition, seconds=seconds)


def _suite(words: list[str]) -> SuiteRule:
    name = _checked_name(words[1] if len(words) > 1 else None, "suite", "suite")
    tail = words[2:]
    event = _suite_event(tail)
    if event is not None:
        said = f"suite {name} {event}"
        if len(tail) > len(event.split()):
            if tail[len(event.split())] == "for":
                raise RuleError(f"'{said}' takes no duration: it is about one run, until a later one")
            raise RuleError(f"unexpected '{' '.join(tail[len(event.split()) :])}' after '{said}'")
        return SuiteRule(suite=None if name == ANY_SUITE else name, event=event)
    if not tail or tail[0] != "failed":
        got = f", got '{' '.join(tail)}'" if tail else ""
        raise RuleError(f"expected {_choices(('failed', *SUITE_EVENTS))} after 'suite {name}'{got}")
    if len(tail) > 1:
        if tail[1] == "for":
            raise RuleError(f"'suite {name} failed' takes no duration: a run's verdict holds until the next run")
        raise RuleError(f"unexpected '{' '.join(tail[1:])}' after 'suite {name} failed'")
    return SuiteRule(suite=name)


def _suite_event(words: list[str]) -> SuiteEvent | None:
    """The suite event ``words`` start with (``new flaky`` is two words), if any."""
    return next((e for e in SUITE_EVENTS if words[: len(e.split())] == e.split()), None)


def _choices(options: Iterable[str]) -> str:
    quoted = [f"'{o}'" for o in options]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]
