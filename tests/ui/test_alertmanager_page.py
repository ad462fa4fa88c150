"""The Safety page says so when Alertmanager does not take the dashboard's alerts
(a real Runtime whose rule fires, posting to a loopback port nothing listens on)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

from dashboard_core import runtime as runtime_module
from dashboard_core.config import load_config
from tests.localhost import free_port
from tests.polling import wait_until

ROUTER = str(Path(__file__).parents[2] / "ui" / "router.py")
TIMEOUT = 60  # AppTest's run timeout on a loaded 2-core machine
WAIT = 60  # seconds for the runtime's threads to see a change


def test_a_failing_alertmanager_is_shown_on_the_safety_page(write_config: Callable[[str], Path]) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens: connections are refused
    config = load_config(
        write_config(
            f"""
[sampler]
interval_seconds = 0.1

[alerting]
interval_seconds = 0.2

[alerting.alertmanager]
url = "{url}"
repost_seconds = 1
timeout_seconds = 1

[[alerts]]
name = "cpu-any"
rule = "cpu.total >= 0"
"""
        )
    )
    with runtime_module.running(config) as rt:
        assert rt.alertmanager is not None
        wait_until(rt.alertmanager.forwarder.error, WAIT, "the post to Alertmanager to fail")
        app = AppTest.from_file(ROUTER, default_timeout=TIMEOUT)
        app.switch_page("../pages/safety.py").run()
        assert not app.exception
        [warning] = [w.value for w in app.warning if "Alertmanager" in w.value]
        assert warning.startswith(f"Alertmanager at {url} does not take alerts or silences: ")
        assert "ConnectError" in warning
