"""The duration chart of a run comparison: each test's change in seconds (head - base)
as a horizontal bar, the biggest moves only, coloured by the duration test's verdict,
so a slowdown that stands out from its noise is told from one that does not."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from dashboard_core.figure_title import set_title, title_band
from dashboard_core.models.compare import CaseComparison

VERDICT_COLOURS = {
    "slower": "#d62728",
    "faster": "#21a366",
    "no change": "#7f7f7f",
    "too few runs": "#9ecae1",
}
SHOWN = 15  # bars: the tests whose time moved most
ROW_PX = 26


def short_name(nodeid: str) -> str:
    """``tests/test_a.py::TestX::test_y[1]`` -> ``TestX::test_y[1]``: what fits beside a bar."""
    parts = nodeid.split("::")
    return "::".join(parts[1:]) if len(parts) > 1 else nodeid


def delta_figure(rows: Sequence[CaseComparison], shown: int = SHOWN) -> go.Figure | None:
    """None when no test is in both runs."""
    both = [r for r in rows if r.delta_seconds is not None and r.duration is not None]
    if not both:
        return None
    top = sorted(both, key=lambda r: abs(r.delta_seconds or 0.0), reverse=True)[:shown]
    top.reverse()  # plotly draws the first bar at the bottom: the biggest move on top
    verdicts = [r.duration.verdict if r.duration else "too few runs" for r in top]
    hover = [
        f"{r.nodeid}<br>{r.base_seconds:.3f} s → {r.head_seconds:.3f} s<br>{v}"
        + (f" (p = {r.duration.p_value:.3g})" if r.duration and r.duration.p_value is not None else "")
        for r, v in zip(top, verdicts)
    ]
    fig = go.Figure(
        go.Bar(
            x=[r.delta_seconds for r in top],
            y=[short_name(r.nodeid) for r in top],
            orientation="h",
            marker={"color": [VERDICT_COLOURS[v] for v in verdicts]},
            hovertext=hover,
            hovertemplate="%{hovertext}<br>%{x:+.3f} s<extra></extra>",
        )
    )
    fig.update_xaxes(title_text="seconds, this run − the other", zeroline=True)
    fig.update_yaxes(type="category", automargin=True)
    fig.update_layout(
        height=80 + ROW_PX * len(top) + title_band(subtitle=True), margin={"l": 10, "r": 10, "b": 10}, showlegend=False
    )
    key = " · ".join(f"{name}: {colour_name}" for name, colour_name in _KEY.items())
    set_title(fig, f"Duration change, the {len(top)} biggest", key)
    return fig


_KEY = {"slower": "red", "faster": "green", "no change": "grey", "too few runs": "light blue"}
