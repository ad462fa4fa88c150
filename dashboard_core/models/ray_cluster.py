"""The Ray cluster suites run on, as the dashboard reads it from Ray's own HTTP API:
its nodes (state, CPUs, GPUs, memory) and the jobs this dashboard submitted.

``GET /api/ray/cluster`` answers a :class:`RayCluster`; the Overview's Cluster part
draws the same model. Resources are Ray's logical ones (what the cluster schedules
by), as ``ray status`` shows them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class ClusterState(StrEnum):
    OK = "ok"  # read: nodes and jobs below
    PENDING = "pending"  # the first read is under way (a page does not wait for it)
    UNREACHABLE = "unreachable"  # the read failed: `problem` says why


class RayNode(BaseModel):
    node_id: str
    name: str = Field(description="Ray's node name (its address unless named).")
    ip: str
    head: bool = Field(description="The head node (the cluster's GCS and dashboard).")
    alive: bool
    state: str = Field(description="Ray's word: ALIVE or DEAD.")
    state_message: str | None = Field(None, description="Why a node died, as Ray says it.")
    cpus_total: float = 0.0
    cpus_used: float | None = Field(None, description="CPUs reserved by tasks and jobs; None: Ray did not say.")
    gpus_total: float = 0.0
    gpus_used: float | None = None
    memory_total_bytes: float = Field(0.0, description="Ray's logical memory resource of the node.")
    memory_used_bytes: float | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = Field(None, description="When a dead node died.")


class RayJob(BaseModel):
    """A Ray job this dashboard submitted: a test run's (or one of its shards), or a workflow step's."""

    submission_id: str
    status: str = Field(description="Ray's job status: PENDING, RUNNING, STOPPED, SUCCEEDED or FAILED.")
    entrypoint: str
    message: str | None = Field(None, description="Ray's sentence on the job's status.")
    started_at: datetime | None = None
    ended_at: datetime | None = None
    run_id: int = Field(description="The dashboard's test run, or its workflow run (with workflow and step).")
    suite: str | None = Field(None, description="The test run's suite (None for a workflow step).")
    shard: str | None = Field(None, description="'2of4' for one job of a run split in shards.")
    workflow: str | None = Field(None, description="The workflow of a step's job.")
    step: str | None = Field(None, description="The step a workflow step's job runs.")
    link: str = Field(
        description="The run on the Tests (or Workflows) page, relative to the app's root (tests?suite=...&run=...)."
    )


class RayCluster(BaseModel):
    """What the dashboard sees of its Ray cluster (``[ray] address``)."""

    address: str
    state: ClusterState
    problem: str | None = Field(None, description="'cluster unreachable: <why>' when the read failed.")
    read_at: datetime | None = Field(
        None, description="When this was read from the cluster (reads are cached briefly)."
    )
    ray_version: str | None = None
    nodes: list[RayNode] = Field(default_factory=list, description="Alive nodes first, the head first.")
    jobs: list[RayJob] = Field(
        default_factory=list, description="The dashboard's jobs the cluster knows, newest first."
    )
    nodes_alive: int = 0
    nodes_total: int = 0
    cpus_used: float | None = Field(None, description="On alive nodes; None: Ray did not say.")
    cpus_total: float = 0.0
    gpus_used: float | None = None
    gpus_total: float = 0.0
