"""Annotations on the Events page, through AppTest against a real Runtime: an operator
adds one (a point or a span), edits and deletes it, each through the same actions as
the API (audited); a viewer sees them and the form disabled, with why."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard_core.models import EventKind
from dashboard_core.models.annotations import AnnotationRequest
from dashboard_core.runtime import Runtime
from dashboard_core.timeline.annotations import Annotations
from tests.ui.signed_in import page_as, signed_in_runtime

EVENTS = "../pages/events.py"


def table_with(app: AppTest, column: str) -> pd.DataFrame:
    """The page's table that has ``column`` (the annotations': author; the events': kind)."""
    frames = [d.value for d in app.dataframe if column in d.value.columns]
    assert frames, f"no table with a {column!r} column"
    return frames[0]


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    with signed_in_runtime(tmp_path) as rt:
        yield rt


def test_an_operator_adds_a_span_then_edits_and_deletes_it(runtime: Runtime) -> None:
    app = page_as("operator", EVENTS)
    assert "Annotations" in [h.value for h in app.subheader]
    app.text_area(key="annotation_text").input("Deploy v1.2").run()
    app.text_input(key="annotation_tags").input("deploy, ci, deploy").run()
    start = app.datetime_input(key="annotation_start").value
    assert start is not None  # now, to the minute
    app.toggle(key="annotation_has_end").set_value(True).run()
    app.datetime_input(key="annotation_end").set_value(start + timedelta(minutes=10)).run()
    app.button(key="annotation_add").click().run()
    assert not app.exception, app.exception
    assert app.success[0].value.startswith("Added annotation")
    [note] = Annotations(runtime.store).between(datetime.now(UTC) - timedelta(days=1), datetime.now(UTC))
    assert (note.text, note.tags, note.author) == ("Deploy v1.2", ["deploy", "ci"], "otto@example.org")
    assert note.end is not None and note.end - note.start == timedelta(minutes=10)
    assert list(table_with(app, "author")["text"]) == ["Deploy v1.2"]
    audit = runtime.events.latest(1, kinds=[EventKind.AUDIT])[0]
    assert audit.data["action"] == "added annotation" and audit.data["who"] == "otto@example.org"

    app.selectbox(key="annotation_pick").select(note.id).run()
    assert app.text_area(key="annotation_edit_text").value == "Deploy v1.2"
    assert app.toggle(key="annotation_edit_has_end").value is True
    app.text_area(key="annotation_edit_text").input("Deploy v1.2 (rolled back)").run()
    app.toggle(key="annotation_edit_has_end").set_value(False).run()
    app.button(key="annotation_save").click().run()
    assert not app.exception, app.exception
    assert app.success[0].value == f"Saved annotation {note.id}."
    edited = Annotations(runtime.store).get(note.id)
    assert edited is not None and edited.text == "Deploy v1.2 (rolled back)" and edited.end is None

    app.button(key="annotation_delete").click().run()
    assert app.success[0].value == f"Deleted annotation {note.id}."
    assert Annotations(runtime.store).get(note.id) is None
    assert [e.data["action"] for e in runtime.events.latest(3, kinds=[EventKind.ANNOTATION])] == [
        "deleted",
        "edited",
        "added",
    ]


def test_a_bad_form_says_which_field_and_adds_nothing(runtime: Runtime) -> None:
    app = page_as("operator", EVENTS)
    start = app.datetime_input(key="annotation_start").value
    assert start is not None
    app.toggle(key="annotation_has_end").set_value(True).run()
    app.datetime_input(key="annotation_end").set_value(start - timedelta(hours=1)).run()
    app.text_area(key="annotation_text").input("backwards").run()
    app.button(key="annotation_add").click().run()
    assert "before it starts" in app.error[0].value
    app.toggle(key="annotation_has_end").set_value(False).run()
    app.text_area(key="annotation_text").input("   ").run()
    app.button(key="annotation_add").click().run()
    assert "Text:" in app.error[0].value
    assert Annotations(runtime.store).between(datetime(1970, 1, 2, tzinfo=UTC), datetime.now(UTC)) == []


def test_a_viewer_sees_the_annotations_and_the_form_disabled_with_why(runtime: Runtime) -> None:
    Annotations(runtime.store, runtime.events).create(AnnotationRequest(text="Maintenance", tags=["ops"]), "ci")
    app = page_as("viewer", EVENTS)
    assert list(table_with(app, "author")["tags"]) == ["ops"]
    assert app.button(key="annotation_add").disabled and app.text_area(key="annotation_text").disabled
    assert any("needs the operator role" in c.value for c in app.caption)
    app.selectbox(key="annotation_pick").select_index(0).run()
    assert app.button(key="annotation_save").disabled and app.button(key="annotation_delete").disabled


def test_the_events_kind_filter_offers_annotations(runtime: Runtime) -> None:
    Annotations(runtime.store, runtime.events).create(AnnotationRequest(text="Maintenance"), "ci")
    app = page_as("viewer", EVENTS)
    kinds = app.multiselect(key="events_kinds")
    assert "annotation" in [str(o) for o in kinds.options]
    kinds.select(EventKind.ANNOTATION).run()
    assert not app.exception, app.exception
    frame = table_with(app, "kind")
    assert list(frame["kind"]) == ["annotation"] and "added annotation" in frame["message"].iloc[0]
