"""What a caller may see, read once per refresh: each function is one screen's (or one
answer's) read, filtered for who asks. The API and the pages show the same models."""

from __future__ import annotations

import hashlib
from datetime import datetime

from dashboard_core.app.caller import Caller
from dashboard_core.models import Overview
from dashboard_core.runtime import Runtime


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
