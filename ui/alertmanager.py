"""The Safety page's word on Alertmanager: shown only when talking to it fails."""

from __future__ import annotations

import streamlit as st

from dashboard_core.runtime import Runtime
from ui.widgets import material


def alertmanager_problem(rt: Runtime) -> None:
    """A warning while posting alerts or silences to Alertmanager fails (``[alerting.alertmanager]``)."""
    problem = rt.alertmanager.problem() if rt.alertmanager is not None else None
    if problem:
        st.warning(problem, icon=material("notifications_off"))
