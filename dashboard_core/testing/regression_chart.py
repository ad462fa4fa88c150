"""A small chart of one test's duration over its last runs, for a slower test on
the Tests page: a point per run where it passed (the run id on the x axis, as in
the suite's history chart), the runs where the host was busy drawn open and
orange, this run in red (a regression) or orange (host busy), and the baseline's
median and limit as lines. A picture says "it was flat, then this" at a glance."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from dashboard_core.figure_title import set_title, title_band

STEADY, BUSY, REGRESSION = "#1f77b4", "#ff7f0e", "#d62728"


def slowdown_figure(
    runs: Sequence[int],
    durations: Sequence[float | None],
    busy: Sequence[bool],
    median: float,
    limit: float | None,
    verdict: str,
) -> go.Figure:
    """``runs``: run ids oldest first, this run last; ``durations`` and ``busy`` of each
    (None: the test did not pass there); ``verdict`` of this run's duration."""
    x = [f"#{r}" for r in runs]
    last = len(runs) - 1
    colour = [STEADY if not b else BUSY for b in busy]
    colour[last] = {"regression": REGRESSION, "host busy": BUSY}.get(verdict, STEADY)
    symbol = ["circle-open" if b else "circle" for b in busy]
    symbol[last] = "diamond"
    hover = [
        f"run {r}" + (" · host busy" if b else "") + (" · this run" if i == last else "")
        for i, (r, b) in enumerate(zip(runs, busy))
    ]
    fig = go.Figure(
        go.Scatter(
            x=x,
            y=list(durations),
            mode="lines+markers",
            line={"color": STEADY, "width": 1},
            marker={"color": colour, "symbol": symbol, "size": 9, "line": {"width": 2, "color": colour}},
            hovertext=hover,
            hovertemplate="%{hovertext}<br>%{y:.3f} s<extra></extra>",
            connectgaps=True,
            showlegend=False,
        )
    )
    fig.add_hline(y=median, line={"dash": "dot", "color": "gray", "width": 1})
    if limit is not None:
        fig.add_hline(y=limit, line={"dash": "dash", "color": REGRESSION, "width": 1})
    fig.update_yaxes(title_text="seconds", rangemode="tozero")
    fig.update_xaxes(type="category")
    fig.update_layout(height=200 + title_band(subtitle=True), margin={"l": 10, "r": 10, "b": 10})
    key = "dotted: median · dashed: limit" if limit is not None else "dotted: median"
    set_title(fig, "Duration per run", f"{key} · open, orange: host busy")
    return fig
