"""Annotations: a note on the time axis (a deploy, an incident, a change), a point or
a span, with tags; posted by a person or a script. The request bodies take Grafana's
annotation fields as well (``time``, ``timeEnd`` in epoch milliseconds), so a job that
posts to Grafana's ``/api/annotations`` posts here unchanged."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    StringConstraints,
    field_validator,
    model_validator,
)

MAX_TEXT = 2000
MAX_TAGS = 20
# The times a chart can hold (pandas' nanosecond timestamps end in April 2262).
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(2262, 4, 11, tzinfo=UTC)
MAX_EPOCH_MS = int(LATEST.timestamp() * 1000)

Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT)]
# Strict: a JSON number, never the text "5" or true (pydantic's lax int would take both).
EpochMs = Annotated[int, Strict(), Field(ge=0, le=MAX_EPOCH_MS)]
GrafanaId = Annotated[int, Strict()]


def _text_only(value: object) -> object:
    """A time in a body is ISO 8601 text: pydantic's lax datetime would take a number too."""
    if value is not None and not isinstance(value, str | datetime):
        raise ValueError("must be an ISO 8601 time as text, e.g. 2026-12-06T10:00:00Z")
    return value


IsoTime = Annotated[datetime, BeforeValidator(_text_only)]


class Annotation(BaseModel):
    id: int
    start: datetime
    end: datetime | None = Field(None, description="None: a point in time; else the span's end.")
    text: str
    tags: list[str] = Field(default_factory=list)
    author: str = Field(description="Who posted it: a user's or an API token's name.")
    created_at: datetime
    updated_at: datetime


class _Times(BaseModel):
    """The times of a body: ``start``/``end`` (ISO 8601) or Grafana's ``time``/``timeEnd``."""

    model_config = ConfigDict(extra="forbid")  # a misspelt field is named in the 422, not dropped

    start: IsoTime | None = Field(None, description="When it happened (ISO 8601, UTC if no offset).")
    end: IsoTime | None = Field(None, description="Its end, for a span; leave out (or null) for a point.")
    time: EpochMs | None = Field(None, description="Grafana's field: `start` in epoch milliseconds.")
    timeEnd: EpochMs | None = Field(None, description="Grafana's field: `end` in epoch milliseconds.")  # noqa: N815
    dashboardUID: str | None = Field(None, description="Grafana's field, ignored.", max_length=200)  # noqa: N815
    dashboardId: GrafanaId | None = Field(None, description="Grafana's field, ignored.")  # noqa: N815
    panelId: GrafanaId | None = Field(None, description="Grafana's field, ignored.")  # noqa: N815
    data: dict[str, object] | None = Field(None, description="Grafana's field, ignored.")
    isRegion: StrictBool | None = Field(None, description="Older Grafana's field, ignored (`timeEnd` makes a span).")  # noqa: N815

    @field_validator("start", "end")
    @classmethod
    def _in_range(cls, at: datetime | None) -> datetime | None:
        """UTC (a time without an offset is taken as UTC), between 1970 and 2262-04-11."""
        if at is None:
            return None
        try:
            utc = _aware(at)
        except OverflowError:
            raise ValueError("is not a time between 1970 and 2262-04-11") from None
        if not EARLIEST <= utc <= LATEST:
            raise ValueError("is not a time between 1970 and 2262-04-11")
        return utc

    @model_validator(mode="after")
    def _one_way(self) -> Self:
        if self.start is not None and self.time is not None:
            raise ValueError("give either `start` (ISO 8601) or Grafana's `time` (epoch ms), not both")
        if self.end is not None and self.timeEnd is not None:
            raise ValueError("give either `end` (ISO 8601) or Grafana's `timeEnd` (epoch ms), not both")
        return self

    def _given_start(self) -> datetime | None:
        if self.time is not None:
            return _from_ms(self.time)
        return self.start

    def _given_end(self, start: datetime | None) -> datetime | None:
        if self.timeEnd is not None:  # Grafana: a timeEnd of 0 or equal to time is a point
            end = _from_ms(self.timeEnd) if self.timeEnd else None
            return None if end is not None and start is not None and end == start else end
        return self.end


class AnnotationRequest(_Times):
    """A new annotation: a point (``start`` or ``time``; now if neither) or a span (with an end)."""

    text: Text = Field(description="What happened, in words (at most 2,000 characters).")
    tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS, description="Up to 20 tags (e.g. deploy).")

    def span(self, now: datetime) -> tuple[datetime, datetime | None]:
        """Its start and end (None for a point); raises ValueError if it ends before it starts."""
        start = self._given_start() or now
        end = self._given_end(start)
        if end is not None and end < start:
            raise ValueError(f"it ends ({end.isoformat()}) before it starts ({start.isoformat()})")
        return start, end


class AnnotationPatch(_Times):
    """What to change in an annotation: only the fields given (``end: null`` makes it a point)."""

    text: Text | None = Field(None, description="The new text.")
    tags: list[Tag] | None = Field(None, max_length=MAX_TAGS, description="The new tags (all of them).")

    def span(self, old_start: datetime, old_end: datetime | None) -> tuple[datetime, datetime | None]:
        """Its new start and end; raises ValueError if it would end before it starts."""
        start = self._given_start() or old_start
        given = self.model_fields_set
        end = self._given_end(start) if given & {"end", "timeEnd"} else old_end
        if end is not None and end < start:
            raise ValueError(f"it would end ({end.isoformat()}) before it starts ({start.isoformat()})")
        return start, end


class AnnotationAdded(BaseModel):
    """Grafana's answer to a new annotation (``id``, ``message``), and the annotation itself."""

    id: int
    message: str = "Annotation added"
    annotation: Annotation


class AnnotationDeleted(BaseModel):
    id: int
    message: str = "Annotation deleted"


def _aware(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)
