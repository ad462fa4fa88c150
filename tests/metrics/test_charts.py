"""Charts: one per spec, downsampled, labelled from the field table, zoomable."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.io as pio

from dashboard_core.config import Config
from dashboard_core.metrics.charts import (
    CHARTS,
    CHARTS_BY_KEY,
    VIRIDIS,
    build_figure,
    chart_columns,
    selected_range,
    wall_ms,
)
from dashboard_core.metrics.downsample import MAX_POINTS
from dashboard_core.metrics.fields import FieldTable
from dashboard_core.metrics.frame import RollingFrame
from dashboard_core.metrics.processes import WATCH_COUNT, WATCH_CPU, WATCH_RSS
from dashboard_core.metrics.sources import build_sources


def field_table() -> FieldTable:
    sources, _ = build_sources(Config())
    table = FieldTable([f for s in sources for f in s.fields])
    for f in (WATCH_CPU, WATCH_RSS, WATCH_COUNT):
        table.add(f)
    return table


def day_frame(rows: int = 86_400) -> pd.DataFrame:
    fields = field_table()
    frame = RollingFrame(rows, lambda c: fields.for_column(c).dtype if fields.for_column(c) else "float32")
    rng = np.random.default_rng(7)
    base = pd.Timestamp("2026-11-25T00:00:00Z").value
    cpu = rng.uniform(0, 100, rows)
    for i in range(rows):
        frame.append(
            base + i * 1_000_000_000,
            {
                "cpu.total": cpu[i],
                "cpu.core[0]": cpu[i],
                "cpu.core[1]": 100 - cpu[i],
                "memory.percent": 40.0,
                "swap.percent": 1.0,
                "net.sent": 10.0 * i,
                "net.recv": 5.0,
                "nic.sent[eth0]": 1.0,
                "nic.recv[eth0]": 2.0,
                "load.1": 0.5,
                "load.5": 0.4,
                "load.15": 0.3,
                "watch.cpu[web]": 3.0,
                "watch.rss[web]": 2.0**30,
            },
        )
    return frame.to_frame()


def test_every_series_is_capped_and_the_json_stays_small() -> None:
    df = day_frame()
    fields = field_table()
    built = {spec.key: build_figure(spec, df, fields) for spec in CHARTS}
    assert built["disk_io"] is None and built["disk_usage"] is None  # no such columns here
    for key, fig in built.items():
        if fig is None:
            continue
        for trace in fig.data:
            points = len(trace.z[0]) if trace.type == "heatmap" else len(trace.x)
            assert points <= MAX_POINTS, key
        assert len(pio.to_json(fig, validate=False)) < 500_000, key


def test_the_cpu_spike_survives_and_labels_come_from_the_field_table() -> None:
    df = day_frame(20_000)
    df.iloc[12_345, df.columns.get_loc("cpu.total")] = 100.0
    df.iloc[12_346, df.columns.get_loc("cpu.total")] = 0.0
    fig = build_figure(CHARTS_BY_KEY["cpu"], df, field_table())
    assert fig is not None
    assert max(fig.data[0].y) == 100.0 and min(fig.data[0].y) == 0.0
    assert fig.data[0].name == "CPU busy, all cores"
    assert fig.layout.yaxis.title.text == "%"
    nics = build_figure(CHARTS_BY_KEY["network_nics"], df, field_table())
    assert [t.name for t in nics.data] == ["eth0 sent", "eth0 received"]
    assert nics.layout.yaxis.ticksuffix == "B/s"


def test_per_core_cpu_is_a_heatmap_with_a_row_per_core() -> None:
    fig = build_figure(CHARTS_BY_KEY["cpu_cores"], day_frame(5000), field_table())
    assert fig is not None and fig.data[0].type == "heatmap"
    assert list(fig.data[0].y) == ["0", "1"]


def test_x_is_shown_in_the_viewers_time_zone() -> None:
    df = day_frame(10)
    utc = build_figure(CHARTS_BY_KEY["cpu"], df, field_table())
    tokyo = build_figure(CHARTS_BY_KEY["cpu"], df, field_table(), tz="Asia/Tokyo")
    assert tokyo.data[0].x[0] - utc.data[0].x[0] == 9 * 3600 * 1000


def test_columns_follow_the_spec_order() -> None:
    spec = CHARTS_BY_KEY["network"]
    assert chart_columns(spec, ["net.recv", "cpu.total", "net.sent"]) == ["net.sent", "net.recv"]


def test_box_selection_becomes_a_utc_range() -> None:
    box = {"box": [{"x": ["2026-11-25 09:10:00", "2026-11-25 09:00:00"], "y": [0, 1]}]}
    start, end = selected_range(box, tz="Europe/Berlin")
    assert (start, end) == (pd.Timestamp("2026-11-25T08:00:00Z"), pd.Timestamp("2026-11-25T08:10:00Z"))
    ms = pd.Timestamp("2026-11-25T08:00:00").value // 1_000_000
    assert selected_range({"box": [{"x": [ms, ms + 60_000]}]})[1] == pd.Timestamp("2026-11-25T08:01:00Z")
    assert selected_range({"box": []}) is None
    assert selected_range(None) is None
    assert selected_range({"box": [{"x": ["junk", "2026-11-25"]}]}) is None


def test_the_heatmap_colours_are_plotlys_viridis() -> None:
    from plotly.colors import sequential

    assert list(VIRIDIS) == sequential.Viridis


def test_wall_time_follows_the_time_zone_across_a_clock_change() -> None:
    """The axis shows local wall time, computed without pandas: the same as pandas'
    conversion, in a window across the end of summer time (two 02:30 in Berlin)."""
    index = pd.date_range("2026-10-25T00:00:00Z", periods=3 * 3600 // 7, freq="7s", tz="UTC")
    want = index.tz_convert("Europe/Berlin").tz_localize(None).as_unit("ns").asi8 / 1e6
    np.testing.assert_array_equal(wall_ms(index.as_unit("ns").asi8, "Europe/Berlin"), want)
    np.testing.assert_array_equal(wall_ms(index.as_unit("ns").asi8, "UTC"), index.as_unit("ns").asi8 / 1e6)
