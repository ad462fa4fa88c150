"""Failed logins, limited per address and per address + name.

- ``per_name`` failures for one name from one address within ``window`` seconds block
  that name from that address; ``per_address`` failures from one address, whatever the
  names, block the address. Nothing is counted per name alone: a flood of wrong passwords
  from elsewhere never locks the right password out from another address.
- A successful login clears only its own address + name count: logging in with one's
  own account does not reset the address's budget for trying others' (password spraying).
- Each key costs one small record (a count and two times), and the number of keys is
  bounded (the least recently used is forgotten first). Tries refused while blocked are
  counted, not stored: the caller audits when a block starts and a summary when it ends.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Count:
    failures: int
    since: float  # the first failure in the current window
    blocked_until: float = 0.0
    refused: int = 0  # tries refused during the current block


Key = tuple[str, str | None]  # (address, None): the address; (address, name): that name from it


def what(key: Key) -> str:
    """``address 10.0.0.7`` or ``'otto' from 10.0.0.7``, for the audit log."""
    address, name = key
    return f"address {address}" if name is None else f"{name!r} from {address}"


@dataclass(frozen=True, slots=True)
class Block:
    """A block that started: who is blocked, for how long, after how many failures."""

    key: Key
    seconds: float
    failures: int


@dataclass(frozen=True, slots=True)
class BlockEnded:
    key: Key
    refused: int  # tries refused while it lasted


class FailedLogins:
    def __init__(
        self,
        per_name: int,
        per_address: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        self.per_name = per_name
        self.per_address = per_address
        self.window = window
        self.clock = clock
        self.max_keys = max_keys
        self._counts: OrderedDict[Key, _Count] = OrderedDict()
        self._lock = threading.Lock()

    def blocked_for(self, address: str, name: str) -> float:
        """Seconds until a login for this name from this address may be tried (0: now).
        A blocked try is counted for the block's summary."""
        now = self.clock()
        with self._lock:
            wait = 0.0
            for key in _keys(address, name):
                count = self._counts.get(key)
                if count is not None and count.blocked_until > now:
                    count.refused += 1
                    wait = max(wait, count.blocked_until - now)
            return wait

    def failed(self, address: str, name: str) -> list[Block]:
        """Count a wrong password; the blocks it starts."""
        now = self.clock()
        started: list[Block] = []
        with self._lock:
            for key, limit in zip(_keys(address, name), (self.per_address, self.per_name)):
                count = self._counts.get(key)
                if count is None:
                    count = _Count(0, now)
                elif now - count.since >= self.window:  # a new window (an ended block is reported by take_ended)
                    count.failures, count.since = 0, now
                count.failures += 1
                self._remember(key, count)
                if count.failures >= limit and count.blocked_until <= now:
                    count.blocked_until = now + self.window
                    count.refused = 0
                    started.append(Block(key, self.window, count.failures))
        return started

    def succeeded(self, address: str, name: str) -> None:
        """A right password: its own address + name count starts again (the address's stays)."""
        with self._lock:
            self._counts.pop(_keys(address, name)[1], None)

    def take_ended(self) -> list[BlockEnded]:
        """Blocks that are over, with the tries they refused (each reported once)."""
        now = self.clock()
        ended: list[BlockEnded] = []
        with self._lock:
            for key, count in list(self._counts.items()):
                if count.blocked_until and count.blocked_until <= now:
                    ended.append(BlockEnded(key, count.refused))
                    count.blocked_until, count.refused = 0.0, 0
                    if now - count.since >= self.window:
                        del self._counts[key]
        return ended

    def __len__(self) -> int:
        return len(self._counts)

    def _remember(self, key: Key, count: _Count) -> None:
        self._counts[key] = count
        self._counts.move_to_end(key)
        while len(self._counts) > self.max_keys:
            self._counts.popitem(last=False)


def _keys(address: str, name: str) -> tuple[Key, Key]:
    return (address, None), (address, name[:64])
