"""The chart of a run's resource story, for the Tests and Workflows pages: CPU
above (the host's, all cores, and the run's share of it), memory below (the
run's resident memory on the left axis, the host's memory in use in % on the
right), local time on a shared axis, the run's span shaded. One trace per
process tree: a test run has one, a workflow run one per step that ran."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard_core.figure_title import legend_under_title, set_title
from dashboard_core.models.resources import RunResources
from dashboard_core.units import format_bytes

HOST_COLOUR = "#7f7f7f"
TREE_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
HEIGHT = 420


def story_figure(story: RunResources, tz: str = "UTC") -> go.Figure | None:
    """None when there is no tree series to draw (the story's ``note`` says why)."""
    if not story.trees:
        return None
    zone = ZoneInfo(tz)

    def local(at: datetime) -> datetime:
        return at.astimezone(zone).replace(tzinfo=None)

    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1, specs=[[{}], [{"secondary_y": True}]])
    if story.host:
        times = [local(p.at) for p in story.host]
        cpu = [p.cpu_percent for p in story.host]
        fig.add_trace(_line(times, cpu, "host", "CPU", HOST_COLOUR, "%{y:.1f} %"), 1, 1)
        memory = [p.memory_percent for p in story.host]
        fig.add_trace(_line(times, memory, "host", "memory", HOST_COLOUR, "%{y:.1f} %"), 2, 1, secondary_y=True)
    cores = max(1, story.cpu_cores)
    for i, tree in enumerate(story.trees):
        name = "this run" if tree.step is None else f"step {tree.step}"
        colour = TREE_COLOURS[i % len(TREE_COLOURS)]
        times = [local(s.at) for s in tree.samples]
        share = [s.cpu_percent / cores for s in tree.samples]
        cpu_line = _line(times, share, name, "CPU", colour, "%{y:.1f} % of the host (%{customdata:.0f} % of one core)")
        cpu_line.customdata = [s.cpu_percent for s in tree.samples]
        fig.add_trace(cpu_line, 1, 1)
        rss = _line(times, [s.rss_bytes for s in tree.samples], name, "memory", colour, "%{hovertext}")
        rss.hovertext = [f"{format_bytes(s.rss_bytes)} in {s.processes} processes" for s in tree.samples]
        fig.add_trace(rss, 2, 1, secondary_y=False)
    if story.start is not None and story.end is not None:
        for row in (1, 2):
            fig.add_vrect(
                x0=local(story.start),
                x1=local(story.end),
                fillcolor="#1f77b4",
                opacity=0.07,
                line_width=0,
                row=row,
                col=1,
            )
    fig.update_yaxes(title_text="CPU %, all cores", rangemode="tozero", row=1, col=1)
    fig.update_yaxes(title_text="run's memory", rangemode="tozero", row=2, col=1, secondary_y=False)
    fig.update_yaxes(
        title_text="host memory %", range=[0, 100], tickmode="linear", tick0=0, dtick=25, showgrid=False,
        row=2, col=1, secondary_y=True,
    )  # fmt: skip
    fig.update_xaxes(type="date", row=2, col=1)
    fig.update_layout(height=HEIGHT, margin={"l": 10, "r": 10, "b": 10}, hovermode="x unified")
    whose = "the run's" if story.kind == "test" else "each step's"
    set_title(fig, f"Resources of run {story.run_id}", f"grey: host · colour: {whose} processes")  # fits a phone
    legend_under_title(fig, subtitle=True)
    return fig


def _line(
    x: list[datetime], y: list[float | None] | list[float] | list[int], name: str, what: str, colour: str, hover: str
) -> go.Scatter:
    """One of a tree's (or the host's) two lines: one legend entry per tree toggles both."""
    return go.Scatter(
        x=x,
        y=y,
        mode="lines+markers" if len(x) < 3 else "lines",
        name=name,
        legendgroup=name,
        showlegend=what == "CPU",
        line={"color": colour, "width": 1.5 if colour == HOST_COLOUR else 2.5},
        hovertemplate=f"{name} {what}: {hover}<extra></extra>",
    )
