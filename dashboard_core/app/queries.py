"""What a caller may see, read once per refresh: each function is one screen's (or one
answer's) read, filtered for who asks. The API and the pages show the same models."""

from __future__ import annotations

import hashlib
from datetime import datetime

from dashboard_core.app.caller import Caller
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
        dashboard=rt.self_health(),
        latest=rt.latest(),
        components=rt.health.statuses(),
        agents=rt.agents.overview(),
        safety=safety.status,
        firing=safety.firing,
        suites=rt.tests.suites(),
        workflows=rt.workflows.active(),
        events=rt.events.latest(events, who=caller.principal),
    )


def overview_version(ov: Overview, now: datetime) -> str:
    """What the Overview page shows, as a short digest that changes when any of it
    does: a component's state or check, an alert, a run, an agent, an event; and
    once a minute, for its "2 min ago" and its own health. Not the host's newest
    sample: the page's live cards show that without a rerun. The page redraws only
    when this changes (``/api/ui/version``), not every 2 s."""
    shown = ov.model_dump_json(exclude={"host", "dashboard", "latest"})
    return hashlib.blake2b(f"{shown}|{now:%Y%m%d%H%M}".encode(), digest_size=8).hexdigest()
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
