"""The Safety page's note of failing notification channels: one warning per rule, each
failing channel (webhook or Apprise URL, secrets already masked by dashboard_core) on a
line of its own. Layout only."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from dashboard_core.models import RuleStatus
from dashboard_core.printable import printable
from ui.widgets import material


def channel_warnings(rules: Sequence[RuleStatus]) -> None:
    for rule in rules:
        if not rule.channel_errors:
            continue
        count = len(rule.channel_errors)
        lines = [f"**{rule.name}**: notifications fail on {count} channel{'s' if count > 1 else ''}:"]
        lines += [f"- `{_code(error)}`" for error in rule.channel_errors]
        st.warning("\n".join(lines), icon=material("mail"))


def _code(text: str) -> str:
    """Shown as code: Markdown leaves its ``****`` and ``_`` alone; a backtick would end it."""
    return printable(text).replace("`", "'")
