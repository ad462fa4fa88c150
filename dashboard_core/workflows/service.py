"""The rules that keep a service up: when to restart it, how long to wait first,
and when a crash loop has gone on long enough to give up.

- ``never``: the run ends with the step's outcome; ``on-failure``: restart only
  after a failure (an exit code other than 0, a signal, a failed start, a
  timeout); ``always``: restart after any exit.
- The n-th restart in a row waits ``backoff_seconds * 2**(n-1)``, at most
  ``backoff_max_seconds``.
- After ``max_restarts`` restarts in a row the supervisor gives up (the run fails).
- The count starts again from 0 once an attempt stayed up for
  :func:`stable_after` seconds: twice the longest back-off, and at least
  ``STABLE_MIN_SECONDS`` (so a slow start is never taken for a healthy service).
"""

from __future__ import annotations

from dashboard_core.config import WorkflowConfig

STABLE_MIN_SECONDS = 10.0


def should_restart(workflow: WorkflowConfig, succeeded: bool) -> bool:
    return workflow.restart == "always" or (workflow.restart == "on-failure" and not succeeded)


def backoff_delay(workflow: WorkflowConfig, restart: int) -> float:
    """Seconds to wait before the ``restart``-th restart in a row (1 = the first)."""
    exponent = min(max(restart - 1, 0), 64)  # 2**64 × the smallest back-off is past any maximum
    return min(workflow.backoff_seconds * 2.0**exponent, workflow.backoff_max_seconds)


def stable_after(workflow: WorkflowConfig) -> float:
    """An attempt that stayed up this long resets the count of restarts in a row."""
    return max(STABLE_MIN_SECONDS, 2 * workflow.backoff_max_seconds)
