"""What the safety rules show: each rule's status, the alerts firing now, the report.

Read from the rules' tracks; the engine calls these holding its lock, so a view is
of one moment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from dashboard_core.health.alert_state import RuleTrack, current_record
from dashboard_core.health.compiled_rules import CompiledRule
from dashboard_core.models import AlertRecord, AlertState, RuleStatus, SafetyReport, SafetyStatus, Severity
from dashboard_core.units import from_epoch


def rule_statuses(
    rules: list[CompiledRule],
    tracks: Mapping[str, RuleTrack],
    webhook_error: Callable[[str], str | None],
    channel_errors: Callable[[str], list[str]] | None = None,
) -> list[RuleStatus]:
    out = []
    for rule in rules:
        track = tracks[rule.name]
        out.append(
            RuleStatus(
                name=rule.name,
                rule=rule.config.rule,
                severity=Severity(rule.config.severity),
                description=rule.config.description,
                state=track.state,
                since=from_epoch(track.since),
                value=track.value,
                message=track.message,
                webhook_error=webhook_error(rule.name),
                channel_errors=channel_errors(rule.name) if channel_errors else [],
            )
        )
    return out


def firing_now(rules: list[CompiledRule], tracks: Mapping[str, RuleTrack]) -> list[AlertRecord]:
    """The alerts firing now, in the rules' order."""
    return [current_record(r, tracks[r.name]) for r in rules if tracks[r.name].state is AlertState.FIRING]


def worst_first(records: list[AlertRecord]) -> list[AlertRecord]:
    """Critical first, then oldest first."""
    return sorted(records, key=lambda a: (a.severity is not Severity.CRITICAL, a.fired_at or a.began_at))


def safety_report(firing: list[AlertRecord], rules: list[RuleStatus]) -> SafetyReport:
    """Critical when a critical alert fires, warning when another does, else safe."""
    severities = {a.severity for a in firing}
    status: SafetyStatus = "critical" if Severity.CRITICAL in severities else "warning" if firing else "safe"
    return SafetyReport(status=status, firing=firing, rules=rules)
