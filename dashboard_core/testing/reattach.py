"""Across a restart of the dashboard, a run whose process is a job on a Ray
cluster goes on without it. A dashboard that stops leaves such a run to its job
(still "running" in the store); the next one, instead of marking it interrupted,
follows the job again by its submission id (``process_ref``): its output and
progress are read again from their start, and the run ends as it would have.
After a crash (``kill -9``) the same happens."""

from __future__ import annotations

import json
import logging
import sqlite3

from dashboard_core.models import RunStatus, Trigger
from dashboard_core.processes.spec import CannotStart, ProcessRecord
from dashboard_core.store import StoreError
from dashboard_core.testing.engine import RunEngine
from dashboard_core.testing.live import ActiveRun
from dashboard_core.testing.suites import run_spec
from dashboard_core.units import from_epoch

log = logging.getLogger(__name__)


def resume_run(engine: RunEngine, row: sqlite3.Row) -> bool:
    """Put a running run whose job still runs back on the board; False if it cannot
    be (not a Ray run, its suite is gone from the config, the job has ended)."""
    suite = engine.config.suite(row["suite"])
    ref = row["process_ref"]
    if suite is None or suite.executor != "ray" or not ref or row["status"] != RunStatus.RUNNING.value:
        return False
    selection = json.loads(row["selection"]) if row["selection"] else None
    a = ActiveRun(
        row["id"], suite, Trigger(row["trigger"]), from_epoch(row["queued_at"]), selection, row["rerun_of"], None
    )
    try:
        run = engine.suite_run(a, run_spec(suite, engine.config, engine.runs_dir / str(a.id), selection))
        found = run.resume(
            ProcessRecord(None, row["pid_created"], ref), from_epoch(row["started_at"] or row["queued_at"])
        )
    except (OSError, ValueError, CannotStart) as exc:
        log.warning("Run %s of %s: its Ray job %s cannot be followed again: %s", a.id, suite.name, ref, exc)
        return False
    if not found:
        return False
    with engine.guard:
        a.run = run
        engine.board.active[a.id] = a
        engine.guard.changed.notify_all()
    engine.wake.set()
    log.info("Run %s of %s: following its Ray job %s again", a.id, suite.name, ref)
    return True


def leave_to_their_jobs(engine: RunEngine, running: list[ActiveRun]) -> list[ActiveRun]:
    """At a stop of the dashboard: take the unfinished runs on Ray off the board, their
    progress saved, their jobs left running; the other runs are returned (to be interrupted)."""
    rest = []
    for a in running:
        run = a.run
        record = run.process.record if run is not None else None
        if run is None or a.suite.executor != "ray" or record is None or not record.ref or run.wait(0):
            rest.append(a)
            continue
        try:
            engine.save_progress(a)
        except StoreError:
            pass  # read again from the job's log by the next start
        engine.board.remove(a.id)
        log.info("Run %s of %s: left to its Ray job %s; the next start follows it", a.id, a.suite.name, record.ref)
    return rest
