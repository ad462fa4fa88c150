"""Maintenance windows: ``[[maintenance]]``.

A window names what it covers (components, agents, alert rules, or ``"*"`` for all of
a kind) and when: once (``start`` and ``end``), every week (``days``, ``at`` and
``duration``) or on a cron schedule (``cron`` and ``duration``), read in ``timezone``.
During it checks go on and are shown as "maintenance", no one is notified, and
uptime leaves it out (unless ``exclude_from_uptime = false``).
"""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError
from pydantic import Field, ValidationInfo, field_validator, model_validator

from dashboard_core.config.base import NAME_PATTERN, _refuse_repeats, _Strict
from dashboard_core.units import parse_duration

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL = "*"
MAX_DURATION_SECONDS = 31 * 86400.0
MIN_YEAR, MAX_YEAR = 1970, 9000  # far from datetime's ends: a span in UTC can always be written


def _targets(what: str, value: list[str]) -> list[str]:
    bad = [n for n in value if n != ALL and not re.match(NAME_PATTERN, n)]
    if bad:
        raise ValueError(f"{what} are names (letters, digits, '_', '.', '-') or \"*\": {', '.join(map(repr, bad))}")
    _refuse_repeats(what, value)
    return value


class MaintenanceConfig(_Strict):
    name: str = Field(pattern=NAME_PATTERN, description="Unique name, shown where the window mutes or marks.")
    description: str = Field("", max_length=500, description="What is done and by whom, shown with the window.")
    components: list[str] = Field(default_factory=list, description='Components it covers, by name; "*" for all.')
    agents: list[str] = Field(default_factory=list, description='Agents it covers, by name; "*" for all.')
    rules: list[str] = Field(default_factory=list, description='Alert rules it mutes, by name; "*" for all.')
    timezone: str = Field("UTC", description="IANA time zone the times are read in, e.g. Europe/Paris.")
    start: datetime | None = Field(None, description="One-off window: its start (a TOML date-time).")
    end: datetime | None = Field(None, description="One-off window: its end.")
    days: list[Weekday] = Field(default_factory=list, description='Weekly window: its days, e.g. ["sat", "sun"].')
    at: time | None = Field(None, description="Weekly window: the time of day it starts, e.g. 02:00:00.")
    cron: str | None = Field(
        None, min_length=1, max_length=200, description="Recurring window: when it starts, as a 5-field cron line."
    )
    duration: str | None = Field(None, description="Weekly or cron window: how long it lasts, e.g. 90m, 2h, 1d.")
    exclude_from_uptime: bool = Field(True, description="Checks made during the window do not count in uptime.")

    @field_validator("components", "agents", "rules")
    @classmethod
    def _names(cls, value: list[str], info: ValidationInfo) -> list[str]:
        return _targets(info.field_name or "names", value)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. UTC, Europe/Paris, America/New_York)") from None
        return value

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if len(value.split()) != 5:
            raise ValueError(f"cron {value!r}: give 5 fields: minute hour day-of-month month day-of-week")
        try:
            CronSim(value, datetime(2000, 1, 1, tzinfo=ZoneInfo("UTC")))
        except CronSimError as exc:
            raise ValueError(f"cron {value!r} is not valid: {exc}") from None
        return value

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is None:
            return None
        seconds = parse_duration(value)
        if not 0 < seconds <= MAX_DURATION_SECONDS:
            raise ValueError(f"duration {value!r} must be more than 0 and at most 31d")
        return value

    @model_validator(mode="after")
    def _one_schedule(self) -> MaintenanceConfig:
        if not (self.components or self.agents or self.rules):
            raise ValueError('name what the window covers: components, agents or rules (names, or "*")')
        once = self.start is not None or self.end is not None
        weekly = bool(self.days) or self.at is not None
        kinds = [k for k, given in (("start/end", once), ("days/at", weekly), ("cron", self.cron is not None)) if given]
        if len(kinds) != 1:
            raise ValueError(
                "give exactly one schedule: start and end (once), days, at and duration (weekly), "
                f"or cron and duration; got {' and '.join(kinds) or 'none'}"
            )
        if once:
            if self.start is None or self.end is None:
                raise ValueError("a one-off window needs both start and end")
            if self.duration is not None:
                raise ValueError("a one-off window has start and end, not duration")
            if (self.start.tzinfo is None) != (self.end.tzinfo is None):
                raise ValueError("start and end: give both with a UTC offset, or neither (read in timezone)")
            if self.end <= self.start:
                raise ValueError(f"end ({self.end}) must come after start ({self.start})")
            if not (MIN_YEAR <= self.start.year and self.end.year <= MAX_YEAR):
                raise ValueError(f"start and end must fall between the years {MIN_YEAR} and {MAX_YEAR}")
        elif weekly and (not self.days or self.at is None):
            raise ValueError('a weekly window needs days (e.g. ["sun"]) and at (e.g. 02:00:00)')
        if not once and self.duration is None:
            raise ValueError("a recurring window needs a duration (e.g. 2h)")
        if not once and self.duration_seconds >= (gap := self._longest_gap()):
            raise ValueError(
                f"duration {self.duration} is as long as the longest time between two starts ({gap / 60:g} min): "
                "the window would never end (shorten it, or start it less often)"
            )
        if weekly:
            _refuse_repeats("days", list(self.days))
            if self.at is not None and self.at.tzinfo is not None:
                raise ValueError("at is a time of day without offset: the window's timezone applies")
        return self

    def _longest_gap(self) -> float:
        """Seconds between the two starts furthest apart (cron: over its first 200, in UTC)."""
        if self.cron is not None:
            starts = CronSim(self.cron, datetime(2001, 1, 1, tzinfo=ZoneInfo("UTC")))
            times = [next(starts).timestamp() for _ in range(200)]
            return max(b - a for a, b in zip(times, times[1:], strict=False))
        days = sorted({WEEKDAYS.index(d) for d in self.days})
        return 86400.0 * max((b - a) % 7 or 7 for a, b in zip(days, [*days[1:], days[0]], strict=True))

    @property
    def duration_seconds(self) -> float:
        """Seconds a recurring window lasts (a one-off one: end - start)."""
        if self.start is not None and self.end is not None:
            return (self.end - self.start).total_seconds()
        return parse_duration(self.duration or "0s")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def unknown_targets(w: MaintenanceConfig, components: list[str], rules: list[str]) -> str | None:
    """What is wrong with the names a window covers, in words; None if all exist (agents
    come and go: any agent name is taken)."""
    for kind, names in (("components", components), ("rules", rules)):
        unknown = [n for n in getattr(w, kind) if n != ALL and n not in names]
        if unknown:
            return (
                f"maintenance window {w.name!r}: no {kind[:-1]} named {', '.join(map(repr, unknown))}; "
                f"known {kind}: {', '.join(names) or 'none are configured'}"
            )
    return None
