"""The dashboard side of the Alertmanager tests: a real AlertEngine whose component
rules the test makes fire (it sets the states the rules read and evaluates at the real
time), its silence book, and the AlertmanagerLink the Runtime builds."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

from dashboard_core.config import Config
from dashboard_core.events import EventLog
from dashboard_core.health.alertmanager_link import AlertmanagerLink
from dashboard_core.health.alerts import AlertEngine
from dashboard_core.health.mutes import silence_covers
from dashboard_core.metrics.frame import RollingFrame, Rows
from dashboard_core.models import AgentInfo, ComponentState, RunInfo
from dashboard_core.models.silences import Matcher, Mute, Silence
from dashboard_core.store import Store

PUBLIC = "https://dash.example.org/"


class Inputs:
    """Component states the test sets; no samples, agents or runs."""

    def __init__(self) -> None:
        self.frame = RollingFrame(10)
        self.components: dict[str, ComponentState] = {}

    def samples(self, start_ns: int, end_ns: int) -> Rows:
        return self.frame.rows(start_ns, end_ns)

    def component_state(self, name: str) -> ComponentState | None:
        return self.components.get(name)

    def agents(self) -> list[AgentInfo]:
        return []

    def last_full_run(self, suite: str) -> RunInfo | None:
        return None


class StandInBook:
    """The silence book's hooks and calls as issue 25's SilenceBook has them (``create``,
    ``expire``, ``list``, ``mute_for``, ``on_change``, ``remote``, ``set_alertmanager_id``),
    in memory, for an engine that has no ``silences`` of its own yet."""

    def __init__(self) -> None:
        self.on_change: list[Any] = []
        self.remote: list[Any] = []
        self._own: dict[str, Silence] = {}
        self._lock = threading.Lock()

    def create(
        self, matchers: tuple[Matcher, ...], starts_at: datetime, ends_at: datetime, created_by: str, comment: str
    ) -> Silence:
        with self._lock:
            silence = Silence(
                id=str(len(self._own) + 1),
                matchers=matchers,
                starts_at=starts_at,
                ends_at=ends_at,
                created_by=created_by,
                comment=comment,
                state="active",
            )
            self._own[silence.id] = silence
        for hook in self.on_change:
            hook(silence, "created")
        return silence

    def expire(self, silence_id: str, by: str) -> Silence:
        with self._lock:
            ended = self._own[silence_id].model_copy(
                update={"ends_at": datetime.now(UTC), "state": "expired", "expired_by": by}
            )
            self._own[silence_id] = ended
        for hook in self.on_change:
            hook(ended, "expired")
        return ended

    def set_alertmanager_id(self, silence_id: str, am_id: str) -> None:
        with self._lock:
            self._own[silence_id] = self._own[silence_id].model_copy(update={"alertmanager_id": am_id})

    def get(self, silence_id: str) -> Silence | None:
        return next((s for s in self.list() if s.id == silence_id), None)

    def list(self) -> list[Silence]:
        with self._lock:
            own = list(self._own.values())
        return own + [s for source in self.remote for s in source()]

    def mute_for(self, labels: dict[str, str], at: datetime) -> Mute | None:
        found = [s for s in self.list() if silence_covers(s, labels, at)]
        if not found:
            return None
        silence = max(found, key=lambda s: s.ends_at)
        return Mute(kind="silence", id=silence.id, reason=silence.comment, until=silence.ends_at)


class Dashboard:
    """An alert engine over :class:`Inputs` and its link to Alertmanager, evaluated by the test."""

    def __init__(self, config: Config, store: Store, *, linked: bool = True) -> None:
        """``linked``: build the link to Alertmanager now (else :meth:`link_up` does)."""
        self.inputs = Inputs()
        self.engine = AlertEngine(config, store, EventLog(store), self.inputs)
        book = getattr(self.engine, "silences", None)
        if book is None:
            book = StandInBook()
            self.engine.mutes.add(book)
        self.book: Any = book
        self.config = config
        if linked:
            self.link_up()

    def link_up(self) -> None:
        self.link = AlertmanagerLink(self.config, self.engine, self.book)

    def set(self, state: ComponentState, *components: str) -> None:
        """Set the components' states, then evaluate the rules once, at the real time."""
        for component in components:
            self.inputs.components[component] = state
        self.engine.evaluate(time.time())


def make_config(alertmanager_url: str, **alertmanager: Any) -> Config:
    names = ["db", "cache", "web"]
    return Config.model_validate(
        {
            "components": [{"name": n, "check": {"type": "tcp", "port": 9}} for n in names],
            "alerts": [
                {
                    "name": f"{n}-down",
                    "rule": f"component {n} down",
                    "severity": "critical",
                    "description": f"{n} is down: restart it",
                    "labels": {"team": "web" if n == "web" else "data"},
                }
                for n in names
            ],
            "alerting": {
                "public_url": PUBLIC,
                "alertmanager": {
                    "url": alertmanager_url,
                    "repost_seconds": 1.0,
                    "silence_poll_seconds": 0.5,
                    **alertmanager,
                },
            },
        }
    )
