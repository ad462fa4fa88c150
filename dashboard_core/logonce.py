"""Log a recurring failure once, not on every sample.

A vanished disk or a permission error repeats every second; one warning (and
one more when it recovers) is what an operator can read.
"""

from __future__ import annotations

import logging
import threading

_seen: set[str] = set()
_lock = threading.Lock()


def warn_once(log: logging.Logger, key: str, message: str, *args: object) -> bool:
    """Log ``message`` at WARNING the first time ``key`` fails; True if it was logged."""
    with _lock:
        if key in _seen:
            return False
        _seen.add(key)
    log.warning(message, *args)
    return True


def recovered(log: logging.Logger, key: str, message: str, *args: object) -> None:
    """Forget a failure that has stopped, logging once that it recovered."""
    with _lock:
        if key not in _seen:
            return
        _seen.discard(key)
    log.info(message, *args)
