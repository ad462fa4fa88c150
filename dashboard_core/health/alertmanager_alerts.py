"""Firing alerts to Prometheus Alertmanager, from a thread of its own.

Alertmanager keeps an alert until its ``endsAt``. So, as Prometheus does, the
forwarder posts every alert firing now, each saying it ends a few posts ahead
(:data:`ENDS_AFTER` times ``repost_seconds``), and posts them again every
``repost_seconds`` while they fire: if the dashboard stops, Alertmanager resolves
them by itself a little later. An alert that resolves is posted once more with
``endsAt`` = when it ended, so Alertmanager resolves it at once.

The alert engine never waits for this: the forwarder reads
:meth:`AlertEngine.firing` on its own thread, woken early by the ``alert``
events the engine publishes (a new firing goes out within a moment, not a
``repost_seconds`` later). A failed post is kept for the UI (:meth:`error`),
logged once, and tried again sooner; its alerts are all in the next post.

An alert muted by a maintenance window is not posted (nobody is to be told); one
muted by a silence is posted when Alertmanager has that silence too (it shows
the alert as suppressed there), as the silence sync says (``in_alertmanager``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from dashboard_core.events import EventLog
from dashboard_core.health.alert_labels import alert_url
from dashboard_core.health.alertmanager import AlertmanagerClient, AlertmanagerError, rfc3339
from dashboard_core.health.alerts import AlertEngine
from dashboard_core.logonce import recovered, warn_once
from dashboard_core.models import AlertRecord, AlertState, Event, EventKind

log = logging.getLogger(__name__)

ENDS_AFTER = 4  # a posted alert ends this many repost intervals later unless posted again
RETRY_SECONDS = 5.0  # after a failed post, try again this soon (at most repost_seconds)
MAX_ENDED = 1000  # resolved alerts waiting to be posted, at most (the oldest are dropped)

_Key = tuple[str, int]  # (rule, alert record id)


class AlertForwarder:
    def __init__(
        self,
        engine: AlertEngine,
        client: AlertmanagerClient,
        *,
        repost_seconds: float,
        public_url: str | None = None,
        events: EventLog | None = None,
        in_alertmanager: Callable[[str], bool] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """``events``: the log the engine publishes to (default the engine's); its
        ``alert`` events wake the forwarder. ``in_alertmanager(silence_id)``: does
        Alertmanager hold that silence too (default: no)."""
        self.engine = engine
        self.client = client
        self.repost_seconds = repost_seconds
        self.public_url = public_url
        self.in_alertmanager = in_alertmanager or (lambda _id: False)
        self.clock = clock or engine.clock
        self._events = events or engine.events
        self._unsubscribe: Callable[[], None] | None = None
        self._posted: dict[_Key, AlertRecord] = {}  # firing alerts Alertmanager has from us
        self._ended: dict[_Key, AlertRecord] = {}  # resolved, to be posted with their endsAt
        self._cond = threading.Condition()
        self._woken = False
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._error: str | None = None
        self.posts = 0  # successful posts

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> None:
        with self._cond:
            if self._thread is not None:
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="alertmanager-alerts", daemon=True)
            self._thread.start()

    def subscribe(self) -> None:
        """Hear the engine's alert events (before the engine starts: the alerts its
        recovery closes are then ended in Alertmanager too)."""
        if self._unsubscribe is None:
            self._unsubscribe = self._events.subscribe(self._on_event)

    def stop(self) -> None:
        """Stop the thread; Alertmanager resolves what we posted by their endsAt."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        with self._cond:
            thread, self._thread = self._thread, None
            self._stopping = True
            self._cond.notify_all()
        if thread is not None:
            thread.join(self.client.timeout + 5)

    # -- what the UI reads -----------------------------------------------------
    def error(self) -> str | None:
        """The last failure to post, None once a post succeeds."""
        with self._cond:
            return self._error

    # -- the engine's side -----------------------------------------------------
    def _on_event(self, event: Event) -> None:
        """An alert fired or resolved: post soon. A resolved one is remembered with its end."""
        if event.kind != EventKind.ALERT or not event.data:
            return
        try:
            record = AlertRecord.model_validate(event.data)
        except ValueError:
            return
        with self._cond:
            if record.state == AlertState.RESOLVED and record.ended_at is not None:
                self._ended[(record.rule, record.id)] = record
                while len(self._ended) > MAX_ENDED:
                    del self._ended[next(iter(self._ended))]
            self._woken = True
            self._cond.notify_all()

    # -- the worker ------------------------------------------------------------
    def _run(self) -> None:
        wait = 0.0  # post at once: what fires now (and what recovery closed)
        while True:
            with self._cond:
                if not self._woken and not self._stopping:
                    self._cond.wait(wait)
                if self._stopping:
                    return
                self._woken = False
            try:
                ok = self.post_once()
            except Exception:  # a bug must not end the forwarding
                log.exception("Posting alerts to Alertmanager failed unexpectedly")
                ok = False
            wait = self.repost_seconds if ok else min(self.repost_seconds, RETRY_SECONDS)

    def post_once(self, now: float | None = None) -> bool:
        """Post what fires now (ending in ENDS_AFTER intervals) and what ended since
        the last post; True if Alertmanager took it."""
        now = self.clock() if now is None else now
        at = datetime.fromtimestamp(now, UTC)
        firing: dict[_Key, AlertRecord] = {}
        for record in self.engine.firing():
            if record.rule not in self.engine.labels:
                continue
            labels = self.engine.labels_now(record.rule)  # with the one test it names, if any
            mute = self.engine.mutes.mute_for(labels, at)
            if mute is not None and not (mute.kind == "silence" and self.in_alertmanager(mute.id)):
                continue  # nobody is to be told (a maintenance window, or a silence Alertmanager lacks)
            firing[(record.rule, record.id)] = record
        with self._cond:
            ended = dict(self._ended)
            gone = {k: r for k, r in self._posted.items() if k not in firing and k not in ended}
        until = at + timedelta(seconds=ENDS_AFTER * self.repost_seconds)
        body = [self._alert(record, until) for record in firing.values()]
        body += [self._alert(record, record.ended_at or at) for record in ended.values() if record.ended_at]
        body += [self._alert(record, at) for record in gone.values()]  # muted since, or an event missed
        try:
            self.client.post_alerts(body)
        except AlertmanagerError as exc:
            with self._cond:
                self._error = str(exc)
            warn_once(log, f"alertmanager-alerts:{self.client.base_url}", "%s (trying again)", exc)
            return False
        with self._cond:
            self._error = None
            self._posted = firing
            for key in ended:
                self._ended.pop(key, None)
            self.posts += 1
        recovered(log, f"alertmanager-alerts:{self.client.base_url}", "Alertmanager takes alerts again")
        return True

    def _alert(self, record: AlertRecord, ends_at: datetime) -> dict[str, Any]:
        """One alert in API v2's shape."""
        labels = (
            self.engine.labels_now(record.rule) if record.rule in self.engine.labels else {"alertname": record.rule}
        )
        config = self.engine.rule(record.rule)
        annotations = {"summary": record.message or f"{record.rule} is firing"}
        if config is not None:
            annotations["rule"] = config.rule
            if config.description:
                annotations["description"] = config.description
        starts = record.fired_at or record.began_at
        alert: dict[str, Any] = {
            "labels": dict(labels),
            "annotations": annotations,
            "startsAt": rfc3339(starts),
            "endsAt": rfc3339(max(ends_at, starts)),
        }
        url = alert_url(self.public_url, record.rule)
        if url is not None:
            alert["generatorURL"] = url
        return alert
