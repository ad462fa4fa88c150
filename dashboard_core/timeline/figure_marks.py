"""Marks drawn on the charts the server draws (fleet hosts, agent and component
timelines, a workflow run's steps, a suite's history).

A span is a translucent band from its start to its end over the whole plot
(``layout.shapes`` in paper height, over the data: a timeline's bars would hide it)
and a point is a dotted line at its time; each also gets a hover and click target, in
traces of their own on a hidden y axis from 0 to 1 laid over the plot: an invisible bar as wide as the band (so
hovering anywhere in it says what it is, and a click anywhere in it opens it) and a
marker at the top of a point's line. Their ``customdata`` is ``[MARK_TAG, href, key]``:
a click's selection names the mark's page (:func:`clicked_href`).

The same function draws on a Plotly ``go.Figure`` and on the plain figure dicts of
:func:`dashboard_core.metrics.charts.figure_dict` (and their sent form): the marks are
built as dicts once and added either way. Which kinds exist is the marks' business
(:mod:`dashboard_core.timeline.marks`); nothing here names one.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from dashboard_core.timeline.marks import KIND_LABELS, Mark, MarkKind

if TYPE_CHECKING:
    import pandas as pd

MARK_TAG = "timeline-mark"  # customdata[0] of a mark's hover target: tells it from the chart's own points
BAND_OPACITY = 0.16
POINT_SIZE = 11
LABEL_BACKGROUND, LABEL_TEXT = "#ffffff", "#262730"  # Streamlit's light theme: readable on either
MAX_DRAWN = 400  # marks on one chart, the newest: more are a solid wall of bands, and slow to draw
_WALL = "%Y-%m-%d %H:%M:%S.%f"

F = TypeVar("F")


# -- which kinds a chart offers --------------------------------------------------------
def offered_kinds(marks: Iterable[Mark]) -> list[MarkKind]:
    """The kinds that have marks here, in :class:`MarkKind` order: a chart's toggles
    offer only these (a toggle for a kind with nothing to show is noise)."""
    present = {m.kind for m in marks}
    return [kind for kind in MarkKind if kind in present]


def kind_label(kind: MarkKind) -> str:
    return KIND_LABELS.get(kind, kind.value.replace("_", " ").capitalize())


def shown_kinds(offered: Sequence[MarkKind], hidden: Collection[str]) -> list[MarkKind]:
    """The offered kinds the viewer has not hidden (every kind is on until hidden)."""
    return [kind for kind in offered if kind.value not in hidden]


def hidden_after(offered: Sequence[MarkKind], picked: Collection[MarkKind], hidden: Collection[str]) -> set[str]:
    """The kinds hidden after the viewer changed one chart's toggles: the offered ones
    not picked, and what was hidden before that this chart does not offer (a kind hidden
    on one page stays hidden on the next, where it may have marks)."""
    offered_values = {k.value for k in offered}
    picked_values = {MarkKind(k).value for k in picked}
    return {v for v in hidden if v not in offered_values} | (offered_values - picked_values)


def elsewhere(marks: Iterable[Mark], *here: str) -> list[Mark]:
    """The marks that lead somewhere else than ``here`` (pages' relative links) or a
    part of one: a chart leaves out what it draws itself. A run's steps chart leaves out
    the run's own mark and its steps' and restarts' (its bars are their states), a
    suite's history its runs (its columns), a state timeline the states of what it draws
    (an agent offline, a component down: its bars)."""
    parts = tuple(h + "&" for h in here)
    return [m for m in marks if not (m.href in here or (m.href or "").startswith(parts))]


# -- where a mark goes on the x axis ---------------------------------------------------
@dataclass(frozen=True, slots=True)
class TimeAxis:
    """A date axis showing the viewer's wall-clock time (how every time chart here is
    drawn: Plotly has no time zones, so x holds local times). With a ``window``, a band
    is cut to it (a test run that began before the chart's time would widen its axis;
    its hover still says when it began)."""

    tz: str = "UTC"
    window: tuple[datetime, datetime] | None = None

    def wall(self, at: datetime) -> datetime:
        return at.astimezone(ZoneInfo(self.tz)).replace(tzinfo=None)


@dataclass(frozen=True, slots=True)
class Run:
    """One category of a chart by run (``#12``) and when that run went on."""

    category: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class RunAxis:
    """A category axis of runs, oldest first, for a chart whose x is not time.

    A mark is drawn over the runs it overlaps in time (an alert that fired during runs
    #11 and #12 covers their two columns) and left out where it overlaps none: between
    two runs the axis has no room, and a suite's history is read by run, not by hour.
    """

    runs: tuple[Run, ...]

    def window(self) -> tuple[datetime, datetime]:
        """From the first run's start to the last one's end: where to look for marks."""
        return self.runs[0].start, max(r.end for r in self.runs)

    def span(self, mark: Mark) -> tuple[int, int] | None:
        """The first and last index of the runs ``mark`` overlaps, or None."""
        end = mark.end or mark.start
        hit = [i for i, r in enumerate(self.runs) if mark.start <= r.end and end >= r.start]
        return (hit[0], hit[-1]) if hit else None


Axis = TimeAxis | RunAxis


def history_axis(history: pd.DataFrame) -> RunAxis:
    """The runs of a suite's history chart (the frame
    :func:`dashboard_core.testing.reports.history_frame` makes), named as
    :func:`dashboard_core.testing.charts.history_figure` names its columns (``#12``):
    each from its start for its duration."""
    runs = [
        Run(f"#{i}", start.to_pydatetime(), (start + timedelta(seconds=0.0 if s != s else float(s))).to_pydatetime())
        for i, start, s in zip(history["id"], history["started"], history["duration"], strict=True)
    ]
    return RunAxis(tuple(runs))


def _time(at: datetime) -> str:
    return at.strftime(_WALL)[:-3]  # milliseconds: what Plotly's date axis reads


def hover_text(mark: Mark, tz: str) -> str:
    """What a mark is, in words: its label, its detail, and when (the viewer's clock)."""
    zone = ZoneInfo(tz)
    start = mark.start.astimezone(zone)
    when = start.strftime("%Y-%m-%d %H:%M:%S")
    if mark.end is not None:
        end = mark.end.astimezone(zone)
        end_text = end.strftime("%H:%M:%S" if end.date() == start.date() else "%Y-%m-%d %H:%M:%S")
        when += f" – {'now' if mark.ongoing else end_text}"
    lines = [f"<b>{_escape(mark.label)}</b>", *([_escape(mark.detail)] if mark.detail else []), when]
    if mark.href:
        lines.append("<i>click to open</i>")
    return "<br>".join(lines)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# -- the parts to add ------------------------------------------------------------------
@dataclass(slots=True)
class _Parts:
    shapes: list[dict[str, Any]]
    bars: list[tuple[Any, float, Mark]]  # (x, width, mark): a span's hover target
    points: list[tuple[Any, Mark]]  # (x, mark): a point's (or, by run, any mark's) marker


def _parts(marks: Sequence[Mark], axis: Axis) -> _Parts:
    parts = _Parts([], [], [])
    spans: list[tuple[str, Any, Any]] = []  # (colour, x0, x1) of each band, drawn merged
    for mark in marks:
        if isinstance(axis, RunAxis):
            _by_run(parts, spans, mark, axis)
            continue
        first, last = axis.window or (mark.start, mark.end or mark.start)
        if mark.end is None or mark.end <= mark.start:
            if first <= mark.start <= last:
                x = _time(axis.wall(mark.start))
                parts.shapes.append(_line(x, mark.colour))
                parts.points.append((x, mark))
            continue
        if mark.start >= last or mark.end <= first:
            continue
        start, end = axis.wall(max(mark.start, first)), axis.wall(min(mark.end, last))
        spans.append((mark.colour, start, end))
        width = (end - start) / timedelta(milliseconds=1)
        parts.bars.append((_time(start + (end - start) / 2), width, mark))
    on_time = not isinstance(axis, RunAxis)
    for colour, x0, x1 in _union_by_colour(spans):
        parts.shapes.append(_band(_time(x0), _time(x1), colour) if on_time else _band(x0, x1, colour))
    return parts


def _by_run(parts: _Parts, spans: list[tuple[str, Any, Any]], mark: Mark, axis: RunAxis) -> None:
    hit = axis.span(mark)
    if hit is None:
        return
    first, last = hit
    spans.append((mark.colour, first - 0.5, last + 0.5))  # a category axis: shapes take indices
    parts.points.append((axis.runs[first].category, mark))


def _union_by_colour(spans: list[tuple[str, Any, Any]]) -> list[tuple[str, Any, Any]]:
    """Overlapping bands of one colour as one: a dozen components down at once would
    stack their translucency into an opaque wash over the chart (each mark keeps its
    own hover target)."""
    merged: list[tuple[str, Any, Any]] = []
    for colour in dict.fromkeys(c for c, _, _ in spans):
        runs = sorted((x0, x1) for c, x0, x1 in spans if c == colour)
        x0, x1 = runs[0]
        for a, b in runs[1:]:
            if a <= x1:
                x1 = max(x1, b)
            else:
                merged.append((colour, x0, x1))
                x0, x1 = a, b
        merged.append((colour, x0, x1))
    return merged


def _band(x0: Any, x1: Any, colour: str) -> dict[str, Any]:
    return {
        "type": "rect",
        "xref": "x",
        "yref": "paper",
        "x0": x0,
        "x1": x1,
        "y0": 0,
        "y1": 1,
        "fillcolor": colour,
        "opacity": BAND_OPACITY,
        "line": {"width": 0},
        "layer": "above",
    }


def _line(x: Any, colour: str) -> dict[str, Any]:
    return {
        "type": "line",
        "xref": "x",
        "yref": "paper",
        "x0": x,
        "x1": x,
        "y0": 0,
        "y1": 1,
        "line": {"color": colour, "width": 1.5, "dash": "dot"},
        "layer": "above",
    }


def _traces(parts: _Parts, tz: str, y_axis: str) -> list[dict[str, Any]]:
    traces: list[dict[str, Any]] = []
    common = {"yaxis": y_axis, "showlegend": False, "name": "marks", "hovertemplate": "%{hovertext}<extra></extra>"}
    if parts.bars:
        marks = [m for _, _, m in parts.bars]
        traces.append(
            {
                "type": "bar",
                "x": [x for x, _, _ in parts.bars],
                "y": [1] * len(marks),
                "base": [0] * len(marks),
                "width": [w for _, w, _ in parts.bars],
                "marker": {"color": "rgba(0,0,0,0)", "line": {"width": 0}},
                "hovertext": [hover_text(m, tz) for m in marks],
                "hoverlabel": _label(marks),
                "customdata": [_data(m) for m in marks],
                **common,
            }
        )
    if parts.points:
        marks = [m for _, m in parts.points]
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": [x for x, _ in parts.points],
                "y": [0.97] * len(marks),
                "marker": {"color": [m.colour for m in marks], "size": POINT_SIZE, "symbol": "triangle-down"},
                "hovertext": [hover_text(m, tz) for m in marks],
                "hoverlabel": _label(marks),
                "customdata": [_data(m) for m in marks],
                "cliponaxis": False,
                **common,
            }
        )
    return traces


def _label(marks: Sequence[Mark]) -> dict[str, Any]:
    """A hover box in the page's own colours, framed in each mark's: white on an orange
    or grey mark was hard to read, and Streamlit's theme greys a label's text."""
    return {"bgcolor": LABEL_BACKGROUND, "bordercolor": [m.colour for m in marks], "font": {"color": LABEL_TEXT}}


def _data(mark: Mark) -> list[str]:
    return [MARK_TAG, mark.href or "", mark.key]


def _free_y_axis(layout_keys: Iterable[str]) -> tuple[str, str]:
    """The trace name (``y3``) and layout name (``yaxis3``) of a y axis the figure does not use."""
    used = [int(k[5:] or 1) for k in layout_keys if k.startswith("yaxis") and (k[5:] == "" or k[5:].isdigit())]
    n = max(used, default=1) + 1
    return f"y{n}", f"yaxis{n}"


OVERLAY_AXIS = {"overlaying": "y", "range": [0, 1], "visible": False, "fixedrange": True}


def add_marks(
    figure: F,
    marks: Sequence[Mark],
    tz: str = "UTC",
    kinds_shown: Collection[MarkKind] | None = None,
    axis: Axis | None = None,
    window: tuple[datetime, datetime] | None = None,
) -> F:
    """``figure`` with the ``marks`` of ``kinds_shown`` (all for None) drawn on it.

    A ``go.Figure`` gets them in place (and is returned); a dict is not changed (a
    cached figure is shared by every session) and a new one is returned. ``axis``:
    where a mark goes on x, a date axis in ``tz`` (its bands cut to ``window``, the
    chart's time) unless said otherwise. The newest :data:`MAX_DRAWN` are drawn. A
    figure with nothing to draw is returned as it is.
    """
    axis = axis or TimeAxis(tz, window)
    drawn = [m for m in marks if kinds_shown is None or m.kind in kinds_shown]
    if isinstance(axis, RunAxis):  # before the cap: only those over a run are drawn
        drawn = [m for m in drawn if axis.span(m) is not None]
    parts = _parts(drawn[-MAX_DRAWN:], axis)
    if not parts.shapes:
        return figure
    if isinstance(figure, dict):
        layout = dict(figure.get("layout") or {})
        trace_axis, layout_axis = _free_y_axis(layout)
        layout["shapes"] = [*(layout.get("shapes") or ()), *parts.shapes]
        layout[layout_axis] = dict(OVERLAY_AXIS)
        data = [*(figure.get("data") or ()), *_traces(parts, tz, trace_axis)]
        return {**figure, "data": data, "layout": layout}  # type: ignore[return-value]
    fig: Any = figure
    trace_axis, layout_axis = _free_y_axis(fig.layout.to_plotly_json())
    fig.update_layout({"shapes": [*fig.layout.shapes, *parts.shapes], layout_axis: OVERLAY_AXIS})
    fig.add_traces(_traces(parts, tz, trace_axis))
    return figure


# -- a click -----------------------------------------------------------------------------
def clicked_href(selection: Any) -> str | None:
    """The link of the mark a click selected (``st.plotly_chart``'s selection), if any:
    a box selection is a zoom, not a click, and the chart's own points lead nowhere."""
    if not isinstance(selection, dict) or selection.get("box") or selection.get("lasso"):
        return None
    for point in selection.get("points") or ():
        data = point.get("customdata") if isinstance(point, dict) else None
        if isinstance(data, list | tuple) and len(data) >= 2 and data[0] == MARK_TAG and data[1]:
            return str(data[1])
    return None
