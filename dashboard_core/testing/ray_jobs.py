"""Which test runs and workflow steps went to Ray, by their jobs' submission ids
(``test_runs.process_ref``: one id, or one per shard, comma-separated;
``workflow_steps.process_ref``: one id), for the Overview's Cluster part."""

from __future__ import annotations

from dataclasses import dataclass

from dashboard_core.store import Store

MAX_RUNS = 50  # the newest runs on Ray the Cluster part lists the jobs of


@dataclass(frozen=True, slots=True)
class RayRun:
    """A run a job belongs to, and which of its shards the job is (None: not sharded); a
    workflow step's job names its workflow and step (and no suite)."""

    run_id: int
    suite: str | None
    shard: str | None
    workflow: str | None = None
    step: str | None = None


def ray_runs(store: Store, limit: int = MAX_RUNS) -> dict[str, RayRun]:
    """Submission id -> its run, for the newest ``limit`` runs submitted to Ray."""
    rows = store.all(
        "SELECT id, suite, process_ref FROM test_runs WHERE process_ref IS NOT NULL ORDER BY id DESC LIMIT ?",
        (limit,),
    )
    found: dict[str, RayRun] = {}
    for row in rows:
        ids = [part for part in str(row["process_ref"]).split(",") if part]
        for i, submission_id in enumerate(ids):
            shard = f"{i + 1}of{len(ids)}" if len(ids) > 1 else None
            found[submission_id] = RayRun(int(row["id"]), str(row["suite"]), shard)
    steps = store.all(
        "SELECT s.run_id, s.step, s.process_ref, r.workflow FROM workflow_steps s JOIN workflow_runs r ON r.id = s.run_id"
        " WHERE s.process_ref IS NOT NULL ORDER BY s.run_id DESC LIMIT ?",
        (limit,),
    )
    for row in steps:
        found[str(row["process_ref"])] = RayRun(
            int(row["run_id"]), None, None, workflow=str(row["workflow"]), step=str(row["step"])
        )
    return found
