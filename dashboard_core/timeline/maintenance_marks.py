"""Maintenance windows on the time axis: each span a window was (or will be) in force,
a band on every chart that draws marks. Windows are not events in the store: they come
from the dashboard's :class:`~dashboard_core.health.maintenance.Maintenance` (its
config and the windows planned over the API), found by the store it keeps them in. At a
coarse zoom, spans less than a pixel apart are one band (no events to group them by)."""

from __future__ import annotations

from datetime import datetime

from dashboard_core.app.urls import SAFETY, href
from dashboard_core.health.maintenance import maintenance_of, spans_between
from dashboard_core.store import Store
from dashboard_core.timeline.mark_model import NOTE, Mark, MarkKind, utc
from dashboard_core.units import format_duration


def maintenance_marks(
    store: Store, start: float, end: float, now: float, resolution_s: float | None = None
) -> list[Mark]:
    """The spans of every window that overlap [start, end] (no windows: none)."""
    maintenance = maintenance_of(store)
    if maintenance is None:
        return []
    marks = []
    for w in maintenance.windows:
        covers = ", ".join(
            f"{kind}: {', '.join(getattr(w, kind))}" for kind in ("components", "agents", "rules") if getattr(w, kind)
        )
        for began, ended in _joined(spans_between(w, utc(start), utc(end)), resolution_s):
            state = (
                "in force"
                if began.timestamp() <= now < ended.timestamp()
                else "over"
                if ended.timestamp() <= now
                else "planned"
            )
            marks.append(
                Mark(
                    kind=MarkKind.MAINTENANCE,
                    key=f"maintenance:{w.name}:{began.timestamp():.0f}",
                    start=began,
                    end=ended,
                    state=state,
                    colour=NOTE,
                    label=f"Maintenance {w.name} ({format_duration((ended - began).total_seconds())})",
                    detail="; ".join(x for x in (w.description, covers) if x),
                    source=w.name,
                    href=href(SAFETY),
                )
            )
    return marks


def _joined(spans: list[tuple[datetime, datetime]], resolution_s: float | None) -> list[tuple[datetime, datetime]]:
    """Spans closer than a pixel (``resolution_s``) joined: a window every 5 minutes over
    a month is a band, not 8,640 of them."""
    if not resolution_s:
        return spans
    out: list[tuple[datetime, datetime]] = []
    for began, ended in spans:
        if out and (began - out[-1][1]).total_seconds() < resolution_s:
            out[-1] = (out[-1][0], max(out[-1][1], ended))
        else:
            out.append((began, ended))
    return out
