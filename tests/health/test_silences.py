"""Silences over a real store and the alert engine with a real webhook receiver: matching by
labels, states in time, expiry, the remote and change hooks; a silenced alert records its
interval and notifies nobody, its receiver is told once when the silence ends while it fires."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dashboard_core.config import Config
from dashboard_core.events import EventLog
from dashboard_core.health.alerts import AlertEngine
from dashboard_core.health.silences import SilenceBook, SilenceError
from dashboard_core.health.webhook import WebhookNotifier
from dashboard_core.models import AlertState
from dashboard_core.models.silence_requests import SilenceRequest
from dashboard_core.models.silences import Matcher, Silence
from dashboard_core.store import Store, open_store
from tests.health.test_webhook import Inputs, Receiver, notifiers, serve  # noqa: F401  (fixtures)
from tests.polling import wait_until

T0 = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(T0 + seconds, UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(tmp_path)
    yield store
    store.close()


def test_a_silence_is_pending_active_then_expired_and_mutes_only_what_it_matches(store: Store) -> None:
    clock = Clock()
    book = SilenceBook(store, clock)
    matchers = (
        Matcher(name="component", value="db.*", is_regex=True),
        Matcher(name="severity", value="info", is_equal=False),
    )
    silence = book.create(matchers, at(60), at(120), "ann", "db migration")
    assert (silence.id, silence.state, silence.origin) == ("1", "pending", "dashboard")
    db_alert = {"alertname": "db-down", "severity": "critical", "component": "db-main"}
    assert book.mute_for(db_alert, at(30)) is None  # not started yet
    mute = book.mute_for(db_alert, at(60))
    assert mute is not None and (mute.kind, mute.id, mute.reason, mute.until) == (
        "silence",
        "1",
        "db migration",
        at(120),
    )
    assert book.mute_for({**db_alert, "severity": "info"}, at(60)) is None  # != matcher
    assert book.mute_for({**db_alert, "component": "web"}, at(60)) is None  # the regex is anchored
    assert book.mute_for({"alertname": "cpu-high"}, at(60)) is None  # a missing label is ""
    assert book.mute_for(db_alert, at(120)) is None  # ended
    clock.now = T0 + 90
    assert [s.state for s in book.listing()] == ["active"] and book.listing("pending") == []
    assert book.list() == book.listing()  # the name the Alertmanager sync reads them by
    clock.now = T0 + 200
    assert [s.id for s in book.listing("expired")] == ["1"]


def test_expiring_early_keeps_the_silence_with_its_new_end_and_who_ended_it(store: Store) -> None:
    clock = Clock()
    book = SilenceBook(store, clock)
    told: list[tuple[str, str]] = []
    book.on_change.append(lambda s, change: told.append((s.id, change)))
    active = book.create((Matcher(name="alertname", value="cpu-high"),), at(0), at(3600), "ann", "noisy")
    pending = book.create((Matcher(name="alertname", value="disk"),), at(600), at(3600), "ann", "later")
    clock.now = T0 + 30
    ended = book.expire(active.id, "bob")
    assert (ended.state, ended.ends_at, ended.expired_by) == ("expired", at(30), "bob")
    never = book.expire(pending.id, "bob")  # a pending silence never starts
    assert never.starts_at == never.ends_at == at(30) and never.state == "expired"
    assert book.mute_for({"alertname": "cpu-high"}, at(31)) is None
    with pytest.raises(SilenceError, match="already ended"):
        book.expire(active.id, "bob")
    with pytest.raises(KeyError):
        book.expire("99", "bob")
    assert told == [("1", "created"), ("2", "created"), ("1", "expired"), ("2", "expired")]
    book.set_alertmanager_id("1", "5b2c-uuid")
    assert book.get("1").alertmanager_id == "5b2c-uuid"  # type: ignore[union-attr]


def test_a_silence_that_ends_before_it_starts_or_in_the_past_is_refused(store: Store) -> None:
    book = SilenceBook(store, Clock())
    one = (Matcher(name="alertname", value="x"),)
    with pytest.raises(SilenceError, match="before it starts"):
        book.create(one, at(100), at(50), "ann", "why")
    with pytest.raises(SilenceError, match="in the past"):
        book.create(one, at(-100), at(-50), "ann", "why")
    assert store.one("SELECT COUNT(*) AS n FROM silences")["n"] == 0  # type: ignore[index]


def test_remote_silences_are_listed_and_mute_and_a_failing_source_mutes_nothing(store: Store) -> None:
    book = SilenceBook(store, Clock())
    remote = Silence(
        id="6f1e-uuid",
        matchers=(Matcher(name="team", value="db"),),
        starts_at=at(-60),
        ends_at=at(600),
        created_by="am-user",
        comment="from Alertmanager",
        state="expired",  # whatever it said: the book says what it is now
        origin="alertmanager",
    )
    book.remote.append(lambda: [remote])

    def broken() -> list[Silence]:
        raise ConnectionError("Alertmanager is down")

    book.remote.append(broken)
    listed = book.listing()
    assert [(s.id, s.origin, s.state) for s in listed] == [("6f1e-uuid", "alertmanager", "active")]
    assert book.mute_for({"alertname": "db-slow", "team": "db"}, at(0)) is not None


def test_a_request_becomes_matchers_and_a_bad_one_says_what_is_wrong() -> None:
    request = SilenceRequest(rule="cpu-high", component="db", duration="2h", comment=" deploy ")
    assert [(m.name, m.value) for m in request.all_matchers()] == [("alertname", "cpu-high"), ("component", "db")]
    assert request.comment == "deploy"
    bad = [
        (
            {"matchers": [{"name": "job", "value": "(", "is_regex": True}], "duration": "1h", "comment": "x"},
            "not a regular expression",
        ),
        ({"duration": "1h", "comment": "x"}, "say what to silence"),
        ({"rule": "r", "comment": "x"}, "either ends_at or duration"),
        ({"rule": "r", "duration": "1h", "comment": "  "}, "say why"),
        ({"matchers": [{"name": "bad-name", "value": "x"}], "duration": "1h", "comment": "x"}, "pattern"),
    ]
    for body, words in bad:
        with pytest.raises(ValueError, match=words):
            SilenceRequest.model_validate(body)


# -- through the engine --------------------------------------------------------------------
def engine_with_webhook(store: Store, url: str, notifier: WebhookNotifier, clock: Clock) -> tuple[AlertEngine, Inputs]:
    config = Config.model_validate(
        {
            "alerts": [
                {
                    "name": "cpu-high",
                    "rule": "cpu.total > 90",
                    "severity": "critical",
                    "webhook": url,
                    "labels": {"team": "ops"},
                }
            ],
            "alerting": {"webhook_timeout_seconds": 5, "webhook_attempts": 1},
        }
    )
    inputs = Inputs()
    return AlertEngine(config, store, EventLog(store), inputs, notifier=notifier, clock=clock), inputs


def busy(engine: AlertEngine, inputs: Inputs, clock: Clock, seconds: float, cpu: float) -> None:
    clock.now = T0 + seconds
    inputs.frame.append(int((clock.now - 0.5) * 1e9), {"cpu.total": cpu})
    engine.evaluate(clock.now)


def test_a_silenced_alert_records_its_interval_notifies_nobody_and_is_told_once_when_the_silence_ends(
    serve: Callable[..., Receiver],  # noqa: F811  (the fixtures of test_webhook)
    notifiers: Callable[..., WebhookNotifier],  # noqa: F811
    store: Store,
) -> None:
    receiver, clock = serve(), Clock()
    engine, inputs = engine_with_webhook(store, receiver.url, notifiers(backoff_base=0.01), clock)
    engine.notifier.start()  # type: ignore[union-attr]  # not engine.start(): the test drives evaluate
    try:
        silence = engine.silences.create((Matcher(name="team", value="ops"),), at(0), at(100), "ann", "load test")
        busy(engine, inputs, clock, 10, 99.0)  # fires, silenced
        busy(engine, inputs, clock, 20, 98.0)
        [firing] = engine.firing()
        assert firing.state is AlertState.FIRING and firing.muted is not None and firing.muted.id == silence.id
        [row] = engine.history()
        assert row.state is AlertState.FIRING and row.muted == firing.muted  # kept with the row
        clock.now = T0 + 30
        engine.silences.expire(silence.id, "ann")
        busy(engine, inputs, clock, 31, 97.0)  # still firing, the silence over: told now, once
        busy(engine, inputs, clock, 32, 97.0)
        wait_until(lambda: receiver.accepted, timeout=30, what="the notification once the silence ended")
        assert engine.firing()[0].muted is None
        busy(engine, inputs, clock, 40, 10.0)  # resolves: its receiver was told it fired, so is told it ended
        wait_until(lambda: len(receiver.accepted) == 2, timeout=30, what="the resolution")
    finally:
        engine.stop()
    assert [(b["state"], b["alert"]["id"], b["alert"]["muted"]) for b in receiver.accepted] == [
        ("firing", row.id, None),  # nothing came before it: the notifier keeps a rule's order
        ("resolved", row.id, None),
    ]
    assert receiver.accepted[0]["alert"]["min"] == 97.0  # sent after the readings of 97 (at 31 s), not when it fired
    [done] = engine.history()
    assert done.state is AlertState.RESOLVED and done.ended_at == at(39.5) and done.max == 99.0


def test_an_alert_silenced_from_start_to_end_tells_nobody_even_after_a_restart(
    serve: Callable[..., Receiver],  # noqa: F811  (the fixtures of test_webhook)
    notifiers: Callable[..., WebhookNotifier],  # noqa: F811
    store: Store,
) -> None:
    receiver, clock = serve(), Clock()
    engine, inputs = engine_with_webhook(store, receiver.url, notifiers(backoff_base=0.01), clock)
    engine.notifier.start()  # type: ignore[union-attr]
    try:
        engine.silences.create((Matcher(name="alertname", value="cpu-high"),), at(0), at(1000), "ann", "quiet")
        busy(engine, inputs, clock, 10, 99.0)
        busy(engine, inputs, clock, 20, 10.0)  # resolved, silenced throughout: nobody was told, nobody is
        busy(engine, inputs, clock, 30, 99.0)  # fires again, silenced, and the dashboard stops
        assert [r.muted is not None for r in engine.history()] == [True, True]
        again, _ = engine_with_webhook(store, receiver.url, engine.notifier, clock)  # type: ignore[arg-type]
        closed = again.recover(T0 + 40)
        assert [r.state for r in closed] == [AlertState.RESOLVED]
        engine.silences.expire("1", "ann")
        busy(engine, inputs, clock, 50, 10.0)
        # A marker after them: a rule told of now; the notifier sends in order, so nothing was sent before it.
        other = engine_with_webhook(store, receiver.url, engine.notifier, clock)[0]  # type: ignore[arg-type]
        other._announcer.notify(other.rules[0], engine.history()[0].model_copy(update={"muted": None}))
        wait_until(lambda: receiver.accepted, timeout=30, what="the marker")
    finally:
        engine.stop()
    assert len(receiver.accepted) == 1


def test_an_acknowledgement_is_kept_with_the_alert(
    store: Store,
    notifiers: Callable[..., WebhookNotifier],  # noqa: F811
) -> None:
    clock = Clock()
    engine, inputs = engine_with_webhook(store, "http://127.0.0.1:9/hook", notifiers(), clock)
    busy(engine, inputs, clock, 10, 99.0)
    [firing] = engine.firing()
    assert firing.acknowledged is None
    acked = engine.quiet.acknowledge(firing, "ann", "on it", at(12))
    assert acked.acknowledged is not None and (acked.acknowledged.by, acked.acknowledged.note) == ("ann", "on it")
    assert engine.firing()[0].acknowledged == acked.acknowledged
    assert engine.history()[0].acknowledged == acked.acknowledged
    row = store.one("SELECT ack_by, ack_at FROM alerts WHERE id = ?", (firing.id,))
    assert isinstance(row, sqlite3.Row) and (row["ack_by"], row["ack_at"]) == ("ann", T0 + 12)


def test_matchers_typed_as_text_become_matchers_and_a_wrong_one_is_named() -> None:
    from dashboard_core.health.silence_views import parse_matchers

    typed = 'component=db, severity!=info\nagent=~"gpu-.*", job!~"a,b"'
    assert [(m.name, m.value, m.is_regex, m.is_equal) for m in parse_matchers(typed)] == [
        ("component", "db", False, True),
        ("severity", "info", False, False),
        ("agent", "gpu-.*", True, True),
        ("job", "a,b", True, False),  # a comma inside quotes is the value's
    ]
    assert parse_matchers("  ") == []
    with pytest.raises(ValueError, match="'team' is no matcher"):
        parse_matchers("component=db, team")
