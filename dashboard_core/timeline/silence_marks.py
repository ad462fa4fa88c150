"""Silences on the time axis: a band from each silence's start to its end (its expiry, if
someone ended it early; now, while it holds), so a chart shows when alerts were kept quiet.
A silence is about its first matcher's value (the rule's name, for a silence of a rule); a
pending one is not drawn before it starts; those from Alertmanager are not in the store."""

from __future__ import annotations

import json
import sqlite3

from dashboard_core.app.links import named_href, rule_link
from dashboard_core.store import Store
from dashboard_core.timeline.mark_model import GREY, Mark, MarkKind, utc
from dashboard_core.timeline.mark_sql import read_marks
from dashboard_core.units import format_duration

_OPS = {(False, True): "=", (False, False): "!=", (True, True): "=~", (True, False): "!~"}


def silence_marks(store: Store, start: float, end: float, now: float, resolution_s: float | None = None) -> list[Mark]:
    """Each silence that held at some time in [start, end], oldest first."""
    base = (
        "SELECT 'silence:' || id AS k, starts_at AS b, MIN(ends_at, :now) AS f,"
        " CASE WHEN ends_at > :now THEN 'active' ELSE 'expired' END AS st,"
        " json_extract(matchers, '$[0].value') AS src, ends_at > :now AS ongoing,"
        " id, matchers, created_by, comment, expired_by FROM silences"
        " WHERE ends_at >= :start AND starts_at <= :end AND starts_at <= :now"
    )
    params = {"start": start, "end": end, "now": now}
    return read_marks(store, MarkKind.SILENCE, base, params, _silence, lambda _row: GREY, resolution_s)


def _silence(row: sqlite3.Row) -> Mark:
    matchers = json.loads(row["matchers"])
    what = ", ".join(f"{m['name']}{_OPS[(m['is_regex'], m['is_equal'])]}{json.dumps(m['value'])}" for m in matchers)
    ongoing = bool(row["ongoing"])
    first = matchers[0]
    is_rule = first["name"] == "alertname" and not first["is_regex"] and first["is_equal"]
    ended = f", expired early by {row['expired_by']}" if row["expired_by"] else ""
    return Mark(
        kind=MarkKind.SILENCE,
        key=row["k"],
        start=utc(row["b"]),
        end=utc(row["f"]),
        ongoing=ongoing,
        state=row["st"],
        colour=GREY,
        label=f"Silence {row['id']} ({what}): {format_duration(row['f'] - row['b'])}"
        + (" so far" if ongoing else "")
        + ended,
        detail=f"{row['comment']} (by {row['created_by']})",
        source=row["src"],
        href=named_href(rule_link, row["src"]) if is_rule else None,
    )
