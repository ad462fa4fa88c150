"""Opening a tab of a test run's view on the Tests page through AppTest, which cannot
click a tab: the page keeps the tab picked in session state (what a click's callback
sets), and only that tab runs and draws."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from ui.test_results import TAB


def show_tab(at: AppTest, tab: str) -> AppTest:
    """The run's ``tab`` (a ``RunTab`` value: tests, resources, slower, output, history) opened."""
    at.session_state[TAB] = tab
    at.run()
    assert not at.exception, at.exception
    return at
