"""Across a restart of the dashboard, a workflow run whose running steps are all
jobs on a Ray cluster goes on without it (as a test run on Ray does,
:mod:`dashboard_core.testing.reattach`). A dashboard that stops leaves such a run
to its jobs (still "running" in the store, its driver gone); the next one, instead
of marking it interrupted, follows each running step's job again by its submission
id (``process_ref``), from the start of its log, and drives the run on: the steps
that need it start once it has succeeded. After a crash (``kill -9``) the same
happens. A run that cannot be followed again (a local step was running, a job is
gone, the workflow changed) is interrupted, its jobs stopped: nothing is left on
the cluster. Services are not left to their jobs: a stop ends them as a local one."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from dashboard_core.config import Config
from dashboard_core.models import StepStatus, Trigger
from dashboard_core.processes.board import Board
from dashboard_core.processes.capped_log import CappedLog
from dashboard_core.processes.ray_executor import TERMINAL, RayExecutor, wait_gone
from dashboard_core.processes.spec import CannotStart, ProcessRecord
from dashboard_core.workflows.driver import RunDriver
from dashboard_core.workflows.history import WorkflowHistory
from dashboard_core.workflows.recovery import Tell, recover_runs
from dashboard_core.workflows.state import RunState, StepState

log = logging.getLogger(__name__)

STOP_WAIT_SECONDS = 30.0  # for a stopped job's status to be final
ACTIVE = (StepStatus.RUNNING, StepStatus.BACKING_OFF)


def leavable(run: RunState) -> bool:
    """A job run (not a service) whose running steps are all Ray jobs still going
    (call with the guard held)."""
    if run.workflow.service or run.stop_reason is not None or run.status.finished:
        return False
    running = [s for s in run.steps.values() if s.status in ACTIVE]
    for step in running:
        proc = step.proc
        if step.config.executor != "ray" or proc is None or proc.record is None or not proc.record.ref:
            return False
        if proc.done.is_set():  # ended: its driver records that, not the next dashboard
            return False
    return bool(running)


def leave_to_their_jobs(board: Board[RunState], halted: threading.Event) -> None:
    """At a stop of the dashboard: take the runs whose running steps are all on Ray
    off the board (their drivers walk away, their jobs go on; the others are left
    for the stop to interrupt). Nothing when the supervisor was abandoned (halted)."""
    if halted.is_set():
        return
    left = []
    with board.guard:
        for run in board.active.values():
            if leavable(run):
                run.left = True
                left.append(run)
    for run in left:
        run.wake.set()
        if run.thread is not None:
            run.thread.join(10)
        for step in run.steps.values():
            if step.log is not None:
                step.log.close()
        run.outbox.flush()  # what it recorded so far; if the store refuses, the next start reads the jobs again
        board.remove(run.id)
        log.info("Workflow run %s of %s: left to its Ray jobs; the next start follows them", run.id, run.workflow.name)


def recover_or_resume(
    config: Config, history: WorkflowHistory, driver: RunDriver, board: Board[RunState], folder: Path, tell: Tell
) -> None:
    """At start-up: follow again the runs left to their Ray jobs; mark the other runs
    the store calls running interrupted (stopping what they left, on Ray too)."""
    recover_runs(
        history,
        driver.executor,
        tell,
        driver.clock(),
        resume=lambda row: resume_run(config, history, driver, board, folder, row, driver.clock),
        stop_job=lambda ref: stop_left_job(config, ref),
    )


def resume_run(
    config: Config,
    history: WorkflowHistory,
    driver: RunDriver,
    board: Board[RunState],
    folder: Path,
    row: sqlite3.Row,
    clock: Callable[[], float],
) -> bool:
    """Put a run whose running steps are Ray jobs the cluster still knows back on the
    board, its driver started again; False if it cannot be (then it is interrupted)."""
    wf = config.workflow_config(row["workflow"])
    rows = history.step_rows(row["id"])
    if wf is None or wf.service or [r["step"] for r in rows] != [s.name for s in wf.steps]:
        return False
    running = [r for r in rows if StepStatus(r["status"]) in ACTIVE]
    if not running or any(r["status"] != StepStatus.RUNNING.value or not r["process_ref"] for r in running):
        return False
    if any(wf.step(r["step"]).executor != "ray" for r in running):  # type: ignore[union-attr]
        return False
    run = RunState(
        row["id"],
        wf,
        Trigger(row["trigger"]),
        json.loads(row["params"] or "{}"),
        row["started_at"],
        folder / str(row["id"]),
        {s.name: StepState(s) for s in wf.steps},
    )
    for r in rows:
        step = run.steps[r["step"]]
        step.status, step.message, step.exit_code = StepStatus(r["status"]), r["message"] or "", r["exit_code"]
        step.started_at, step.ended_at, step.restarts = r["started_at"], r["ended_at"], r["restarts"] or 0
        step.log_path = Path(r["log_path"]) if r["log_path"] else None
    now = clock()
    try:
        for r in running:
            step = run.steps[r["step"]]
            step.log_path = step.log_path or run.folder / f"{step.name}.log"
            step.log_path.parent.mkdir(parents=True, exist_ok=True)
            step.log = CappedLog(step.log_path, config.workflow.log_max_bytes)  # the job's log is read whole again
            step.proc = driver.process(run, step, step.log)
            elapsed = max(0.0, now - (step.started_at or now))
            step.began = time.monotonic() - elapsed
            if not step.proc.resume(ProcessRecord(None, r["pid_created"], r["process_ref"]), elapsed):
                raise CannotStart(f"its job {r['process_ref']} is gone from the cluster")
    except (OSError, CannotStart) as exc:
        log.warning("Workflow run %s of %s cannot be followed again: %s", run.id, wf.name, exc)
        for step in run.steps.values():
            if step.proc is not None and step.proc.handle is not None:
                step.proc.executor.stop(step.proc.handle, 0)
            if step.log is not None:
                step.log.close()
        return False
    run.thread = threading.Thread(target=driver.drive, args=(run, True), name=f"workflow-{run.id}", daemon=True)
    with board.guard:
        board.active[run.id] = run
        board.guard.changed.notify_all()
    run.thread.start()
    log.info("Workflow run %s of %s: following its Ray jobs again", run.id, wf.name)
    return True


def stop_left_job(config: Config, ref: str) -> bool:
    """The Ray job of a step of a run that is interrupted at start-up: stop it
    (nothing is left on the cluster) and wait for its status to be final. True if
    it still ran."""
    if config.ray.address is None:
        log.warning("Ray job %s of an interrupted workflow run: no [ray] address to stop it with", ref)
        return False
    try:
        executor = RayExecutor(config.ray.address)
    except CannotStart as exc:
        log.warning("Ray job %s of an interrupted workflow run cannot be stopped: %s", ref, exc)
        return False
    handle = executor.reattach(ProcessRecord(None, None, ref))
    running = [job for job in ref.split(",") if executor.status(job) not in (*TERMINAL, None)]
    if handle is None or not running:
        return False
    executor.stop(handle, 0)
    for job in running:
        if not wait_gone(executor, job, STOP_WAIT_SECONDS):
            log.warning("Ray job %s, left by the previous dashboard, did not stop in time", job)
    return True
