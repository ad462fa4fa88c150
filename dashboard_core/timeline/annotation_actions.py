"""Adding, editing and deleting annotations, for the API and the Events page alike:
the role check (operator, a user or an API token), the change, the audit line, and any
refusal (a bad span, an unknown id) as a :class:`~dashboard_core.app.caller.Refusal`."""

from __future__ import annotations

from dashboard_core.app.actions import OPERATOR
from dashboard_core.app.caller import Caller, NotFound, Refusal, refusing
from dashboard_core.auth.audit import audit
from dashboard_core.models.annotations import Annotation, AnnotationPatch, AnnotationRequest
from dashboard_core.runtime import Runtime
from dashboard_core.timeline.annotations import Annotations


class BadAnnotation(Refusal):
    status = 422


def annotation_store(rt: Runtime) -> Annotations:
    """The annotations of the running dashboard (their changes go to its event log)."""
    return Annotations(rt.store, rt.events)


def add_annotation(rt: Runtime, caller: Caller, request: AnnotationRequest) -> Annotation:
    caller.require(OPERATOR, "add annotations")
    try:
        with refusing():
            note = annotation_store(rt).create(request, caller.principal.name)
    except ValueError as exc:
        raise BadAnnotation(f"The annotation was not added: {exc}.") from None
    audit(rt.events, caller.principal, "added annotation", _target(note), caller.address)
    return note


def edit_annotation(rt: Runtime, caller: Caller, annotation_id: int, patch: AnnotationPatch) -> Annotation:
    caller.require(OPERATOR, "edit annotations")
    try:
        with refusing():
            note = annotation_store(rt).update(annotation_id, patch, caller.principal.name)
    except ValueError as exc:
        raise BadAnnotation(f"Annotation {annotation_id} was not changed: {exc}.") from None
    if note is None:
        raise _missing(annotation_id)
    audit(rt.events, caller.principal, "edited annotation", _target(note), caller.address)
    return note


def delete_annotation(rt: Runtime, caller: Caller, annotation_id: int) -> Annotation:
    caller.require(OPERATOR, "delete annotations")
    with refusing():
        note = annotation_store(rt).delete(annotation_id, caller.principal.name)
    if note is None:
        raise _missing(annotation_id)
    audit(rt.events, caller.principal, "deleted annotation", _target(note), caller.address)
    return note


def _target(note: Annotation) -> str:
    first = note.text.splitlines()[0] if note.text else ""
    return f"{note.id} ({first[:60]})"


def _missing(annotation_id: int) -> NotFound:
    return NotFound(
        f"There is no annotation {annotation_id}; GET /api/annotations?start=...&end=... lists them with their ids."
    )
