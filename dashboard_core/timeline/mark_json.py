"""The marks as ``GET /api/timeline/marks`` sends them: compact, for every chart to fetch.

A busy day of every kind is ~300 marks beside a 24 h chart's ~700 KB of JSON; as
:class:`~dashboard_core.timeline.mark_model.MarkPage` dumps them they added 13 % to
it (the target is 10 %). Most of that was not words but repetition: each mark's
``kind``, its default and empty fields, and times as ISO strings to the
microsecond. So the route sends the marks grouped by kind, times as epoch
milliseconds (as the charts' own payload has them), and leaves out what is
default: a point has no ``end``, ``ongoing`` is there only when true, ``detail``
and ``href`` only when they say something. The model below is the schema.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from dashboard_core.timeline.mark_model import Mark, MarkKind, MarkPage


class CompactMark(BaseModel):
    """One mark; a field left out has its default."""

    key: str = Field(description="Stable id across reads, e.g. `test_run:12`.")
    start: int = Field(description="Epoch milliseconds (UTC).")
    end: int | None = Field(None, description="Epoch milliseconds; left out for a point (a marker, not a band).")
    ongoing: bool = Field(False, description="Still going on (`end` is the time of the read); left out when false.")
    state: str = Field(description="How it ended or stands: passed, failed, firing, offline, ...")
    colour: str
    label: str = Field(description="What it is, in words: the first line of its hover text.")
    detail: str = Field("", description="More words; left out when empty.")
    source: str = Field(description="The suite, workflow, rule, component or agent it is about.")
    href: str | None = Field(None, description="Relative deep link to its page; left out when it has none.")


class CompactMarkPage(BaseModel):
    start: int = Field(description="The window's start, epoch milliseconds.")
    end: int = Field(description="The window's end, epoch milliseconds.")
    kinds: list[MarkKind] = Field(description="The kinds asked for.")
    marks: dict[MarkKind, list[CompactMark]] = Field(
        description="The marks of each kind that has any in the window, oldest first (a kind without marks is left out)."
    )


def compact_json(page: MarkPage) -> bytes:
    """``page`` as :class:`CompactMarkPage` JSON (written directly: thousands of marks)."""
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for mark in page.marks:
        by_kind.setdefault(mark.kind.value, []).append(_compact(mark))
    body = {"start": _ms(page.start), "end": _ms(page.end), "kinds": [k.value for k in page.kinds], "marks": by_kind}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def _compact(mark: Mark) -> dict[str, Any]:
    out: dict[str, Any] = {"key": mark.key, "start": _ms(mark.start)}
    if mark.end is not None:
        out["end"] = _ms(mark.end)
    if mark.ongoing:
        out["ongoing"] = True
    out["state"], out["colour"], out["label"] = mark.state, mark.colour, mark.label
    if mark.detail:
        out["detail"] = mark.detail
    out["source"] = mark.source
    if mark.href is not None:
        out["href"] = mark.href
    return out


def _ms(at: datetime) -> int:
    return round(at.timestamp() * 1000)
