"""Safety rules: the parser (every form, every error in words) and the check
against a real config and the real metric field table."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dashboard_core.config import Config, ConfigError, load_config
from dashboard_core.health.compiled_rules import compile_rules, field_table, validate_alerts
from dashboard_core.health.rules import (
    AgentRule,
    ComponentRule,
    MetricRule,
    RuleError,
    SuiteRule,
    format_span,
    parse_duration,
    parse_rule,
)
from dashboard_core.metrics.fields import FieldTable
from dashboard_core.metrics.sources import build_sources


@pytest.fixture
def fields() -> FieldTable:
    sources, _watched = build_sources(Config())
    return FieldTable([f for s in sources for f in s.fields])


@pytest.fixture
def toml(tmp_path: Path) -> Callable[[str], Config]:
    def load(text: str) -> Config:
        path = tmp_path / "dashboard.toml"
        path.write_text(text, encoding="utf-8")
        return load_config(path)

    return load


# -- parsing ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("cpu.total > 90 for 5m", MetricRule("cpu.total", None, ">", 90.0, "90", 300.0)),
        ("memory.percent>95 for 1m", MetricRule("memory.percent", None, ">", 95.0, "95", 60.0)),
        ("load.1 >= 4.5", MetricRule("load.1", None, ">=", 4.5, "4.5", 0.0)),
        ("disk.free[/] < 1e9 for 1h", MetricRule("disk.free", "/", "<", 1e9, "1e9", 3600.0)),
        ("disk.percent <= -1", MetricRule("disk.percent", None, "<=", -1.0, "-1", 0.0)),
        ("watch.count[my app] == 0 for 1m30s", MetricRule("watch.count", "my app", "==", 0.0, "0", 90.0)),
        ("proc.count != 0 for 1d", MetricRule("proc.count", None, "!=", 0.0, "0", 86400.0)),
        ("  cpu.total   >   90   for   30s  ", MetricRule("cpu.total", None, ">", 90.0, "90", 30.0)),
        ("component orchestrator down for 1m", ComponentRule("orchestrator", "down", 60.0)),
        ("component db degraded", ComponentRule("db", "degraded", 0.0)),
        ("component db unknown for 2h", ComponentRule("db", "unknown", 7200.0)),
        ("component web.front unhealthy", ComponentRule("web.front", "unhealthy", 0.0)),
        ("agent offline", AgentRule(None, "offline", 0.0)),
        ("agent missing for 5m", AgentRule(None, "missing", 300.0)),
        ("agent any unavailable", AgentRule(None, "unavailable", 0.0)),
        ("agent worker-1 offline for 30s", AgentRule("worker-1", "offline", 30.0)),
        ("suite demo failed", SuiteRule("demo")),
        ("suite any failed", SuiteRule("any")),  # as it always was: a suite named "any"
        ("suite demo new flaky", SuiteRule("demo", event="new flaky")),
        ("suite demo regression", SuiteRule("demo", event="regression")),
        ("suite demo gate failed", SuiteRule("demo", event="gate failed")),
        ("suite any new flaky", SuiteRule(None, event="new flaky")),
        ("suite any regression", SuiteRule(None, event="regression")),
        ("suite any gate failed", SuiteRule(None, event="gate failed")),
        ("suite regression regression", SuiteRule("regression", event="regression")),
    ],
)
def test_every_form_parses(text: str, rule: object) -> None:
    assert parse_rule(text) == rule


def test_a_metric_rule_knows_its_column_and_tests_values() -> None:
    rule = parse_rule("disk.percent[/] >= 90")
    assert isinstance(rule, MetricRule)
    assert rule.column == "disk.percent[/]"
    assert rule.test(90.0) and not rule.test(89.9)
    assert parse_rule("disk.percent >= 90").column == "disk.percent"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("1h", 3600), ("1d", 86400), ("1m30s", 90), ("1h1m1s", 3661), ("0.5s", 0.5)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds
    assert parse_duration(format_span(seconds)) == seconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the rule is empty"),
        ("cpu.total 90", "expected an operator (> >= < <= == !=) after 'cpu.total', got '90'"),
        ("cpu.total", "expected an operator (> >= < <= == !=) after 'cpu.total'"),
        ("cpu.total = 90", "'=' after 'cpu.total' is not an operator; use one of > >= < <= == !="),
        ("cpu.total => 90", "'=>' after 'cpu.total' is not an operator; use one of > >= < <= == !="),
        ("cpu.total >", "expected a number after 'cpu.total >'"),
        ("cpu.total > high", "expected a number after 'cpu.total >', got 'high'"),
        ("cpu.total > 90%", "unexpected '%' right after the number 90; write a plain number in the field's unit"),
        ("cpu.total > 90 for 5x", "unknown duration unit in '5x': 'x' (use s, m, h or d)"),
        ("cpu.total > 90 for 5", "missing duration unit in '5' (s, m, h or d)"),
        ("cpu.total > 90 for 1m30", "missing duration unit in '1m30' (s, m, h or d)"),
        ("cpu.total > 90 for m", "'m' is not a duration like 30s, 5m, 1h, 1d or 1m30s"),
        ("cpu.total > 90 for", "expected a duration after 'for' in 'cpu.total > 90 for'"),
        ("cpu.total > 90 during 5m", "unexpected 'during 5m' after 'cpu.total > 90' (expected 'for <duration>'"),
        ("cpu.total > 90 for 5m now", "unexpected 'now' after 'for 5m'"),
        ("cpu.total[] > 90", "empty label in 'cpu.total[]'; write 'cpu.total' for any of its columns"),
        ("90 < cpu.total", "expected a metric field (e.g. cpu.total), 'component', 'agent' or 'suite' at the start"),
        ("component", "expected a component name after 'component'"),
        ("component db", "expected 'down', 'degraded', 'unknown' or 'unhealthy' after 'component db'"),
        ("component db healthy", "expected 'down', 'degraded', 'unknown' or 'unhealthy' after 'component db', got"),
        ("component d/b down", "'d/b' is not a component name (letters, digits, '_', '.', '-')"),
        ("component db down for ever", "'ever' is not a duration"),
        ("agent", "expected an agent name or 'offline', 'missing' or 'unavailable' after 'agent'"),
        ("agent w1", "expected 'offline', 'missing' or 'unavailable' after 'agent w1'"),
        ("agent w1 online", "expected 'offline', 'missing' or 'unavailable' after 'agent w1', got 'online'"),
        ("suite", "expected a suite name after 'suite'"),
        ("suite demo", "expected 'failed', 'new flaky', 'regression' or 'gate failed' after 'suite demo'"),
        (
            "suite demo passed",
            "expected 'failed', 'new flaky', 'regression' or 'gate failed' after 'suite demo', got 'passed'",
        ),
        (
            "suite demo new",
            "expected 'failed', 'new flaky', 'regression' or 'gate failed' after 'suite demo', got 'new'",
        ),
        (
            "suite demo gate",
            "expected 'failed', 'new flaky', 'regression' or 'gate failed' after 'suite demo', got 'gate'",
        ),
        (
            "suite new flaky",
            "expected 'failed', 'new flaky', 'regression' or 'gate failed' after 'suite new', got 'flaky'",
        ),
        ("suite demo regression for 5m", "'suite demo regression' takes no duration: it is about one run"),
        ("suite any new flaky today", "unexpected 'today' after 'suite any new flaky'"),
        ("suite demo failed for 5m", "'suite demo failed' takes no duration"),
        ("suite demo failed twice", "unexpected 'twice' after 'suite demo failed'"),
    ],
)
def test_syntax_errors_say_what_was_expected_where(text: str, message: str) -> None:
    with pytest.raises(RuleError) as caught:
        parse_rule(text)
    assert str(caught.value).startswith(message)


def test_nothing_is_evaluated() -> None:
    with pytest.raises(RuleError, match="expected an operator"):
        parse_rule("__import__('os').system('true') > 1")
    with pytest.raises(RuleError, match="expected a number"):
        parse_rule("cpu.total > (1).__class__")


# -- compiling against the config ---------------------------------------------------
def test_the_real_field_table_holds_the_documented_fields(fields: FieldTable) -> None:
    names = {f.name for f in fields}
    assert {"cpu.total", "cpu.core", "memory.percent", "disk.percent", "nic.recv", "load.1", "proc.count"} <= names
    assert {f.name for f in field_table(Config())} == names


def test_every_kind_compiles_against_a_config(toml: Callable[[str], Config]) -> None:
    config = toml(
        """
[[watch]]
label = "dashboard"
pattern = "streamlit"

[[suites]]
name = "demo"

[[components]]
name = "orchestrator"
check = { type = "tcp", port = 9 }

[agents]
expected = ["worker-1"]

[[alerts]]
name = "cpu-high"
rule = "cpu.total > 90 for 5m"
severity = "critical"

[[alerts]]
name = "disk-full"
rule = "disk.percent > 95"

[[alerts]]
name = "root-full"
rule = "disk.percent[/] > 95"

[[alerts]]
name = "dashboard-busy"
rule = "watch.cpu[dashboard] > 80 for 1m"

[[alerts]]
name = "orchestrator-down"
rule = "component orchestrator down for 1m"

[[alerts]]
name = "worker"
rule = "agent worker-1 offline"

[[alerts]]
name = "any-agent"
rule = "agent unavailable"

[[alerts]]
name = "demo-red"
rule = "suite demo failed"
"""
    )
    compiled = compile_rules(config, field_table(config))  # the table has the watch fields
    assert [c.name for c in compiled] == [
        "cpu-high",
        "disk-full",
        "root-full",
        "dashboard-busy",
        "orchestrator-down",
        "worker",
        "any-agent",
        "demo-red",
    ]
    assert compiled[0].field is not None and compiled[0].field.unit == "%"
    assert compiled[1].field is not None and compiled[1].field.label == "mount"
    assert compiled[4].field is None and compiled[4].where == "alerts.4 (orchestrator-down)"
    validate_alerts(config)  # builds its own field table: no error either


def test_an_unknown_field_names_the_rule_and_suggests_the_field(
    toml: Callable[[str], Config], fields: FieldTable
) -> None:
    config = toml(
        """
[[alerts]]
name = "memory"
rule = "memory.percent > 95 for 1m"

[[alerts]]
name = "disk"
rule = "disk.percent > 90"

[[alerts]]
name = "cpu-high"
rule = "cpu.totl > 90 for 5m"
"""
    )
    with pytest.raises(ConfigError) as caught:
        compile_rules(config, fields)
    assert str(caught.value) == (
        f"{config.source}: 1 invalid alert rule\n"
        "  alerts.2 (cpu-high).rule: 'cpu.totl' is not a metric field; did you mean 'cpu.total'?"
    )


def test_every_problem_is_listed_each_naming_its_rule(toml: Callable[[str], Config]) -> None:
    config = toml(
        """
[[watch]]
label = "dashboard"
pattern = "streamlit"

[[suites]]
name = "demo"

[[components]]
name = "orchestrator"
check = { type = "tcp", port = 9 }

[agents]
expected = ["worker-1"]

[[alerts]]
name = "syntax"
rule = "cpu.total > 90 for 5x"

[[alerts]]
name = "no-field"
rule = "gpu.temp > 80"

[[alerts]]
name = "no-label"
rule = "cpu.total[0] > 80"

[[alerts]]
name = "no-watch"
rule = "watch.cpu[dashbord] > 80"

[[alerts]]
name = "no-component"
rule = "component orchestrater down"

[[alerts]]
name = "no-suite"
rule = "suite smoke failed"

[[alerts]]
name = "no-agent"
rule = "agent worker-2 offline"

[[alerts]]
name = "no-suite-flaky"
rule = "suite dmeo new flaky"

[[alerts]]
name = "no-suite-gate"
rule = "suite smoke gate failed"

[[alerts]]
name = "any-suite"
rule = "suite any regression"

[[alerts]]
name = "too-long"
rule = "cpu.total > 90 for 2d"

[[alerts]]
name = "fine"
rule = "cpu.total > 90"
"""
    )
    with pytest.raises(ConfigError) as caught:
        compile_rules(config, field_table(config))
    lines = str(caught.value).splitlines()
    assert lines[0] == f"{config.source}: 10 invalid alert rules"
    assert lines[1:] == [
        "  alerts.0 (syntax).rule: unknown duration unit in '5x': 'x' (use s, m, h or d) (in 'cpu.total > 90 for 5x')",
        "  alerts.1 (no-field).rule: 'gpu.temp' is not a metric field",
        "  alerts.2 (no-label).rule: 'cpu.total' has no '0' label (it has one column); write 'cpu.total' alone",
        "  alerts.3 (no-watch).rule: no [[watch]] has the label 'dashbord'; did you mean 'dashboard'? "
        "(watched: dashboard)",
        "  alerts.4 (no-component).rule: no component is named 'orchestrater'; did you mean 'orchestrator'? "
        "(known: orchestrator)",
        "  alerts.5 (no-suite).rule: no suite is named 'smoke' (known: demo)",
        "  alerts.6 (no-agent).rule: agent 'worker-2' is not in agents.expected; "
        "add it there, or write 'agent offline' for any agent; did you mean 'worker-1'?",
        "  alerts.7 (no-suite-flaky).rule: no suite is named 'dmeo'; did you mean 'demo'? (known: demo)",
        "  alerts.8 (no-suite-gate).rule: no suite is named 'smoke' (known: demo)",
        "  alerts.10 (too-long).rule: 'for 2d' is longer than the history held "
        "(sampler.history_hours = 24), so the rule could never fire",
    ]


def test_nothing_configured_means_none_is_known(toml: Callable[[str], Config], fields: FieldTable) -> None:
    config = toml('[[alerts]]\nname = "c"\nrule = "component db down"\n')
    with pytest.raises(ConfigError, match=r"no component is named 'db' \(known: none is configured in"):
        compile_rules(config, fields)
    config = toml('[[alerts]]\nname = "s"\nrule = "suite any new flaky"\n')
    with pytest.raises(ConfigError, match=r"'suite any new flaky' watches the suites, but none is configured in"):
        compile_rules(config, fields)
    config = toml('[[alerts]]\nname = "w"\nrule = "watch.cpu[app] > 50"\n')
    with pytest.raises(ConfigError, match=r"'watch.cpu' needs a \[\[watch\]\] entry for the process; none is"):
        compile_rules(config, fields)


def test_validate_alerts_is_what_start_up_calls(toml: Callable[[str], Config]) -> None:
    validate_alerts(Config())  # no rules: nothing to check
    config = toml('[[alerts]]\nname = "cpu-high"\nrule = "cpu.totl > 90 for 5m"\n')
    with pytest.raises(ConfigError, match=r"alerts.0 \(cpu-high\).rule: 'cpu.totl' is not a metric field; did you"):
        validate_alerts(config)
