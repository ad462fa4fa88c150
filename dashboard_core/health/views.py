"""The Agents page's table: a plain DataFrame, ready for a table widget."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pandas as pd

from dashboard_core.models import AgentInfo
from dashboard_core.printable import printable

AGENT_COLUMNS = ["name", "state", "status", "role", "task", "last_seen", "seen_ago", "metrics"]


def agents_frame(agents: Sequence[AgentInfo], now: datetime) -> pd.DataFrame:
    """One row per agent; ``seen_ago`` in seconds, metrics as ``name=value`` text; what the
    agent sent shown with control and bidi characters escaped (the API returns it as sent)."""
    rows = [
        {
            "name": a.name,
            "state": a.state.value + (f" (maintenance: {a.maintenance})" if a.maintenance else ""),
            "status": _shown(a.status),
            "role": _shown(a.role),
            "task": _shown(a.task),
            "last_seen": a.last_seen,
            "seen_ago": (now - a.last_seen).total_seconds() if a.last_seen else None,
            "metrics": printable(", ".join(f"{k}={v:g}" for k, v in sorted(a.metrics.items()))),
        }
        for a in agents
    ]
    frame = pd.DataFrame(rows, columns=AGENT_COLUMNS)
    frame["last_seen"] = pd.to_datetime(frame["last_seen"], utc=True)
    return frame


def _shown(text: str | None) -> str | None:
    """What an agent says of itself, as it is: controls and bidi characters escaped."""
    return None if text is None else printable(text)
