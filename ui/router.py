"""The UI entry script: page config, sidebar and navigation.

It lives in ``ui/`` (not next to ``pages/``) so Streamlit never falls into its
legacy multipage mode: a deep link to a page always runs this script first.
"""

import streamlit as st

from ui.widgets import critical_toasts, sidebar_status

st.set_page_config(page_title="Dashboard", page_icon="📊", layout="wide")

page = st.navigation(
    [
        st.Page("../pages/overview.py", title="Overview", icon="🏠", default=True),
        st.Page("../pages/metrics.py", title="Metrics", icon="📈", url_path="metrics"),
        st.Page("../pages/tests.py", title="Tests", icon="🧪", url_path="tests"),
        st.Page("../pages/workflows.py", title="Workflows", icon="🔀", url_path="workflows"),
        st.Page("../pages/agents.py", title="Agents", icon="🤖", url_path="agents"),
        st.Page("../pages/safety.py", title="Safety", icon="🛡️", url_path="safety"),
        st.Page("../pages/events.py", title="Events", icon="📜", url_path="events"),
    ]
)
sidebar_status()
critical_toasts()
page.run()
