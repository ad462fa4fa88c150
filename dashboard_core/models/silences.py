"""Silences, acknowledgements and mutes: what keeps an alert quiet without hiding it.

The shapes follow Prometheus Alertmanager's (label matchers, a start and an end, who and
why) so a silence made here can become one there and one made there can show here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

LABEL_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class Matcher(BaseModel):
    """One label matcher: ``name = value`` (``!=``, ``=~`` regex, ``!~`` as Alertmanager's)."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=LABEL_NAME, max_length=100, description="Label name, e.g. alertname, component.")
    value: str = Field(max_length=500, description="The value, or a regular expression when is_regex.")
    is_regex: bool = Field(False, description="value is a regular expression matched against the whole label.")
    is_equal: bool = Field(True, description="False: the label must NOT match.")


SilenceState = Literal["pending", "active", "expired"]
SilenceOrigin = Literal["dashboard", "alertmanager"]


class Silence(BaseModel):
    """A timed mute over every alert whose labels all matchers match."""

    id: str = Field(description="Dashboard silences: a number as text; Alertmanager's: its UUID.")
    matchers: tuple[Matcher, ...] = Field(min_length=1)
    starts_at: datetime
    ends_at: datetime
    created_by: str = Field(description="Who made it (the signed-in user, or the token's name).")
    comment: str = Field(description="Why.")
    state: SilenceState
    origin: SilenceOrigin = "dashboard"
    alertmanager_id: str | None = Field(None, description="The Alertmanager silence this one was copied to.")
    expired_by: str | None = Field(None, description="Who ended it early, if anyone.")


class Ack(BaseModel):
    """Someone has seen a firing alert and is on it."""

    model_config = ConfigDict(frozen=True)

    by: str
    at: datetime
    note: str = ""


MuteKind = Literal["silence", "maintenance"]


class Mute(BaseModel):
    """Why an alert notified no one: the silence or maintenance window that covered it."""

    model_config = ConfigDict(frozen=True)

    kind: MuteKind
    id: str = Field(description="The silence's id or the maintenance window's name.")
    reason: str = Field("", description="The silence's comment or the window's description.")
    until: datetime | None = Field(None, description="When it ends (None: open-ended for now).")
