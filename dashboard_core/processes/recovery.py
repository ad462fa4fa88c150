"""After a crash: runs the store still calls active belong to a dashboard that is
gone. Each component marks its own runs interrupted, in the same words, and
stops what they left running, found again by pid and start time."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TypeVar

from dashboard_core.processes.executor import Executor
from dashboard_core.processes.spec import ProcessRecord
from dashboard_core.store import StoreError

log = logging.getLogger(__name__)

LEFTOVER_GRACE_SECONDS = 2.0
LEFTOVER_WAIT_SECONDS = 5.0  # beyond the grace: SIGKILL has been sent by then
LEFTOVER_POLL_SECONDS = 0.05
LEFT_BEHIND = "; the processes it left behind were killed"

Row = TypeVar("Row")


def kill_leftover(executor: Executor, record: ProcessRecord, grace: float = LEFTOVER_GRACE_SECONDS) -> bool:
    """Stop a process a dead dashboard left running, if it still runs (a recycled
    pid is told apart by its start time), and wait a while for it to be gone.
    True if there was one."""
    handle = executor.reattach(record)
    if handle is None:
        return False
    executor.stop(handle, grace)
    deadline = time.monotonic() + grace + LEFTOVER_WAIT_SECONDS
    while executor.reattach(record) is not None:  # gone: not found again (any executor can tell)
        if time.monotonic() >= deadline:
            log.warning("A process left by the previous dashboard (pid %s) is still there", record.pid)
            break
        time.sleep(LEFTOVER_POLL_SECONDS)  # polling its end, with a deadline
    return True


def clock_text(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")


def interrupted_during(last_seen: float, now: float, killed: bool) -> str:
    """The message of a run the dashboard stopped (died) during."""
    message = (
        f"interrupted: the dashboard stopped during this run (last seen running at "
        f"{clock_text(last_seen)} UTC, noticed at start-up at {clock_text(now)} UTC)"
    )
    return message + LEFT_BEHIND if killed else message


def recover_each(
    rows: Iterable[Row],
    settle: Callable[[Row], str],
    tell: Callable[[Row, str], None],
    name: Callable[[Row], str],
) -> None:
    """For each unfinished run: ``settle`` it (kill and record; returns its message),
    then ``tell`` (an event). A run the store cannot record now (a full disk) is
    left for the next start."""
    for row in rows:
        try:
            message = settle(row)
        except StoreError as exc:
            log.error("%s: cannot record that it was interrupted: %s", name(row), exc)
            continue
        log.warning("%s: %s", name(row), message)
        tell(row, message)
