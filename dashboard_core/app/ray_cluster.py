"""The Ray cluster as the Overview and ``GET /api/ray/cluster`` show it: the cluster's
nodes and the jobs this dashboard submitted, each with its run on the Tests page.

Only with ``[ray] address`` set (None otherwise: no Cluster part). The cluster is read
by :mod:`dashboard_core.processes.ray_cluster` (briefly cached, in the background);
its jobs are matched to the store's runs by submission id here.
"""

from __future__ import annotations

from dashboard_core.app.links import suite_run_href, workflow_run_href
from dashboard_core.models.ray_cluster import ClusterState, RayCluster, RayJob
from dashboard_core.processes.ray_cluster import TIMEOUT, ClusterRead, JobState, watch_for
from dashboard_core.runtime import Runtime
from dashboard_core.testing.ray_jobs import RayRun, ray_runs

PAGE_WAIT = 0.5  # seconds a page waits for the first read of the cluster (then says "asking")
API_WAIT = TIMEOUT + 1.0  # the API waits for the first read: an answer or the reason there is none
REFRESH = 5.0  # seconds between redraws of the Overview's Cluster part


def cluster_shown(rt: Runtime) -> bool:
    """The Overview has a Cluster part only with ``[ray] address`` set."""
    return bool(rt.config.ray.address)


def ray_cluster(rt: Runtime, wait: float = PAGE_WAIT) -> RayCluster | None:
    """The cluster at ``[ray] address`` and the dashboard's jobs on it; None without an address."""
    address = rt.config.ray.address
    if not address:
        return None
    read = watch_for(address).read(wait)
    return cluster_view(address, read, ray_runs(rt.store) if read is not None and read.problem is None else {})


def cluster_view(address: str, read: ClusterRead | None, runs: dict[str, RayRun]) -> RayCluster:
    """A read of the cluster as the model: totals over alive nodes, the jobs that are the runs' (newest first)."""
    if read is None:
        return RayCluster(address=address, state=ClusterState.PENDING)
    if read.problem is not None:
        return RayCluster(address=address, state=ClusterState.UNREACHABLE, problem=read.problem, read_at=read.at)
    alive = [n for n in read.nodes if n.alive]
    jobs = [_job(job, runs[job.submission_id]) for job in read.jobs if job.submission_id in runs]
    jobs.sort(
        key=lambda j: (j.run_id, j.started_at.timestamp() if j.started_at else 0.0, j.submission_id), reverse=True
    )
    return RayCluster(
        address=address,
        state=ClusterState.OK,
        read_at=read.at,
        ray_version=read.ray_version,
        nodes=list(read.nodes),
        jobs=jobs,
        nodes_alive=len(alive),
        nodes_total=len(read.nodes),
        cpus_used=_sum([n.cpus_used for n in alive]),
        cpus_total=sum(n.cpus_total for n in alive),
        gpus_used=_sum([n.gpus_used for n in alive if n.gpus_total]),
        gpus_total=sum(n.gpus_total for n in alive),
    )


def _sum(values: list[float | None]) -> float | None:
    """The sum, or None when a node did not say (a total of what is known would mislead)."""
    if not values or any(v is None for v in values):
        return None
    return sum(v for v in values if v is not None)


def _job(job: JobState, run: RayRun) -> RayJob:
    return RayJob(
        submission_id=job.submission_id,
        status=job.status,
        entrypoint=job.entrypoint,
        message=job.message,
        started_at=job.started_at,
        ended_at=job.ended_at,
        run_id=run.run_id,
        suite=run.suite,
        shard=run.shard,
        workflow=run.workflow,
        step=run.step,
        link=suite_run_href(run.suite, run.run_id)
        if run.suite is not None
        else workflow_run_href(run.workflow or "", run.run_id),
    )
