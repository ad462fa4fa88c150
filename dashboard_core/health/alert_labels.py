"""An alert's labels and its address: what silences, maintenance windows, notification
channels and Alertmanager know an alert by.

Labels: ``alertname`` (the rule's name), ``severity``, ``kind`` (metric, component,
agent or suite), what the rule watches (``field`` and ``column``, ``component``,
``agent``, ``suite``; ``event`` for the suite events: ``new flaky``, ``regression``,
``gate failed``), then the rule's own ``labels`` from the config, which win. A firing
alert's labels (:func:`firing_labels`) add the ``test`` it names when it names one.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from dashboard_core.health.compiled_rules import CompiledRule
from dashboard_core.health.rules import AgentRule, ComponentRule, MetricRule, SuiteRule


def alert_labels(rule: CompiledRule) -> dict[str, str]:
    labels = {"alertname": rule.name, "severity": rule.config.severity}
    match rule.rule:
        case MetricRule(field=field):
            labels |= {"kind": "metric", "field": field, "column": rule.rule.column}
        case ComponentRule(component=component):
            labels |= {"kind": "component", "component": component}
        case AgentRule(agent=agent):
            labels |= {"kind": "agent", "agent": agent or "any"}
        case SuiteRule(suite=suite, event=event):
            labels |= {"kind": "suite", "suite": suite or "any"}
            if event != "failed":
                labels["event"] = event
    return labels | dict(rule.config.labels)


def firing_labels(labels: dict[str, str], tests: Sequence[str]) -> dict[str, str]:
    """A firing alert's labels: the rule's, and ``test`` when it names one test (a new
    flaky or slower test), so a silence can match that test alone."""
    return labels | {"test": tests[0]} if len(tests) == 1 else labels


def alert_url(public_url: str | None, rule_name: str) -> str | None:
    """The rule's place on the Safety page as an absolute URL, None without
    ``[alerting] public_url`` (a relative link means nothing in an e-mail)."""
    if not public_url:
        return None
    return f"{public_url.rstrip('/')}/safety?rule={quote(rule_name, safe='')}"
