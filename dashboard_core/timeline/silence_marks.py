"""Silences on the time axis: a band from each silence's start to its end (its expiry, if
someone ended it early; now, while it holds), so a chart shows when alerts were kept quiet.

Silences are few and wide, so they are never folded; those from Alertmanager are not in
the store and not drawn."""

from __future__ import annotations

import json

from dashboard_core.app.links import named_href, rule_link
from dashboard_core.store import Store
from dashboard_core.timeline.mark_model import GREY, Mark, MarkKind, utc
from dashboard_core.units import format_duration

_OPS = {(False, True): "=", (False, False): "!=", (True, True): "=~", (True, False): "!~"}


def silence_marks(store: Store, start: float, end: float, now: float, resolution_s: float | None = None) -> list[Mark]:
    """Each silence that held at some time in [start, end]; a pending one is not drawn before it starts."""
    rows = store.all(
        "SELECT id, matchers, starts_at, ends_at, created_by, comment, expired_by FROM silences"
        " WHERE ends_at >= ? AND starts_at <= ? AND starts_at <= ? ORDER BY starts_at, id",
        (start, end, now),
    )
    marks = []
    for row in rows:
        matchers = json.loads(row["matchers"])
        what = ", ".join(f"{m['name']}{_OPS[(m['is_regex'], m['is_equal'])]}{json.dumps(m['value'])}" for m in matchers)
        ongoing = row["ends_at"] > now
        stop = min(row["ends_at"], now)
        state = "active" if ongoing else "expired"
        rule = next((m["value"] for m in matchers if m["name"] == "alertname" and not m["is_regex"]), None)
        ended = f", expired early by {row['expired_by']}" if row["expired_by"] else ""
        marks.append(
            Mark(
                kind=MarkKind.SILENCE,
                key=f"silence:{row['id']}",
                start=utc(row["starts_at"]),
                end=utc(stop),
                ongoing=ongoing,
                state=state,
                colour=GREY,
                label=f"Silence {row['id']} ({what}): {format_duration(stop - row['starts_at'])}"
                + (" so far" if ongoing else "")
                + ended,
                detail=f"{row['comment']} (by {row['created_by']})",
                source=rule or what,
                href=named_href(rule_link, rule) if rule else None,
            )
        )
    return marks
