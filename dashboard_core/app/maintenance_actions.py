"""Planning and ending one-off maintenance windows, for the API: the role check
(operator), the window checked as the config checks one, the change, the audit line.
A window that has begun is ended, never deleted: uptime already shown leaves it out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from dashboard_core.app.actions import OPERATOR
from dashboard_core.app.caller import Caller, Conflict, NotFound, Refusal, refusing
from dashboard_core.auth.audit import audit
from dashboard_core.config.maintenance import MaintenanceConfig, unknown_targets
from dashboard_core.health.maintenance import Ending
from dashboard_core.health.maintenance_store import Planned
from dashboard_core.models.maintenance import MaintenanceRequest, MaintenanceWindow
from dashboard_core.runtime import Runtime
from dashboard_core.units import parse_duration


class BadWindow(Refusal):
    status = 422


def plan_window(rt: Runtime, caller: Caller, request: MaintenanceRequest) -> MaintenanceWindow:
    caller.require(OPERATOR, "plan maintenance windows")
    maintenance, now = rt.health.maintenance, datetime.now(UTC)
    try:
        window = MaintenanceConfig.model_validate(request.model_dump())
    except ValidationError as exc:
        errors = [str(e["msg"]).removeprefix("Value error, ") for e in exc.errors(include_url=False)]
        raise BadWindow(f"The window {request.name!r} was not planned.", errors) from None
    wrong = unknown_targets(window, [c.name for c in rt.config.components], [a.name for a in rt.config.alerts])
    if wrong is not None:
        raise BadWindow(f"The window was not planned: {wrong}.")
    if request.end <= now:
        raise BadWindow(f"The window {request.name!r} was not planned: it ends before now ({request.end}).")
    if maintenance.find(request.name) is not None:
        raise Conflict(f"There is already a maintenance window named {request.name!r}: pick another name.")
    with refusing():
        maintenance.plan(Planned(window, caller.principal.name, now))
    audit(
        rt.events,
        caller.principal,
        "planned maintenance window",
        f"{window.name} ({request.start} to {request.end})",
        caller.address,
    )
    return next(v for v in maintenance.views(now) if v.name == window.name)


def end_window(rt: Runtime, caller: Caller, name: str) -> Ending:
    """Remove a planned window that has not begun, or end one in force now (what it
    covered stays out of uptime); a window already over is kept as it was (409)."""
    caller.require(OPERATOR, "remove maintenance windows")
    maintenance = rt.health.maintenance
    with refusing():
        done = maintenance.end(name, datetime.now(UTC))
    if done is None:
        if maintenance.find(name) is not None:
            raise Conflict(f"The window {name!r} is in dashboard.toml: remove it there and restart.")
        raise NotFound(f"There is no maintenance window named {name!r} planned over the API.")
    if done == "over":
        raise Conflict(f"The window {name!r} is over: it stays, as the time it covered stays out of uptime.")
    action = "ended maintenance window early" if done == "ended" else "removed maintenance window"
    audit(rt.events, caller.principal, action, name, caller.address)
    return done


def one_off_request(
    name: str,
    covers: tuple[list[str], list[str], list[str]],
    start: datetime,
    tz: str,
    duration: str,
    description: str = "",
    exclude_from_uptime: bool = True,
) -> MaintenanceRequest:
    """The Safety page's form as the API's request: ``start`` on the viewer's clock (naive, in
    ``tz``) for ``duration`` (``2h``, ``1h30m``); ``covers``: components, agents, rules.
    ValueError (a sentence) for a duration that is none."""
    try:
        seconds = parse_duration(duration.strip())
    except ValueError as exc:
        raise ValueError(f"For: {exc}") from None
    if seconds <= 0:
        raise ValueError("For: give a duration longer than zero, e.g. 2h")
    begins = start.replace(tzinfo=ZoneInfo(tz)) if start.tzinfo is None else start
    components, agents, rules = covers
    return MaintenanceRequest(
        name=name.strip(),
        description=description.strip(),
        components=components,
        agents=agents,
        rules=rules,
        start=begins.astimezone(UTC),
        end=(begins + timedelta(seconds=seconds)).astimezone(UTC),
        exclude_from_uptime=exclude_from_uptime,
    )


def removable(views: list[MaintenanceWindow]) -> dict[str, str]:
    """The windows an operator may take back here (those planned over the API or this page,
    not over yet), each with what doing so does: "End now" one in force, "Remove" one to come."""
    return {v.name: "End now" if v.active else "Remove" for v in views if v.origin == "api" and (v.active or v.next)}
