"""Maintenance windows as the API and the Safety page show them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

WINDOW_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"  # the config's names (models sit below the config)


class Span(BaseModel):
    """One occurrence of a window (overlapping occurrences joined), in UTC."""

    start: datetime
    end: datetime


class MaintenanceWindow(BaseModel):
    name: str
    description: str
    components: list[str] = Field(description='Components it covers ("*": all).')
    agents: list[str] = Field(description='Agents it covers ("*": all).')
    rules: list[str] = Field(description='Alert rules it mutes ("*": all).')
    kind: Literal["once", "weekly", "cron"]
    schedule: str = Field(description="When, in words: 'sat, sun at 02:00 for 2h (Europe/Paris)'.")
    timezone: str
    exclude_from_uptime: bool
    active: bool = Field(description="In force now.")
    current: Span | None = Field(None, description="The occurrence in force now, if any.")
    next: Span | None = Field(None, description="The next occurrence to start (none: a one-off window that is over).")
    origin: Literal["config", "api"] = Field("config", description="From dashboard.toml, or planned over the API.")
    created_by: str | None = Field(None, description="Who planned it over the API.")


class MaintenanceRequest(BaseModel):
    """A one-off window to plan: what it covers and when (with a UTC offset)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=WINDOW_NAME, description="Unique among the windows; letters, digits, '_', '.', '-'.")
    description: str = Field("", max_length=500, description="What is done and by whom.")
    components: list[str] = Field(default_factory=list, max_length=200, description='Component names, or "*".')
    agents: list[str] = Field(default_factory=list, max_length=200, description='Agent names, or "*".')
    rules: list[str] = Field(default_factory=list, max_length=200, description='Alert rule names, or "*".')
    start: AwareDatetime = Field(description="ISO 8601 with an offset, e.g. 2027-01-10T22:00:00Z.")
    end: AwareDatetime = Field(description="After start and after now.")
    exclude_from_uptime: bool = Field(True, description="Checks made during it do not count in uptime.")
