"""The Tests page's flaky panel: a suite's flaky, broken and recovered tests, its quarantine
(with a Release button each), and, for operators, a form to quarantine a test with a reason.
Layout only: the verdicts, who may act and the audit line are dashboard_core's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from dashboard_core.app.actions import OPERATOR
from dashboard_core.app.caller import Refusal
from dashboard_core.app.flaky_views import (
    QUARANTINE_ICON,
    quarantine_choices,
    quarantine_words,
    quarantined_in_run,
    verdict_frame,
    verdict_help,
)
from dashboard_core.app.quarantine import quarantine_test, quarantined, release_test
from dashboard_core.labels import BLANK
from dashboard_core.models import CaseInfo, FlakyTest
from dashboard_core.models.quarantine import QuarantineRelease, QuarantineRequest
from ui.widgets import PageContext, icon_text, material

NOTES = "tests_quarantine_notes"
VERDICT_COLUMNS = {
    "verdict": st.column_config.TextColumn("Verdict", width="small"),
    "nodeid": st.column_config.TextColumn("Test"),
    "flips": st.column_config.NumberColumn("Flips", width="small"),
    "retries": st.column_config.NumberColumn(
        "Retries", width="small", help="Retries within runs (pytest-rerunfailures)"
    ),
    "history": st.column_config.TextColumn("History (oldest first)"),
    "quarantine": st.column_config.TextColumn("Quarantine"),
}


def flaky_panel(page: PageContext, suite: str, where: Any) -> None:
    """Draw the panel in ``where`` (a column)."""
    testing = page.rt.config.testing
    with where:
        for kind, text in st.session_state.pop(NOTES, []):
            getattr(st, kind)(text)
        st.markdown("**Flaky and broken tests**")
        verdicts = page.rt.tests.flaky(suite)
        if verdicts:
            st.dataframe(
                verdict_frame(verdicts, page.tz),
                hide_index=True,
                placeholder=BLANK,
                column_config=VERDICT_COLUMNS,
                key="tests_flaky",
            )
            st.caption(verdict_help(testing.flaky_window, testing.flaky_recovery_runs))
        else:
            st.caption(f"No flaky or broken tests in the last {testing.flaky_window} runs.")
        quarantine_section(page, suite, verdicts)


def quarantine_section(page: PageContext, suite: str, verdicts: Sequence[FlakyTest]) -> None:
    held = {e.nodeid: e for e in quarantined(page.rt, suite)}
    with st.container(key="tests_quarantine"):
        st.markdown(f"{icon_text(QUARANTINE_ICON)} **Quarantine**")
        if not held:
            st.caption(
                f"No test of {suite} is in quarantine. A quarantined test still runs and shows,"
                " but its failure does not fail the suite's runs."
            )
        for i, entry in enumerate(held.values()):
            text, button = st.columns([5, 1], vertical_alignment="center")
            text.markdown(f"`{entry.nodeid}` · {quarantine_words(entry, page.tz)}")
            if page.may(OPERATOR):
                button.button("Release", key=f"release_{suite}_{i}", on_click=release, args=(page, suite, entry.nodeid))
        choices = quarantine_choices(verdicts, held)
        if not page.may(OPERATOR) or not choices:
            return
        with st.form(key=f"quarantine_form_{suite}", clear_on_submit=True, border=False):
            st.selectbox("Test to quarantine", choices, key=f"quarantine_test_{suite}")
            st.text_input(
                "Reason", key=f"quarantine_reason_{suite}", placeholder="why: shown here and in the audit log"
            )
            st.form_submit_button("Quarantine", icon=material(QUARANTINE_ICON), on_click=put, args=(page, suite))


def quarantine_note(cases: Sequence[CaseInfo]) -> None:
    """Under a run's results: its quarantined tests, marked."""
    line = quarantined_in_run(cases)
    if line is not None:
        st.caption(f"{icon_text(QUARANTINE_ICON)} {line}")


# -- actions (button callbacks) -----------------------------------------------------------
def _note(kind: str, text: str) -> None:
    st.session_state.setdefault(NOTES, []).append((kind, text))


def put(page: PageContext, suite: str) -> None:
    nodeid = st.session_state.get(f"quarantine_test_{suite}") or ""
    reason = st.session_state.get(f"quarantine_reason_{suite}") or ""
    try:
        request = QuarantineRequest(nodeid=nodeid, reason=reason)
    except ValueError:
        _note("error", "Give a reason to quarantine a test: it is shown beside it and written to the audit log.")
        return
    try:
        entry = quarantine_test(page.rt, page.caller, suite, request)
    except Refusal as refusal:
        _note("error", str(refusal))
        return
    _note("success", f"`{entry.nodeid}` is in quarantine: its failures no longer fail runs of **{suite}**.")


def release(page: PageContext, suite: str, nodeid: str) -> None:
    try:
        release_test(page.rt, page.caller, suite, QuarantineRelease(nodeid=nodeid))
    except Refusal as refusal:
        _note("error", str(refusal))
        return
    _note("success", f"`{nodeid}` left the quarantine: its failures fail runs of **{suite}** again.")
