"""Titles of the pages' Plotly figures, clear of plotly.js's toolbar.

plotly.js draws its toolbar (the modebar: zoom, pan, download...) over a figure's top
right corner. A title on that line ran under it: on a laptop when the title is long or
the chart half the page wide, on a phone (where the toolbar is two thirds of the chart's
width) from its first words. So the title gets a band of its own under the toolbar's row.

Colours are left alone: ``st.plotly_chart`` draws every figure in Streamlit's theme
(its default ``theme="streamlit"``), light or dark as the page is.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

# Measured in Chromium (tests/e2e/test_theme_browser.py checks the result): the modebar's
# buttons end 27 px below the figure's top; a 14 px title's letters start 5 px above where
# it is placed and end 19 px below; plotly.js sets a subtitle 16 px under its title.
MODEBAR_ROW = 36  # px: the modebar's row and a gap, above the title
TITLE_LINE = 26  # px: the title's line and a gap above the plot
SUBTITLE_LINE = 34  # px: the subtitle's line and the space plotly.js leaves above it
LEGEND_ROW = 36  # px: a horizontal legend's row (plotly.js keeps it 11 px above the plot)
TITLE_FONT = 14
SUBTITLE_FONT = 12


def title_band(subtitle: bool = False) -> int:
    """The figure's top margin, in px, that holds the toolbar's row and the title."""
    return MODEBAR_ROW + TITLE_LINE + (SUBTITLE_LINE if subtitle else 0)


def set_title(fig: go.Figure, text: str, subtitle: str | None = None) -> None:
    """Put ``text`` (and ``subtitle`` under it, smaller) at the top left of ``fig``, under
    the toolbar's row, and make the top margin hold them (the other margins are kept)."""
    title: dict[str, Any] = {
        "text": text,
        "font": {"size": TITLE_FONT},
        "x": 0,
        "xanchor": "left",
        "y": 1,
        "yref": "container",
        "yanchor": "top",
        "pad": {"t": MODEBAR_ROW},
    }
    if subtitle:
        title["subtitle"] = {"text": subtitle, "font": {"size": SUBTITLE_FONT}}
    fig.update_layout(title=title, margin={"t": title_band(bool(subtitle))})


def legend_under_title(fig: go.Figure, subtitle: bool = False) -> None:
    """A horizontal legend on a row of its own between the title and the plot, from the
    left (at the top right it sat under the toolbar, and beside the title on a phone)."""
    fig.update_layout(
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": 1, "yanchor": "bottom"},
        margin={"t": title_band(subtitle) + LEGEND_ROW},
    )
    if fig.layout.height is not None:  # the plot keeps its height
        fig.update_layout(height=fig.layout.height + LEGEND_ROW)
