"""The app's own CSS.

Only layout that Streamlit's parameters cannot express (a phone 390 px wide), and no
colour: the light and dark themes (and the browser's choice between them, which the
menu's theme switch can override) apply to everything the pages draw.
"""

from __future__ import annotations

import streamlit as st

from ui.widgets import SUMMARY_KEY, SUMMARY_WIDTH

CSS = f"""
/* Summary cards: equal cards filling each row (one a row on a phone), never a gap on the right. */
[class*="st-key-{SUMMARY_KEY}"] {{
  display: grid;
  grid-template-columns: repeat(auto-fill, minmax({SUMMARY_WIDTH}px, 1fr));
}}
/* Tables keep readable columns on a narrow screen and scroll sideways in their own box
   (Streamlit's wrapper scrolls) instead of squeezing every column to a word a line. */
[data-testid="stTableStyledTable"] {{
  min-width: 36rem;
}}
"""


def page_style() -> None:
    """The CSS, once per run of the app (style-only HTML takes no room on the page)."""
    st.html(f"<style>{CSS}</style>")
