"""The Overview's Cluster part as plain values: its cards and the rows of its node and
job tables (the page lays them out; times in the viewer's zone ``tz``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dashboard_core.health.overview import Summary, clock
from dashboard_core.labels import BLANK, Colour
from dashboard_core.models.ray_cluster import RayCluster, RayJob, RayNode
from dashboard_core.units import format_bytes

ACTIVE_JOBS = ("PENDING", "RUNNING")


def amount(value: float) -> str:
    """Ray's resources are fractional: ``2``, ``0.5``."""
    return f"{value:g}"


def used_of(used: float | None, total: float, unit: str = "") -> str:
    """``1 of 2`` (``— of 2`` when Ray did not say what is used)."""
    fmt = format_bytes if unit == "bytes" else amount
    return f"{fmt(used) if used is not None else BLANK} of {fmt(total)}"


def cluster_cards(view: RayCluster) -> list[Summary]:
    """Nodes alive of all, CPUs in use, GPUs in use (only if the cluster has any), the dashboard's jobs."""
    dead = view.nodes_total - view.nodes_alive
    colour: Colour = "red" if not view.nodes_alive else "orange" if dead else "green"
    cards = [
        Summary(
            "Ray nodes",
            f"{view.nodes_alive} of {view.nodes_total}",
            f"{dead} dead" if dead else "all alive",
            colour,
            "Nodes alive of all the cluster knows (Ray keeps dead nodes listed for a while).",
        ),
        Summary(
            "Ray CPUs",
            used_of(view.cpus_used, view.cpus_total),
            "in use" if view.cpus_used is not None else "use not reported yet",
            "blue",
            "CPUs reserved by tasks and jobs on alive nodes, of all (Ray's logical resources, as `ray status`).",
        ),
    ]
    if view.gpus_total:
        cards.append(
            Summary(
                "Ray GPUs",
                used_of(view.gpus_used, view.gpus_total),
                "in use",
                "blue",
                "GPUs reserved on alive nodes, of all.",
            )
        )
    running = sum(1 for j in view.jobs if j.status in ACTIVE_JOBS)
    cards.append(
        Summary(
            "Ray jobs",
            str(running),
            f"running of {len(view.jobs)} listed",
            "blue" if running else "gray",
            "Jobs this dashboard submitted (its runs on Ray) that the cluster still knows.",
        )
    )
    return cards


def node_rows(view: RayCluster, tz: str, now: datetime) -> list[dict[str, Any]]:
    """One row per node; a GPUs column only if the cluster has GPUs."""
    gpus = any(n.gpus_total for n in view.nodes)
    return [_node_row(n, gpus, tz, now) for n in view.nodes]


def _node_row(node: RayNode, gpus: bool, tz: str, now: datetime) -> dict[str, Any]:
    row: dict[str, Any] = {
        "node": f"{node.name} (head)" if node.head else node.name,
        "ip": node.ip,
        "state": node.state,
        "cpus": used_of(node.cpus_used, node.cpus_total),
    }
    if gpus:
        row["gpus"] = used_of(node.gpus_used, node.gpus_total)
    row["memory"] = used_of(node.memory_used_bytes, node.memory_total_bytes, "bytes")
    row["since"] = clock(node.started_at if node.alive else node.ended_at, tz, now)
    row["note"] = node.state_message or ""
    row["id"] = node.node_id[:12]
    return row


def job_rows(jobs: list[RayJob], tz: str, now: datetime) -> list[dict[str, Any]]:
    """One row per job, newest first (as listed), each linking to its run on the Tests page."""
    return [
        {
            "started": clock(j.started_at, tz, now),
            "status": j.status,
            "run": f"Run {j.run_id} of {j.suite}" + (f" · shard {j.shard}" if j.shard else "")
            if j.suite is not None
            else f"Workflow run {j.run_id} of {j.workflow} · step {j.step}",
            "link": j.link,  # beside the run it opens; the long entrypoint last
            "ended": clock(j.ended_at, tz, now),
            "submission_id": j.submission_id,
            "message": j.message or "",
            "entrypoint": j.entrypoint,
        }
        for j in jobs
    ]


def cluster_caption(view: RayCluster, tz: str, now: datetime) -> str:
    """``Ray 2.60.0 at http://...: read 14:03:07``."""
    ray = f"Ray {view.ray_version}" if view.ray_version else "Ray"
    read = f" · read {clock(view.read_at, tz, now)}" if view.read_at else ""
    return f"{ray} at {view.address}{read}"
