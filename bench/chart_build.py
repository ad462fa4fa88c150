"""Chart cost for a 24 h window at 1 s (86,400 rows): every chart in ``CHARTS``
built as the page's figure cache does on a miss (``figure_dict``: downsampled
Scatter / heatmap as a plain dict, then ``sent_form``) and serialised with
``plotly.io.to_json(..., validate=False)`` as ``st.plotly_chart`` does.

Why: with Live on the charts are rebuilt every few seconds, and the JSON is
what travels to the browser; raw points would be megabytes per chart.
Baselines, measured in the same run: each chart as a validated Figure
(``build_figure``, what the cache built before), and the CPU chart drawn
naively, every raw point with datetime x, as ``go.Scatter`` and as ``px.line``.

Targets: every figure's JSON under 0.5 MB, build plus serialise under 20 ms.
Times are the best of 5.

Run: .venv/bin/python bench/chart_build.py [--tz Europe/Berlin] [--repeat 5]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

import pandas as pd
import plotly
import plotly.express as px
import plotly.graph_objects as go
import plotly.io as pio
from _common import DAY_ROWS, best_of, fill, machine_note, realistic_runtime, table, verdict

from dashboard_core.metrics.charts import CHARTS, ChartSpec, build_figure, figure_dict
from dashboard_core.metrics.fields import FieldTable
from dashboard_core.metrics.figure_cache import sent_form

SIZE_TARGET_BYTES = 500_000
TIME_TARGET_MS = 20.0


def ours(spec: ChartSpec, frame: pd.DataFrame, fields: FieldTable, tz: str) -> Callable[[], str]:
    def run() -> str:
        drawn = figure_dict(spec, frame, fields, tz)
        assert drawn is not None, f"{spec.key}: no figure for a full frame"
        return pio.to_json(sent_form(drawn), validate=False)

    return run


def validated(spec: ChartSpec, frame: pd.DataFrame, fields: FieldTable, tz: str) -> Callable[[], str]:
    def run() -> str:
        fig = build_figure(spec, frame, fields, tz)
        assert fig is not None, f"{spec.key}: no figure for a full frame"
        return pio.to_json(fig, validate=False)

    return run


def naive_scatter(frame: pd.DataFrame) -> str:
    fig = go.Figure(go.Scatter(x=frame.index, y=frame["cpu.total"], mode="lines", name="cpu.total"))
    return pio.to_json(fig, validate=False)


def naive_px(frame: pd.DataFrame) -> str:
    fig = px.line(frame.reset_index(), x="timestamp", y="cpu.total")
    return pio.to_json(fig, validate=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tz", default="Europe/Berlin", help="viewer time zone passed to build_figure")
    parser.add_argument("--repeat", type=int, default=5, help="runs per chart; the best counts")
    args = parser.parse_args()

    rt = realistic_runtime(DAY_ROWS)
    fill(rt, DAY_ROWS)
    frame = rt.frame.to_frame()
    print(f"24 h frame: {len(frame):,} rows x {frame.shape[1]} columns; plotly {plotly.__version__}, tz={args.tz}")
    print(machine_note() + "\n")

    rows: list[list[str]] = []
    ok = True
    worst_ms = worst_kb = 0.0
    for spec in CHARTS:
        seconds, body = best_of(args.repeat, ours(spec, frame, rt.fields, args.tz))
        ms, kb = seconds * 1000, len(body) / 1000
        good = len(body) < SIZE_TARGET_BYTES and ms < TIME_TARGET_MS
        ok &= good
        worst_ms, worst_kb = max(worst_ms, ms), max(worst_kb, kb)
        rows.append([f"ours: {spec.key}", f"{kb:,.1f}", f"{ms:.1f}", "ok" if good else "OVER"])
        seconds, body = best_of(args.repeat, validated(spec, frame, rt.fields, args.tz))
        rows.append([f"  validated Figure: {spec.key}", f"{len(body) / 1000:,.1f}", f"{seconds * 1000:.1f}", ""])
    for name, fn in (("naive go.Scatter, cpu", naive_scatter), ("naive px.line, cpu", naive_px)):
        seconds, body = best_of(args.repeat, lambda fn=fn: fn(frame))
        rows.append(
            [f"baseline: {name} (86,400 datetime points)", f"{len(body) / 1000:,.1f}", f"{seconds * 1000:.1f}", ""]
        )
    print(table(["chart", "JSON KB", "build+serialise ms", "target"], rows))
    print(
        "\n"
        + verdict(
            ok,
            f"every chart: JSON < {SIZE_TARGET_BYTES / 1e6:g} MB and < {TIME_TARGET_MS:g} ms "
            f"(largest {worst_kb:,.1f} KB, slowest {worst_ms:.1f} ms)",
        )
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
