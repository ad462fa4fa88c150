"""The Safety page's silences and acknowledgements: under a firing alert its quiet line (silenced,
acknowledged) and an Acknowledge button with a note; a form to silence a rule (the rule the page
shows is picked) or any alerts by label matchers, for a time; the silences, with Expire buttons.
Layout only: who may, the checks and the audit line are dashboard_core's (app/silences.py)."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from dashboard_core.app.actions import OPERATOR
from dashboard_core.app.caller import Refusal, form_words
from dashboard_core.app.silences import acknowledge_alert, create_silence, expire_silence, silences
from dashboard_core.health.silence_views import ACK_ICON, SILENCED_ICON, parse_matchers, quiet_words, silence_rows
from dashboard_core.models import AlertRecord
from dashboard_core.models.silence_requests import AckRequest, SilenceRequest
from ui.widgets import PageContext, icon_text, material

NOTES = "safety_silence_notes"
ANY_RULE = "(any rule)"


def alert_quiet(page: PageContext, alert: AlertRecord, now: datetime) -> None:
    """Under a firing alert: silenced and acknowledged, and (for operators) Acknowledge with a note."""
    for line in quiet_words(alert, page.tz, now):
        icon = SILENCED_ICON if line.startswith("Silenced") else ACK_ICON
        st.caption(f"{icon_text(icon)} {line}")
    if not page.may(OPERATOR) or not alert.id:
        return
    note, button = st.columns([4, 1], vertical_alignment="bottom")
    note.text_input("Note", key=f"ack_note_{alert.id}", placeholder="acknowledge: what you are doing about it")
    button.button("Acknowledge", key=f"ack_{alert.id}", icon=material(ACK_ICON), on_click=_ack, args=(page, alert.id))


def silences_panel(page: PageContext, rules: list[str], picked: str | None) -> None:
    """The silence form (its rule: the one the page shows) and every silence, newest first."""
    st.subheader("Silences")
    for kind, text in st.session_state.pop(NOTES, []):
        (st.error if kind == "error" else st.success)(text)
    st.caption(
        "A silenced alert still fires, records its interval and shows, marked silenced; nobody is notified. "
        "If it still fires when the silence ends, its receivers are told then. The same from `/api/silences`."
    )
    if page.may(OPERATOR):
        with st.container(key="safety_silence_form"), st.form(key="silence_form", clear_on_submit=True, border=True):
            options = [ANY_RULE, *rules]
            st.selectbox("Rule", options, index=options.index(picked) if picked in options else 0, key="silence_rule")
            st.text_input(
                "Label matchers (optional)",
                key="silence_matchers",
                placeholder='e.g. component=db, severity!=info, agent=~"gpu-.*"',
            )
            st.text_input("For", value="1h", key="silence_duration", help="30m, 2h, 1d, 1h30m")
            st.text_input("Why", key="silence_comment", placeholder="shown with the silence and in the audit log")
            st.form_submit_button("Silence", icon=material(SILENCED_ICON), on_click=_silence, args=(page,))
    found = silences(page.rt)
    if not found:
        st.caption("No silences yet.")
    now = datetime.now().astimezone()
    for row in silence_rows(found, page.tz, now):
        with st.container(key=f"silence_{row['id']}"):
            text, button = st.columns([6, 1], vertical_alignment="center")
            origin = " · Alertmanager" if row["origin"] != "dashboard" else ""
            text.markdown(
                f"**{row['state']}** · `{row['matchers']}` · {row['starts']} → {row['ends']} · "
                f"{row['by']}{origin}  \n{row['comment']}"
            )
            if page.may(OPERATOR) and row["state"] != "expired":  # Alertmanager's too: the link expires it there
                button.button("Expire", key=f"expire_silence_{row['id']}", on_click=_expire, args=(page, row["id"]))


# -- actions (button callbacks) -----------------------------------------------------------
def _note(kind: str, text: str) -> None:
    st.session_state.setdefault(NOTES, []).append((kind, text))


def _silence(page: PageContext) -> None:
    rule = st.session_state.get("silence_rule")
    try:
        request = SilenceRequest(
            rule=None if rule == ANY_RULE else rule,
            matchers=parse_matchers(st.session_state.get("silence_matchers") or ""),
            duration=(st.session_state.get("silence_duration") or "").strip() or None,
            comment=st.session_state.get("silence_comment") or "",
        )
        silence = create_silence(page.rt, page.caller, request)
    except Refusal as refusal:
        _note("error", str(refusal))
        return
    except ValueError as exc:  # a bad form: pydantic's words, or a matcher that is none
        _note("error", f"The silence was not made: {form_words(exc)}")
        return
    _note("success", f"Silence {silence.id} holds until {silence.ends_at:%Y-%m-%d %H:%M} UTC.")


def _expire(page: PageContext, silence_id: str) -> None:
    try:
        expire_silence(page.rt, page.caller, silence_id)
    except Refusal as refusal:
        _note("error", str(refusal))
        return
    _note("success", f"Silence {silence_id} expired.")


def _ack(page: PageContext, alert_id: int) -> None:
    note = st.session_state.get(f"ack_note_{alert_id}") or ""
    try:
        acknowledge_alert(page.rt, page.caller, alert_id, AckRequest(note=note))
    except Refusal as refusal:
        _note("error", str(refusal))
