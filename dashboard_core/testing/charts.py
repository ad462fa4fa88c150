"""Plotly figures for a suite's history: pass rate and duration per run.

Runs are few (tens to hundreds), so plain ``Scatter`` and ``Bar`` traces with
the run id on the x axis read better than a time axis: runs a day apart and
runs a minute apart get the same room. The time is in the hover text.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard_core.figure_title import set_title, title_band

STATUS_COLOURS = {
    "passed": "#21a366",
    "failed": "#d62728",
    "error": "#b5541b",  # a brown that reads on the light and the dark theme (#8c2d04 vanished on dark)
    "timed out": "#ff7f0e",
    "cancelled": "#7f7f7f",
    "interrupted": "#9467bd",
}


def history_figure(history: pd.DataFrame, tz: str = "UTC") -> go.Figure | None:
    """Pass rate (%) above, duration (s) below, one point per finished run;
    ``history`` as :func:`dashboard_core.testing.reports.history_frame` makes it."""
    if history.empty:
        return None
    when = history["started"].dt.tz_convert(tz).dt.strftime("%Y-%m-%d %H:%M:%S")
    x = [f"#{i}" for i in history["id"]]
    colours = [STATUS_COLOURS.get(s, "#1f77b4") for s in history["status"]]
    hover = [
        f"run {i} · {s}<br>{w}<br>{p} passed, {f} failed, {e} errors"
        + (f"<br>re-run of {n} selected tests" if pd.notna(n) else "")
        for i, s, w, p, f, e, n in zip(
            history["id"],
            history["status"],
            when,
            history["passed"],
            history["failed"],
            history["errors"],
            history["selected"],
        )
    ]
    rerun = history["selected"].notna().to_numpy()
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, row_heights=[0.55, 0.45])
    # The line joins full runs only: a re-run of 2 failed tests at 0 % says nothing of the suite.
    traces = (("full runs", ~rerun, "lines+markers", "circle"), ("re-runs", rerun, "markers", "circle-open"))
    for name, keep, mode, symbol in traces:
        if keep.any():
            fig.add_trace(
                go.Scatter(
                    x=[v for v, k in zip(x, keep) if k],
                    y=history["pass_rate"][keep],
                    mode=mode,
                    name=name,
                    line={"color": "#1f77b4"},
                    marker={"color": [c for c, k in zip(colours, keep) if k], "size": 9, "symbol": symbol},
                    hovertext=[h for h, k in zip(hover, keep) if k],
                    hovertemplate="%{hovertext}<br>pass rate %{y:.1f} %<extra></extra>",
                ),
                row=1,
                col=1,
            )
    fig.add_trace(
        go.Bar(
            x=x,
            y=history["duration"],
            name="duration",
            marker={"color": colours, "pattern": {"shape": ["/" if r else "" for r in rerun]}},
            hovertext=hover,
            hovertemplate="%{hovertext}<br>%{y:.1f} s<extra></extra>",
        ),
        row=2,
        col=1,
    )
    fig.update_yaxes(title_text="pass rate %", range=[0, 105], row=1, col=1)
    fig.update_yaxes(title_text="seconds", rangemode="tozero", row=2, col=1)
    fig.update_xaxes(type="category", title_text="run", row=2, col=1)
    fig.update_layout(height=390 + title_band(subtitle=True), margin={"l": 10, "r": 10, "b": 10}, showlegend=False)
    # The key in a subtitle: on one line with the title it ran past a phone's width.
    set_title(fig, "Pass rate and duration per run", "colour: status · open, hatched: re-runs of failed tests")
    return fig
