"""Maintenance windows as the API and the Safety page show them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


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
