"""An alert's labels and its address: what silences, maintenance windows, notification
channels and Alertmanager know an alert by.

Labels: ``alertname`` (the rule's name), ``severity``, ``kind`` (metric, component,
agent or suite), what the rule watches (``field`` and ``column``, ``component``,
``agent``, ``suite``), then the rule's own ``labels`` from the config, which win.
"""

from __future__ import annotations

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
        case SuiteRule(suite=suite):
            labels |= {"kind": "suite", "suite": suite}
    return labels | dict(rule.config.labels)


def alert_url(public_url: str | None, rule_name: str) -> str | None:
    """The rule's place on the Safety page as an absolute URL, None without
    ``[alerting] public_url`` (a relative link means nothing in an e-mail)."""
    if not public_url:
        return None
    return f"{public_url.rstrip('/')}/safety?rule={quote(rule_name, safe='')}"
