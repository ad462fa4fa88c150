"""The Overview says when metrics out fails: a real Runtime pushing to a dead
address on loopback, the page through AppTest."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

from dashboard_core import runtime as runtime_module
from dashboard_core.config import load_config
from dashboard_core.metrics.remote_push import push_health
from tests.localhost import free_port
from tests.polling import wait_until

ROUTER = str(Path(__file__).parents[2] / "ui" / "router.py")


def test_dropped_samples_are_a_warning_under_this_dashboard(write_config: Callable[[str], Path]) -> None:
    dead = f"http://127.0.0.1:{free_port()}/api/v1/import"  # nothing listens there
    config = load_config(
        write_config(
            f'[sampler]\ninterval_seconds = 0.1\n[remote_push]\nurl = "{dead}"\ninterval_seconds = 0.2\n'
            "max_pending_samples = 3\n"
        )
    )
    with runtime_module.running(config) as rt:
        wait_until(
            lambda: (h := push_health(rt.remote_push)) is not None and h.dropped_samples and h.last_error,
            60,
            "samples dropped",
        )
        app = AppTest.from_file(ROUTER, default_timeout=60).run()
        assert not app.exception
        warning = next(w.value for w in app.warning if "Pushing metrics to" in w.value)
        assert warning.startswith(f"Pushing metrics to {dead} fails (")
        assert "samples were dropped since start (remote_push.max_pending_samples)." in warning
