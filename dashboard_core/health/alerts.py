"""The alert engine: safety rules evaluated on a thread, alerts kept as intervals.

States, per rule::

    ok ──holds──> pending ──held for its duration──> firing ──no longer holds──> resolved
     ^              │                                                         │
     └─ stops ──────┘                     holds again: pending <──────────────┘

- *pending* starts when the condition first holds; it becomes *firing* once it
  has held for the rule's ``for`` duration (at once without one).
- *resolved* is kept (with its time) until the condition holds again, so the
  UI shows that a rule fired and ended; it is not firing, so the report is safe.

The engine owns the thread, the lock and the parts, each in its own module:
judging the rules (:mod:`~dashboard_core.health.alert_judge`: how metric rules
read their samples, and the other rules what :class:`AlertInputs` says now), the
store's ``alerts`` rows (:mod:`~dashboard_core.health.alert_history`), telling
about them (:mod:`~dashboard_core.health.alert_notify`: events and the
:class:`WebhookNotifier`, which never blocks an evaluation) and what the pages
and the API show (:mod:`~dashboard_core.health.alert_views`). Alerts left firing
by a previous process are closed as resolved at :meth:`AlertEngine.start`,
saying the dashboard restarted.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from dashboard_core.config import AlertConfig, Config
from dashboard_core.events import EventLog
from dashboard_core.health.alert_history import RESTART_NOTE, AlertHistory
from dashboard_core.health.alert_judge import AlertInputs, RuleJudge
from dashboard_core.health.alert_labels import alert_labels, firing_labels
from dashboard_core.health.alert_notify import AlertAnnouncer
from dashboard_core.health.alert_quiet import AlertQuiet
from dashboard_core.health.alert_views import firing_now, rule_statuses, safety_report, worst_first
from dashboard_core.health.channels import ChannelNotifier, has_channels
from dashboard_core.health.compiled_rules import CompiledRule, compile_rules, field_table
from dashboard_core.health.mutes import Mutes
from dashboard_core.health.silences import SilenceBook
from dashboard_core.health.webhook import WebhookNotifier
from dashboard_core.metrics.fields import FieldTable
from dashboard_core.models import AlertRecord, RuleStatus, SafetyReport, Severity
from dashboard_core.store import Store

__all__ = ["RESTART_NOTE", "AlertEngine", "AlertInputs"]

log = logging.getLogger(__name__)


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
        channels: ChannelNotifier | None = None,
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
        if channels is None and has_channels(config):
            channels = ChannelNotifier.from_config(config)
        self.channels = channels  # Apprise URLs (health/channels.py)
        self._history = AlertHistory(store)
        self._judge = RuleJudge(self.rules, inputs, self._history, self.gap_seconds)
        self._announcer = AlertAnnouncer(events, notifier, channels)
        self.mutes = Mutes()  # silences and maintenance windows add themselves (Runtime)
        self.labels = {r.name: alert_labels(r) for r in self.rules}
        self.silences = SilenceBook(store, clock)  # the first mute source; maintenance windows come after
        self.mutes.add(self.silences)
        self.quiet = AlertQuiet(store)  # whom a muted alert has told, and its acknowledgement
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
        if self.channels is not None:
            self.channels.start()
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
        if self.channels is not None:
            self.channels.stop()

    def _loop(self) -> None:
        every = self.interval if self.rules else None  # no rules: nothing to wake up for until stop
        while True:
            try:
                self.evaluate()
            except Exception:
                log.exception("Evaluating the alert rules failed")
            if self._stop.wait(every):
                return

    def recover(self, now: float | None = None) -> list[AlertRecord]:
        """Close every alert the store says is still firing (a previous process
        stopped while it fired) as resolved, with a note; publish each."""
        now = self.clock() if now is None else now
        closed: list[AlertRecord] = []
        for record in self._history.close_left_firing(now):
            closed.append(record)
            self._announcer.publish(record.rule, f"{record.rule}: {RESTART_NOTE}", Severity.INFO, record)
            rule = next((r for r in self.rules if r.name == record.rule), None)
            if rule is not None:
                self._announcer.notify(rule, self.quiet.closed_at_start(record))
        if closed:
            log.warning("Closed %d alert(s) left firing by a previous run of the dashboard", len(closed))
        return closed

    # -- evaluation ------------------------------------------------------------
    def evaluate(self, now: float | None = None) -> list[RuleStatus]:
        """Judge every rule at ``now`` (epoch seconds; default the clock)."""
        now = self.clock() if now is None else now
        with self._lock:
            effects = self._judge.judge_all(now)
            self.last_evaluated = datetime.fromtimestamp(now, UTC)
        for rule, kind, record, text in effects:
            if kind == "fired":
                record = self.quiet.fired(record, self.mute(rule, record, now).muted)
            else:
                record = self.quiet.resolved(record)
            self._announcer.announce(rule, kind, record, text)
        self._recheck_mutes(now)
        return self.statuses()

    def _recheck_mutes(self, now: float) -> None:
        """A silence may start or end while an alert fires: keep its mark current, and
        notify once when the last mute of an alert nobody was told about ends (alert_quiet)."""
        with self._lock:
            records = firing_now(self.rules, self._judge.tracks)
        by_name = {r.name: r for r in self.rules}
        for record in records:
            rule = by_name[record.rule]
            unmuted = self.quiet.recheck(record, self.mute(rule, record, now).muted)
            if unmuted is not None:
                self._announcer.notify(rule, unmuted)

    def mute(self, rule: CompiledRule, record: AlertRecord, now: float) -> AlertRecord:
        """The record marked with the silence or maintenance window covering it now, if any."""
        mute = self.mutes.mute_for(self.labels_now(rule.name), datetime.fromtimestamp(now, UTC))
        return record if mute is None else record.model_copy(update={"muted": mute})

    def labels_now(self, name: str) -> dict[str, str]:
        """The rule's labels, and ``test`` while its alert names one test (a rule over test results)."""
        return firing_labels(self.labels[name], self._judge.tracks[name].tests)

    # -- reading ---------------------------------------------------------------
    def statuses(self) -> list[RuleStatus]:
        with self._lock:
            return rule_statuses(
                self.rules, self._judge.tracks, self._announcer.webhook_error, self._announcer.channel_errors
            )

    def firing(self) -> list[AlertRecord]:
        """The alerts firing now, critical first, then oldest first."""
        with self._lock:
            records = firing_now(self.rules, self._judge.tracks)
        return worst_first([self.quiet.marked(r) for r in records])

    def report(self) -> SafetyReport:
        """What fires, every rule's state, and the silence or maintenance window covering each
        rule now (asked here, for the pages and the API, not at every evaluation)."""
        statuses = self.statuses()
        at = datetime.fromtimestamp(self.clock(), UTC)
        for status in statuses:
            status.muted = self.mutes.mute_for(self.labels_now(status.name), at)
        return safety_report(self.firing(), statuses)

    def history(self, limit: int = 100, rule: str | None = None) -> list[AlertRecord]:
        """Alerts from the store, newest first."""
        return self._history.read(limit, rule)

    def rule(self, name: str) -> AlertConfig | None:
        return next((r.config for r in self.rules if r.name == name), None)
