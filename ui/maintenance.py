"""The Safety page's maintenance windows: which are in force, which come next, and (for
operators) a form to plan a one-off window and a button to remove one planned here or over
the API. Layout only: the checks, the role and the audit line are dashboard_core's
(app/maintenance_actions.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from dashboard_core.app.actions import OPERATOR
from dashboard_core.app.caller import Refusal, form_words
from dashboard_core.app.maintenance_actions import end_window, one_off_request, plan_window, removable
from dashboard_core.health.maintenance import MAINTENANCE_ICON, window_rows
from ui.widgets import PageContext, material

NOTES = "maintenance_notes"
EVERY = "*"


def maintenance_windows(page: PageContext) -> None:
    """The windows (nothing when there are none) and, for operators, planning and removing."""
    rt, tz = page.rt, page.tz
    views = rt.health.maintenance.views(datetime.now(UTC))
    operator = page.may(OPERATOR)
    if not views and not operator:
        return
    st.subheader("Maintenance windows")
    for kind, text in st.session_state.pop(NOTES, []):
        (st.error if kind == "error" else st.success)(text)
    active = [v.name for v in views if v.active]
    if active:
        st.info(
            f"In force now: **{', '.join(active)}**: checks go on, the alerts they cover notify no one.",
            icon=material(MAINTENANCE_ICON),
        )
    if views:
        st.dataframe(
            window_rows(views, tz),
            hide_index=True,
            key="maintenance_windows",
            column_config={
                "name": "Window",
                "state": "State",
                "covers": st.column_config.TextColumn("Covers", width="medium"),
                "schedule": "Schedule",
                "now": "In force",
                "next": "Next",
                "description": st.column_config.TextColumn("What", width="medium"),
            },
        )
    st.caption(
        "Recurring windows come from `[[maintenance]]` in dashboard.toml; one-off windows are planned here "
        "or with `POST /api/maintenance`. The same list from `GET /api/maintenance`."
    )
    if operator:
        _plan_form(page)
        _remove(page, removable(views))


def _plan_form(page: PageContext) -> None:
    rt = page.rt
    agents = sorted({a.name for a in rt.agents.agents()} | set(rt.config.agents.expected))
    with st.expander("Plan a maintenance window", icon=material(MAINTENANCE_ICON)):
        with st.form(key="maintenance_form", clear_on_submit=True, border=False):
            name_col, start_col, time_col, for_col = st.columns([3, 2, 2, 1])
            name_col.text_input("Name", key="mw_name", placeholder="e.g. db-upgrade")
            start_col.date_input("Starts", key="mw_day", value="today")
            time_col.time_input("at (your time)", key="mw_time", value="now", step=300)
            for_col.text_input("For", value="1h", key="mw_for", help="30m, 2h, 1d, 1h30m")
            covers = st.columns(3)
            covers[0].multiselect("Components", [EVERY, *(c.name for c in rt.config.components)], key="mw_components")
            covers[1].multiselect("Agents", [EVERY, *agents], key="mw_agents")
            covers[2].multiselect("Alert rules", [EVERY, *(r.name for r in rt.alerts.rules)], key="mw_rules")
            st.text_input("What is done", key="mw_description", placeholder="shown with the window")
            st.checkbox("Leave it out of uptime", value=True, key="mw_uptime")
            st.form_submit_button("Plan", icon=material(MAINTENANCE_ICON), on_click=_plan, args=(page,))


def _remove(page: PageContext, actions: dict[str, str]) -> None:
    """Take back a planned window: remove one to come, end one in force now."""
    if not actions:
        return
    pick, button = st.columns([3, 1], vertical_alignment="bottom")
    name = pick.selectbox(
        "Planned window", list(actions), key="mw_remove_pick",
        help="One in force ends now (the time it covered stays out of uptime); one to come is removed.",
    )  # fmt: skip
    label = actions.get(name or "", "Remove")
    icon = material("stop" if label == "End now" else "delete")
    button.button(label, key="mw_remove", icon=icon, on_click=_end, args=(page,))


# -- actions (button callbacks) -----------------------------------------------------------
def _note(kind: str, text: str) -> None:
    st.session_state.setdefault(NOTES, []).append((kind, text))


def _plan(page: PageContext) -> None:
    state = st.session_state
    try:
        request = one_off_request(
            state.get("mw_name") or "",
            (state.get("mw_components") or [], state.get("mw_agents") or [], state.get("mw_rules") or []),
            datetime.combine(state["mw_day"], state["mw_time"]),
            page.tz,
            state.get("mw_for") or "",
            description=state.get("mw_description") or "",
            exclude_from_uptime=bool(state.get("mw_uptime", True)),
        )
        window = plan_window(page.rt, page.caller, request)
    except Refusal as refusal:
        _note("error", str(refusal))
        return
    except ValueError as exc:  # a bad form: pydantic's words, or a duration that is none
        _note("error", f"The window was not planned: {form_words(exc)}")
        return
    _note("success", f"Maintenance window {window.name} planned: {window.schedule}.")


def _end(page: PageContext) -> None:
    name = st.session_state.get("mw_remove_pick") or ""
    try:
        done = end_window(page.rt, page.caller, name)
    except Refusal as refusal:
        _note("error", str(refusal))
        return
    what = "ended now: the time it covered stays out of uptime" if done == "ended" else "removed"
    _note("success", f"Maintenance window {name} {what}.")
