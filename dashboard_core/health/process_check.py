"""A process check: enough processes match, by exact name or a regex over the command
line (one read of the process table; the caller runs it in a thread), or the dashboard's
own process runs (``match = "self"``, by pid)."""

from __future__ import annotations

import os

import psutil

from dashboard_core.config import ProcessCheck
from dashboard_core.metrics.processes import WatchRule
from dashboard_core.metrics.procfs import default_reader


def count_processes(check: ProcessCheck) -> tuple[bool, str]:
    """Count the processes that match; zombies (exited, not yet reaped by their
    parent) never count. The dashboard's own process counts: "is the dashboard
    running" is a fair check (the shipped config makes it, with ``match = "self"``:
    by pid, so another dashboard on the host does not count)."""
    if check.match == "self":
        pid = os.getpid()
        if _running(pid):
            return True, f"this dashboard's process (pid {pid}) is running"
        return False, f"this dashboard's process (pid {pid}) is not running"
    by_cmdline = check.cmdline is not None
    rule = WatchRule(
        label="check",
        pattern=check.cmdline if check.cmdline is not None else check.name or "",
        match="cmdline" if by_cmdline else "name",
    )
    matched = [p.pid for p in default_reader()(by_cmdline) if rule.matches(p.name, p.cmdline)]
    count = sum(1 for pid in matched if _running(pid))
    how = f"cmdline {check.cmdline!r}" if by_cmdline else f"name {check.name!r}"
    if count == 0:
        found = f"no process matches {how}"
    else:
        found = f"{count} process{'es' if count != 1 else ''} match{'' if count != 1 else 'es'} {how}"
    if count >= check.min_count:
        return True, found
    return False, f"{found}, at least {check.min_count} needed"


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True
