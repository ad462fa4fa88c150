"""What the test manager and the workflow supervisor share: the same machine.

- :class:`Guard`: a component's lock, which knows whether this thread holds it,
  and the condition its waiters wait on. The rule it serves: no store write, no
  subprocess start and no listener call while it is held (readers on other
  threads would wait on the disk); a test checks that, with :meth:`Guard.held`.
- :class:`Board`: the runs a component has going on, under its guard, and the
  flag that says it is stopping.
- :class:`Outbox`: store writes that must not be lost. Each is tried at once; one
  the store refuses (a full disk) is kept and tried again at the next flush, a
  newer write of the same key replacing it; the run stays in memory meanwhile.
- :class:`Heartbeat`: when a running run's "last seen" is due to be saved.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from dashboard_core.store import StoreError

HEARTBEAT_SECONDS = 2.0  # how often a running run's "last seen" is saved

T = TypeVar("T")


class Guard:
    """A re-entrant lock (``with guard:``) with a condition, ``changed``, to wait on."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._depth = threading.local()
        self.changed = threading.Condition(self._lock)

    def __enter__(self) -> Guard:
        self._lock.acquire()
        self._depth.n = getattr(self._depth, "n", 0) + 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth.n -= 1
        self._lock.release()

    def held(self) -> bool:
        """True if the calling thread holds it (for checks of the rule above)."""
        return getattr(self._depth, "n", 0) > 0

    def notify(self) -> None:
        with self:
            self.changed.notify_all()

    def wait_for(self, predicate: Callable[[], bool], timeout: float | None) -> bool:
        with self:
            return self.changed.wait_for(predicate, timeout)


class Board(Generic[T]):
    """The runs going on, by id; read and changed under ``guard``."""

    def __init__(self) -> None:
        self.guard = Guard()
        self.active: dict[int, T] = {}
        self.stopping = threading.Event()

    def items(self) -> list[T]:
        with self.guard:
            return list(self.active.values())

    def remove(self, run_id: int) -> None:
        with self.guard:
            self.active.pop(run_id, None)
            self.guard.changed.notify_all()

    def wait_gone(self, run_id: int, timeout: float | None) -> bool:
        """Block until the run is no longer active (or the timeout passed)."""
        return self.guard.wait_for(lambda: run_id not in self.active, timeout)


class Outbox:
    """Keyed store writes, in the order first asked. One flush at a time (its own
    lock, which no reader takes); the component's guard is never held here."""

    def __init__(self) -> None:
        self._pending: dict[Hashable, Callable[[], Any]] = {}
        self._lock = threading.Lock()
        self._flushing = threading.Lock()

    def put(self, key: Hashable, write: Callable[[], Any]) -> None:
        with self._lock:
            self._pending[key] = write

    def send(self, key: Hashable, write: Callable[[], Any]) -> bool:
        """:meth:`put`, then :meth:`flush`."""
        self.put(key, write)
        return self.flush()

    def flush(self) -> bool:
        """Write what is pending; False if the store refused a write (kept for later)."""
        with self._flushing:
            while True:
                with self._lock:
                    if not self._pending:
                        return True
                    key, write = next(iter(self._pending.items()))
                try:
                    write()
                except StoreError:  # the store has said why; tried again at the next flush
                    return False
                with self._lock:
                    if self._pending.get(key) is write:  # not replaced meanwhile
                        del self._pending[key]

    @property
    def empty(self) -> bool:
        with self._lock:
            return not self._pending


class Heartbeat:
    """``due()`` once every ``every`` seconds after the last ``beat()``."""

    def __init__(self, every: float = HEARTBEAT_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self.clock = clock
        self.last = clock()

    def due(self) -> bool:
        return self.clock() - self.last >= self.every

    def beat(self) -> None:
        self.last = self.clock()
