"""The Metrics page's state in its URL, and what the page shows for it.

``metrics?window=1h`` is a preset span ending now (live); ``metrics?from=…&to=…``
(ISO 8601, UTC unless an offset is given) a fixed window, as a custom range or a
zoom leaves it; ``&chart=cpu`` scrolls to one chart. A link from an alert, an
event or a colleague opens the same view; a bad value is named, and the page
falls back to its default instead of failing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from dashboard_core.metrics.charts import CHARTS_BY_KEY
from dashboard_core.metrics.windows import PRESETS, Window, WindowError, resolve_window
from dashboard_core.units import utc_iso

DEFAULT_PRESET = "15m"


@dataclass(frozen=True, slots=True)
class MetricsView:
    """A preset span ending now, or a fixed window; maybe a chart to show first."""

    preset: str = DEFAULT_PRESET
    fixed: Window | None = None
    chart: str | None = None
    problem: str = ""  # what was wrong with the URL, for the page to say

    @property
    def live(self) -> bool:
        """A preset moves with time; a fixed window (custom or zoomed) does not."""
        return self.fixed is None

    def params(self) -> dict[str, str]:
        """The URL's query for this view."""
        out = (
            {"window": self.preset}
            if self.fixed is None
            else {"from": utc_iso(self.fixed.start, "auto"), "to": utc_iso(self.fixed.end, "auto")}
        )
        return out | ({"chart": self.chart} if self.chart else {})

    def charts_query(self) -> str:
        """The query the charts' feed (``/api/ui/charts``) takes for this window."""
        if self.fixed is None:
            return urlencode({"window": self.preset})
        return urlencode({"start": utc_iso(self.fixed.start, "auto"), "end": utc_iso(self.fixed.end, "auto")})

    def csv_query(self) -> str:
        """The CSV export of what is shown: a preset is resolved when the link is
        followed, so a page left open for an hour still exports the last 15 minutes."""
        return self.charts_query()


def parse_view(params: Mapping[str, str]) -> MetricsView:
    """The view a URL's query asks for; unknown parts are named in ``problem``."""
    problems: list[str] = []
    fell_back = False
    chart = params.get("chart") or None
    if chart is not None and chart not in CHARTS_BY_KEY:
        problems.append(f"chart {chart!r} is not one of {', '.join(CHARTS_BY_KEY)}")
        chart = None
    preset = params.get("window") or DEFAULT_PRESET
    if preset not in PRESETS:
        problems.append(f"window {preset!r} is not one of {', '.join(PRESETS)}")
        preset, fell_back = DEFAULT_PRESET, True
    fixed = None
    start, end = params.get("from"), params.get("to")
    if start or end:
        try:
            if not (start and end):
                raise WindowError("give both from and to")
            fixed = resolve_window(start=start, end=end)
        except WindowError as exc:
            problems.append(f"the range in the link does not work: {exc}")
            fell_back = True
    problem = ""
    if problems:
        instead = f" Showing {PRESETS[preset].lower()} instead." if fell_back else ""
        problem = f"This link's view could not be shown as asked: {'; '.join(problems)}.{instead}"
    return MetricsView(preset, fixed, chart, problem)
