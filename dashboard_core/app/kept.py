"""A few answers about finished things kept in memory, newest used last out.

A finished run (its cases, the runs before it) never changes, yet a page reruns
its views on every click near them; what is read or computed from it is kept
here, keyed by what it was made from (the store's path first: tests run
several stores in one process). Thread-safe; two threads that miss at once
both compute, and the second keeps its own (the same) answer.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Kept(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        """The answer kept for ``key``, or ``make()``'s, kept (outside the lock: it may read the store)."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value
