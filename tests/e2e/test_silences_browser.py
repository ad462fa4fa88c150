"""Silencing a firing alert from the Safety page, in a real headless Chromium against a real
server whose rule posts to a webhook receiver the test owns: after the silence the alert goes
on recording (a new firing, marked silenced, in the history and the API) while the receiver
hears nothing of it; once the silence is expired from the page, the next firing is told again."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Server, launch_server
from tests.health.test_webhook import Receiver, serve  # noqa: F401  (the receiver fixture)
from tests.polling import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

FIRST_RENDER_MS = 60_000
STATE_SECONDS = 60  # a component check, its state and the rule: generous on a loaded machine


def config(flag: Path, hook: str) -> str:
    q = json.dumps
    probe = f"import os, sys; sys.exit(0 if os.path.exists({str(flag)!r}) else 1)"
    return f"""
[[components]]
name = "flag"
interval_seconds = 0.2
timeout_seconds = 10
down_after = 1
[components.check]
type = "command"
argv = [{q(sys.executable)}, "-c", {q(probe)}]

[alerting]
interval_seconds = 0.2
webhook_attempts = 3

[[alerts]]
name = "flag-down"
rule = "component flag down"
severity = "critical"
webhook = {q(hook)}
"""


def firings(server: Server) -> list[dict[str, Any]]:
    with server.client() as api:
        return api.get("/api/safety/alerts", params={"rule": "flag-down"}).json()


def posts(receiver: Receiver) -> list[tuple[str, int, Any]]:
    with receiver.lock:
        return [(b["state"], b["alert"]["id"], b["alert"]["muted"]) for b in receiver.accepted]


def test_a_silence_from_the_safety_page_stops_the_notifications_while_the_alert_keeps_recording(
    page: Any,
    tmp_path: Path,
    serve: Callable[..., Receiver],  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    receiver = serve()
    flag = tmp_path / "flag"
    flag.touch()
    server = launch_server(tmp_path / "server", config(flag, receiver.url))
    try:
        flag.unlink()  # the component goes down: the rule fires and the receiver is told
        first = wait_until(lambda: posts(receiver), STATE_SECONDS, "the first firing's notification")[0]
        assert first[0] == "firing" and first[2] is None

        page.goto(f"{server.url}/safety?rule=flag-down")
        form = page.locator(".st-key-safety_silence_form")
        expect(form).to_be_visible(timeout=FIRST_RENDER_MS)
        form.get_by_role("textbox", name="Why").fill("the flag is being replaced")
        form.get_by_role("textbox", name="For").fill("2h")
        form.get_by_role("button", name=re.compile("Silence$")).click()
        expect(page.get_by_text("Silence 1 holds until")).to_be_visible()
        expect(page.locator(".st-key-silence_1")).to_contain_text("active")
        expect(page.locator(".st-key-silence_1")).to_contain_text('alertname="flag-down"')
        expect(page.locator(".st-key-firing_flag-down")).to_contain_text("Silenced by silence 1")

        flag.touch()  # resolves: the receiver was told it fired, so it is told it ended
        wait_until(lambda: len(posts(receiver)) >= 2, STATE_SECONDS, "the resolution's notification")
        flag.unlink()  # fires again, silenced: recorded, shown, nobody told
        second = wait_until(
            lambda: (f := firings(server)) and f[0]["id"] != first[1] and f[0]["state"] == "firing" and f[0],
            STATE_SECONDS,
            "the second firing to be recorded",
        )
        assert second["muted"]["kind"] == "silence" and second["muted"]["id"] == "1"
        expect(page.locator(".st-key-firing_flag-down")).to_contain_text("Silenced by silence 1")
        flag.touch()  # and resolves, silenced throughout: nobody told either
        ended = wait_until(
            lambda: (f := firings(server)) and f[0]["id"] == second["id"] and f[0]["state"] == "resolved" and f[0],
            STATE_SECONDS,
            "the second firing to resolve",
        )
        assert ended["muted"]["id"] == "1"  # the history keeps it

        page.locator(".st-key-expire_silence_1").get_by_role("button").click()
        expect(page.get_by_text("Silence 1 expired.")).to_be_visible()
        expect(page.locator(".st-key-silence_1")).to_contain_text("expired")
        flag.unlink()  # fires a third time, the silence over: the receiver is told again
        third = wait_until(
            lambda: (p := posts(receiver)) and p[-1][1] not in (first[1], second["id"]) and p[-1],
            STATE_SECONDS,
            "the third firing's notification",
        )
    finally:
        server.stop()
    # In order (the notifier keeps a rule's order): nothing at all of the second, silenced, firing.
    assert posts(receiver) == [("firing", first[1], None), ("resolved", first[1], None), ("firing", third[1], None)]
