"""Safety rules checked against the config: each ``[[alerts]]`` rule parsed
(:mod:`dashboard_core.health.rules`) and its names looked up in the config and the
metric fields, so a rule that could never work stops the start with one
:class:`ConfigError` listing every problem, each naming its rule the way the config
loader names a field (``alerts.2 (cpu-high).rule: ...``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from dashboard_core.config import AlertConfig, Config, ConfigError
from dashboard_core.health.rules import (
    ComponentRule,
    MetricRule,
    Rule,
    RuleError,
    SuiteRule,
    format_span,
    parse_rule,
)
from dashboard_core.metrics.fields import Field, FieldTable
from dashboard_core.metrics.processes import WatchedProcessesSource
from dashboard_core.metrics.sources import build_sources


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule checked against the config: ``field`` is set for metric rules."""

    index: int
    config: AlertConfig
    rule: Rule
    field: Field | None = None

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def where(self) -> str:
        return f"alerts.{self.index} ({self.config.name})"


def compile_rules(config: Config, fields: FieldTable) -> list[CompiledRule]:
    """Parse every ``[[alerts]]`` rule and check its names; one ConfigError lists all problems."""
    compiled: list[CompiledRule] = []
    problems: list[str] = []
    for index, alert in enumerate(config.alerts):
        where = f"alerts.{index} ({alert.name}).rule"
        try:
            rule = parse_rule(alert.rule)
        except RuleError as exc:
            problems.append(f"  {where}: {exc} (in {alert.rule!r})")
            continue
        field, problem = _check(rule, config, fields)
        if problem:
            problems.append(f"  {where}: {problem}")
        else:
            compiled.append(CompiledRule(index=index, config=alert, rule=rule, field=field))
    if problems:
        file = config.source or "dashboard.toml"
        n = len(problems)
        raise ConfigError("\n".join([f"{file}: {n} invalid alert rule{'s' if n > 1 else ''}", *problems]))
    return compiled


def _check(rule: Rule, config: Config, fields: FieldTable) -> tuple[Field | None, str | None]:
    if isinstance(rule, MetricRule):
        field = fields.get(rule.field)
        if field is None:
            if rule.field in {f.name for f in WatchedProcessesSource.fields}:
                return None, f"'{rule.field}' needs a [[watch]] entry for the process; none is configured"
            return None, f"'{rule.field}' is not a metric field{_did_you_mean(rule.field, [f.name for f in fields])}"
        if field.label is None and rule.label is not None:
            return None, f"'{rule.field}' has no {rule.label!r} label (it has one column); write '{rule.field}' alone"
        if field.label == "process" and rule.label is not None:
            labels = [w.label for w in config.watch]
            if rule.label not in labels:
                known = ", ".join(labels) or "none"
                return None, (
                    f"no [[watch]] has the label '{rule.label}'{_did_you_mean(rule.label, labels)} (watched: {known})"
                )
        held = config.sampler.history_hours * 3600
        if rule.seconds > held:
            return None, (
                f"'for {format_span(rule.seconds)}' is longer than the history held "
                f"(sampler.history_hours = {config.sampler.history_hours:g}), so the rule could never fire"
            )
        return field, None
    if isinstance(rule, ComponentRule):
        names = [c.name for c in config.components]
        if rule.component not in names:
            return None, _unknown("component", rule.component, names, "[[components]]")
        return None, None
    if isinstance(rule, SuiteRule):
        names = [s.name for s in config.suites]
        if rule.suite is None and not names:  # suite any ...: there must be a suite to watch
            return None, f"'suite any {rule.event}' watches the suites, but none is configured in [[suites]]"
        if rule.suite is not None and rule.suite not in names:
            return None, _unknown("suite", rule.suite, names, "[[suites]]")
        return None, None
    if rule.agent is not None and rule.agent not in config.agents.expected:
        hint = _did_you_mean(rule.agent, config.agents.expected)
        return None, (
            f"agent '{rule.agent}' is not in agents.expected; add it there, "
            f"or write 'agent {rule.condition}' for any agent{hint}"
        )
    return None, None


def _unknown(what: str, name: str, known: list[str], table: str) -> str:
    listed = ", ".join(known) if known else f"none is configured in {table}"
    return f"no {what} is named '{name}'{_did_you_mean(name, known)} (known: {listed})"


def _did_you_mean(word: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def field_table(config: Config) -> FieldTable:
    """The metric fields the Runtime will sample with this config."""
    sources, _watched = build_sources(config)
    return FieldTable([f for s in sources for f in s.fields])


def validate_alerts(config: Config) -> None:
    """Raise ConfigError naming every alert rule that cannot work with this config."""
    if config.alerts:
        compile_rules(config, field_table(config))
