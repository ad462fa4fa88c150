"""Chart figures shared between sessions: built once per frame content, rebuilt
when a value, the window or the time zone changes, and bounded in number."""

from __future__ import annotations

import json
import threading

import plotly.io as pio

from dashboard_core.metrics.charts import CHARTS
from dashboard_core.metrics.figure_cache import FigureCache, build_figures, frame_digest

from .test_charts import day_frame, field_table


def test_same_frame_is_one_build_and_the_same_figures() -> None:
    frame = day_frame(600)
    cache = FigureCache(field_table())
    first = cache.figures(frame, "UTC")
    again = cache.figures(frame.copy(), "UTC")  # another session's read of the same samples
    assert again is first and cache.builds == 1
    assert [spec.key for spec, _ in first] == [spec.key for spec, _ in build_figures(frame, field_table())]
    assert {spec.key for spec, _ in first} < {spec.key for spec in CHARTS}  # charts without data are left out


def test_a_changed_value_window_or_time_zone_is_a_new_build() -> None:
    frame = day_frame(600)
    cache = FigureCache(field_table())
    cache.figures(frame, "UTC")
    changed = frame.copy()
    changed.iloc[-1, changed.columns.get_loc("cpu.total")] += 1.0  # the newest bucket, still filling
    cache.figures(changed, "UTC")
    cache.figures(frame.iloc[1:], "UTC")  # the window moved
    tokyo = cache.figures(frame, "Asia/Tokyo")
    assert cache.builds == 4
    assert frame_digest(frame) != frame_digest(changed)
    # and the Tokyo figures really are Tokyo's, not a neighbour's
    assert pio.to_json(tokyo[0][1]) == pio.to_json(build_figures(frame, field_table(), "Asia/Tokyo")[0][1])


def test_the_cache_keeps_only_the_last_few_frames() -> None:
    frame = day_frame(300)
    cache = FigureCache(field_table(), size=3)
    for start in range(5):
        cache.figures(frame.iloc[start:], "UTC")
    assert len(cache._items) == 3
    cache.figures(frame.iloc[4:], "UTC")  # the newest is still there
    assert cache.builds == 5
    cache.figures(frame.iloc[0:], "UTC")  # the oldest was dropped
    assert cache.builds == 6


def test_sessions_asking_at_once_share_one_build() -> None:
    frame = day_frame(600)
    cache = FigureCache(field_table())
    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(cache.figures(frame, "UTC"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cache.builds == 1 and all(r is results[0] for r in results)


def test_a_cached_figure_sends_the_same_json_as_a_plain_one() -> None:
    """What st.plotly_chart does with a figure (to_dict, then JSON) gives the same
    chart for the cached figure, whose dict is made once and reused."""
    frame = day_frame(600)
    cached = FigureCache(field_table()).figures(frame, "Europe/Berlin")
    plain = build_figures(frame, field_table(), "Europe/Berlin")
    assert len(cached) == len(plain)
    for (_, sent), (_, fig) in zip(cached, plain):
        assert json.loads(pio.to_json(sent.to_dict(), validate=False)) == json.loads(pio.to_json(fig, validate=False))
        assert sent.to_dict() is sent.to_dict()  # made once
