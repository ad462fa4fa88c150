"""Silences both ways between the dashboard and Prometheus Alertmanager.

- A silence made in the dashboard becomes an Alertmanager silence (``POST
  /api/v2/silences``), and the dashboard's silence learns its id
  (``set_alertmanager_id``); expiring it there ``DELETE``\\ s the copy. An
  Alertmanager silence shown here and expired here is ended there too.
- Alertmanager's own silences show in the dashboard: :meth:`SilenceSync.remote`
  returns them (``origin="alertmanager"``) from a cache read every
  ``poll_seconds``, so the silence list and the alert engine never wait for
  Alertmanager. The copies of this dashboard's silences are left out (they show
  once, as the dashboard's): they are known by the id Alertmanager gave, and, after
  a restart, by the note the copy's comment ends with (:func:`origin_note`).

Everything that talks to Alertmanager runs on the sync's own thread: a silence
made while Alertmanager is down is copied once it answers again (in order, so an
expiry never overtakes its creation). The last failure is kept (:meth:`error`)
and logged once.

Wiring (the Runtime): ``sync.attach(book)`` with the dashboard's silence book,
which calls ``book.on_change`` hooks with ``(silence, "created" | "expired")``,
asks its ``book.remote`` callables for silences from elsewhere, and takes
``book.set_alertmanager_id(silence_id, am_id)``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Literal

from dashboard_core.health.alertmanager import AlertmanagerClient, AlertmanagerError
from dashboard_core.logonce import recovered, warn_once
from dashboard_core.models.silences import Silence

log = logging.getLogger(__name__)

Change = Literal["created", "expired"]
RETRY_SECONDS = 5.0  # after a failure, try again this soon (at most poll_seconds)
_NOTE = re.compile(r" \(from the dashboard at (?P<source>\S+), silence (?P<id>[^)\s]+)\)$")


def origin_note(source: str, silence_id: str) -> str:
    """What a copied silence's comment ends with: where it came from, for people and for us."""
    return f" (from the dashboard at {source}, silence {silence_id})"


class SilenceSync:
    def __init__(
        self,
        client: AlertmanagerClient,
        *,
        poll_seconds: float,
        source: str,
        set_alertmanager_id: Callable[[str, str], None] | None = None,
    ) -> None:
        """``source``: this dashboard's address or host name, written into each copy's comment."""
        self.client = client
        self.poll_seconds = poll_seconds
        self.source = source
        self.set_alertmanager_id = set_alertmanager_id
        self._queue: deque[tuple[Silence, Change]] = deque()
        self._am_ids: dict[str, str] = {}  # dashboard silence id -> its copy's id in Alertmanager
        self._remote: list[Silence] = []  # Alertmanager's own silences, pending or active
        self._remote_ids: set[str] = set()
        self._polled = False
        self._error: str | None = None
        self._refused: str | None = None  # the last change Alertmanager refused (kept until one succeeds)
        self._cond = threading.Condition()
        self._woken = False
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._existing: Callable[[], list[Silence]] | None = None  # the book's silences, to catch up at start

    def attach(self, book: Any) -> None:
        """Hook into the dashboard's silence book (its ``on_change``, ``remote`` and
        ``set_alertmanager_id``)."""
        book.on_change.append(self.changed)
        book.remote.append(self.remote)
        self.set_alertmanager_id = book.set_alertmanager_id
        self._existing = getattr(book, "list", None)

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> None:
        with self._cond:
            if self._thread is not None:
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="alertmanager-silences", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._cond:
            thread, self._thread = self._thread, None
            self._stopping = True
            unsent = len(self._queue)
            self._cond.notify_all()
        if thread is not None:
            thread.join(self.client.timeout + 5)
        if unsent:
            log.warning("Stopped with %d silence change(s) not yet sent to Alertmanager", unsent)

    # -- the book's side (fast: no network) --------------------------------------
    def changed(self, silence: Silence, change: Change) -> None:
        """A silence was made or expired in the dashboard: copy that to Alertmanager soon."""
        with self._cond:
            if silence.alertmanager_id and silence.origin == "dashboard":
                self._am_ids.setdefault(silence.id, silence.alertmanager_id)
            self._queue.append((silence, change))
            self._woken = True
            self._cond.notify_all()

    def remote(self) -> list[Silence]:
        """Alertmanager's own silences (pending or active) as last read; never this
        dashboard's copies."""
        with self._cond:
            return list(self._remote)

    def in_alertmanager(self, silence_id: str) -> bool:
        """Does Alertmanager hold this silence (a copy of the dashboard's, or its own)?"""
        with self._cond:
            return silence_id in self._am_ids or silence_id in self._remote_ids

    def error(self) -> str | None:
        """The last failure talking to Alertmanager, None once it answers again."""
        with self._cond:
            return self._error or self._refused

    @property
    def polled(self) -> bool:
        """Has Alertmanager's list of silences been read at least once?"""
        with self._cond:
            return self._polled

    # -- the worker ------------------------------------------------------------
    def _run(self) -> None:
        self._catch_up()
        next_poll = 0.0
        while True:
            with self._cond:
                if self._stopping:
                    return
                self._woken = False
            ok = self._send_changes()
            if ok and time.monotonic() >= next_poll:
                ok = self.poll()
                next_poll = time.monotonic() + self.poll_seconds
            wait = max(0.0, next_poll - time.monotonic()) if ok else min(self.poll_seconds, RETRY_SECONDS)
            with self._cond:
                if not self._woken and not self._stopping:
                    self._cond.wait(wait)

    def _catch_up(self) -> None:
        """The dashboard's silences in force that Alertmanager lacks (made while the
        dashboard ran without it, or before a restart whose copy failed): copy them."""
        if self._existing is None:
            return
        try:
            silences = self._existing()
        except Exception:
            log.exception("Cannot read the dashboard's silences to copy them to Alertmanager")
            return
        with self._cond:
            queued = {s.id for s, _ in self._queue}
            for silence in silences:
                if silence.origin != "dashboard" or silence.state == "expired":
                    continue
                if silence.alertmanager_id:
                    self._am_ids.setdefault(silence.id, silence.alertmanager_id)
                elif silence.id not in queued:
                    self._queue.append((silence, "created"))

    def _send_changes(self) -> bool:
        """Send the queued changes in order; False (and the rest kept) if Alertmanager fails."""
        sent = False
        while True:
            with self._cond:
                if not self._queue or self._stopping:
                    break
                silence, change = self._queue[0]
            try:
                self._send(silence, change)
            except AlertmanagerError as exc:
                self._failed(exc)
                if not exc.refused:
                    return False
                with self._cond:
                    self._refused = f"{exc} (the change was not sent again)"
                log.warning("Alertmanager refused a silence change, dropped: %s", exc)
            except Exception:  # a bug, or the book's hook failing: the change is dropped, the sync goes on
                log.exception("Sending the %s silence %s to Alertmanager failed unexpectedly", change, silence.id)
            with self._cond:
                if self._queue and self._queue[0] == (silence, change):
                    self._queue.popleft()
            sent = True
        if sent:
            return self.poll()  # what the dashboard shows follows at once
        return True

    def _send(self, silence: Silence, change: Change) -> None:
        if silence.origin == "alertmanager":
            if change == "expired":
                self._expire(silence.id)
            return
        if change == "created":
            with self._cond:
                if silence.id in self._am_ids:
                    return  # already there
            copy = silence.model_copy(update={"comment": silence.comment + origin_note(self.source, silence.id)})
            am_id = self.client.create_silence(copy)
            with self._cond:
                self._am_ids[silence.id] = am_id
                self._refused = None
            if self.set_alertmanager_id is not None:
                self.set_alertmanager_id(silence.id, am_id)
        else:
            with self._cond:
                copy_id = self._am_ids.get(silence.id) or silence.alertmanager_id
            if copy_id is not None:
                self._expire(copy_id)

    def _expire(self, am_id: str) -> None:
        try:
            self.client.expire_silence(am_id)
        except AlertmanagerError as exc:
            if not exc.refused:
                raise
            # Already expired, or gone (Alertmanager forgets expired silences after its retention).
            log.info("Alertmanager did not expire silence %s (%s): it has ended there already", am_id, exc)

    def poll(self) -> bool:
        """Read Alertmanager's silences into the cache; True if it answered."""
        try:
            silences = self.client.silences()
        except AlertmanagerError as exc:
            self._failed(exc)
            return False
        remote: list[Silence] = []
        with self._cond:
            copies = set(self._am_ids.values())
            for silence in silences:
                note = _NOTE.search(silence.comment)
                if note is not None and note["source"] == self.source:
                    self._am_ids.setdefault(note["id"], silence.id)  # a copy made before a restart
                    continue
                if silence.id in copies or silence.state == "expired":
                    continue
                remote.append(silence)
            self._remote = remote
            self._remote_ids = {s.id for s in remote}
            self._polled = True
            self._error = None
        recovered(log, f"alertmanager-silences:{self.client.base_url}", "Alertmanager answers about silences again")
        return True

    def _failed(self, exc: AlertmanagerError) -> None:
        with self._cond:
            self._error = str(exc)
        warn_once(log, f"alertmanager-silences:{self.client.base_url}", "%s", exc)
