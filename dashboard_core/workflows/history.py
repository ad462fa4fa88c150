"""Workflow runs and their steps in the store: written as their states change,
read for the history views. Times are UTC epoch seconds in the file, datetimes
outside. Steps are read back in the order they were recorded (config order).

A read costs a fixed number of queries, however many runs or workflows it
covers: the runs in one query, then the steps of all of them in one more (the
Workflows page refreshes every second or two, with a card per workflow)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from dashboard_core.models import StepInfo, StepStatus, Trigger, WorkflowRunInfo, WorkflowStatus
from dashboard_core.store import Store
from dashboard_core.units import from_epoch

DependsOn = Callable[[str], Mapping[str, Sequence[str]]]  # workflow name -> step -> the steps it needs

_RUN_COLUMNS = {"status", "message", "ended_at", "updated_at"}
_STEP_COLUMNS = {
    "status",
    "message",
    "exit_code",
    "started_at",
    "ended_at",
    "restarts",
    "log_path",
    "pid",
    "pid_created",
    "process_ref",
}


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, StepStatus | WorkflowStatus) else value


class WorkflowHistory:
    def __init__(self, store: Store, depends_on: DependsOn | None = None) -> None:
        self.store = store
        self.depends_on: DependsOn = depends_on or (lambda _workflow: {})

    # -- writing -------------------------------------------------------------------
    def insert(
        self, workflow: str, trigger: Trigger, params: Mapping[str, object], started_at: float, steps: Sequence[str]
    ) -> int:
        """A new run (running) with its steps (pending), in one transaction."""
        with self.store.transaction() as db:
            cursor = db.execute(
                "INSERT INTO workflow_runs (workflow, trigger, params, status, started_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    workflow,
                    str(trigger),
                    json.dumps(dict(params)),
                    WorkflowStatus.RUNNING.value,
                    started_at,
                    started_at,
                ),
            )
            run_id = int(cursor.lastrowid or 0)
            db.executemany(
                "INSERT INTO workflow_steps (run_id, step, status) VALUES (?, ?, ?)",
                [(run_id, name, StepStatus.PENDING.value) for name in steps],
            )
        return run_id

    def update_run(self, run_id: int, **values: Any) -> None:
        unknown = set(values) - _RUN_COLUMNS
        if unknown:
            raise ValueError(f"not a column of workflow_runs: {', '.join(sorted(unknown))}")
        sets = ", ".join(f"{k} = ?" for k in values)
        self.store.execute(f"UPDATE workflow_runs SET {sets} WHERE id = ?", [*map(_plain, values.values()), run_id])

    def update_step(self, run_id: int, step: str, **values: Any) -> None:
        unknown = set(values) - _STEP_COLUMNS
        if unknown:
            raise ValueError(f"not a column of workflow_steps: {', '.join(sorted(unknown))}")
        sets = ", ".join(f"{k} = ?" for k in values)
        self.store.execute(
            f"UPDATE workflow_steps SET {sets} WHERE run_id = ? AND step = ?",
            [*map(_plain, values.values()), run_id, step],
        )

    # -- reading -------------------------------------------------------------------
    def get(self, run_id: int, now: float | None = None) -> WorkflowRunInfo | None:
        row = self.store.one("SELECT * FROM workflow_runs WHERE id = ?", (run_id,))
        return self._infos([row], now)[0] if row is not None else None

    def unfinished(self) -> list[sqlite3.Row]:
        """Runs the store still calls running, oldest first."""
        return self.store.all(
            "SELECT * FROM workflow_runs WHERE status = ? ORDER BY id", (WorkflowStatus.RUNNING.value,)
        )

    def step_rows(self, run_id: int) -> list[sqlite3.Row]:
        return self.store.all("SELECT * FROM workflow_steps WHERE run_id = ? ORDER BY rowid", (run_id,))

    def page(
        self, workflow: str | None, limit: int, offset: int, now: float | None = None
    ) -> tuple[int, list[WorkflowRunInfo]]:
        """Newest first."""
        where, params = (" WHERE workflow = ?", [workflow]) if workflow is not None else ("", [])
        total_row = self.store.one(f"SELECT COUNT(*) FROM workflow_runs{where}", params)
        rows = self.store.all(
            f"SELECT * FROM workflow_runs{where} ORDER BY id DESC LIMIT ? OFFSET ?",
            [*params, max(0, limit), max(0, offset)],
        )
        return (int(total_row[0]) if total_row else 0), self._infos(rows, now)

    def last_finished(self, workflows: Sequence[str]) -> dict[str, WorkflowRunInfo]:
        """The newest finished run of each of ``workflows`` that has one, by workflow
        (each found through the ``(workflow, id)`` index, all in one query)."""
        if not workflows:
            return {}
        names = ", ".join("(?)" for _ in workflows)
        rows = self.store.all(
            f"WITH names(name) AS (VALUES {names}) SELECT * FROM workflow_runs WHERE id IN ("
            " SELECT (SELECT id FROM workflow_runs WHERE workflow = names.name AND status != ?"
            " ORDER BY id DESC LIMIT 1) FROM names)",
            [*workflows, WorkflowStatus.RUNNING.value],
        )
        return {info.workflow: info for info in self._infos(rows)}

    def _infos(self, rows: Sequence[sqlite3.Row], now: float | None = None) -> list[WorkflowRunInfo]:
        """The runs of ``rows``, in their order, with their steps (read in one query)."""
        steps: dict[int, list[sqlite3.Row]] = {int(r["id"]): [] for r in rows}
        if steps:
            marks = ", ".join("?" for _ in steps)
            for s in self.store.all(
                f"SELECT * FROM workflow_steps WHERE run_id IN ({marks}) ORDER BY run_id, rowid", list(steps)
            ):
                steps[int(s["run_id"])].append(s)
        return [self._info(r, steps[int(r["id"])], now) for r in rows]

    def _info(self, row: sqlite3.Row, step_rows: Sequence[sqlite3.Row], now: float | None) -> WorkflowRunInfo:
        needs = self.depends_on(row["workflow"])
        steps = [_step_info(s, needs.get(s["step"], ()), now) for s in step_rows]
        ended = row["ended_at"]
        end = ended if ended is not None else now
        return WorkflowRunInfo(
            id=row["id"],
            workflow=row["workflow"],
            trigger=Trigger(row["trigger"]),
            params=json.loads(row["params"] or "{}"),
            status=WorkflowStatus(row["status"]),
            message=row["message"],
            started_at=from_epoch(row["started_at"]),
            ended_at=from_epoch(ended),
            duration_seconds=max(0.0, end - row["started_at"]) if end is not None else None,
            steps=steps,
        )


def _step_info(row: sqlite3.Row, depends_on: Sequence[str], now: float | None) -> StepInfo:
    started, ended = row["started_at"], row["ended_at"]
    end = ended if ended is not None else now
    return StepInfo(
        name=row["step"],
        status=StepStatus(row["status"]),
        depends_on=list(depends_on),
        message=row["message"],
        exit_code=row["exit_code"],
        started_at=from_epoch(started),
        ended_at=from_epoch(ended),
        duration_seconds=max(0.0, end - started) if started is not None and end is not None else None,
        restarts=row["restarts"],
        log_path=row["log_path"],
    )
