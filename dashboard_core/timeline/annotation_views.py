"""The Events page's annotations: their rows, and the add/edit form's fields read into a
request (a sentence for each field that does not work); who may change them and why not."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import ValidationError

from dashboard_core.app.actions import OPERATOR
from dashboard_core.app.caller import Caller
from dashboard_core.models.annotations import Annotation, AnnotationPatch, AnnotationRequest
from dashboard_core.timeline.annotation_actions import BadAnnotation

ROW_COLUMNS = ["id", "start", "end", "text", "tags", "author"]


def may_annotate(caller: Caller) -> str | None:
    """None if ``caller`` may add, edit and delete annotations, else why not (for a disabled form)."""
    if caller.may(OPERATOR):
        return None
    return (
        f"Adding, editing and deleting annotations needs the operator role; {caller.principal.label} may read them. "
        "Scripts post them with an operator API token (POST /api/annotations)."
    )


def annotation_rows(notes: Sequence[Annotation]) -> list[dict[str, object]]:
    """One row per annotation for a table (times in UTC; the page shows them in local time)."""
    return [
        {
            "id": n.id,
            "start": n.start,
            "end": n.end,
            "text": n.text,
            "tags": ", ".join(n.tags),
            "author": n.author,
        }
        for n in notes
    ]


def choice_label(note: Annotation) -> str:
    """How the edit form's picker names an annotation: its id and first line."""
    first = note.text.splitlines()[0] if note.text else ""
    return f"#{note.id}: {first[:60]}"


def parse_tags(text: str) -> list[str]:
    """``"deploy, ci , deploy"`` -> ``["deploy", "ci"]``: comma-separated, blanks dropped, each once."""
    return list(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))


def add_request(text: str, tags: str, start: datetime, end: datetime | None) -> AnnotationRequest:
    """The form's fields (times in UTC; ``end`` None for a point) as a request, or a
    :class:`BadAnnotation` that says which field does not work."""
    try:
        request = AnnotationRequest(text=text, tags=parse_tags(tags), start=start, end=end)
        request.span(start)
    except ValidationError as exc:
        raise BadAnnotation("The annotation was not added.", _lines(exc)) from None
    except ValueError as exc:
        raise BadAnnotation(f"The annotation was not added: {exc}.") from None
    return request


def edit_patch(text: str, tags: str, start: datetime, end: datetime | None) -> AnnotationPatch:
    """The edit form's fields as a patch of every field (``end`` None makes it a point)."""
    try:
        return AnnotationPatch(text=text, tags=parse_tags(tags), start=start, end=end)
    except ValidationError as exc:
        raise BadAnnotation("The annotation was not changed.", _lines(exc)) from None


_FIELDS = {"text": "Text", "tags": "Tags", "start": "Start", "end": "End"}


def _lines(exc: ValidationError) -> list[str]:
    """One line per problem, named by the form's field: ``Text: String should have at least 1 character``."""
    lines = []
    for error in exc.errors():
        where = str(error["loc"][0]) if error["loc"] else ""
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"{_FIELDS.get(where, where or 'Times')}: {message}")
    return lines
