"""Python health checks for the fault tests, importable by a server started from
the repository root (``tests.faults.checks:...``)."""

from __future__ import annotations

import threading

HEALTHY = threading.Event()  # in-process tests switch :func:`switchable` with it
HEALTHY.set()


def switchable() -> tuple[str, str]:
    """Healthy while :data:`HEALTHY` is set, else down."""
    if HEALTHY.is_set():
        return "healthy", "the switch is on"
    return "down", "the switch is off"


def never_returns() -> bool:
    """A check that hangs for ever: the call under test never comes back."""
    threading.Event().wait()
    return True  # pragma: no cover - never reached
