"""The Events page's annotations: those of the chosen window, a form to add one, and
editing or deleting one (operators; viewers see the form disabled, with why). Layout
only: the reading of the fields, the role and the changes are dashboard_core's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import streamlit as st

from dashboard_core.app.caller import Caller, Refusal
from dashboard_core.app.urls import to_local, to_utc
from dashboard_core.labels import BLANK
from dashboard_core.metrics.windows import Window
from dashboard_core.models.annotations import Annotation
from dashboard_core.runtime import Runtime
from dashboard_core.timeline.annotation_actions import (
    add_annotation,
    annotation_store,
    delete_annotation,
    edit_annotation,
)
from dashboard_core.timeline.annotation_views import (
    add_request,
    annotation_rows,
    choice_label,
    edit_patch,
    may_annotate,
)
from ui.widgets import material

NOTE = "annotation_note"  # (kind, sentence, lines) of the last change, shown once


def annotations_section(rt: Runtime, caller: Caller, tz: str, window: Callable[[], Window]) -> None:
    st.subheader("Annotations", anchor="annotations")
    st.caption(
        "Notes on the time axis (a deploy, an incident, a change), drawn on every time chart. Scripts post them to "
        "`POST /api/annotations` with an operator API token; Grafana's annotation body works as it is."
    )
    why_not = may_annotate(caller)
    _note()
    _listing(rt, tz, window)
    with st.expander("Add an annotation", icon=material("add_comment"), expanded=False):
        _add_form(rt, caller, tz, why_not)
    with st.expander("Edit or delete an annotation", icon=material("edit_note"), expanded=False):
        _edit_form(rt, caller, tz, why_not, window)


def _note() -> None:
    kind, text, lines = st.session_state.pop(NOTE, (None, "", []))
    if kind is None:
        return
    body = text + "".join(f"\n- {line}" for line in lines)
    (st.success if kind == "success" else st.error)(body)


@st.fragment(run_every=2.0)
def _listing(rt: Runtime, tz: str, window: Callable[[], Window]) -> None:
    span = window()
    notes = annotation_store(rt).between(span.start, span.end)
    if not notes:
        st.caption("No annotation in this time range.")
        return
    import pandas as pd

    frame = pd.DataFrame(annotation_rows(notes))
    for column in ("start", "end"):
        frame[column] = pd.to_datetime(frame[column], utc=True).dt.tz_convert(tz).dt.tz_localize(None)
    st.dataframe(
        frame,
        hide_index=True,
        key="annotations_table",
        placeholder=BLANK,
        column_config={
            "id": st.column_config.NumberColumn("#", width="small"),
            "start": st.column_config.DatetimeColumn("Start", format="YYYY-MM-DD HH:mm:ss"),
            "end": st.column_config.DatetimeColumn("End", format="YYYY-MM-DD HH:mm:ss", help="Empty: a point"),
            "text": st.column_config.TextColumn("Text", width="large"),
            "tags": "Tags",
            "author": "By",
        },
    )


def _times(prefix: str, tz: str, disabled: bool, help_text: str | None) -> None:
    left, right = st.columns(2, vertical_alignment="bottom")
    left.datetime_input("Start", key=f"{prefix}_start", step=60, disabled=disabled, help=help_text)
    has_end = right.toggle("A span (with an end)", key=f"{prefix}_has_end", disabled=disabled, help=help_text)
    if has_end:
        right.datetime_input("End", key=f"{prefix}_end", step=60, disabled=disabled, help=help_text)


def _add_form(rt: Runtime, caller: Caller, tz: str, why_not: str | None) -> None:
    disabled = why_not is not None
    if disabled:
        st.caption(why_not)
    now = to_local(datetime.now(UTC), tz).replace(second=0, microsecond=0)
    st.session_state.setdefault("annotation_start", now)
    st.session_state.setdefault("annotation_end", now + timedelta(minutes=30))
    st.text_area("Text", key="annotation_text", disabled=disabled, help=why_not, max_chars=2000)
    st.text_input("Tags", key="annotation_tags", placeholder="deploy, ci", disabled=disabled, help=why_not)
    _times("annotation", tz, disabled, why_not)
    st.button("Add", key="annotation_add", on_click=_add, args=(rt, caller, tz), disabled=disabled, type="primary")


def _add(rt: Runtime, caller: Caller, tz: str) -> None:
    s = st.session_state
    start = to_utc(s["annotation_start"], tz)
    end = to_utc(s["annotation_end"], tz) if s.get("annotation_has_end") else None
    try:
        note = add_annotation(
            rt, caller, add_request(s.get("annotation_text", ""), s.get("annotation_tags", ""), start, end)
        )
    except Refusal as refusal:
        s[NOTE] = ("error", refusal.message, refusal.errors)
        return
    s[NOTE] = ("success", f"Added annotation {note.id}.", [])
    s["annotation_text"], s["annotation_tags"] = "", ""


def _edit_form(rt: Runtime, caller: Caller, tz: str, why_not: str | None, window: Callable[[], Window]) -> None:
    disabled = why_not is not None
    if disabled:
        st.caption(why_not)
    span = window()
    notes = {n.id: n for n in annotation_store(rt).between(span.start, span.end)}
    if not notes:
        st.caption("No annotation in this time range to edit.")
        return
    picked = st.selectbox(
        "Annotation",
        list(notes),
        index=None,
        format_func=lambda i: choice_label(notes[i]),
        placeholder="Choose one of this time range",
        key="annotation_pick",
        on_change=_load,
        args=(notes, tz),
    )
    if picked is None or picked not in notes:
        return
    st.text_area("Text", key="annotation_edit_text", disabled=disabled, help=why_not, max_chars=2000)
    st.text_input("Tags", key="annotation_edit_tags", disabled=disabled, help=why_not)
    _times("annotation_edit", tz, disabled, why_not)
    save, delete = st.columns(2)
    save.button("Save", key="annotation_save", on_click=_save, args=(rt, caller, tz, picked), disabled=disabled)
    delete.button("Delete", key="annotation_delete", on_click=_delete, args=(rt, caller, picked), disabled=disabled)


def _load(notes: dict[int, Annotation], tz: str) -> None:
    """The picked annotation's fields into the edit form."""
    s = st.session_state
    picked = s.get("annotation_pick")
    note = notes.get(picked) if isinstance(picked, int) else None
    if note is None:
        return
    s["annotation_edit_text"] = note.text
    s["annotation_edit_tags"] = ", ".join(note.tags)
    s["annotation_edit_start"] = to_local(note.start, tz)
    s["annotation_edit_has_end"] = note.end is not None
    s["annotation_edit_end"] = to_local(note.end or note.start, tz)


def _save(rt: Runtime, caller: Caller, tz: str, annotation_id: int) -> None:
    s = st.session_state
    start = to_utc(s["annotation_edit_start"], tz)
    end = to_utc(s["annotation_edit_end"], tz) if s.get("annotation_edit_has_end") else None
    try:
        patch = edit_patch(s.get("annotation_edit_text", ""), s.get("annotation_edit_tags", ""), start, end)
        edit_annotation(rt, caller, annotation_id, patch)
    except Refusal as refusal:
        s[NOTE] = ("error", refusal.message, refusal.errors)
        return
    s[NOTE] = ("success", f"Saved annotation {annotation_id}.", [])


def _delete(rt: Runtime, caller: Caller, annotation_id: int) -> None:
    try:
        delete_annotation(rt, caller, annotation_id)
    except Refusal as refusal:
        st.session_state[NOTE] = ("error", refusal.message, refusal.errors)
        return
    st.session_state[NOTE] = ("success", f"Deleted annotation {annotation_id}.", [])
    st.session_state["annotation_pick"] = None
