"""Apprise notification channels against real servers on this machine: an SMTP server
(aiosmtpd) that receives the e-mail with its link, and Apprise's ``json://`` target
on an HTTP server the test owns (retries with back-off, a failure shown on the rule,
secrets masked); a muted alert tells no one; a URL Apprise cannot use stops the load."""

from __future__ import annotations

import email
import email.policy
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from dashboard_core.config import Config, ConfigError, load_config
from dashboard_core.config.channels import shown_url
from dashboard_core.events import EventLog
from dashboard_core.health.alerts import AlertEngine
from dashboard_core.models.silences import Mute
from dashboard_core.store import Store
from tests.health.test_webhook import Inputs
from tests.polling import wait_until

WAIT = 30  # seconds for a delivery on a loaded 2-core machine
PUBLIC = "https://dash.example.org/"


# -- a real SMTP server --------------------------------------------------------------------
class Mailbox:
    """aiosmtpd's handler: keeps each message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 (aiosmtpd's)
        assert isinstance(envelope.content, bytes)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.messages.append(message)
        return "250 OK"


class LoopbackController(Controller):
    """A Controller on a port the OS picks: the socket is bound before the server starts."""

    def __init__(self, handler: Mailbox) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        super().__init__(handler, hostname="127.0.0.1", port=self._sock.getsockname()[1])

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self._sock)


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    controller = LoopbackController(mailbox)
    controller.start()
    try:
        yield mailbox, controller.port
    finally:
        controller.stop()


# -- an HTTP server for Apprise's json:// target -------------------------------------------
class JsonTarget:
    """Answers 500 to the first ``fail_first`` POSTs (to all while ``failing``), then 200;
    or holds each until released (``hang``)."""

    def __init__(self, fail_first: int = 0, *, failing: bool = False, hang: bool = False) -> None:
        self.fail_first = fail_first
        self.failing = failing
        self.hang = hang  # hold each request until released (the test's end)
        self.released = threading.Event()
        self.lock = threading.Lock()
        self.tries: list[float] = []  # monotonic arrival times
        self.accepted: list[dict[str, Any]] = []
        self.port = 0

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = json.loads(handler.rfile.read(int(handler.headers.get("Content-Length", 0))))
        with self.lock:
            self.tries.append(time.monotonic())
            fail = self.failing or len(self.tries) <= self.fail_first
            if not fail and not self.hang:
                self.accepted.append(body)
        if self.hang:
            self.released.wait(30)
            return  # close without an answer
        handler.send_response(500 if fail else 200)
        handler.send_header("Content-Length", "0")
        handler.end_headers()


@pytest.fixture
def json_target() -> Iterator[Callable[..., JsonTarget]]:
    running: list[tuple[JsonTarget, ThreadingHTTPServer, threading.Thread]] = []

    def start(*args: Any, **kwargs: Any) -> JsonTarget:
        target = JsonTarget(*args, **kwargs)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's)
                target.handle(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        target.port = server.server_address[1]
        running.append((target, server, thread))
        return target

    yield start
    for target, server, thread in running:
        target.released.set()
        server.shutdown()
        server.server_close()
        thread.join(10)


# -- an engine with channels ----------------------------------------------------------------
@pytest.fixture
def engines(store: Store) -> Iterator[Callable[..., tuple[AlertEngine, Inputs]]]:
    made: list[AlertEngine] = []

    def make(alert: dict[str, Any], alerting: dict[str, Any] | None = None) -> tuple[AlertEngine, Inputs]:
        config = Config.model_validate(
            {"alerts": [{"name": "cpu-high", "rule": "cpu.total > 90", **alert}], "alerting": alerting or {}}
        )
        inputs = Inputs()
        engine = AlertEngine(config, store, EventLog(store), inputs)
        assert engine.channels is not None
        engine.channels.backoff_base = 0.05
        made.append(engine)
        return engine, inputs

    yield make
    for engine in made:
        engine.stop()


def fire_and_resolve(engine: AlertEngine, inputs: Inputs) -> None:
    now = time.time()
    inputs.frame.append(int((now - 1) * 1e9), {"cpu.total": 99.0})
    engine.evaluate(now)
    inputs.frame.append(int((now + 1) * 1e9), {"cpu.total": 10.0})
    engine.evaluate(now + 2)


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def test_an_email_arrives_with_the_link_to_the_alert(
    smtp: tuple[Mailbox, int], engines: Callable[..., tuple[AlertEngine, Inputs]]
) -> None:
    mailbox, port = smtp
    engine, inputs = engines(
        {
            "severity": "critical",
            "description": "The machine is too busy for the tests.",
            "notify": [f"mailto://127.0.0.1:{port}?from=dashboard@example.org&to=ops@example.org"],
        },
        {"public_url": PUBLIC},
    )
    assert engine.channels is not None
    engine.channels.start()  # not engine.start(): its thread would evaluate too
    fire_and_resolve(engine, inputs)
    wait_until(lambda: len(mailbox.messages) == 2, WAIT, "both e-mails")
    fired, resolved = sorted(mailbox.messages, key=lambda m: str(m["Subject"]))
    assert (fired["Subject"], resolved["Subject"]) == ("[FIRING] cpu-high", "[RESOLVED] cpu-high")
    assert (fired["From"], fired["To"]) == ("dashboard@example.org", "ops@example.org")
    body = text_of(fired)
    assert "cpu.total is 99.0 % (> 90)" in body, body
    assert "Severity: critical · condition: cpu.total > 90" in body
    assert "The machine is too busy for the tests." in body
    assert "Firing since " in body and "Value: min 99 · max 99 · mean 99" in body
    assert "Alert: https://dash.example.org/safety?rule=cpu-high" in body
    assert "Resolved at " in text_of(resolved) and "Alert: https://dash.example.org/safety?rule=cpu-high" in text_of(
        resolved
    )
    assert engine.statuses()[0].channel_errors == []


def test_without_a_public_url_the_message_says_where_to_look(
    json_target: Callable[..., JsonTarget], engines: Callable[..., tuple[AlertEngine, Inputs]]
) -> None:
    target = json_target()
    engine, inputs = engines({"notify": [f"json://127.0.0.1:{target.port}/hook"]})
    assert engine.channels is not None
    engine.channels.hostname = "test-host"
    engine.channels.start()
    fire_and_resolve(engine, inputs)
    wait_until(lambda: len(target.accepted) == 2, WAIT, "both notifications")
    fired = next(b for b in target.accepted if b["title"] == "[FIRING] cpu-high")
    assert fired["type"] == "warning"  # a warning rule: Apprise's warning type
    assert (
        "Alert: the Safety page of the dashboard on test-host (no link: set [alerting] public_url "
        "to the dashboard's address for one)" in fired["message"]
    )


def test_a_channel_is_retried_with_back_off_until_it_arrives(
    json_target: Callable[..., JsonTarget], engines: Callable[..., tuple[AlertEngine, Inputs]]
) -> None:
    target = json_target(fail_first=2)
    url = f"json://127.0.0.1:{target.port}/hook"
    engine, inputs = engines(
        {"severity": "critical"},
        {"public_url": PUBLIC, "channels": {"critical": [url], "attempts": 5, "timeout_seconds": 10}},
    )
    notifier = engine.channels
    assert notifier is not None and notifier.urls(engine.rules[0]) == [url]  # by its severity
    notifier.backoff_base = 0.1
    notifier.start()
    now = time.time()
    inputs.frame.append(int((now - 1) * 1e9), {"cpu.total": 99.0})
    engine.evaluate(now)
    wait_until(lambda: target.accepted, WAIT, "the third POST to be accepted")
    assert len(target.tries) == 3
    first_wait, second_wait = (b - a for a, b in zip(target.tries, target.tries[1:], strict=False))
    assert first_wait >= 0.1 and second_wait >= 0.2  # 1x then 2x the base
    [body] = target.accepted
    assert body["title"] == "[FIRING] cpu-high" and body["type"] == "failure"  # critical
    assert "Alert: https://dash.example.org/safety?rule=cpu-high" in body["message"]
    wait_until(lambda: notifier.pending() == 0, WAIT, "the queue to empty")
    assert notifier.sent == 1 and engine.statuses()[0].channel_errors == []


def test_a_channel_that_does_not_answer_is_given_up_after_its_timeout(
    json_target: Callable[..., JsonTarget], engines: Callable[..., tuple[AlertEngine, Inputs]]
) -> None:
    target = json_target(hang=True)
    engine, inputs = engines(
        {"notify": [f"json://127.0.0.1:{target.port}/hook"]}, {"channels": {"attempts": 1, "timeout_seconds": 1}}
    )
    assert engine.channels is not None
    engine.channels.start()
    now = time.time()
    inputs.frame.append(int((now - 1) * 1e9), {"cpu.total": 99.0})
    engine.evaluate(now)
    [error] = wait_until(lambda: engine.statuses()[0].channel_errors, WAIT, "the timeout to be recorded")
    assert target.tries and not target.released.is_set()  # it held the request all along
    assert error.startswith(
        f"Sending the 'firing' notification to json://127.0.0.1:{target.port}/hook failed (attempt 1 of 1), "
        "gave up: timeout: "
    ), error


def test_a_failing_channel_is_shown_on_its_rule_masked_and_logged_once(
    json_target: Callable[..., JsonTarget],
    engines: Callable[..., tuple[AlertEngine, Inputs]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken, working = json_target(failing=True), json_target()
    secret = "s3cretPassw0rd"
    broken_url = f"json://alerts:{secret}@127.0.0.1:{broken.port}/hook"
    engine, inputs = engines(
        {"notify": [broken_url, f"json://127.0.0.1:{working.port}/ok"]},
        {"channels": {"attempts": 2, "timeout_seconds": 10}},
    )
    assert engine.channels is not None
    caplog.set_level(logging.INFO)
    engine.channels.start()
    fire_and_resolve(engine, inputs)
    wait_until(lambda: len(working.accepted) == 2, WAIT, "the working channel's two notifications")
    wait_until(lambda: len(broken.tries) == 4, WAIT, "two tries of each notification to the broken channel")
    wait_until(lambda: engine.channels is not None and engine.channels.pending() == 0, WAIT, "both to give up")
    [error] = engine.statuses()[0].channel_errors
    assert error.startswith(
        f"Sending the 'resolved' notification to json://alerts:****@127.0.0.1:{broken.port}/hook failed "
        "(attempt 2 of 2), gave up: failure: "
    ), error
    assert "500" in error  # Apprise's reason: the status it got
    assert engine.statuses()[0].webhook_error is None
    assert engine.report().rules[0].channel_errors == [error]
    gave_up = [r for r in caplog.records if "gave up" in r.getMessage()]
    assert len(gave_up) == 1, [r.getMessage() for r in gave_up]  # the second give-up is not logged
    assert not [r for r in caplog.records if secret in r.getMessage()]
    assert secret not in error
    # A delivery that works clears the error, and says so in the log once.
    broken.failing = False
    now = time.time() + 10
    inputs.frame.append(int(now * 1e9), {"cpu.total": 99.0})
    engine.evaluate(now + 0.5)
    wait_until(lambda: not engine.statuses()[0].channel_errors, WAIT, "the error to clear")
    assert [r.getMessage() for r in caplog.records if "works again" in r.getMessage()] == [
        f"The channel json://alerts:****@127.0.0.1:{broken.port}/hook of cpu-high works again"
    ]


def test_a_muted_alert_notifies_no_channel(
    json_target: Callable[..., JsonTarget], engines: Callable[..., tuple[AlertEngine, Inputs]]
) -> None:
    target = json_target()
    engine, inputs = engines({"notify": [f"json://127.0.0.1:{target.port}/hook"]})
    assert engine.channels is not None  # not started: what is queued stays queued

    class Everything:
        def mute_for(self, labels: Any, at: datetime) -> Mute | None:
            return Mute(kind="silence", id="1", reason="planned work", until=datetime(2100, 1, 1, tzinfo=UTC))

    engine.mutes.add(Everything())
    now = time.time()
    inputs.frame.append(int((now - 1) * 1e9), {"cpu.total": 99.0})
    engine.evaluate(now)
    assert engine.firing()[0].rule == "cpu-high"  # it fires and shows all the same
    assert engine.channels.pending() == 0  # queuing is synchronous: nothing was queued
    # Unmuted, the same rule queues its notification (the test above could fail).
    engine2, inputs2 = engines({"notify": [f"json://127.0.0.1:{target.port}/hook"]})
    inputs2.frame.append(int((now - 1) * 1e9), {"cpu.total": 99.0})
    engine2.evaluate(now)
    assert engine2.channels is not None and engine2.channels.pending() == 1


def test_a_url_apprise_cannot_use_stops_the_load_naming_the_setting(
    write_config: Callable[[str], Path],
) -> None:
    path = write_config(
        """
[alerting.channels]
critical = ["ntfys://ntfy.sh/dash-alerts", "msteams://T0k3nA/T0k3nB/T0k3nC"]

[[alerts]]
name = "cpu-high"
rule = "cpu.total > 90"
notify = ["slack://T0k3nOnly", "just some text"]
"""
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "alerting.channels.critical: URL 2 (msteams://…): no Apprise service has that scheme." in message
    assert (
        "alerts.0 (cpu-high).notify: URL 1 (slack://…): Apprise's Slack service cannot use it, a part it needs "
        "is missing or malformed; URL 2 is not a URL (it needs a scheme, e.g. mailtos:// or ntfys://)."
    ) in message
    assert "https://appriseit.com/services/" in message
    assert "T0k3n" not in message  # the URLs' secrets are never repeated


def test_channels_are_shown_in_apprise_privacy_form() -> None:
    assert (
        shown_url("mailtos://ops:hunter22@smtp.example.org?to=ops@example.org")
        == "mailtos://ops:****@smtp.example.org/ops%40example.org"
    )
    assert shown_url("slack://T0k3nAAA/B0k3nBBB/C0k3nCCC") == "slack://T...A/B...B/C...C//"
    assert shown_url("ntfys://ntfy.sh/dash-alerts") == "ntfys://ntfy.sh/dash-alerts"
