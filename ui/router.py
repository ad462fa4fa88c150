"""The UI entry script: page config, sidebar and navigation.

It lives in ``ui/`` (not next to ``pages/``) so Streamlit never falls into its
legacy multipage mode: a deep link to a page always runs this script first.
"""

import streamlit as st

from ui.widgets import sidebar_status

st.set_page_config(page_title="Dashboard", page_icon="📊", layout="wide")

page = st.navigation(
    [
        st.Page("../pages/overview.py", title="Overview", icon="🏠", default=True),
        st.Page("../pages/metrics.py", title="Metrics", icon="📈", url_path="metrics"),
        st.Page("../pages/tests.py", title="Tests", icon="🧪", url_path="tests"),
    ]
)
sidebar_status()
page.run()
