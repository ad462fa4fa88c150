"""What a notification channel is told of an alert: a title a phone can show
(``[FIRING] cpu-high``, ``[RESOLVED] cpu-high``) and a plain-text body with what the
rule saw, its severity and condition, what it means, when, and the link to the alert.

The link is ``[alerting] public_url`` + ``/safety?rule=NAME``; without a public URL
the body says where to look instead (a relative link means nothing in an e-mail).
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboard_core.health.alert_labels import alert_url
from dashboard_core.health.alert_state import alert_stats, clock_text, duration_text
from dashboard_core.health.compiled_rules import CompiledRule
from dashboard_core.models import AlertRecord, AlertState

NO_LINK = "no link: set [alerting] public_url to the dashboard's address for one"


@dataclass(frozen=True, slots=True)
class ChannelMessage:
    title: str
    body: str
    kind: str  # Apprise's notify type: "failure", "warning" or "success" (its icon and colour)


def channel_message(rule: CompiledRule, record: AlertRecord, public_url: str | None, hostname: str) -> ChannelMessage:
    firing = record.state is not AlertState.RESOLVED
    title = f"[{'FIRING' if firing else 'RESOLVED'}] {rule.name}"
    lines = []
    if record.message:
        lines.append(record.message if firing else f"When it fired: {record.message}")
    lines.append(f"Severity: {record.severity.value} · condition: {rule.config.rule}")
    stats = alert_stats(record)
    if stats:
        lines.append(f"Value: {stats}")
    if rule.config.description:
        lines.append(rule.config.description)
    fired = record.fired_at or record.began_at
    if firing:
        lines.append(f"Firing since {clock_text(fired)}")
    else:
        ended = record.ended_at or fired
        lines.append(
            f"Resolved at {clock_text(ended)} after {duration_text((ended - fired).total_seconds())} "
            f"(fired {clock_text(fired)})"
        )
    link = alert_url(public_url, rule.name)
    lines.append(f"Alert: {link}" if link else f"Alert: the Safety page of the dashboard on {hostname} ({NO_LINK})")
    lines.append(f"From the dashboard on {hostname}")
    kind = "success" if not firing else "failure" if record.severity.value == "critical" else "warning"
    return ChannelMessage(title, "\n".join(lines), kind)
