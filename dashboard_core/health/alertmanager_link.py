"""The dashboard's link to Prometheus Alertmanager (``[alerting.alertmanager]``): one
client, the alert forwarder and the silence sync, started and stopped together.

Built by the Runtime when the config names an Alertmanager; the silence sync hooks
into the dashboard's silence book when there is one (``AlertEngine.silences``).
"""

from __future__ import annotations

import socket
from typing import Any

from dashboard_core.config import Config
from dashboard_core.health.alertmanager import AlertmanagerClient
from dashboard_core.health.alertmanager_alerts import AlertForwarder
from dashboard_core.health.alertmanager_silences import SilenceSync
from dashboard_core.health.alerts import AlertEngine


class AlertmanagerLink:
    def __init__(self, config: Config, engine: AlertEngine, book: Any = None) -> None:
        """``book``: the dashboard's silence book (``on_change``, ``remote``,
        ``set_alertmanager_id``), or None: then no silence is shared."""
        am = config.alerting.alertmanager
        assert am is not None, "AlertmanagerLink needs [alerting.alertmanager]"
        self.url = am.url
        self.client = AlertmanagerClient(am.url, timeout=am.timeout_seconds)
        public_url = config.alerting.public_url
        self.silences = SilenceSync(
            self.client, poll_seconds=am.silence_poll_seconds, source=public_url or socket.gethostname()
        )
        if book is not None:
            self.silences.attach(book)
        self.forwarder = AlertForwarder(
            engine,
            self.client,
            repost_seconds=am.repost_seconds,
            public_url=public_url,
            in_alertmanager=self.silences.in_alertmanager,
        )
        # Before the engine starts: the alerts its recovery closes are ended in Alertmanager too.
        self.forwarder.subscribe()

    def start(self) -> None:
        self.silences.start()
        self.forwarder.start()

    def stop(self) -> None:
        self.forwarder.stop()
        self.silences.stop()
        self.client.close()

    def error(self) -> str | None:
        """What fails now talking to Alertmanager (posting alerts, or silences), for the UI."""
        problems = [p for p in (self.forwarder.error(), self.silences.error()) if p]
        return "; ".join(dict.fromkeys(problems)) or None

    def problem(self) -> str | None:
        """The failure as the Safety page says it, None while Alertmanager takes everything."""
        error = self.error()
        return None if error is None else f"Alertmanager at {self.url} does not take alerts or silences: {error}"
