"""The UI entry script: page config, sidebar and navigation.

It lives in ``ui/`` (not next to ``pages/``) so Streamlit never falls into its
legacy multipage mode: a deep link to a page always runs this script first.
"""

from pathlib import Path

import streamlit as st

from ui.style import page_style
from ui.url_state import note_page
from ui.widgets import critical_toasts, sidebar_status

ABOUT = """**The dashboard**: this machine's metrics, test suites, workflows, components, agents and
safety rules, live. The REST API and its reference are at [/api/docs](/api/docs).

**Theme** (above): *System* follows the light or dark setting of your browser or operating
system; *Light* and *Dark* override it in this browser."""

# The favicon is a file of ours (served from /media): an emoji is a box without a colour
# emoji font, and a Material icon as page_icon (or a page's, without one) is fetched
# from fonts.gstatic.com. The About entry is there so that the top-right menu shows at all:
# with client.toolbarMode = "minimal" (ui/streamlit_config.toml) Streamlit shows it only for
# items set here, and it holds the theme switch (System, which follows the browser, Light, Dark).
st.set_page_config(
    page_title="Dashboard",
    page_icon=str(Path(__file__).parent / "favicon.png"),
    layout="wide",
    menu_items={"About": ABOUT},
)
page_style()

page = st.navigation(
    [
        st.Page("../pages/overview.py", title="Overview", icon=":material/home:", default=True),
        st.Page("../pages/metrics.py", title="Metrics", icon=":material/monitoring:", url_path="metrics"),
        st.Page("../pages/tests.py", title="Tests", icon=":material/science:", url_path="tests"),
        st.Page("../pages/workflows.py", title="Workflows", icon=":material/account_tree:", url_path="workflows"),
        st.Page("../pages/agents.py", title="Agents", icon=":material/smart_toy:", url_path="agents"),
        st.Page("../pages/safety.py", title="Safety", icon=":material/shield:", url_path="safety"),
        st.Page("../pages/events.py", title="Events", icon=":material/history:", url_path="events"),
    ]
)
sidebar_status()
with st.sidebar:  # the toasts' watch is an element: out of the page's way
    critical_toasts()
note_page(page.url_path)  # a page just entered reads its URL: see ui/url_state.py
page.run()
