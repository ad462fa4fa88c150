"""An injected clock for code that takes ``clock: Callable[[], float]`` (time may be injected)."""

from __future__ import annotations


class Clock:
    """Epoch seconds that move only when a test says so: ``clock.now += 31``."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
