"""Component checks, agents, alert rules and events: ``[[components]]``, ``[health]``,
``[agents]``, ``[[alerts]]``, ``[alerting]``, ``[events]``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from dashboard_core.config.base import NAME_PATTERN, _refuse_repeats, _Strict
from dashboard_core.config.channels import ChannelsConfig, check_urls


class HttpCheck(_Strict):
    """Healthy when the URL answers with the expected status (and JSON field value) in time."""

    type: Literal["http"]
    url: str = Field(
        min_length=1, description="http(s) URL; a path starting with / is on this dashboard (e.g. /api/health)."
    )
    method: Literal["GET", "HEAD", "POST"] = Field("GET", description="HTTP method.")
    expect_status: int = Field(200, ge=100, le=599, description="Status code that means healthy.")
    json_field: str | None = Field(None, min_length=1, description="Dotted path of a field in the JSON answer.")
    json_value: str | int | float | bool | None = Field(None, description="The value json_field must have.")

    @model_validator(mode="after")
    def _url(self) -> HttpCheck:
        if not (self.url.startswith("/") or re.match(r"^https?://[^\s/]+", self.url)):
            raise ValueError("url must start with http://, https:// or / (a path on this dashboard)")
        return self


class TcpCheck(_Strict):
    """Healthy when a TCP connection opens in time."""

    type: Literal["tcp"]
    host: str = Field("127.0.0.1", min_length=1, description="Host name or address.")
    port: int = Field(ge=1, le=65535, description="TCP port.")


class ProcessCheck(_Strict):
    """Healthy when enough processes match (by name, or a regex over the command line),
    or (``match = "self"``) when this dashboard's own process runs."""

    type: Literal["process"]
    name: str | None = Field(None, min_length=1, description="Exact process name.")
    cmdline: str | None = Field(None, min_length=1, description="Regular expression searched in the command line.")
    match: Literal["self"] | None = Field(
        None, description="'self': this dashboard's own server process, by its pid (instead of name or cmdline)."
    )
    min_count: int = Field(1, ge=1, description="At least this many matching processes.")

    @model_validator(mode="after")
    def _one_way(self) -> ProcessCheck:
        if sum(x is not None for x in (self.name, self.cmdline, self.match)) != 1:
            raise ValueError('give exactly one of name, cmdline or match = "self"')
        if self.match == "self" and self.min_count != 1:
            raise ValueError('min_count: match = "self" is one process, this dashboard\'s own')
        if self.cmdline is not None:
            try:
                re.compile(self.cmdline)
            except re.error as exc:
                raise ValueError(f"cmdline is not a valid regular expression: {exc}") from None
        return self


class CommandCheck(_Strict):
    """Healthy when the command exits 0 in time (argv, never a shell)."""

    type: Literal["command"]
    argv: list[str] = Field(min_length=1, description="The program and its arguments.")
    cwd: Path = Field(Path("."), description="Working directory, relative to the config file.")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables.")


class PythonCheck(_Strict):
    """Calls ``module:function``; it returns a bool, a state name, or (state, message)."""

    type: Literal["python"]
    callable: str = Field(
        pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$", description="module.path:function, importable by the dashboard."
    )


Check = Annotated[HttpCheck | TcpCheck | ProcessCheck | CommandCheck | PythonCheck, Field(discriminator="type")]


class ComponentConfig(_Strict):
    name: str = Field(pattern=NAME_PATTERN, description="Unique name: letters, digits, '_', '.', '-'.")
    description: str = Field("", max_length=500, description="One line for the component's card.")
    check: Check
    interval_seconds: float = Field(10.0, ge=0.2, le=86400, description="Seconds between checks.")
    timeout_seconds: float = Field(5.0, gt=0, le=600, description="A check that takes longer has failed.")
    slow_ms: float | None = Field(
        None, gt=0, description="Slower than this (milliseconds) is degraded; none = latency never degrades."
    )
    window: int = Field(5, ge=1, le=100, description="Degraded when any of the last `window` checks failed.")
    down_after: int = Field(3, ge=1, le=100, description="Down after this many failures in a row.")


class HealthConfig(_Strict):
    history_days: float = Field(
        8.0, gt=0, le=400, description="Days of check results kept (uptime over 7 days needs 7)."
    )


class AgentsConfig(_Strict):
    ttl_seconds: float = Field(30.0, gt=0, le=86400, description="No heartbeat for this long: the agent is offline.")
    forget_after_hours: float = Field(
        168.0,
        gt=0,
        le=24 * 3650,
        description="Offline for this long: the agent is forgotten (dropped from the registry; not the expected ones).",
    )
    expected: list[str] = Field(
        default_factory=list, description="Agents that should be there: named but never seen means missing."
    )

    @field_validator("expected")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        bad = [n for n in value if not re.match(NAME_PATTERN, n)]
        if bad:
            raise ValueError(f"agent names may hold letters, digits, '_', '.', '-' only: {', '.join(map(repr, bad))}")
        _refuse_repeats("agent names", value)
        return value


class AlertmanagerConfig(_Strict):
    """Prometheus Alertmanager (API v2): firing alerts are posted to it and re-posted
    while they fire; silences go both ways (docs/alertmanager.md)."""

    url: str = Field(
        pattern=r"^https?://\S+$",
        description="Alertmanager's address, e.g. http://127.0.0.1:9093 (its API is /api/v2).",
    )
    repost_seconds: float = Field(
        60.0,
        ge=0.2,
        le=3600,
        description="Seconds between posts of the alerts still firing; each says it ends 4 posts later "
        "unless posted again, so Alertmanager drops them if the dashboard stops.",
    )
    silence_poll_seconds: float = Field(
        30.0, ge=0.2, le=3600, description="Seconds between reads of Alertmanager's silences, shown in the dashboard."
    )
    timeout_seconds: float = Field(5.0, gt=0, le=120, description="Timeout of one request to Alertmanager.")


class AlertConfig(_Strict):
    name: str = Field(pattern=NAME_PATTERN, description="Unique name.")
    rule: str = Field(
        min_length=1, max_length=500, description="e.g. 'cpu.total > 90 for 5m' (the rule grammar: docs/safety.md)."
    )
    severity: Literal["warning", "critical"] = Field("warning", description="warning or critical.")
    description: str = Field("", max_length=500, description="What it means and what to do, shown with the alert.")
    webhook: str | None = Field(
        None, pattern=r"^https?://\S+$", description="POST each firing and resolution here as JSON (optional)."
    )
    labels: dict[str, str] = Field(
        default_factory=dict,
        description='Extra labels (e.g. team = "db") that silences, channels and Alertmanager match on.',
    )

    @field_validator("labels")
    @classmethod
    def _label_names(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [n for n in value if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", n)]
        if bad:
            raise ValueError(f"label names may hold letters, digits and '_' only: {', '.join(map(repr, bad))}")
        return value

    notify: list[str] = Field(
        default_factory=list,
        description="Apprise URLs (mailtos://, slack://, ntfys://, workflows://, …) told when this rule "
        "fires and resolves, besides those of [alerting.channels] for its severity.",
    )

    @field_validator("notify")
    @classmethod
    def _usable_channels(cls, value: list[str]) -> list[str]:
        return check_urls(value)


class AlertingConfig(_Strict):
    interval_seconds: float = Field(2.0, ge=0.1, le=3600, description="Seconds between rule evaluations.")
    webhook_timeout_seconds: float = Field(5.0, gt=0, le=120, description="Timeout of one webhook POST.")
    webhook_attempts: int = Field(5, ge=1, le=50, description="Tries per notification, with exponential back-off.")
    alertmanager: AlertmanagerConfig | None = Field(
        None, description="Send firing alerts to a Prometheus Alertmanager and share silences with it."
    )
    public_url: str | None = Field(
        None,
        pattern=r"^https?://\S+$",
        description="The dashboard's address as people reach it (https://dash.example.org/): "
        "notifications and Alertmanager link to the alert with it.",
    )
    channels: ChannelsConfig = Field(
        default_factory=ChannelsConfig, description="Apprise URLs per severity: every rule of it notifies them."
    )


class EventsConfig(_Strict):
    keep_days: float = Field(30.0, gt=0, le=3650, description="Days of events kept in the store.")
