"""What the pages say about silences and acknowledgements: an alert's quiet line, the
silences' table, and label matchers typed as text (``team=db, job=~"api.*"``)."""

from __future__ import annotations

import json
import re
from datetime import datetime

from dashboard_core.health.overview import clock, mute_tail
from dashboard_core.health.silences import matchers_text
from dashboard_core.labels import Icon
from dashboard_core.models import AlertRecord
from dashboard_core.models.silences import Matcher, Silence

SILENCED_ICON, ACK_ICON = Icon("notifications_off", "gray"), Icon("how_to_reg", "blue")
_MATCHER = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")


def parse_matchers(text: str) -> list[Matcher]:
    """``team=db, job=~"api.*"`` (one a line or comma-separated; quotes optional) as Matchers;
    ValueError saying which part is wrong."""
    matchers = []
    parts = [p.strip() for line in text.splitlines() for p in _split(line)]
    for part in parts:
        found = _MATCHER.match(part)
        if found is None:
            raise ValueError(f"{part!r} is no matcher: write name=value, name!=value, name=~regex or name!~regex")
        name, op, value = found.groups()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = json.loads(value)
        matchers.append(Matcher(name=name, value=value, is_regex="~" in op, is_equal=op[0] == "="))
    return matchers


def _split(line: str) -> list[str]:
    """A line's matchers, split at commas outside quotes."""
    out, current, quoted = [], "", False
    for char in line:
        if char == '"' and not current.endswith("\\"):
            quoted = not quoted
        if char == "," and not quoted:
            out.append(current)
            current = ""
        else:
            current += char
    out.append(current)
    return [p for p in out if p.strip()]


def quiet_words(alert: AlertRecord, tz: str, now: datetime) -> list[str]:
    """Under a firing alert: silenced (by what, until when, why) and acknowledged (by whom, when, note)."""
    lines = []
    if alert.muted is not None:
        what = "silence" if alert.muted.kind == "silence" else "maintenance window"
        lines.append(f"Silenced by {what} {alert.muted.id}{mute_tail(alert.muted, tz, now)}; nobody is notified")
    if alert.acknowledged is not None:
        ack = alert.acknowledged
        note = f": {ack.note}" if ack.note else ""
        lines.append(f"Acknowledged by {ack.by} at {clock(ack.at, tz, now)}{note}")
    return lines


def ack_words(alert: AlertRecord) -> str:
    """The Overview's word on a firing alert: acknowledged (by whom) or not."""
    if alert.acknowledged is None:
        return "not acknowledged"
    return f"acknowledged by {alert.acknowledged.by}"


def silence_rows(silences: list[Silence], tz: str, now: datetime) -> list[dict[str, str]]:
    """The silences' table: state, what it matches, when, who and why."""
    return [
        {
            "id": s.id,
            "state": s.state,
            "matchers": matchers_text(s.matchers),
            "starts": clock(s.starts_at, tz, now),
            "ends": clock(s.ends_at, tz, now),
            "by": s.created_by + (f" (ended by {s.expired_by})" if s.expired_by else ""),
            "comment": s.comment,
            "origin": s.origin,
        }
        for s in silences
    ]


def quiet_mark(alert: AlertRecord) -> str:
    """The history's word on an alert: silenced (by what), acknowledged (by whom), or nothing."""
    words = []
    if alert.muted is not None:
        words.append(f"silenced ({alert.muted.kind} {alert.muted.id})")
    if alert.acknowledged is not None:
        words.append(f"acknowledged by {alert.acknowledged.by}")
    return ", ".join(words)
