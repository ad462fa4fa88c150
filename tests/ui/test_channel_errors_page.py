"""The Safety page shows each failing notification channel next to its rule, through
AppTest, against a real running Runtime whose rule notifies an Apprise ``json://``
channel on a loopback port that refuses connections; the URL's secret never shows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

from dashboard_core import runtime as runtime_module
from dashboard_core.config import load_config
from tests.localhost import free_port
from tests.polling import wait_until
from tests.ui.test_overview_safety import ROUTER, TIMEOUT, WAIT

SECRET = "s3cretT0ken"


def test_a_failing_apprise_channel_is_shown_on_the_safety_page(write_config: Callable[[str], Path]) -> None:
    port = free_port()  # nothing listens: every try is refused
    config = load_config(
        write_config(
            f"""
[sampler]
interval_seconds = 0.1

[alerting]
interval_seconds = 0.2

[alerting.channels]
attempts = 1
timeout_seconds = 5

[[alerts]]
name = "cpu-any"
rule = "cpu.total >= 0"
notify = ["json://alerts:{SECRET}@127.0.0.1:{port}/hook"]
"""
        )
    )
    with runtime_module.running(config) as rt:
        wait_until(lambda: rt.alerts.statuses()[0].channel_errors, WAIT, "the channel to fail")
        app = AppTest.from_file(ROUTER, default_timeout=TIMEOUT)
        app.switch_page("../pages/safety.py").run()
        assert not app.exception
        [warning] = [w.value for w in app.warning if "notifications fail" in w.value]
        assert warning.startswith(
            "**cpu-any**: notifications fail on 1 channel:\n"
            f"- `Sending the 'firing' notification to json://alerts:****@127.0.0.1:{port}/hook failed "
            "(attempt 1 of 1), gave up: "
        ), warning
        assert SECRET not in warning
