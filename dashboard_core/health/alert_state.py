"""One alert rule's live state between evaluations, and the alert record it shows."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from dashboard_core.health.compiled_rules import CompiledRule
from dashboard_core.models import AlertRecord, AlertState, Severity
from dashboard_core.units import format_duration, from_epoch

NS = 1_000_000_000


@dataclass(slots=True)
class RuleTrack:
    """One rule's live state (guarded by the engine's lock)."""

    state: AlertState = AlertState.OK
    since: float | None = None  # when the state last changed
    began: float | None = None  # when the condition started to hold (pending, firing)
    fired: float | None = None
    ended: float | None = None
    alert_id: int | None = None
    alert_message: str = ""
    count: int = 0
    total: float = 0.0
    low: float | None = None
    high: float | None = None
    value: float | None = None
    column: str | None = None  # the metric column the value is from
    holds: bool | None = None  # the newest judgement
    message: str = "not evaluated yet"
    last_ns: int | None = None  # the newest sample judged (metric rules)
    last_valid_ns: int | None = None
    effects: list[tuple[str, AlertRecord, str]] = field(default_factory=list)
    run_id: int | None = None  # the test run the alert is about (suite rules)
    tests: tuple[str, ...] = ()  # the tests it names (event rules over test results)

    def reset_stats(self) -> None:
        self.count, self.total, self.low, self.high = 0, 0.0, None, None

    def add(self, value: float | None) -> None:
        if value is None or math.isnan(value):
            return
        self.count += 1
        self.total += value
        self.low = value if self.low is None else min(self.low, value)
        self.high = value if self.high is None else max(self.high, value)

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None


@dataclass(frozen=True, slots=True)
class Observation:
    holds: bool | None  # None: cannot tell, the rule keeps its state
    value: float | None
    message: str
    run_id: int | None = None  # suite rules: the run it is about
    tests: tuple[str, ...] = ()  # event rules over test results: the tests the run names


def current_record(rule: CompiledRule, track: RuleTrack) -> AlertRecord:
    """The alert as the track says it is now (the store's row may lag a full disk behind)."""
    return AlertRecord(
        id=track.alert_id or 0,
        rule=rule.name,
        severity=Severity(rule.config.severity),
        state=track.state,
        began_at=from_epoch(track.began if track.began is not None else track.since or 0.0),
        fired_at=from_epoch(track.fired),
        ended_at=from_epoch(track.ended) if track.state is AlertState.RESOLVED else None,
        min=track.low,
        max=track.high,
        mean=track.mean,
        message=track.alert_message,
        run_id=track.run_id,
    )


def duration_text(seconds: float) -> str:
    return format_duration(max(0.0, seconds))


def clock_text(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def number(value: float | None) -> str:
    """A rule's value as people read it: ``93.4``, ``0.25``, ``1.2e+09``; ``—`` for none."""
    if value is None or math.isnan(value):
        return "—"
    return f"{value:.4g}" if abs(value) < 1e6 else f"{value:.3g}"


def alert_stats(alert: AlertRecord) -> str | None:
    """``min 12.5 · max 97 · mean 61.2`` when the value is numeric."""
    if alert.min is None and alert.max is None and alert.mean is None:
        return None
    return f"min {number(alert.min)} · max {number(alert.max)} · mean {number(alert.mean)}"
