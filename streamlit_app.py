"""Launcher: ``streamlit run streamlit_app.py`` serves this st.App.

The UI script (navigation, sidebar) is ``ui/router.py``; page scripts live in
``pages/``. The lifespan builds one Runtime per server process; the REST API is
mounted at ``/api``.
"""

from pathlib import Path

import streamlit as st

from dashboard_core.server import api_routes, load_or_exit, make_lifespan

config = load_or_exit()

app = st.App(
    Path(__file__).parent / "ui" / "router.py",
    routes=api_routes(),
    lifespan=make_lifespan(config),
)
