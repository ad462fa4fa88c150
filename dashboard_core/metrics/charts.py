"""Plotly figures for the metric history, built on the server, downsampled.

Each chart is declared once in :data:`CHARTS` by the fields it draws; series
labels and axis units come from the field table. Lines are SVG ``Scatter``
traces (at most 2,000 points each after downsampling, where WebGL buys nothing
and costs a viewer without a GPU twice the CPU) with epoch-millisecond x on a
date axis (an order of magnitude cheaper to serialise than datetime x);
per-core CPU is a heatmap, which reads better than a line per core. The drag
mode is a horizontal box select: the page turns a selection into a zoomed
window and re-downsamples it, so zoom survives live updates.

The figures are plain dicts built from numpy :class:`~dashboard_core.metrics.frame.Rows`
(a DataFrame is taken too): the live Metrics page's feed never loads pandas or Plotly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

import numpy as np

from dashboard_core.metrics.downsample import MAX_POINTS, bucket_max, downsample_indices
from dashboard_core.metrics.fields import FieldTable, split_column
from dashboard_core.metrics.frame import Rows, as_rows

if TYPE_CHECKING:  # imported where used: the live Metrics page's feed needs neither
    import pandas as pd
    import plotly.graph_objects as go


@dataclass(frozen=True, slots=True)
class ChartSpec:
    key: str
    title: str
    fields: tuple[str, ...]
    kind: Literal["line", "heatmap"] = "line"
    y_range: tuple[float, float] | None = None


CHARTS: tuple[ChartSpec, ...] = (
    ChartSpec("cpu", "CPU, all cores", ("cpu.total",), y_range=(0, 100)),
    ChartSpec("cpu_cores", "CPU per core", ("cpu.core",), kind="heatmap"),
    ChartSpec("memory", "Memory and swap", ("memory.percent", "swap.percent"), y_range=(0, 100)),
    ChartSpec("disk_io", "Disk I/O", ("disk.read", "disk.write")),
    ChartSpec("network", "Network I/O, all interfaces but loopback", ("net.sent", "net.recv")),
    ChartSpec("network_nics", "Network I/O per interface", ("nic.sent", "nic.recv")),
    ChartSpec("load", "Load average", ("load.1", "load.5", "load.15")),
    ChartSpec("disk_usage", "Disk space used", ("disk.percent",), y_range=(0, 100)),
    ChartSpec("watch_cpu", "Watched processes: CPU", ("watch.cpu",)),
    ChartSpec("watch_rss", "Watched processes: resident memory", ("watch.rss",)),
)
CHARTS_BY_KEY = {spec.key: spec for spec in CHARTS}

# Spelled out as plotly's validator would: plotly.js also knows "Viridis", but
# the unvalidated figure should send what the validated one does. Plotly's
# plotly.colors.sequential.Viridis (a test checks they agree), without importing Plotly.
VIRIDIS = ("#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725")
_VIRIDIS = [[i / (len(VIRIDIS) - 1), color] for i, color in enumerate(VIRIDIS)]
_HEIGHT = 280
_LEGEND_ROW = 22  # px per extra pair of legend entries, so many series don't squash the plot


def chart_columns(spec: ChartSpec, columns: list[str]) -> list[str]:
    """The frame's columns this chart draws, in the order of the spec's fields."""
    wanted = {name: i for i, name in enumerate(spec.fields)}
    picked = [c for c in columns if split_column(c)[0] in wanted]
    return sorted(picked, key=lambda c: wanted[split_column(c)[0]])


def build_figure(
    spec: ChartSpec,
    frame: Rows | pd.DataFrame,
    fields: FieldTable,
    tz: str = "UTC",
    max_points: int = MAX_POINTS,
) -> go.Figure | None:
    """The chart for ``frame`` (a window of history) as a validated Figure, or
    None if it has no data."""
    import plotly.graph_objects as go

    drawn = figure_dict(spec, frame, fields, tz, max_points)
    return None if drawn is None else go.Figure(drawn)


def figure_dict(
    spec: ChartSpec,
    frame: Rows | pd.DataFrame,
    fields: FieldTable,
    tz: str = "UTC",
    max_points: int = MAX_POINTS,
) -> dict[str, Any] | None:
    """The chart for ``frame`` in Plotly's figure schema (numpy arrays as values),
    or None if it has no data.

    A plain dict, not a Figure: plotly's validators cost about 3 ms per chart,
    which live pages pay on every new sample (tests check that the validated
    Figure sends the same chart). Plotly draws epoch milliseconds as UTC wall
    time, so x is shifted to the viewer's time zone ``tz`` (downsampling uses
    the true UTC times).
    """
    rows = as_rows(frame)
    columns = chart_columns(spec, rows.columns)
    if not columns or not len(rows):
        return None
    x_ns = rows.ts_ns
    x_ms = wall_ms(x_ns, tz)
    unit = fields.unit_of(columns[0])
    if spec.kind == "heatmap":
        matrix = rows.values[:, [rows.columns.index(c) for c in columns]].astype(np.float32).T
        starts, reduced = bucket_max(matrix, max_points)
        traces: list[dict[str, Any]] = [
            {
                "type": "heatmap",
                "x": x_ms[starts],
                "y": [split_column(c)[1] or c for c in columns],
                "z": reduced,
                "zmin": 0,
                "zmax": 100,
                "colorscale": _VIRIDIS,
                "colorbar": {"title": {"text": unit}, "thickness": 12},
                "hovertemplate": "core %{y}<br>%{x}<br>%{z:.1f} %<extra></extra>",
                "meta": columns,  # the frame column of each row of z, for the live chart in the browser
            }
        ]
        yaxis: dict[str, Any] = {"title": {"text": "core"}, "type": "category"}
    else:
        traces = []
        for column in columns:
            y = rows.column(column).astype(_dtype(fields, column))  # as the frame holds it
            keep = downsample_indices(x_ns, y, max_points)
            traces.append(
                {
                    "type": "scatter",
                    "x": x_ms[keep],
                    "y": y[keep],
                    "mode": "lines",
                    "name": _series_name(column, fields),
                    "connectgaps": False,
                    "meta": column,  # the frame column it draws, for the live chart in the browser
                }
            )
        yaxis = {"range": list(spec.y_range)} if spec.y_range else {}
        if unit.startswith("bytes"):  # the tick suffix says it; no axis title needed
            yaxis |= {"tickformat": "~s", "ticksuffix": "B/s" if unit.endswith("/s") else "B"}
        elif unit:
            yaxis["title"] = {"text": unit}
    layout: dict[str, Any] = {
        "title": {"text": spec.title, "x": 0, "font": {"size": 14}},
        "height": _HEIGHT + _LEGEND_ROW * max(0, (len(columns) - 1) // 2),
        "margin": {"l": 10, "r": 10, "t": 36, "b": 10},
        "hovermode": "x unified" if spec.kind == "line" else "closest",
        "legend": {"orientation": "h", "y": -0.15},
        "dragmode": "select",
        "selectdirection": "h",
        "uirevision": spec.key,
        "xaxis": {"type": "date"},
    }
    if yaxis:  # as the validator would: an empty axis is no axis
        layout["yaxis"] = yaxis
    return {"data": traces, "layout": layout}


def _dtype(fields: FieldTable, column: str) -> str:
    field = fields.for_column(column)
    return field.dtype if field else "float32"


_HOUR_NS = 3_600_000_000_000


def wall_ms(ts_ns: np.ndarray, tz: str) -> np.ndarray:
    """Epoch-ms (float64) of the local wall time in ``tz`` of each UTC time ``ts_ns``
    (int64 ns): what the date axis should show."""
    ns = np.asarray(ts_ns, dtype=np.int64)
    wall: np.ndarray = (ns + utc_offsets_ns(ns, tz)) / 1e6
    return wall


def utc_offsets_ns(ns: np.ndarray, tz: str) -> np.ndarray:
    """The UTC offset of ``tz`` at each time (int64 ns), from the time zone database:
    one look-up per hour the times fall in, and one per time only in an hour where
    the offset changes (a switch to or from summer time)."""
    if tz == "UTC" or not len(ns):
        return np.zeros(len(ns), dtype=np.int64)
    zone = ZoneInfo(tz)

    def offset(t_ns: int) -> int:
        local = datetime.fromtimestamp(t_ns // 1_000_000_000, UTC).astimezone(zone)
        delta = local.utcoffset()
        return 0 if delta is None else (delta.days * 86_400 + delta.seconds) * 1_000_000_000

    hours, where = np.unique(ns // _HOUR_NS, return_inverse=True)
    starts = np.array([offset(h * _HOUR_NS) for h in hours.tolist()], dtype=np.int64)
    ends = np.array([offset((h + 1) * _HOUR_NS - 1) for h in hours.tolist()], dtype=np.int64)
    out = starts[where]
    for i in np.flatnonzero(starts != ends).tolist():  # an hour the clocks change in
        mask = where == i
        out[mask] = [offset(t) for t in ns[mask].tolist()]
    return out


def _series_name(column: str, fields: FieldTable) -> str:
    name, label = split_column(column)
    field = fields.get(name)
    return field.series_name(label) if field else column


def selected_range(selection: dict[str, Any] | None, tz: str = "UTC") -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The UTC range of a box selection from ``st.plotly_chart(on_select=...)``.

    Plotly reports date-axis values as wall-time strings (or epoch ms) of the
    axis, which shows ``tz`` local time; both forms are accepted.
    """

    boxes = (selection or {}).get("box") or []
    if not boxes:
        return None
    xs = boxes[0].get("x") or []
    if len(xs) != 2:
        return None
    a, b = (_to_utc(v, tz) for v in xs)
    if a is None or b is None or a == b:
        return None
    return (a, b) if a < b else (b, a)


def _to_utc(value: object, tz: str) -> pd.Timestamp | None:
    import pandas as pd

    try:
        ts = pd.Timestamp(value, unit="ms") if isinstance(value, int | float) else pd.Timestamp(str(value))
    except (ValueError, TypeError):
        return None
    if ts.tzinfo is not None:
        return ts.tz_convert("UTC")
    return ts.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward").tz_convert("UTC")
