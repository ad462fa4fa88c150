"""Silencing alerts and acknowledging one, for the API and the Safety page alike: the role
check (operator), the refusals (an unknown rule, component or suite 422; an unknown silence
or alert 404; one already ended, or an alert no longer firing 409), the change and the audit line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dashboard_core.app.actions import OPERATOR
from dashboard_core.app.caller import Caller, Conflict, NotFound, Refusal, refusing
from dashboard_core.auth.audit import audit
from dashboard_core.health.rules import RuleError, parse_duration
from dashboard_core.health.silences import SilenceError, matchers_text
from dashboard_core.models import AlertRecord
from dashboard_core.models.silence_requests import AckRequest, SilenceRequest
from dashboard_core.models.silences import Silence, SilenceState
from dashboard_core.runtime import Runtime


class BadSilence(Refusal):
    status = 422


def silences(rt: Runtime, state: SilenceState | None = None) -> list[Silence]:
    """Active and pending silences first (soonest end first), then the expired (latest first)."""
    with refusing():
        return rt.alerts.silences.listing(state)


def create_silence(rt: Runtime, caller: Caller, request: SilenceRequest) -> Silence:
    caller.require(OPERATOR, "silence alerts")
    _known_targets(rt, request)
    now = datetime.fromtimestamp(rt.alerts.clock(), UTC)
    starts = request.starts_at or now
    if request.duration is not None:
        try:
            ends = starts + timedelta(seconds=parse_duration(request.duration))
        except RuleError as exc:
            raise BadSilence(f"The silence was not made: duration {exc}.") from None
        except OverflowError:
            raise BadSilence(
                f"The silence was not made: {request.duration} from {starts:%Y-%m-%d} ends after the year 9999."
            ) from None
    else:
        assert request.ends_at is not None
        ends = request.ends_at
    try:
        with refusing():
            silence = rt.alerts.silences.create(
                request.all_matchers(), starts, ends, caller.principal.name, request.comment
            )
    except SilenceError as exc:
        raise BadSilence(f"The silence was not made: {exc}.") from None
    audit(rt.events, caller.principal, "silenced alerts", _target(silence), caller.address)
    return silence


def expire_silence(rt: Runtime, caller: Caller, silence_id: str) -> Silence:
    caller.require(OPERATOR, "expire silences")
    book = rt.alerts.silences
    found = book.get(silence_id)
    if found is None:
        raise NotFound(f"No silence {silence_id!r}: GET /api/silences lists them.")
    try:
        with refusing():
            silence = book.expire(silence_id, caller.principal.name)
    except SilenceError as exc:
        raise Conflict(f"Silence {silence_id} was not expired: {exc}.") from None
    audit(rt.events, caller.principal, "expired silence", _target(silence), caller.address)
    return silence


def acknowledge_alert(rt: Runtime, caller: Caller, alert_id: int, request: AckRequest) -> AlertRecord:
    """Say you are on a firing alert (who, when, a note); kept on its row and shown with it."""
    caller.require(OPERATOR, "acknowledge alerts")
    record = next((a for a in rt.alerts.firing() if a.id == alert_id), None)
    if record is None:
        with refusing():
            row = rt.store.one("SELECT rule, state FROM alerts WHERE id = ? AND fired_at IS NOT NULL", (alert_id,))
        if row is None:
            raise NotFound(f"No alert {alert_id}: GET /api/safety/alerts lists them with their ids.")
        raise Conflict(
            f"Alert {alert_id} of {row['rule']} is {row['state']}, not firing: only a firing alert is acknowledged."
        )
    with refusing():
        acked = rt.alerts.quiet.acknowledge(
            record, caller.principal.name, request.note.strip(), datetime.fromtimestamp(rt.alerts.clock(), UTC)
        )
    note = f": {request.note.strip()}" if request.note.strip() else ""
    audit(rt.events, caller.principal, "acknowledged alert", f"{alert_id} of {record.rule}{note}", caller.address)
    return acked


def _known_targets(rt: Runtime, request: SilenceRequest) -> None:
    problems = []
    rules = [r.name for r in rt.alerts.rules]
    if request.rule and request.rule not in rules:
        problems.append(f"no rule {request.rule!r} (the rules: {', '.join(rules) or 'none'})")
    components = [c.name for c in rt.config.components]
    if request.component and request.component not in components:
        problems.append(f"no component {request.component!r} (the components: {', '.join(components) or 'none'})")
    suites = [s.name for s in rt.config.suites]
    if request.suite and request.suite not in suites:
        problems.append(f"no suite {request.suite!r} (the suites: {', '.join(suites) or 'none'})")
    if problems:
        raise BadSilence("The silence was not made: " + "; ".join(problems) + ".", problems)


def _target(silence: Silence) -> str:
    return (
        f"{silence.id} ({matchers_text(silence.matchers)}) from {silence.starts_at:%Y-%m-%d %H:%M} "
        f"to {silence.ends_at:%Y-%m-%d %H:%M} UTC: {silence.comment}"
    )
