"""What a caller may see, read once per refresh: each function is one screen's (or one
answer's) read, filtered for who asks. The API and the pages show the same models."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from dashboard_core.app.caller import Caller
from dashboard_core.metrics.remote_push import push_health
from dashboard_core.models import Overview, RunInfo, WorkflowRunInfo
from dashboard_core.runtime import Runtime
from dashboard_core.testing.errors import UnknownRun
from dashboard_core.workflows.errors import UnknownWorkflowRun


def overview(rt: Runtime, caller: Caller, events: int = 10) -> Overview:
    """Everything the Overview page and ``GET /api/dashboard/overview`` show, at once; the
    latest events only those the caller may see."""
    safety = rt.alerts.report()
    return Overview(
        host=rt.host_info(),
        dashboard=rt.self_health().model_copy(update={"remote_push": push_health(rt.remote_push)}),
        latest=rt.latest(),
        components=rt.health.statuses(),
        agents=rt.agents.overview(),
        safety=safety.status,
        firing=safety.firing,
        suites=rt.tests.suites(),
        workflows=rt.workflows.active(),
        events=rt.events.latest(events, who=caller.principal),
    )


# What moves with every check, heartbeat or second rather than with a change of state:
# redrawn once a minute (the version's minute), not each time.
_TICKING = {
    "last_checked",
    "latency_ms",
    "performance_percent",
    "uptime_24h_percent",
    "uptime_7d_percent",
    "last_seen",
    "metrics",
    "duration_seconds",
    "eta_seconds",
    "cpu_percent",  # a running step's process tree, sampled every few seconds: the Overview does not show it
    "rss",
}


def overview_version(ov: Overview, now: datetime) -> str:
    """What the Overview page shows, as a short digest that changes when its state
    does: a component's state or failures, an alert, a run's progress, an agent
    coming or going, an event; and once a minute, for its "2 min ago", latencies
    and its own health. Not the host's newest sample: the page's live cards show
    that without a rerun. The page redraws only when this changes (``/api/ui/version``)."""
    shown = json.dumps(_steady(ov.model_dump(mode="json", exclude={"host", "dashboard", "latest"})), sort_keys=True)
    return hashlib.blake2b(f"{shown}|{now:%Y%m%d%H%M}".encode(), digest_size=8).hexdigest()


def _steady(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _steady(v) for k, v in node.items() if k not in _TICKING}
    if isinstance(node, list):
        return [_steady(v) for v in node]
    return node


# -- what a page's URL names ---------------------------------------------------------
def run_of_suite(rt: Runtime, run_id: int | None, suite: str | None) -> RunInfo | None:
    """Test run ``run_id`` if it exists and is of ``suite`` (None: of any suite)."""
    if run_id is None:
        return None
    try:
        run = rt.tests.run(run_id)
    except UnknownRun:
        return None
    return run if suite in (None, run.suite) else None


def workflow_run(rt: Runtime, run_id: int) -> WorkflowRunInfo | None:
    """Workflow run ``run_id``, None if there is no such run."""
    try:
        return rt.workflows.run(run_id)
    except UnknownWorkflowRun:
        return None


def newest_workflow_run(rt: Runtime, workflow: str) -> int | None:
    """The id of ``workflow``'s newest run, None if it never ran."""
    runs = rt.workflows.runs(workflow, limit=1)[1]
    return runs[0].id if runs else None
