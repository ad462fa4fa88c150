"""Annotations over HTTP: add one (Grafana's body works too), list a window's, edit and
delete by id. Adding, editing and deleting need the operator role (a user's or an API
token's) and are audited; reading needs a viewer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query

from dashboard_core.metrics.windows import WindowError, resolve_window
from dashboard_core.models import ErrorResponse
from dashboard_core.models.annotations import (
    MAX_TAGS,
    Annotation,
    AnnotationAdded,
    AnnotationDeleted,
    AnnotationPatch,
    AnnotationRequest,
)
from dashboard_core.routes.common import ERRORS, FORBIDDEN, CallerDep, Responses, RuntimeDep, Viewer, not_found
from dashboard_core.routes.tags import Tag
from dashboard_core.timeline.annotation_actions import (
    add_annotation,
    annotation_store,
    delete_annotation,
    edit_annotation,
)
from dashboard_core.timeline.annotations import MAX_LIST

router = APIRouter(tags=[Tag.EVENTS])

AnnotationId = Annotated[int, Path(ge=1, le=2**62, description="An annotation's id")]
_NOT_FOUND = not_found("No such annotation")
_BAD_BODY: Responses = {422: {"model": ErrorResponse, "description": "A bad body (it ends before it starts, ...)"}}
DEFAULT_WINDOW = "24h"


@router.post(
    "/annotations",
    response_model=AnnotationAdded,
    responses={**ERRORS, **FORBIDDEN, **_BAD_BODY},
    summary="Add an annotation: a point or a span, text and tags (Grafana's body works too)",
)
def add(rt: RuntimeDep, body: AnnotationRequest, caller: CallerDep) -> AnnotationAdded:
    note = add_annotation(rt, caller, body)
    return AnnotationAdded(id=note.id, annotation=note)


@router.get(
    "/annotations",
    response_model=list[Annotation],
    responses=ERRORS,
    summary="The annotations that overlap a window (the last 24 h by default) and carry all the tags, oldest first",
)
def list_annotations(
    rt: RuntimeDep,
    _who: Viewer,
    window: Annotated[str | None, Query(description="A span ending now (or at end): 1h, 24h, 7d")] = None,
    start: Annotated[str | None, Query(description="ISO 8601 start (UTC if no offset)")] = None,
    end: Annotated[str | None, Query(description="ISO 8601 end (UTC if no offset); default now")] = None,
    tags: Annotated[list[str], Query(max_length=MAX_TAGS, description="Only those with every one of these tags")] = [],  # noqa: B006  (FastAPI copies a default)
    limit: Annotated[int, Query(ge=1, le=MAX_LIST, description="At most this many")] = MAX_LIST,
) -> list[Annotation]:
    window, start, end = window or None, start or None, end or None  # ?start= from a blank form field
    try:
        span = resolve_window(window if (window or start) else DEFAULT_WINDOW, start, end)
    except WindowError as exc:
        raise HTTPException(400, str(exc)) from None
    return annotation_store(rt).between(span.start, span.end, [t.strip() for t in tags if t.strip()], limit)


@router.get(
    "/annotations/{annotation_id}",
    response_model=Annotation,
    responses={**ERRORS, **_NOT_FOUND},
    summary="One annotation",
)
def get_annotation(rt: RuntimeDep, _who: Viewer, annotation_id: AnnotationId) -> Annotation:
    note = annotation_store(rt).get(annotation_id)
    if note is None:
        raise HTTPException(404, f"There is no annotation {annotation_id}.")
    return note


@router.patch(
    "/annotations/{annotation_id}",
    response_model=Annotation,
    responses={**ERRORS, **FORBIDDEN, **_NOT_FOUND, **_BAD_BODY},
    summary="Change an annotation's text, tags or times (only the fields given; `end: null` makes it a point)",
)
def edit(rt: RuntimeDep, annotation_id: AnnotationId, body: AnnotationPatch, caller: CallerDep) -> Annotation:
    return edit_annotation(rt, caller, annotation_id, body)


@router.delete(
    "/annotations/{annotation_id}",
    response_model=AnnotationDeleted,
    responses={**ERRORS, **FORBIDDEN, **_NOT_FOUND},
    summary="Delete an annotation",
)
def delete(rt: RuntimeDep, annotation_id: AnnotationId, caller: CallerDep) -> AnnotationDeleted:
    delete_annotation(rt, caller, annotation_id)
    return AnnotationDeleted(id=annotation_id)
