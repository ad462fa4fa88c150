"""Chart figures shared between sessions: built once per frame content, rebuilt
when a value, the window or the time zone changes, and bounded in number."""

from __future__ import annotations

import gc
import json
import threading

import plotly.io as pio
import pytest

from dashboard_core.metrics.charts import CHARTS
from dashboard_core.metrics.figure_cache import FigureCache, build_figures, default_template, frame_digest, sent_form
from dashboard_core.metrics.sent_figure import SentFigure

from .test_charts import day_frame, field_table


@pytest.fixture(autouse=True)
def plotly_default_template(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache sends Plotly's own default template (from a file, without importing
    Plotly); a plain Figure takes whatever default is set, which is Streamlit's once
    Streamlit's Plotly support was imported in this process (by another test)."""
    monkeypatch.setattr(pio.templates, "default", "plotly")


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
    assert tokyo[0][1] == sent_form(build_figures(frame, field_table(), "Asia/Tokyo")[0][1])


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


def test_a_cached_figure_sends_the_same_chart_as_a_plain_one() -> None:
    """What st.plotly_chart does with a figure (to_dict, then JSON) gives the same
    chart for the cached figure, whose dict is made once and reused; its template
    keeps the trace defaults of the types drawn, exactly as the plain one has them."""
    frame = day_frame(600)
    cached = FigureCache(field_table()).figures(frame, "Europe/Berlin")
    plain = build_figures(frame, field_table(), "Europe/Berlin")
    assert len(cached) == len(plain)
    for (_, sent), (_, fig) in zip(cached, plain):
        got = json.loads(pio.to_json(SentFigure.of(sent).to_dict(), validate=False))
        want = json.loads(pio.to_json(fig, validate=False))
        drawn = {trace["type"] for trace in want["data"]}
        all_defaults = want["layout"]["template"].pop("data")
        assert len(all_defaults) > len(drawn)  # the template styles many more types than a chart draws
        assert got["layout"]["template"].pop("data") == {k: v for k, v in all_defaults.items() if k in drawn}
        assert got == want
        assert SentFigure.of(sent).to_dict() is sent  # made once, wrapped as it is for st.plotly_chart


def test_the_cache_keeps_dicts_not_figure_objects() -> None:
    """A cached figure holds its sent dict only, and charts of one kind share one
    template: few objects for the garbage collector, which walks them all,
    holding the GIL, on every full collection."""
    frame = day_frame(600)
    cached = FigureCache(field_table()).figures(frame, "UTC")
    plain = build_figures(frame, field_table(), "UTC")
    for (_, sent), (_, fig) in zip(cached, plain):
        assert type(sent) is dict
        assert vars(SentFigure.of(sent)) == {"_sent": sent}
        assert tracked(sent) * 2 < tracked(fig)
    lines = [sent for spec, sent in cached if spec.kind == "line"]
    assert len(lines) > 1 and all(d["layout"]["template"] is lines[0]["layout"]["template"] for d in lines)


def tracked(obj: object) -> int:
    """Objects the garbage collector tracks that ``obj`` holds (itself included)."""
    seen: set[int] = set()
    todo = [obj]
    while todo:
        o = todo.pop()
        if id(o) in seen or not gc.is_tracked(o) or isinstance(o, type):
            continue
        seen.add(id(o))
        todo.extend(gc.get_referents(o))
    return len(seen)


def test_the_shipped_template_is_plotlys_default() -> None:
    """Figures are sent with Plotly's default template read from a file (the live feed
    never imports Plotly): it must be what the installed Plotly has."""
    want = json.loads(pio.json.to_json_plotly(pio.templates["plotly"].to_plotly_json()))
    assert default_template() == want
