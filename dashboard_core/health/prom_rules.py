"""The metric rules as a Prometheus alerting-rules file: rules that travel.

A team that outgrows one dashboard keeps its rules: each ``[[alerts]]`` metric
rule becomes a Prometheus alerting rule over the names the dashboard exposes at
``/api/metrics`` (:mod:`dashboard_core.metrics.exposition`)::

    cpu.total > 90 for 5m      ->  expr: dashboard_cpu_total_percent > 90   for: 5m
    disk.percent[/] > 90       ->  expr: dashboard_disk_percent{mount="/"} > 90
    disk.percent > 90          ->  expr: dashboard_disk_percent > 90   (any mount: one alert per series)

The values are the same numbers in the same units (percent 0-100, bytes, rates
per second), so the threshold carries over unchanged. Labels are the alert's
labels as the dashboard gives them to silences and Alertmanager
(:func:`~dashboard_core.health.alert_labels.alert_labels`: severity, kind,
field, column and the rule's own ``labels``), so one matcher finds the alert
whichever of the two fired it. Annotations: ``summary``, ``description`` and,
with ``[alerting] public_url``, ``dashboard_url`` (the rule on the Safety page).

Component, agent and suite rules do not travel: their state is decided inside
the dashboard (its checks, the heartbeats it receives, the runs it makes), so a
Prometheus rule over them would still need this dashboard. They are listed with
the reason in the file's header comment (and by the API and the command line),
never dropped silently.

The YAML is written here, not by a library: the shape is fixed, every string is
double-quoted with YAML's escapes, and the header needs comments, which YAML
dumpers do not write.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from dashboard_core.config import Config
from dashboard_core.health.alert_labels import alert_labels, alert_url
from dashboard_core.health.compiled_rules import CompiledRule, compile_rules, field_table
from dashboard_core.health.rules import AgentRule, ComponentRule, MetricRule, SuiteRule
from dashboard_core.metrics.exposition import label_name, metric_name

GROUP = "dashboard"  # the rule group's name in the file
DASHBOARD_URL = "dashboard_url"  # the annotation that links to the rule on the Safety page

_WHY_NOT = {
    ComponentRule: "a component's state comes from the dashboard's own checks; Prometheus sees only their verdict "
    "(dashboard_component_state), so the rule would still need this dashboard (probe the service with "
    "blackbox_exporter instead)",
    AgentRule: "an agent's state comes from the heartbeats this dashboard receives; Prometheus sees only "
    "dashboard_agent_state, so the rule would still need this dashboard",
    SuiteRule: "a suite's verdict comes from the test runs this dashboard makes; Prometheus sees only "
    "dashboard_test_run_last_status, so the rule would still need this dashboard",
}


@dataclass(frozen=True, slots=True)
class Untravelled:
    """A rule left out of the export, and why."""

    name: str
    rule: str
    reason: str


@dataclass(frozen=True, slots=True)
class PromRules:
    """The rules file (``text``), the names of the rules in it, and those left out."""

    text: str
    exported: list[str]
    left_out: list[Untravelled]


def export_config(config: Config) -> PromRules:
    """The export for a config file (the command line's): its rules checked as start-up checks them."""
    rules = compile_rules(config, field_table(config)) if config.alerts else []
    return export_rules(rules, config.alerting.public_url, config.source)


def export_rules(rules: list[CompiledRule], public_url: str | None, source: Path | None = None) -> PromRules:
    """Every metric rule as a Prometheus alerting rule; the others listed with the reason."""
    entries: list[str] = []
    exported: list[str] = []
    left_out: list[Untravelled] = []
    for rule in rules:
        reason = _why_not(rule)
        if reason is not None:
            left_out.append(Untravelled(rule.name, " ".join(rule.config.rule.split()), reason))
            continue
        entries.append(_entry(rule, public_url))
        exported.append(rule.name)
    lines = _header(source, exported, left_out, public_url)
    lines += ["groups:", f"  - name: {_quote(GROUP)}"]
    lines += ["    rules:", *entries] if entries else ["    rules: []"]
    return PromRules("\n".join(lines) + "\n", exported, left_out)


# -- one rule ---------------------------------------------------------------------
def _why_not(rule: CompiledRule) -> str | None:
    if not isinstance(rule.rule, MetricRule) or rule.field is None:
        return _WHY_NOT.get(type(rule.rule), "only metric rules can be exported")
    reserved = sorted(n for n in rule.config.labels if n.startswith("__"))
    if reserved:
        return f"label names starting with '__' are reserved in Prometheus: {', '.join(reserved)}"
    return None


def promql(rule: CompiledRule) -> str:
    """``dashboard_disk_percent{mount="/"} > 90``: the rule over the exposition's names."""
    assert isinstance(rule.rule, MetricRule) and rule.field is not None
    metric, field = rule.rule, rule.field
    selector = ""
    if field.label is not None and metric.label is not None:
        selector = f"{{{label_name(field)}={json.dumps(metric.label, ensure_ascii=False)}}}"
    return f"{metric_name(field)}{selector} {metric.op} {_number(metric.threshold)}"


def prom_duration(seconds: float) -> str:
    """90.0 -> ``'1m30s'``, 1.5 -> ``'1s500ms'``: Prometheus durations have no fractions."""
    rest = round(seconds * 1000)
    parts = []
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def _entry(rule: CompiledRule, public_url: str | None) -> str:
    assert isinstance(rule.rule, MetricRule) and rule.field is not None
    labels = {k: v for k, v in alert_labels(rule).items() if k != "alertname"}  # alertname is `alert:`
    text = " ".join(rule.config.rule.split())
    where = ""
    if rule.field.label is not None and rule.rule.label is None:  # any column: say which one fired
        name = label_name(rule.field)
        where = f" ({name} {{{{ $labels.{name} }}}})"
    summary = f"{_literal(rule.name)}: {_literal(text)}{where}, now {_value(rule.field.unit)}"
    description = rule.config.description or f"The dashboard's rule {text} holds."
    annotations = {"summary": summary, "description": _literal(description)}
    url = alert_url(public_url, rule.name)
    if url is not None:
        annotations[DASHBOARD_URL] = _literal(url)
    lines = [f"      - alert: {_quote(rule.name)}", f"        expr: {_quote(promql(rule))}"]
    if rule.rule.seconds > 0:
        lines.append(f"        for: {prom_duration(rule.rule.seconds)}")
    lines.append("        labels:")
    lines += [f"          {name}: {_quote(value)}" for name, value in labels.items()]
    lines.append("        annotations:")
    lines += [f"          {name}: {_quote(value)}" for name, value in annotations.items()]
    return "\n".join(lines)


def _header(source: Path | None, exported: list[str], left_out: list[Untravelled], public_url: str | None) -> list[str]:
    lines = [
        f"# Prometheus alerting rules exported from the dashboard's [[alerts]] ({source.name if source else 'defaults'}).",
        "# The expressions read the dashboard's own metrics: scrape it (metrics_path: /api/metrics),",
        "# then list this file under rule_files in prometheus.yml. Check it with: promtool check rules FILE",
        f"# Exported: {len(exported)} metric rule{'' if len(exported) == 1 else 's'}.",
    ]
    if public_url is None:
        lines.append("# Set [alerting] public_url to give each alert a dashboard_url annotation.")
    if left_out:
        lines.append(f"# Not exported ({len(left_out)}): these rules cannot travel.")
        lines += [f"#   {u.name} ({_comment(u.rule)}): {_comment(u.reason)}" for u in left_out]
    return lines


# -- text -------------------------------------------------------------------------
def _value(unit: str) -> str:
    """The alert's value as a template, in the field's unit: ``95.2 %``, ``1.5GiB``, ``3.2``."""
    if unit in ("bytes", "bytes/s"):
        return "{{ $value | humanize1024 }}B" + unit.removeprefix("bytes")
    if unit == "%":
        return '{{ printf "%.3g" $value }} %'
    return '{{ printf "%.4g" $value }}' + (f" {_literal(unit)}" if unit else "")


def _number(value: float) -> str:
    """A PromQL number: 90.0 -> ``90``, 0.5 -> ``0.5``, 1e20 -> ``1e+20``."""
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    text = repr(value)
    return text.removesuffix(".0")


def _literal(text: str) -> str:
    """Text inside an annotation, which Prometheus reads as a Go template: ``{{`` printed, not run."""
    return text.replace("{{", '{{ "{{" }}')


def _comment(text: str) -> str:
    """Text on one comment line."""
    return " ".join(text.split())


_BREAKS = {0x85, 0x2028, 0x2029, 0xFEFF}


def _quote(text: str) -> str:
    """A YAML double-quoted scalar: quote, backslash, and anything YAML does not print escaped."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif code < 0x20 or 0x7F <= code <= 0x9F or code in _BREAKS or 0xD800 <= code <= 0xDFFF or code > 0xFFFD:
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)
