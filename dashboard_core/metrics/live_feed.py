"""What the live cards and charts in the browser fetch: whole once, then only what is new.

The pages used to rebuild the cards every second and re-send whole Plotly
figures every few seconds over Streamlit's websocket, and the browser remounted
them each time: most of a core in the browser and 4.7 MB a minute for one tab.
Now one component per page part keeps its cards and charts and asks the API
(``routes/live.py``) for what it lacks: the cards' new values with the sparkline
points after the last one it has, and the charts' rows after the last one drawn
(at the window's resolution: every sample, or the tier's buckets, the newest of
which may have filled since, so it is sent again). Payloads are built here,
as plain JSON-able values, with the arrays as float32 (``orjson`` writes the
shortest text that reads back the same float32, and NaN as null), from numpy
rows and plain figure dicts: a server with a live Metrics tab loads no pandas or
Plotly (the default 15 minutes are read from memory).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from dashboard_core.metrics.cards import Card
from dashboard_core.metrics.charts import CHARTS, chart_columns, wall_ms
from dashboard_core.metrics.figure_cache import Figures
from dashboard_core.metrics.frame import Rows
from dashboard_core.metrics.history_read import HistoryRead, epoch_ns
from dashboard_core.metrics.history_read import epoch_ms as ms
from dashboard_core.metrics.windows import Window
from dashboard_core.units import local_time


def cards_payload(cards: list[Card], since_ms: int | None) -> dict[str, Any]:
    """The cards; with ``since_ms`` (the newest sparkline point the browser has)
    only the sparkline points after it, and no help texts (it has them)."""
    newest = max((c.spark_ms[-1] for c in cards if c.spark_ms), default=None)
    whole = since_ms is None
    return {
        "t": newest,
        "whole": whole,
        "cards": [_card(card, since_ms) for card in cards],
    }


def _card(card: Card, since_ms: int | None) -> dict[str, Any]:
    keep = card.spark_ms if since_ms is None else [t for t in card.spark_ms if t > since_ms]
    body: dict[str, Any] = {
        "label": card.label,
        "value": card.value,
        "delta": card.delta,
        "color": card.delta_color,
        "arrow": card.delta_arrow,
        "spark": card.spark[len(card.spark) - len(keep) :] if keep else [],
    }
    if since_ms is None:
        body["help"] = card.help
    return body


@dataclass(frozen=True, slots=True)
class ChartsView:
    """A window's charts as the browser draws them first."""

    window: Window
    tz: str
    live: bool  # a span ending now, which the browser keeps extending


def charts_payload(view: ChartsView, read: HistoryRead, figures: Figures, csv_link: str) -> dict[str, Any]:
    """Whole figures of the window, and what the browser needs to extend them:
    the resolution (``step``), the window's bounds in UTC and on the axis (the
    viewer's wall time), and when history begins if it begins inside the window."""
    ts_ns = read.rows.ts_ns
    first = int(ts_ns[0]) // 1_000_000 if len(ts_ns) else None
    last = int(ts_ns[-1]) // 1_000_000 if len(ts_ns) else None
    start, end = ms(view.window.start), ms(view.window.end)
    step_ms = read.tier.ms if read.tier is not None else round(read.sample_interval * 1000)
    starts_late = first is not None and first - start > 2 * step_ms + 1000
    return {
        "window": {"start": start, "end": end, "span": end - start, "live": view.live},
        "axis": [_wall(view.window.start, view.tz), _wall(view.window.end, view.tz)],
        "offset": _wall(view.window.end, view.tz) - end,  # wall ms minus UTC ms, for the live axis
        "step": read.token,
        "step_ms": step_ms,
        "first": first,
        "last": last,
        "history_starts": local_time(_utc(int(ts_ns[0])), view.tz) if starts_late else None,
        "resolution": read.description,
        "rows": len(read.rows),
        "csv": csv_link,
        "charts": [{"key": spec.key, "title": spec.title, "figure": fig} for spec, fig in figures],
    }


def points_payload(rows: Rows, tz: str) -> dict[str, Any]:
    """New rows of the chart columns: UTC ms (for the next ``since``), axis x (wall ms) and the values."""
    drawn = sorted({c for spec in CHARTS for c in chart_columns(spec, rows.columns)})
    return {
        "t": (rows.ts_ns // 1_000_000).astype(np.int64),
        "x": wall_ms(rows.ts_ns, tz).astype(np.int64),
        "columns": {c: rows.column(c).astype(np.float32) for c in drawn},
    }


def _wall(ts: datetime, tz: str) -> int:
    return int(wall_ms(np.array([epoch_ns(ts)]), tz)[0])


def _utc(ns: int) -> datetime:
    return datetime.fromtimestamp(ns // 1_000_000_000, UTC).replace(microsecond=ns % 1_000_000_000 // 1000)
