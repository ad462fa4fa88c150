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
/* Plain HTML tables (dashboard_core/app/html_table.py): lines in the text's own colour,
   faded, so they show on both themes; a long one scrolls in its box under its header. */
.dash-table-box {{
  overflow: auto;
  border: 1px solid color-mix(in srgb, currentColor 15%, transparent);
  border-radius: 0.5rem;
}}
.dash-table-box.dash-scroll {{
  max-height: 28rem;
}}
.dash-table {{
  width: 100%;
  min-width: 36rem;
  border-collapse: collapse;
  font-size: 0.875rem;
  line-height: 1.4;
}}
.dash-table th {{
  position: sticky;
  top: 0;
  z-index: 1;
  text-align: left;
  font-weight: 600;
  /* opaque, so rows scroll under it: the default themes' backgrounds, as the app's colour
     scheme (light or dark, which Streamlit sets) picks, faintly tinted */
  background-color: light-dark(#ffffff, #171614);  /* Streamlit 1.67: its themes' bgColor */
  background-image: linear-gradient(color-mix(in srgb, currentColor 7%, transparent), color-mix(in srgb, currentColor 7%, transparent));
}}
.dash-table th, .dash-table td {{
  padding: 0.3rem 0.6rem;
  border-bottom: 1px solid color-mix(in srgb, currentColor 10%, transparent);
  vertical-align: top;
}}
.dash-table tbody tr:hover {{
  background: color-mix(in srgb, currentColor 5%, transparent);
}}
.dash-table td:empty::before {{
  content: "—";  /* an empty cell: never "None" */
  opacity: 0.6;
}}
.dash-table td[class^="i"] {{  /* a word with an icon: an outcome, a state */
  white-space: nowrap;
}}
.dash-table td[class^="i"]::before {{  /* the icon, drawn by the table's own rules */
  font-family: "Material Symbols Rounded";
  font-size: 1.1em;
  line-height: 1;
  vertical-align: -0.15em;
  margin-right: 0.3em;
}}
"""


def page_style() -> None:
    """The CSS, once per run of the app (style-only HTML takes no room on the page)."""
    st.html(f"<style>{CSS}</style>")
