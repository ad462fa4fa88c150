"""The alert engine: safety rules evaluated on a thread, alerts kept as intervals.

States, per rule::

    ok ──holds──> pending ──held for its duration──> firing ──no longer holds──> resolved
     ^              │                                                         │
     └─ stops ──────┘                     holds again: pending <──────────────┘

- *pending* starts when the condition first holds; it becomes *firing* once it
  has held for the rule's ``for`` duration (at once without one).
- Metric rules judge the samples themselves, each one since the last
  evaluation, not just the newest: the rule fires when every sample over the
  duration satisfies it *and* the samples cover it. A gap (samples further
  apart than ``gap_seconds``) or an empty reading restarts the count of a
  pending rule ("not yet"); it never resolves a firing one. A firing metric
  rule resolves at the first sample that does not satisfy it.
- Component, agent and suite rules are judged at each evaluation from what
  :class:`AlertInputs` says now; "held for D" means held at every evaluation
  for D. Inputs that cannot tell (no state for the component yet, a suite's
  newest run was cancelled) leave the rule as it is.
- *resolved* is kept (with its time) until the condition holds again, so the
  UI shows that a rule fired and ended; it is not firing, so the report is safe.

An alert is a row in the store's ``alerts`` table, created when the rule
fires: ``began_at`` is when the condition started to hold, ``min``/``max``/
``mean`` are of the rule's value over the whole interval (pending part
included) and are updated while it fires; ``ended_at`` and state ``resolved``
are set when it ends. Firing publishes an ``alert`` event with the rule's
severity, resolving one at ``info``. Alerts left firing by a previous process
are closed as resolved at :meth:`AlertEngine.start`, saying the dashboard
restarted. Webhook notifications go through :class:`WebhookNotifier`, which
never blocks an evaluation.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol, overload

import numpy as np
import pandas as pd

from dashboard_core.config import AlertConfig, Config
from dashboard_core.events import EventLog
from dashboard_core.health.rules import (
    AgentRule,
    CompiledRule,
    ComponentRule,
    MetricRule,
    SuiteRule,
    compile_rules,
    field_table,
)
from dashboard_core.health.webhook import WebhookNotifier
from dashboard_core.metrics.fields import FieldTable, split_column
from dashboard_core.metrics.frame import time_index
from dashboard_core.metrics.windows import Window
from dashboard_core.models import (
    AgentInfo,
    AgentState,
    AlertRecord,
    AlertState,
    ComponentState,
    EventKind,
    RuleStatus,
    RunInfo,
    RunStatus,
    SafetyReport,
    SafetyStatus,
    Severity,
)
from dashboard_core.store import Store, StoreError
from dashboard_core.units import format_duration, format_value

log = logging.getLogger(__name__)

RESTART_NOTE = "closed at start-up: the dashboard restarted while this alert was firing, so its true end is unknown"
FAILED_RUNS = (RunStatus.FAILED, RunStatus.ERROR, RunStatus.TIMED_OUT)
VERDICT_RUNS = (RunStatus.PASSED, *FAILED_RUNS)
_COMPONENT_STATES = {
    "down": (ComponentState.DOWN,),
    "degraded": (ComponentState.DEGRADED,),
    "unknown": (ComponentState.UNKNOWN,),
    "unhealthy": (ComponentState.DEGRADED, ComponentState.DOWN),
}
_AGENT_STATES = {
    "offline": (AgentState.OFFLINE,),
    "missing": (AgentState.MISSING,),
    "unavailable": (AgentState.OFFLINE, AgentState.MISSING),
}
_NS = 1_000_000_000


class AlertInputs(Protocol):
    """What the rules read; the Runtime provides it."""

    def history(self, window: Window) -> pd.DataFrame:
        """Metric samples with ``window.start <= t <= window.end`` (UTC DatetimeIndex), oldest first."""
        ...

    def component_state(self, name: str) -> ComponentState | None:
        """The component's current state; None if it is not known (yet)."""
        ...

    def agents(self) -> list[AgentInfo]:
        """Every agent seen or expected, with its state."""
        ...

    def last_full_run(self, suite: str) -> RunInfo | None:
        """The suite's newest finished run of the whole suite (not a re-run of failures)."""
        ...


@dataclass(slots=True)
class _Track:
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
class _Observation:
    holds: bool | None  # None: cannot tell, the rule keeps its state
    value: float | None
    message: str


class AlertEngine:
    def __init__(
        self,
        config: Config,
        store: Store,
        events: EventLog,
        inputs: AlertInputs,
        *,
        clock: Callable[[], float] = time.time,
        fields: FieldTable | None = None,
        notifier: WebhookNotifier | None = None,
        gap_seconds: float | None = None,
    ) -> None:
        """Compiles the rules (ConfigError if one is wrong). ``gap_seconds``: samples
        further apart than this break a metric rule's count; default five sampler
        intervals, at least 5 s."""
        self.config = config
        self.store = store
        self.events = events
        self.inputs = inputs
        self.clock = clock
        self.rules: list[CompiledRule] = compile_rules(config, fields or field_table(config))
        self.gap_seconds = gap_seconds or max(5.0, 5 * config.sampler.interval_seconds)
        self.interval = config.alerting.interval_seconds
        if notifier is None and any(r.config.webhook for r in self.rules):
            notifier = WebhookNotifier(
                timeout=config.alerting.webhook_timeout_seconds, attempts=config.alerting.webhook_attempts
            )
        self.notifier = notifier
        self._tracks: dict[str, _Track] = {r.name: _Track() for r in self.rules}
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_evaluated: datetime | None = None

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> None:
        """Close alerts a previous process left firing, then evaluate every interval."""
        if self._thread is not None:
            return
        if self.notifier is not None:
            self.notifier.start()
        self.recover()
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="alert-engine", daemon=True)
        self._thread.start()
        log.info("Alert engine started: %d rule(s), every %.3g s", len(self.rules), self.interval)

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=30)
        if self.notifier is not None:
            self.notifier.stop()

    def _loop(self) -> None:
        while True:
            try:
                self.evaluate()
            except Exception:
                log.exception("Evaluating the alert rules failed")
            if self._stop.wait(self.interval):
                return

    def recover(self, now: float | None = None) -> list[AlertRecord]:
        """Close every alert the store says is still firing (a previous process
        stopped while it fired) as resolved, with a note; publish each."""
        now = self.clock() if now is None else now
        rows = self.store.all("SELECT * FROM alerts WHERE state IN (?, ?) ORDER BY id", ("firing", "pending"))
        closed: list[AlertRecord] = []
        for row in rows:
            message = f"{row['message']}; {RESTART_NOTE}" if row["message"] else RESTART_NOTE
            try:
                self.store.execute(
                    "UPDATE alerts SET state = ?, ended_at = ?, message = ? WHERE id = ?",
                    (AlertState.RESOLVED.value, now, message, row["id"]),
                )
            except StoreError as exc:  # a full disk: the next start closes it
                log.error("Cannot close alert %s of %s: %s", row["id"], row["rule"], exc)
                continue
            record = _record(row).model_copy(
                update={"state": AlertState.RESOLVED, "ended_at": _dt(now), "message": message}
            )
            closed.append(record)
            self._publish(
                record.rule,
                f"{record.rule}: {RESTART_NOTE}",
                Severity.INFO,
                record,
            )
            rule = next((r for r in self.rules if r.name == record.rule), None)
            if rule is not None:
                self._notify(rule, record)
        if closed:
            log.warning("Closed %d alert(s) left firing by a previous run of the dashboard", len(closed))
        return closed

    # -- evaluation ------------------------------------------------------------
    def evaluate(self, now: float | None = None) -> list[RuleStatus]:
        """Judge every rule at ``now`` (epoch seconds; default the clock)."""
        now = self.clock() if now is None else now
        effects: list[tuple[CompiledRule, str, AlertRecord, str]] = []
        with self._lock:
            frame = self._frame(now)
            for rule in self.rules:
                track = self._tracks[rule.name]
                try:
                    if isinstance(rule.rule, MetricRule):
                        self._judge_samples(rule, track, frame, now)
                    else:
                        self._judge_now(rule, track, self._observe(rule), now)
                    if track.state is AlertState.FIRING:
                        self._save_progress(track)
                except Exception as exc:
                    log.exception("Alert rule %s could not be evaluated", rule.name)
                    track.message = f"could not be evaluated: {type(exc).__name__}: {exc}"
                effects += [(rule, *effect) for effect in track.effects]
                track.effects.clear()
            self.last_evaluated = datetime.fromtimestamp(now, UTC)
        for rule, kind, record, text in effects:
            self._announce(rule, kind, record, text)
        return self.statuses()

    def _frame(self, now: float) -> pd.DataFrame | None:
        """One read of the samples every metric rule needs."""
        now_ns = int(now * _NS)
        starts = []
        for rule in self.rules:
            if isinstance(rule.rule, MetricRule):
                track = self._tracks[rule.name]
                if track.last_ns is not None:
                    starts.append(track.last_ns)
                else:
                    starts.append(now_ns - int((rule.rule.seconds + self.gap_seconds) * _NS))
        if not starts:
            return None
        start = min(min(starts), now_ns)
        window = Window(pd.Timestamp(start, unit="ns", tz="UTC"), pd.Timestamp(now_ns, unit="ns", tz="UTC"))
        return self.inputs.history(window)

    def _judge_samples(self, rule: CompiledRule, track: _Track, frame: pd.DataFrame | None, now: float) -> None:
        spec = rule.rule
        assert isinstance(spec, MetricRule)
        now_ns = int(now * _NS)
        columns = _columns_of(spec, [] if frame is None else list(frame.columns))
        if frame is None or not columns:
            track.holds = None
            track.message = f"no samples of {spec.column} yet"
            return
        ns = time_index(frame).as_unit("ns").asi8
        lo = track.last_ns if track.last_ns is not None else now_ns - int((spec.seconds + self.gap_seconds) * _NS) - 1
        picked = (ns > lo) & (ns <= now_ns)
        values = frame.loc[picked, columns].to_numpy(dtype=np.float64)
        times = ns[picked]
        worst, which, satisfied = _judge_rows(spec, values)
        gap_ns = int(self.gap_seconds * _NS)
        for i, t_ns in enumerate(times.tolist()):
            t = t_ns / _NS
            if track.last_ns is not None and t_ns - track.last_ns > gap_ns:
                self._break(track)
            track.last_ns = t_ns
            value = float(worst[i])
            if math.isnan(value):
                self._break(track)
                continue
            track.last_valid_ns = t_ns
            track.value, track.column = value, columns[int(which[i])]
            if satisfied[i]:
                track.holds = True
                if track.state in (AlertState.OK, AlertState.RESOLVED):
                    self._move(track, AlertState.PENDING, t)
                if track.began is None:
                    track.began = t
                    track.reset_stats()
                track.add(value)
                if track.state is AlertState.PENDING and t - track.began >= spec.seconds:
                    self._fire(rule, track, t)
            else:
                track.holds = False
                self._clear(rule, track, t)
        track.message = self._metric_message(rule, track, now_ns)

    def _break(self, track: _Track) -> None:
        """A gap or an empty reading: a pending rule's count starts again."""
        if track.state is AlertState.PENDING:
            track.began = None
            track.reset_stats()

    def _judge_now(self, rule: CompiledRule, track: _Track, seen: _Observation, now: float) -> None:
        track.value = seen.value
        track.holds = seen.holds
        if seen.holds is None:
            track.message = seen.message
            return
        if seen.holds:
            if track.state in (AlertState.OK, AlertState.RESOLVED):
                self._move(track, AlertState.PENDING, now)
                track.began = now
                track.reset_stats()
            track.add(seen.value)
            assert track.began is not None
            held = now - track.began
            if track.state is AlertState.PENDING and held >= rule.rule.seconds:
                track.message = seen.message
                self._fire(rule, track, now)
            elif track.state is AlertState.PENDING:
                track.message = f"{seen.message} for {_dur(held)} of {_dur(rule.rule.seconds)}"
            else:
                track.message = seen.message if held < 1 else f"{seen.message} for {_dur(held)}"
            return
        track.message = seen.message
        self._clear(rule, track, now)

    # -- transitions -----------------------------------------------------------
    def _move(self, track: _Track, state: AlertState, at: float) -> None:
        track.state, track.since = state, at

    def _fire(self, rule: CompiledRule, track: _Track, at: float) -> None:
        assert track.began is not None
        self._move(track, AlertState.FIRING, at)
        track.fired, track.ended = at, None
        if isinstance(rule.rule, MetricRule):
            track.message = self._metric_message(rule, track, int(at * _NS))
        track.alert_message = track.message
        try:
            cursor = self.store.execute(
                "INSERT INTO alerts (rule, severity, state, began_at, fired_at, min, max, mean, message)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    rule.name,
                    rule.config.severity,
                    "firing",
                    track.began,
                    at,
                    track.low,
                    track.high,
                    track.mean,
                    track.alert_message,
                ),
            )
            track.alert_id = int(cursor.lastrowid or 0)
        except StoreError:
            # A full disk: it fires all the same (state, event, webhook); only its row is missing.
            track.alert_id = None
        track.effects.append(("fired", self._current(rule, track), track.message))

    def _clear(self, rule: CompiledRule, track: _Track, at: float) -> None:
        """The condition does not hold at ``at``."""
        if track.state is AlertState.PENDING:
            self._move(track, AlertState.OK, at)
            track.began = None
        elif track.state is AlertState.FIRING:
            self._move(track, AlertState.RESOLVED, at)
            track.ended = at
            self._save_progress(track, resolved=True)
            if isinstance(rule.rule, MetricRule):
                reason = self._metric_message(rule, track, int(at * _NS))
            else:
                reason = track.message
            track.effects.append(("resolved", self._current(rule, track), reason))
            track.began = None

    def _save_progress(self, track: _Track, *, resolved: bool = False) -> None:
        if track.alert_id is None:
            return
        try:
            self._write_progress(track, resolved)
        except StoreError:
            # A full disk: the store said why. The figures are written at the next evaluation;
            # a row left firing is closed at the next start.
            pass

    def _write_progress(self, track: _Track, resolved: bool) -> None:
        if resolved:
            self.store.execute(
                "UPDATE alerts SET state = ?, ended_at = ?, min = ?, max = ?, mean = ? WHERE id = ?",
                ("resolved", track.ended, track.low, track.high, track.mean, track.alert_id),
            )
        else:
            self.store.execute(
                "UPDATE alerts SET min = ?, max = ?, mean = ? WHERE id = ?",
                (track.low, track.high, track.mean, track.alert_id),
            )

    def _current(self, rule: CompiledRule, track: _Track) -> AlertRecord:
        return AlertRecord(
            id=track.alert_id or 0,
            rule=rule.name,
            severity=Severity(rule.config.severity),
            state=track.state,
            began_at=_dt(track.began if track.began is not None else track.since or 0.0),
            fired_at=_dt(track.fired),
            ended_at=_dt(track.ended) if track.state is AlertState.RESOLVED else None,
            min=track.low,
            max=track.high,
            mean=track.mean,
            message=track.alert_message,
        )

    def _announce(self, rule: CompiledRule, kind: str, record: AlertRecord, reason: str) -> None:
        if kind == "fired":
            text = f"{rule.name} is firing: {reason}"
            severity = Severity(rule.config.severity)
        else:
            assert record.ended_at is not None
            lasted = (record.ended_at - record.began_at).total_seconds()
            text = f"{rule.name} resolved after {_dur(lasted)}: {reason}"
            severity = Severity.INFO
        self._publish(rule.name, text, severity, record)
        self._notify(rule, record)

    def _publish(self, source: str, message: str, severity: Severity, record: AlertRecord) -> None:
        try:
            self.events.publish(
                EventKind.ALERT, source, message, severity=severity, data=record.model_dump(mode="json")
            )
        except StoreError as exc:  # a full disk: the alert holds all the same
            log.warning("Cannot record the alert event %r: %s", message, exc)
        except Exception:
            log.exception("Could not publish the alert event for %s", source)

    def _notify(self, rule: CompiledRule, record: AlertRecord) -> None:
        if rule.config.webhook and self.notifier is not None:
            self.notifier.notify(
                rule.config.webhook, record, condition=rule.config.rule, description=rule.config.description
            )

    # -- what the rules see ----------------------------------------------------
    def _observe(self, rule: CompiledRule) -> _Observation:
        spec = rule.rule
        if isinstance(spec, ComponentRule):
            state = self.inputs.component_state(spec.component)
            if state is None:
                return _Observation(None, None, f"no state for component {spec.component} yet")
            return _Observation(
                state in _COMPONENT_STATES[spec.condition], None, f"component {spec.component} is {state.value}"
            )
        if isinstance(spec, AgentRule):
            return _observe_agents(spec, self.inputs.agents())
        assert isinstance(spec, SuiteRule)
        return _observe_suite(spec, self.inputs.last_full_run(spec.suite))

    def _metric_message(self, rule: CompiledRule, track: _Track, now_ns: int) -> str:
        spec = rule.rule
        assert isinstance(spec, MetricRule)
        if track.last_valid_ns is None:
            return f"no readings of {spec.column} yet"
        column = track.column or spec.column
        unit = rule.field.unit if rule.field else ""
        shown = f"{column} is {format_value(track.value, unit)}"
        age = (now_ns - track.last_valid_ns) / _NS
        stale = f"; no reading for {_dur(age)}" if age > self.gap_seconds else ""
        if not track.holds:
            return f"{shown} (not {spec.op} {spec.threshold_text}){stale}"
        cond = f"({spec.op} {spec.threshold_text})"
        if track.began is None:
            return f"{shown} {cond}; counting again after a gap in the samples{stale}"
        held = track.last_valid_ns / _NS - track.began
        if track.state is AlertState.PENDING:
            return f"{shown} {cond} for {_dur(held)} of {_dur(spec.seconds)}{stale}"
        return f"{shown} {cond} for {_dur(held)}{stale}" if held >= 1 else f"{shown} {cond}{stale}"

    # -- reading ---------------------------------------------------------------
    def statuses(self) -> list[RuleStatus]:
        with self._lock:
            out = []
            for rule in self.rules:
                track = self._tracks[rule.name]
                out.append(
                    RuleStatus(
                        name=rule.name,
                        rule=rule.config.rule,
                        severity=Severity(rule.config.severity),
                        description=rule.config.description,
                        state=track.state,
                        since=_dt(track.since),
                        value=track.value,
                        message=track.message,
                        webhook_error=self.notifier.error(rule.name) if self.notifier else None,
                    )
                )
            return out

    def firing(self) -> list[AlertRecord]:
        """The alerts firing now, critical first, then oldest first."""
        with self._lock:
            records = [
                self._current(r, self._tracks[r.name])
                for r in self.rules
                if self._tracks[r.name].state is AlertState.FIRING
            ]
        return sorted(records, key=lambda a: (a.severity is not Severity.CRITICAL, a.fired_at or a.began_at))

    def report(self) -> SafetyReport:
        firing = self.firing()
        severities = {a.severity for a in firing}
        status: SafetyStatus = "critical" if Severity.CRITICAL in severities else "warning" if firing else "safe"
        return SafetyReport(status=status, firing=firing, rules=self.statuses())

    def history(self, limit: int = 100, rule: str | None = None) -> list[AlertRecord]:
        """Alerts from the store, newest first."""
        limit = max(1, min(limit, 1000))
        if rule is None:
            rows = self.store.all("SELECT * FROM alerts ORDER BY id DESC LIMIT ?", (limit,))
        else:
            rows = self.store.all("SELECT * FROM alerts WHERE rule = ? ORDER BY id DESC LIMIT ?", (rule, limit))
        return [_record(r) for r in rows]

    def rule(self, name: str) -> AlertConfig | None:
        return next((r.config for r in self.rules if r.name == name), None)


# -- helpers ---------------------------------------------------------------------------
def _columns_of(spec: MetricRule, columns: list[str]) -> list[str]:
    if spec.label is not None:
        return [spec.column] if spec.column in columns else []
    return [c for c in columns if split_column(c)[0] == spec.field]


def _judge_rows(spec: MetricRule, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: the worst value over the columns, the column it is from, and
    whether any column satisfies the rule (NaN = no reading, never satisfies)."""
    valid = ~np.isnan(values)
    with np.errstate(invalid="ignore"):
        ok = valid & spec.test(values)
    any_valid = valid.any(axis=1)
    if spec.op in (">", ">="):
        which = np.where(valid, values, -np.inf).argmax(axis=1)
    elif spec.op in ("<", "<="):
        which = np.where(valid, values, np.inf).argmin(axis=1)
    else:  # == and !=: a column that satisfies, else any with a reading
        which = np.where(ok.any(axis=1), ok.argmax(axis=1), valid.argmax(axis=1))
    rows = np.arange(len(values))
    worst = values[rows, which] if len(values) else np.empty(0)
    worst = np.where(any_valid, worst, np.nan)
    return worst, which, ok.any(axis=1)


def _observe_agents(spec: AgentRule, agents: list[AgentInfo]) -> _Observation:
    wanted = _AGENT_STATES[spec.condition]
    words = " or ".join(s.value for s in wanted)
    if spec.agent is not None:
        info = next((a for a in agents if a.name == spec.agent), None)
        state = info.state if info is not None else AgentState.MISSING
        seen = f", last seen {_clock(info.last_seen)}" if info is not None and info.last_seen else ""
        return _Observation(state in wanted, None, f"agent {spec.agent} is {state.value}{seen}")
    matching = sorted(a.name for a in agents if a.state in wanted)
    if matching:
        names = ", ".join(matching[:10]) + (f" and {len(matching) - 10} more" if len(matching) > 10 else "")
        n = len(matching)
        return _Observation(True, float(n), f"{n} agent{'s' if n > 1 else ''} {words}: {names}")
    if not agents:
        return _Observation(False, 0.0, "no agents known")
    return _Observation(False, 0.0, f"none of {len(agents)} agent{'s' if len(agents) > 1 else ''} is {words}")


def _observe_suite(spec: SuiteRule, run: RunInfo | None) -> _Observation:
    if run is None:
        return _Observation(False, None, f"suite {spec.suite} has no finished run yet")
    what = f"the last run of {spec.suite} (#{run.id}"
    what += f", ended {_clock(run.ended_at)})" if run.ended_at else ")"
    if run.status not in VERDICT_RUNS:
        return _Observation(None, None, f"{what} was {run.status.value}; the rule keeps its state")
    summary = run.summary()
    return _Observation(run.status in FAILED_RUNS, None, f"{what} {run.status.value}: {summary}")


def _record(row: sqlite3.Row) -> AlertRecord:
    return AlertRecord(
        id=row["id"],
        rule=row["rule"],
        severity=Severity(row["severity"]),
        state=AlertState(row["state"]),
        began_at=_dt(row["began_at"]),
        fired_at=_dt(row["fired_at"]),
        ended_at=_dt(row["ended_at"]),
        min=row["min"],
        max=row["max"],
        mean=row["mean"],
        message=row["message"],
    )


@overload
def _dt(epoch: float) -> datetime: ...
@overload
def _dt(epoch: float | None) -> datetime | None: ...
def _dt(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def _dur(seconds: float) -> str:
    return format_duration(max(0.0, seconds))


def _clock(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
