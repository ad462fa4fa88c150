"""A component's state, folded from its check results: pure, so tests craft the time.

:class:`StateTracker` starts unknown (until the first check); down after
``down_after`` failures in a row; degraded when slower than ``slow_ms`` or when any
of the last ``window`` checks failed; a python check may report degraded or down
itself. Time comes from the results. Each change of state is a :class:`StateChange`
that says in words what changed, for the event.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime

from dashboard_core.config import ComponentConfig
from dashboard_core.health.checks import describe_check
from dashboard_core.models import CheckResult, ComponentState, ComponentStatus, Severity

PERFORMANCE_SECONDS = 3600.0  # "performance %" is the share of good checks in this span

SEVERITY = {
    ComponentState.DOWN: Severity.CRITICAL,
    ComponentState.DEGRADED: Severity.WARNING,
    ComponentState.HEALTHY: Severity.INFO,
    ComponentState.UNKNOWN: Severity.INFO,
}


@dataclass(frozen=True, slots=True)
class StateChange:
    component: str
    old: ComponentState
    new: ComponentState
    at: datetime
    message: str  # for the event: "orchestrator is down: connection refused by 127.0.0.1:8618"
    latency_ms: float | None

    @property
    def severity(self) -> Severity:
        return SEVERITY[self.new]


class StateTracker:
    """One component's state, folded from its check results (oldest first)."""

    def __init__(self, component: ComponentConfig, performance_seconds: float = PERFORMANCE_SECONDS) -> None:
        self.component = component
        self.performance_seconds = performance_seconds
        self.state = ComponentState.UNKNOWN
        self.reason = "not checked yet"  # why the state is what it is, in words
        self.latency_ms: float | None = None
        self.consecutive_failures = 0
        self.last_error: str | None = None
        self.last_message = ""
        self.last_checked: datetime | None = None
        self.state_since: datetime | None = None
        self.checks = 0
        self._recent: deque[bool] = deque(maxlen=component.window)
        self._history: deque[tuple[float, bool]] = deque()  # (epoch seconds, ok) within the performance span

    def fold(self, result: CheckResult) -> StateChange | None:
        """Take one result; the change of state it makes, if any."""
        c = self.component
        at = result.at.timestamp()
        self.checks += 1
        self.latency_ms = result.latency_ms
        self.last_checked = result.at
        self.last_message = result.message
        self._recent.append(result.ok)
        self._history.append((at, result.ok))
        self._forget_before(at - self.performance_seconds)
        if result.ok:
            self.consecutive_failures = 0
        else:
            self.consecutive_failures += 1
            self.last_error = result.message
        reported = getattr(result, "reported_state", None)
        failed = sum(1 for ok in self._recent if not ok)
        slow = c.slow_ms is not None and result.latency_ms is not None and result.latency_ms > c.slow_ms
        if reported is ComponentState.DOWN or self.consecutive_failures >= c.down_after:
            new, reason = ComponentState.DOWN, result.message
        elif reported is ComponentState.DEGRADED or not result.ok:
            new, reason = ComponentState.DEGRADED, result.message
        elif failed:
            new = ComponentState.DEGRADED
            reason = f"{failed} of the last {len(self._recent)} checks failed"
        elif slow:
            new = ComponentState.DEGRADED
            reason = f"slow: {_ms(result.latency_ms)}, over the {c.slow_ms:g} ms limit"
        else:
            new, reason = ComponentState.HEALTHY, result.message
        old = self.state
        self.state, self.reason = new, reason
        if new is old:
            return None
        self.state_since = result.at
        return StateChange(c.name, old, new, result.at, self._change_message(old, new, result), result.latency_ms)

    def _change_message(self, old: ComponentState, new: ComponentState, result: CheckResult) -> str:
        name = self.component.name
        if new is ComponentState.HEALTHY:
            latency = f" ({_ms(result.latency_ms)})" if result.latency_ms is not None else ""
            if old in (ComponentState.DEGRADED, ComponentState.DOWN):
                return f"{name} recovered: healthy{latency}"
            return f"{name} is healthy{latency}"
        return f"{name} is {new.value}: {self.reason}"

    def _forget_before(self, cutoff: float) -> None:
        while self._history and self._history[0][0] < cutoff:
            self._history.popleft()

    def performance_percent(self, now: float) -> float | None:
        """Share of good checks within the performance span before ``now``; None if none."""
        self._forget_before(now - self.performance_seconds)
        if not self._history:
            return None
        return 100.0 * sum(1 for _, ok in self._history if ok) / len(self._history)

    def status(
        self,
        now: float,
        uptime_24h: float | None = None,
        uptime_7d: float | None = None,
        *,
        maintenance: str | None = None,
    ) -> ComponentStatus:
        c = self.component
        return ComponentStatus(
            name=c.name,
            description=c.description,
            check=describe_check(c),
            state=self.state,
            latency_ms=self.latency_ms,
            consecutive_failures=self.consecutive_failures,
            last_error=self.last_error,
            last_checked=self.last_checked,
            state_since=self.state_since,
            performance_percent=self.performance_percent(now),
            uptime_24h_percent=uptime_24h,
            uptime_7d_percent=uptime_7d,
            maintenance=maintenance,
        )


def _ms(value: float | None) -> str:
    if value is None:
        return "? ms"
    return f"{value:.1f} ms" if value < 10 else f"{value:.0f} ms"
