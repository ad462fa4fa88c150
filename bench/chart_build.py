"""Chart cost for a 24 h window at 1 s (86,400 rows): what it costs the server
to draw each chart in ``CHARTS``, ours against the naive way, both measured the
same way: building the figure, then the real ``st.plotly_chart`` call the
Metrics page makes (same arguments: a key, a box selection that reruns,
``displaylogo`` off), run bare (no session: Streamlit does all its work on the
figure, serialising it with ``plotly.io.to_json``, hashing that spec for the
element id, filling the protobuf, and sends nothing).

- ours: the figure cache's miss, ``SentFigure.of(sent_form(figure_dict(...)))``: each
  series downsampled to at most 2,000 points (M4, extremes kept), epoch-ms x,
  per-core CPU as a heatmap, a plain dict in the JSON form Streamlit sends;
- ours, validated: the same chart as a validated plotly ``Figure``
  (``build_figure``, what the cache built before), for reference;
- naive: a ``go.Figure`` with one ``go.Scatter`` per column the chart draws
  (per-core CPU: a line per core), every raw point, x the frame's own
  DatetimeIndex, as a page would write it without thinking of cost;
- naive px.line (CPU chart): ``px.line`` of the raw frame, the other obvious way.

Why: with Live on the charts are redrawn every few seconds for every viewer,
and the JSON is what travels to the browser.

The naive way is drawn for the CPU chart only (each naive chart takes seconds;
``--naive-all`` draws every chart, several minutes).

Targets: every chart of ours under 0.5 MB of JSON and 20 ms to build and pass
to ``st.plotly_chart``. Times are the best of 5 (naive: of 2).

Run: .venv/bin/python bench/chart_build.py [--tz Europe/Berlin] [--repeat 5] [--naive-repeat 2] [--naive-all]
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Callable
from typing import Any

import pandas as pd
import plotly
import plotly.express as px
import plotly.graph_objects as go
import plotly.io as pio
import plotly.tools
import streamlit as st
from _common import DAY_ROWS, best_of, fill, machine_note, realistic_runtime, table, verdict

from dashboard_core.metrics.charts import CHARTS, ChartSpec, build_figure, chart_columns, figure_dict
from dashboard_core.metrics.fields import FieldTable
from dashboard_core.metrics.figure_cache import sent_form
from dashboard_core.metrics.sent_figure import SentFigure

# Bare mode: not a "missing ScriptRunContext!" warning per call (a filter: Streamlit
# resets its loggers' levels when it reads its config, at the first call).
logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
    lambda record: "missing ScriptRunContext" not in record.getMessage()
)

SIZE_TARGET_BYTES = 500_000
TIME_TARGET_MS = 20.0


def draw(figure: Any, key: str) -> None:
    """What ui/widgets.py's show_charts does with each figure."""
    st.plotly_chart(figure, key=key, on_select=lambda: None, selection_mode="box", config={"displaylogo": False})


def sent_json(figure: Any) -> str:
    """The spec ``st.plotly_chart`` sends for ``figure`` (its own two steps)."""
    return str(
        pio.to_json(plotly.tools.return_figure_from_figure_or_data(figure, validate_figure=True), validate=False)
    )


def ours(spec: ChartSpec, frame: pd.DataFrame, fields: FieldTable, tz: str) -> Callable[[], Any]:
    def run() -> Any:
        drawn = figure_dict(spec, frame, fields, tz)
        assert drawn is not None, f"{spec.key}: no figure for a full frame"
        figure = SentFigure.of(sent_form(drawn))
        draw(figure, f"ours-{spec.key}")
        return figure

    return run


def validated(spec: ChartSpec, frame: pd.DataFrame, fields: FieldTable, tz: str) -> Callable[[], Any]:
    def run() -> Any:
        figure = build_figure(spec, frame, fields, tz)
        assert figure is not None, f"{spec.key}: no figure for a full frame"
        draw(figure, f"validated-{spec.key}")
        return figure

    return run


def naive(spec: ChartSpec, frame: pd.DataFrame) -> Callable[[], Any]:
    columns = chart_columns(spec, list(frame.columns))

    def run() -> Any:
        figure = go.Figure(
            [go.Scatter(x=frame.index, y=frame[c], mode="lines", name=c) for c in columns],
            layout={"title": {"text": spec.title}},
        )
        draw(figure, f"naive-{spec.key}")
        return figure

    return run


def naive_px(frame: pd.DataFrame) -> Any:
    figure = px.line(frame.reset_index(), x="timestamp", y="cpu.total", title="CPU, all cores")
    draw(figure, "naive-px-cpu")
    return figure


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tz", default="Europe/Berlin", help="viewer time zone passed to build_figure")
    parser.add_argument("--repeat", type=int, default=5, help="runs per chart of ours; the best counts")
    parser.add_argument("--naive-repeat", type=int, default=2, help="runs per naive chart; the best counts")
    parser.add_argument(
        "--naive-all", action="store_true", help="the naive way for every chart, not only CPU (minutes)"
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="Discarding nonzero nanoseconds")  # plotly, on the naive x

    rt = realistic_runtime(DAY_ROWS)
    fill(rt, DAY_ROWS)
    frame = rt.frame.to_frame()
    print(
        f"24 h frame: {len(frame):,} rows x {frame.shape[1]} columns; plotly {plotly.__version__}, "
        f"streamlit {st.__version__}, tz={args.tz}"
    )
    print(machine_note() + "\n")

    draw(go.Figure(), "warm-up")  # the first call reads Streamlit's config: not a chart's cost
    rows: list[list[str]] = []
    ok = True
    worst_ms = worst_kb = 0.0
    ours_ms: dict[str, float] = {}
    naive_ms: dict[str, float] = {}
    for spec in CHARTS:
        seconds, figure = best_of(args.repeat, ours(spec, frame, rt.fields, args.tz))
        ms, kb = seconds * 1000, len(sent_json(figure)) / 1000
        good = kb * 1000 < SIZE_TARGET_BYTES and ms < TIME_TARGET_MS
        ok &= good
        worst_ms, worst_kb = max(worst_ms, ms), max(worst_kb, kb)
        ours_ms[spec.key] = ms
        series = len(chart_columns(spec, list(frame.columns)))
        rows.append([f"ours: {spec.key} ({series} series)", f"{kb:,.1f}", f"{ms:.1f}", "ok" if good else "OVER"])
        seconds, figure = best_of(args.repeat, validated(spec, frame, rt.fields, args.tz))
        rows.append(["  ours, validated Figure", f"{len(sent_json(figure)) / 1000:,.1f}", f"{seconds * 1000:.1f}", ""])
        if args.naive_all or spec.key == "cpu":
            seconds, figure = best_of(args.naive_repeat, naive(spec, frame))
            naive_ms[spec.key] = seconds * 1000
            kb = len(sent_json(figure)) / 1000
            rows.append(["  naive: go.Scatter of raw points", f"{kb:,.1f}", f"{seconds * 1000:,.0f}", ""])
            if spec.key == "cpu":
                seconds, figure = best_of(args.naive_repeat, lambda: naive_px(frame))
                kb = len(sent_json(figure)) / 1000
                rows.append(["  naive: px.line of raw points", f"{kb:,.1f}", f"{seconds * 1000:,.0f}", ""])
    print(table(["chart", "JSON KB", "build + st.plotly_chart, ms", "target"], rows))
    compared = ", ".join(f"{k} {naive_ms[k] / ours_ms[k]:,.0f}x" for k in naive_ms)
    print(
        f"\nNaive vs ours (go.Scatter): {compared}.\n"
        "Both sides: the figure built, then st.plotly_chart(figure, key=..., on_select=<callback>, "
        "selection_mode='box', config={'displaylogo': False}) run bare,\nbest of "
        f"{args.repeat} (naive: {args.naive_repeat}). ours: figure_dict -> SentFigure, at most 2,000 points a "
        "series (M4), epoch-ms x;\nnaive: a go.Figure of go.Scatter per column, all 86,400 points, x the "
        "frame's DatetimeIndex (--naive-all: every chart)."
    )
    print(
        "\n"
        + verdict(
            ok,
            f"every chart of ours: JSON < {SIZE_TARGET_BYTES / 1e6:g} MB and < {TIME_TARGET_MS:g} ms "
            f"(largest {worst_kb:,.1f} KB, slowest {worst_ms:.1f} ms)",
        )
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
