"""Judging the safety rules: each rule's track moves through its states, and an
alert is an interval from the first moment the condition held to its end.

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
- The event rules over test results (``suite <name|any> new flaky | regression |
  gate failed``) hold while the suite's newest run shows the event, so an alert is
  about a run: see :mod:`~dashboard_core.health.suite_events`. A suite rule's alert
  keeps the run it is about (``run_id``) for its links.
"""

from __future__ import annotations

import logging
import math
from typing import Protocol

import numpy as np

from dashboard_core.health.alert_history import AlertHistory
from dashboard_core.health.alert_state import (
    NS,
    Observation,
    RuleTrack,
    clock_text,
    current_record,
    duration_text,
)
from dashboard_core.health.compiled_rules import CompiledRule
from dashboard_core.health.rules import AgentRule, ComponentRule, MetricRule, SuiteRule
from dashboard_core.health.suite_events import observe_suite_events
from dashboard_core.metrics.fields import split_column
from dashboard_core.metrics.frame import Rows
from dashboard_core.models import AgentInfo, AgentState, AlertRecord, AlertState, ComponentState, RunInfo, RunStatus
from dashboard_core.models.findings import SuiteEvent, SuiteFinding
from dashboard_core.units import format_value

log = logging.getLogger(__name__)

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

Effect = tuple[CompiledRule, str, AlertRecord, str]  # the rule, "fired" or "resolved", the alert, why


class AlertInputs(Protocol):
    """What the rules read; the Runtime provides it."""

    def samples(self, start_ns: int, end_ns: int) -> Rows:
        """Metric samples with ``start_ns <= t <= end_ns`` (ns since the epoch, UTC), oldest
        first, as numpy arrays: the rules run in an idle server, which loads no pandas."""
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

    def suite_findings(self, suite: str | None, event: SuiteEvent) -> list[SuiteFinding]:
        """What the newest run of ``suite`` (of each configured suite for None) shows of
        ``event`` (:mod:`dashboard_core.testing.findings` says how each is read)."""
        ...


class RuleJudge:
    """Every rule's track, and the state machine that moves it. The caller holds the
    engine's lock; what is to be told (fired, resolved) comes back as effects."""

    def __init__(
        self, rules: list[CompiledRule], inputs: AlertInputs, history: AlertHistory, gap_seconds: float
    ) -> None:
        self.rules = rules
        self.inputs = inputs
        self.history = history
        self.gap_seconds = gap_seconds
        self.tracks: dict[str, RuleTrack] = {r.name: RuleTrack() for r in rules}

    def judge_all(self, now: float) -> list[Effect]:
        """Judge every rule at ``now`` (epoch seconds); a rule that fails says so in its message."""
        effects: list[Effect] = []
        rows = self._rows(now)
        for rule in self.rules:
            track = self.tracks[rule.name]
            try:
                if isinstance(rule.rule, MetricRule):
                    self._judge_samples(rule, track, rows, now)
                else:
                    self._judge_now(rule, track, self._observe(rule), now)
                if track.state is AlertState.FIRING:
                    self.history.save_progress(track)
            except Exception as exc:
                log.exception("Alert rule %s could not be evaluated", rule.name)
                track.message = f"could not be evaluated: {type(exc).__name__}: {exc}"
            effects += [(rule, *effect) for effect in track.effects]
            track.effects.clear()
        return effects

    def _rows(self, now: float) -> Rows | None:
        """One read of the samples every metric rule needs."""
        now_ns = int(now * NS)
        starts = []
        for rule in self.rules:
            if isinstance(rule.rule, MetricRule):
                track = self.tracks[rule.name]
                if track.last_ns is not None:
                    starts.append(track.last_ns)
                else:
                    starts.append(now_ns - int((rule.rule.seconds + self.gap_seconds) * NS))
        if not starts:
            return None
        return self.inputs.samples(min(min(starts), now_ns), now_ns)

    def _judge_samples(self, rule: CompiledRule, track: RuleTrack, rows: Rows | None, now: float) -> None:
        spec = rule.rule
        assert isinstance(spec, MetricRule)
        now_ns = int(now * NS)
        columns = _columns_of(spec, [] if rows is None else rows.columns)
        if rows is None or not columns:
            track.holds = None
            track.message = f"no samples of {spec.column} yet"
            return
        ns = rows.ts_ns
        lo = track.last_ns if track.last_ns is not None else now_ns - int((spec.seconds + self.gap_seconds) * NS) - 1
        picked = (ns > lo) & (ns <= now_ns)
        where = {name: i for i, name in enumerate(rows.columns)}
        values = rows.values[picked][:, [where[c] for c in columns]]
        times = ns[picked]
        worst, which, satisfied = _judge_rows(spec, values)
        gap_ns = int(self.gap_seconds * NS)
        for i, t_ns in enumerate(times.tolist()):
            t = t_ns / NS
            if track.last_ns is not None and t_ns - track.last_ns > gap_ns:
                self._break(rule, track)
            track.last_ns = t_ns
            value = float(worst[i])
            if math.isnan(value):
                self._break(rule, track)
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

    def _break(self, rule: CompiledRule, track: RuleTrack) -> None:
        """A gap or an empty reading: a pending rule's count starts again (what it held
        so far, up to its last reading, is kept as a pending time)."""
        if track.state is AlertState.PENDING:
            if track.began is not None and track.last_valid_ns is not None:
                self.history.pending_ended(rule, track, max(track.began, track.last_valid_ns / NS))
            track.began = None
            track.reset_stats()

    def _judge_now(self, rule: CompiledRule, track: RuleTrack, seen: Observation, now: float) -> None:
        track.value = seen.value
        track.holds = seen.holds
        if seen.holds is None:
            track.message = seen.message
            return
        if seen.holds:
            if track.state is AlertState.FIRING and not set(seen.tests) <= set(track.tests):
                track.message = f"a later run names other tests: {seen.message}"
                self._clear(rule, track, now)  # that alert ends; a new one fires for them
            if track.state in (AlertState.OK, AlertState.RESOLVED):
                self._move(track, AlertState.PENDING, now)
                track.began = now
                track.reset_stats()
            track.add(seen.value)
            assert track.began is not None
            held = now - track.began
            if track.state is AlertState.PENDING and held >= rule.rule.seconds:
                track.message = seen.message
                track.run_id, track.tests = seen.run_id, seen.tests
                self._fire(rule, track, now)
            elif track.state is AlertState.PENDING:
                track.message = f"{seen.message} for {duration_text(held)} of {duration_text(rule.rule.seconds)}"
            else:
                track.message = seen.message if held < 1 else f"{seen.message} for {duration_text(held)}"
            return
        track.message = seen.message
        self._clear(rule, track, now)

    def _move(self, track: RuleTrack, state: AlertState, at: float) -> None:
        track.state, track.since = state, at

    def _fire(self, rule: CompiledRule, track: RuleTrack, at: float) -> None:
        assert track.began is not None
        self._move(track, AlertState.FIRING, at)
        track.fired, track.ended = at, None
        if isinstance(rule.rule, MetricRule):
            track.message = self._metric_message(rule, track, int(at * NS))
        track.alert_message = track.message
        track.alert_id = self.history.open(rule, track, at)
        track.effects.append(("fired", current_record(rule, track), track.message))

    def _clear(self, rule: CompiledRule, track: RuleTrack, at: float) -> None:
        """The condition does not hold at ``at``."""
        if track.state is AlertState.PENDING:
            self.history.pending_ended(rule, track, at)  # it held, not long enough: the time axis shows it
            self._move(track, AlertState.OK, at)
            track.began = None
        elif track.state is AlertState.FIRING:
            self._move(track, AlertState.RESOLVED, at)
            track.ended = at
            self.history.save_progress(track, resolved=True)
            if isinstance(rule.rule, MetricRule):
                reason = self._metric_message(rule, track, int(at * NS))
            else:
                reason = track.message
            track.effects.append(("resolved", current_record(rule, track), reason))
            track.began = None

    def _observe(self, rule: CompiledRule) -> Observation:
        spec = rule.rule
        if isinstance(spec, ComponentRule):
            state = self.inputs.component_state(spec.component)
            if state is None:
                return Observation(None, None, f"no state for component {spec.component} yet")
            return Observation(
                state in _COMPONENT_STATES[spec.condition], None, f"component {spec.component} is {state.value}"
            )
        if isinstance(spec, AgentRule):
            return _observe_agents(spec, self.inputs.agents())
        assert isinstance(spec, SuiteRule)
        if spec.event != "failed":
            return observe_suite_events(spec, self.inputs.suite_findings(spec.suite, spec.event))
        assert spec.suite is not None  # `suite <name> failed` always names its suite
        return _observe_suite(spec, self.inputs.last_full_run(spec.suite))

    def _metric_message(self, rule: CompiledRule, track: RuleTrack, now_ns: int) -> str:
        spec = rule.rule
        assert isinstance(spec, MetricRule)
        if track.last_valid_ns is None:
            return f"no readings of {spec.column} yet"
        column = track.column or spec.column
        unit = rule.field.unit if rule.field else ""
        shown = f"{column} is {format_value(track.value, unit)}"
        age = (now_ns - track.last_valid_ns) / NS
        stale = f"; no reading for {duration_text(age)}" if age > self.gap_seconds else ""
        if not track.holds:
            return f"{shown} (not {spec.op} {spec.threshold_text}){stale}"
        cond = f"({spec.op} {spec.threshold_text})"
        if track.began is None:
            return f"{shown} {cond}; counting again after a gap in the samples{stale}"
        held = track.last_valid_ns / NS - track.began
        if track.state is AlertState.PENDING:
            return f"{shown} {cond} for {duration_text(held)} of {duration_text(spec.seconds)}{stale}"
        return f"{shown} {cond} for {duration_text(held)}{stale}" if held >= 1 else f"{shown} {cond}{stale}"


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


def _observe_agents(spec: AgentRule, agents: list[AgentInfo]) -> Observation:
    wanted = _AGENT_STATES[spec.condition]
    words = " or ".join(s.value for s in wanted)
    if spec.agent is not None:
        info = next((a for a in agents if a.name == spec.agent), None)
        state = info.state if info is not None else AgentState.MISSING
        seen = f", last seen {clock_text(info.last_seen)}" if info is not None and info.last_seen else ""
        return Observation(state in wanted, None, f"agent {spec.agent} is {state.value}{seen}")
    matching = sorted(a.name for a in agents if a.state in wanted)
    if matching:
        names = ", ".join(matching[:10]) + (f" and {len(matching) - 10} more" if len(matching) > 10 else "")
        n = len(matching)
        return Observation(True, float(n), f"{n} agent{'s' if n > 1 else ''} {words}: {names}")
    if not agents:
        return Observation(False, 0.0, "no agents known")
    return Observation(False, 0.0, f"none of {len(agents)} agent{'s' if len(agents) > 1 else ''} is {words}")


def _observe_suite(spec: SuiteRule, run: RunInfo | None) -> Observation:
    if run is None:
        return Observation(False, None, f"suite {spec.suite} has no finished run yet")
    what = f"the last run of {spec.suite} (#{run.id}"
    what += f", ended {clock_text(run.ended_at)})" if run.ended_at else ")"
    if run.status not in VERDICT_RUNS:
        return Observation(None, None, f"{what} was {run.status.value}; the rule keeps its state")
    summary = run.summary()
    return Observation(run.status in FAILED_RUNS, None, f"{what} {run.status.value}: {summary}", run_id=run.id)
