"""The live cards and the Metrics charts: one Streamlit v2 component each, drawn and
kept in the browser (``live.js``) and fed over HTTP by ``/api/ui/*``
(``dashboard_core/routes/live.py``).

Streamlit sends the component its settings once; it is not re-sent or remounted
each sample, so a live tab costs the browser a few per cent of a core instead of
half of one, and the websocket carries nothing while nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from dashboard_core.routes.live import PLOTLY_JS
from dashboard_core.timeline.marks import KIND_LABELS

_HERE = Path(__file__).parent
_LIVE = st.components.v2.component(
    "dashboard_live",
    css=(_HERE / "live.css").read_text(encoding="utf-8"),
    # one module: the charts' marks (marks.js) use live.js's helpers
    js="\n".join((_HERE / name).read_text(encoding="utf-8") for name in ("live.js", "marks.js")),
    isolate_styles=False,  # Plotly styles its toolbar and hover labels from the document's head
)


def live_cards(interval_seconds: float, key: str = "live_cards") -> None:
    """The live cards, refreshed every sample."""
    _LIVE(key=key, data={"mode": "cards", "feed": "api/ui/cards", "every_ms": round(interval_seconds * 1000)})


def redraw_on_change(version: str, every_seconds: float, key: str = "watch", view: str = "overview") -> None:
    """Inside a fragment: rerun it when the server's digest of what it shows
    (``/api/ui/version``) differs from ``version``, the digest it was drawn from.
    A tiny request every ``every_seconds`` instead of a rerun of the whole page part."""
    data = {
        "mode": "watch",
        "feed": f"api/ui/version?view={view}",
        "version": version,
        "every_ms": round(every_seconds * 1000),
    }
    _LIVE(key=key, data=data, on_changed_change=lambda: None)


def live_processes(top_n: int, interval_seconds: float, key: str = "live_processes") -> None:
    """The top processes by CPU and by memory, refreshed at the process scan's interval."""
    data = {
        "mode": "processes",
        "feed": "api/metrics/processes",
        "n": top_n,
        "every_ms": round(interval_seconds * 1000),
    }
    _LIVE(key=key, data=data)


def live_charts(
    query: str,
    tz: str,
    *,
    live: bool,
    refresh_seconds: float,
    focus: str | None,
    on_zoom: Callable[[], None],
    key: str = "live_charts",
) -> Any:
    """The history charts of the window ``query`` (``window=15m``, or ``start=…&end=…``):
    extended every ``refresh_seconds`` while ``live``; a box selection on a chart
    calls ``on_zoom`` with the component's ``zoom`` value set. The window's marks
    (``/api/timeline/marks``) are drawn on every chart, a chip per kind to hide them."""
    data = {
        "mode": "charts",
        "feed": "api/ui/charts",
        "points": "api/ui/charts/points",
        "plotly": f"api{PLOTLY_JS}",
        "query": query,
        "tz": tz,
        "live": live,
        "refresh_ms": round(refresh_seconds * 1000),
        "focus": focus,
        # (kind, label) pairs in a tuple, not a dict: Streamlit checks a dict or list in a
        # component's data for a DataFrame, which imports pandas (a live tab loads none)
        "mark_kinds": tuple((kind.value, label) for kind, label in KIND_LABELS.items()),
    }
    return _LIVE(key=key, data=data, on_zoom_change=on_zoom)
