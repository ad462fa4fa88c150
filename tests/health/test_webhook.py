"""Webhook notifications against a real HTTP server on this machine: retries
with back-off, failures kept for the UI, a full queue, and an engine that never
waits on a receiver."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from dashboard_core.config import Config
from dashboard_core.events import EventLog
from dashboard_core.health.alerts import AlertEngine
from dashboard_core.health.webhook import WebhookNotifier
from dashboard_core.metrics.frame import RollingFrame, Rows
from dashboard_core.models import AgentInfo, AlertRecord, AlertState, ComponentState, RunInfo, Severity
from dashboard_core.store import Store, open_store
from tests.polling import wait_until

T0 = 1_800_000_000.0


class Receiver:
    """A webhook receiver: answers 500 to the first ``fail_first`` POSTs (or to
    all while ``failing``), or holds each request until released (``hang``)."""

    def __init__(self, fail_first: int = 0, *, failing: bool = False, hang: bool = False) -> None:
        self.fail_first = fail_first
        self.failing = failing
        self.hang = hang
        self.released = threading.Event()
        self.lock = threading.Lock()
        self.tries: list[float] = []  # monotonic arrival times
        self.states: list[str] = []  # the "state" of each POST, in arrival order
        self.accepted: list[dict[str, Any]] = []
        self.url = ""

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length", 0)))
        with self.lock:
            self.tries.append(time.monotonic())
            self.states.append(json.loads(body)["state"])
            fail = self.failing or len(self.tries) <= self.fail_first
            if not fail and not self.hang:  # before the answer: the sender's next POST may arrive
                self.accepted.append(json.loads(body))  # on another thread the moment it is sent
        if self.hang:
            self.released.wait(30)
            return  # close without an answer
        handler.send_response(500 if fail else 200)
        handler.send_header("Content-Length", "0")
        handler.end_headers()


@pytest.fixture
def serve() -> Iterator[Callable[..., Receiver]]:
    """``serve(fail_first=2)``: a Receiver listening on a free loopback port."""
    running: list[tuple[Receiver, ThreadingHTTPServer, threading.Thread]] = []

    def start(*args: Any, **kwargs: Any) -> Receiver:
        receiver = Receiver(*args, **kwargs)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
                receiver.handle(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        running.append((receiver, server, thread))
        return receiver

    yield start
    for receiver, server, thread in running:
        receiver.released.set()
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture
def notifiers() -> Iterator[Callable[..., WebhookNotifier]]:
    made: list[WebhookNotifier] = []

    def make(**kwargs: Any) -> WebhookNotifier:
        notifier = WebhookNotifier(hostname="test-host", **kwargs)
        made.append(notifier)
        return notifier

    yield make
    for notifier in made:
        notifier.stop()


def record(rule: str = "cpu-high", state: AlertState = AlertState.FIRING, alert_id: int = 7) -> AlertRecord:
    return AlertRecord(
        id=alert_id,
        rule=rule,
        severity=Severity.CRITICAL,
        state=state,
        began_at=datetime.fromtimestamp(T0, UTC),
        fired_at=datetime.fromtimestamp(T0 + 300, UTC),
        min=91.0,
        max=99.5,
        mean=95.25,
        message="cpu.total is 97.0 % (> 90) for 5 min 0 s",
    )


def test_a_notification_is_retried_with_back_off_until_it_arrives(
    serve: Callable[..., Receiver], notifiers: Callable[..., WebhookNotifier]
) -> None:
    receiver = serve(fail_first=2)
    notifier = notifiers(timeout=5, attempts=5, backoff_base=0.1)
    notifier.start()
    notifier.notify(receiver.url, record(), condition="cpu.total > 90 for 5m", description="Too busy.")
    wait_until(lambda: receiver.accepted, timeout=10, what="the third POST to be accepted")
    assert len(receiver.tries) == 3
    first_wait, second_wait = (b - a for a, b in zip(receiver.tries, receiver.tries[1:]))
    assert first_wait >= 0.1 and second_wait >= 0.2  # 1x then 2x the base
    [body] = receiver.accepted
    assert body == {
        "rule": "cpu-high",
        "state": "firing",
        "severity": "critical",
        "condition": "cpu.total > 90 for 5m",
        "description": "Too busy.",
        "dashboard": "test-host",
        "alert": {
            "id": 7,
            "rule": "cpu-high",
            "severity": "critical",
            "state": "firing",
            "began_at": "2027-01-15T08:00:00Z",
            "fired_at": "2027-01-15T08:05:00Z",
            "ended_at": None,
            "min": 91.0,
            "max": 99.5,
            "mean": 95.25,
            "message": "cpu.total is 97.0 % (> 90) for 5 min 0 s",
            "muted": None,
            "acknowledged": None,
            "run_id": None,
        },
    }
    wait_until(lambda: notifier.pending() == 0, timeout=5, what="the queue to empty")
    assert (notifier.sent, notifier.error("cpu-high")) == (1, None)


def test_a_receiver_that_always_fails_is_recorded_and_holds_back_no_other_rule(
    serve: Callable[..., Receiver], notifiers: Callable[..., WebhookNotifier]
) -> None:
    broken, working = serve(failing=True), serve()
    notifier = notifiers(timeout=5, attempts=3, backoff_base=0.1)
    notifier.start()
    notifier.notify(broken.url, record("broken"))
    notifier.notify(broken.url, record("broken", AlertState.RESOLVED))  # waits for the first: rule order
    notifier.notify(working.url, record("working"))
    wait_until(lambda: working.accepted, timeout=10, what="the other rule's notification")
    wait_until(lambda: len(broken.tries) >= 2, timeout=10, what="the broken receiver's first retry")
    assert working.tries[0] < broken.tries[1]  # it did not wait for the broken receiver's retries
    wait_until(lambda: notifier.pending() == 0, timeout=15, what="both notifications to give up")
    assert broken.states == ["firing"] * 3 + ["resolved"] * 3  # one rule's notifications in order
    assert notifier.error("broken") == (
        f"POST of the 'resolved' notification to {broken.url} failed (attempt 3 of 3), "
        "gave up: HTTP 500 Internal Server Error"
    )
    assert notifier.error("working") is None and notifier.errors() == {"broken": notifier.error("broken")}
    # A success clears the rule's error.
    broken.failing = False
    notifier.notify(broken.url, record("broken"))
    wait_until(lambda: notifier.error("broken") is None, timeout=10, what="the error to clear")


def test_a_full_queue_drops_the_oldest_and_says_so(
    serve: Callable[..., Receiver], notifiers: Callable[..., WebhookNotifier]
) -> None:
    receiver = serve()
    notifier = notifiers(max_queue=2)  # not started yet: everything waits in the queue
    for i in (1, 2, 3):
        notifier.notify(receiver.url, record(f"rule-{i}", alert_id=i))
    assert (notifier.pending(), notifier.dropped) == (2, 1)
    assert notifier.error("rule-1") == (
        f"a 'firing' notification to {receiver.url} was dropped: the webhook queue was full (2 waiting)"
    )
    notifier.start()
    wait_until(lambda: len(receiver.accepted) == 2, timeout=10, what="the two kept notifications")
    assert sorted(b["alert"]["id"] for b in receiver.accepted) == [2, 3]


def test_a_connection_refused_is_an_error_in_words(notifiers: Callable[..., WebhookNotifier]) -> None:
    notifier = notifiers(timeout=2, attempts=1)
    notifier.start()
    notifier.notify("http://127.0.0.1:9/hook", record())  # discard port: nothing listens
    error = wait_until(lambda: notifier.error("cpu-high"), timeout=10, what="the failure")
    assert error.startswith("POST of the 'firing' notification to http://127.0.0.1:9/hook failed (attempt 1 of 1)")
    assert "ConnectError" in error


# -- through the engine --------------------------------------------------------------------
class Inputs:
    def __init__(self) -> None:
        self.frame = RollingFrame(1000)

    def samples(self, start_ns: int, end_ns: int) -> Rows:
        return self.frame.rows(start_ns, end_ns)

    def component_state(self, name: str) -> ComponentState | None:
        return None

    def agents(self) -> list[AgentInfo]:
        return []

    def last_full_run(self, suite: str) -> RunInfo | None:
        return None


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(tmp_path)
    yield store
    store.close()


def engine_with_webhook(store: Store, url: str, notifier: WebhookNotifier) -> tuple[AlertEngine, Inputs]:
    config = Config.model_validate(
        {
            "alerts": [{"name": "cpu-high", "rule": "cpu.total > 90", "severity": "critical", "webhook": url}],
            "alerting": {"webhook_timeout_seconds": 1, "webhook_attempts": 1},
        }
    )
    inputs = Inputs()
    return AlertEngine(config, store, EventLog(store), inputs, notifier=notifier), inputs


def test_the_engine_posts_firing_and_resolution(
    serve: Callable[..., Receiver], notifiers: Callable[..., WebhookNotifier], store: Store
) -> None:
    receiver = serve()
    engine, inputs = engine_with_webhook(store, receiver.url, notifiers(backoff_base=0.01))
    engine.notifier.start()  # type: ignore[union-attr]  # not engine.start(): its thread would evaluate too
    try:
        now = time.time()
        inputs.frame.append(int((now - 1) * 1e9), {"cpu.total": 99.0})
        engine.evaluate(now)
        inputs.frame.append(int((now + 1) * 1e9), {"cpu.total": 10.0})
        engine.evaluate(now + 2)
        wait_until(lambda: len(receiver.accepted) == 2, timeout=10, what="both notifications")
    finally:
        engine.stop()
    fired, resolved = receiver.accepted
    assert (fired["state"], resolved["state"]) == ("firing", "resolved")
    assert fired["condition"] == "cpu.total > 90" and fired["dashboard"] == "test-host"
    assert fired["alert"]["id"] == resolved["alert"]["id"] == engine.history()[0].id
    assert resolved["alert"]["ended_at"] is not None and resolved["alert"]["max"] == 99.0


def test_evaluate_never_waits_on_a_hanging_receiver(
    serve: Callable[..., Receiver], notifiers: Callable[..., WebhookNotifier], store: Store
) -> None:
    receiver = serve(hang=True)
    notifier = notifiers(timeout=1.5, attempts=1)
    engine, inputs = engine_with_webhook(store, receiver.url, notifier)
    notifier.start()  # engine.start() is not needed: evaluate() is driven by the test
    now = time.time()
    inputs.frame.append(int((now - 1) * 1e9), {"cpu.total": 99.0})
    engine.evaluate(now)
    wait_until(lambda: receiver.tries, timeout=10, what="the receiver to hold the POST")
    inputs.frame.append(int((now + 1) * 1e9), {"cpu.total": 10.0})
    started = time.monotonic()
    statuses = engine.evaluate(now + 2)  # the receiver still holds the first POST
    assert time.monotonic() - started < 1.0
    assert statuses[0].state is AlertState.RESOLVED
    status = wait_until(
        lambda: (s := engine.statuses()[0]).webhook_error and s, timeout=10, what="the timeout to be recorded"
    )
    assert "failed (attempt 1 of 1), gave up: ReadTimeout" in (status.webhook_error or "")
    assert engine.report().rules[0].webhook_error == status.webhook_error
    receiver.released.set()  # lets the 'resolved' POST, now in flight, end at once
