"""What a client sends to silence alerts or acknowledge one (``/api/silences``,
``/api/alerts/{id}/ack``); what it gets back is a :class:`~dashboard_core.models.silences.Silence`."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dashboard_core.models.silences import Matcher

MAX_MATCHERS = 20


class SilenceRequest(BaseModel):
    """A silence by rule, component, agent or suite (each becomes a matcher on that label) and/or
    by label matchers; from ``starts_at`` (default now) to ``ends_at`` or for ``duration``."""

    model_config = ConfigDict(extra="forbid")

    rule: str | None = Field(None, max_length=200, description="A rule's name: matches alertname.")
    component: str | None = Field(None, max_length=200, description="A component's name: matches component.")
    agent: str | None = Field(None, max_length=200, description="An agent's name: matches agent.")
    suite: str | None = Field(None, max_length=200, description="A suite's name: matches suite.")
    matchers: list[Matcher] = Field(default_factory=list, max_length=MAX_MATCHERS, description="Label matchers.")
    starts_at: datetime | None = Field(None, description="ISO 8601 (UTC if no offset); default now.")
    ends_at: datetime | None = Field(None, description="ISO 8601 (UTC if no offset); or give duration.")
    duration: str | None = Field(None, max_length=20, description="How long from its start: 30m, 2h, 1d, 1h30m.")
    comment: str = Field(min_length=1, max_length=1000, description="Why (shown with it, audited).")

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    @field_validator("comment")
    @classmethod
    def _said(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("say why (a comment that is not blank)")
        return value.strip()

    @model_validator(mode="after")
    def _whole(self) -> SilenceRequest:
        for i, matcher in enumerate(self.matchers, 1):
            if matcher.is_regex:
                try:
                    re.compile(matcher.value)
                except re.error as exc:
                    raise ValueError(
                        f"matcher {i} ({matcher.name}): {matcher.value!r} is not a regular expression: {exc}"
                    ) from None
        if not self.shortcuts() and not self.matchers:
            raise ValueError("say what to silence: a rule, component, agent or suite, or label matchers")
        if (self.ends_at is None) == (self.duration is None):
            raise ValueError("give either ends_at or duration (e.g. 2h), not both and not neither")
        return self

    def shortcuts(self) -> dict[str, str]:
        """The label each shortcut given stands for, and its value."""
        named = {"alertname": self.rule, "component": self.component, "agent": self.agent, "suite": self.suite}
        return {label: value for label, value in named.items() if value}

    def all_matchers(self) -> tuple[Matcher, ...]:
        return tuple(Matcher(name=k, value=v) for k, v in self.shortcuts().items()) + tuple(self.matchers)


class AckRequest(BaseModel):
    """Acknowledge a firing alert: you are on it."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field("", max_length=1000, description="What you are doing about it (optional).")
