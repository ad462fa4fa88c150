"""Reading a Ray cluster from its dashboard's HTTP API: its nodes and the dashboard's jobs.

Three requests to the address suites are submitted to (``[ray] address``):
``/api/v0/nodes`` (Ray's state API: every node, alive or dead, and its resources),
``/api/cluster_status`` (the autoscaler's report: what each node has in use) and
``/api/jobs/`` (the Jobs API's list; the dashboard's jobs are those whose submission
id it made, :data:`SUBMISSION_PREFIX`). Plain HTTP: no ``ray`` import, so the
cluster shows even where Ray is not installed.

A page must never wait on a slow or dead cluster: :class:`ClusterWatch` keeps the
last read (fresh for :data:`FRESH` seconds) and reads again on a thread of its own
when asked after that, handing out the older read meanwhile; only a first read is
waited for, at most as long as its caller says. A read is bounded by
:data:`TIMEOUT` seconds in all, and a failed one is kept as such ("cluster
unreachable: <why>"), so a dead cluster is not asked again by every page.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx2 as httpx

from dashboard_core.models.ray_cluster import RayNode
from dashboard_core.processes.ray_executor import SUBMISSION_PREFIX

TIMEOUT = 3.0  # seconds for one read of the cluster, its three requests together
FRESH = 5.0  # seconds a read is served again (Ray's autoscaler report changes every few seconds)
MAX_NODES = 1000  # asked of the state API (its default is 100)


@dataclass(frozen=True, slots=True)
class JobState:
    """One of the dashboard's jobs as the cluster's Jobs API lists it."""

    submission_id: str
    status: str
    entrypoint: str
    message: str | None
    started_at: datetime | None
    ended_at: datetime | None


@dataclass(frozen=True, slots=True)
class ClusterRead:
    """One read of the cluster: what it said, or why it said nothing (``problem``)."""

    at: datetime
    nodes: tuple[RayNode, ...] = ()
    jobs: tuple[JobState, ...] = ()
    ray_version: str | None = None
    problem: str | None = None


class Unreachable(Exception):
    """The cluster did not answer as Ray's dashboard does; the message says why."""


def _ms(value: object) -> datetime | None:
    """Ray's epoch milliseconds (0 or none: not known) as a UTC datetime."""
    if not isinstance(value, int | float) or value <= 0:
        return None
    return datetime.fromtimestamp(value / 1000, UTC)


def _used(usage: Mapping[str, Any] | None, resource: str) -> float | None:
    """``{"CPU": [used, total], ...}`` of the autoscaler's report -> used, None if not there."""
    pair = (usage or {}).get(resource)
    if isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], int | float):
        return float(pair[0])
    return None


def parse_nodes(state_api: Any, status: Any) -> list[RayNode]:
    """Nodes from ``/api/v0/nodes?detail=1`` and their use from ``/api/cluster_status``
    (its ``loadMetricsReport.usageByNode``; absent when the autoscaler has not reported)."""
    try:
        rows = state_api["data"]["result"]["result"]
    except (KeyError, TypeError):
        raise Unreachable("its state API (/api/v0/nodes) answered without a node list") from None
    try:
        by_node = status["data"]["clusterStatus"]["loadMetricsReport"]["usageByNode"] or {}
    except (KeyError, TypeError):
        by_node = {}
    nodes = []
    for row in rows:
        total = row.get("resources_total") or {}
        usage = by_node.get(row.get("node_id", "")) if row.get("state") == "ALIVE" else None
        nodes.append(
            RayNode(
                node_id=str(row.get("node_id", "")),
                name=str(row.get("node_name") or row.get("node_ip") or ""),
                ip=str(row.get("node_ip") or ""),
                head=bool(row.get("is_head_node")),
                alive=row.get("state") == "ALIVE",
                state=str(row.get("state") or "UNKNOWN"),
                state_message=row.get("state_message") or None,
                cpus_total=float(total.get("CPU", 0.0)),
                cpus_used=_used(usage, "CPU"),
                gpus_total=float(total.get("GPU", 0.0)),
                gpus_used=_used(usage, "GPU") if total.get("GPU") else None,
                memory_total_bytes=float(total.get("memory", 0.0)),
                memory_used_bytes=_used(usage, "memory"),
                started_at=_ms(row.get("start_time_ms")),
                ended_at=_ms(row.get("end_time_ms")),
            )
        )
    nodes.sort(key=lambda n: (not n.alive, not n.head, n.name))
    return nodes


def parse_jobs(listed: Any) -> list[JobState]:
    """The dashboard's jobs of ``/api/jobs/`` (a JSON list of Ray's JobDetails)."""
    if not isinstance(listed, list):
        raise Unreachable("its Jobs API (/api/jobs/) answered without a job list")
    jobs = []
    for job in listed:
        sid = job.get("submission_id") if isinstance(job, dict) else None
        if not isinstance(sid, str) or not sid.startswith(SUBMISSION_PREFIX):
            continue
        jobs.append(
            JobState(
                submission_id=sid,
                status=str(job.get("status") or "UNKNOWN"),
                entrypoint=str(job.get("entrypoint") or ""),
                message=job.get("message") or None,
                started_at=_ms(job.get("start_time")),
                ended_at=_ms(job.get("end_time")),
            )
        )
    return jobs


def read_cluster(address: str, client: httpx.Client, timeout: float = TIMEOUT) -> ClusterRead:
    """One read, every request within ``timeout`` seconds in all; never raises."""
    deadline = time.monotonic() + timeout
    base = address.rstrip("/")

    def get(path: str, params: dict[str, str | int] | None = None) -> Any:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise httpx.TimeoutException("out of time")
        response = client.get(f"{base}{path}", params=params, timeout=httpx.Timeout(remaining))
        if response.status_code != 200:
            raise Unreachable(f"GET {path} answered {response.status_code}")
        try:
            return response.json()
        except ValueError:
            raise Unreachable(f"GET {path} did not answer JSON: is {address} a Ray dashboard?") from None

    try:
        state = get("/api/v0/nodes", {"detail": 1, "limit": MAX_NODES, "timeout": max(1, int(timeout))})
        status = get("/api/cluster_status")
        nodes = parse_nodes(state, status)
        jobs = parse_jobs(get("/api/jobs/"))
        version = get("/api/version").get("ray_version")
    except httpx.TimeoutException:
        return _failed(f"no answer within {timeout:g} s")
    except httpx.HTTPError as exc:
        return _failed(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    except Unreachable as exc:
        return _failed(str(exc))
    except (AttributeError, TypeError, ValueError) as exc:  # a JSON of another shape
        return _failed(f"an answer not shaped as Ray's ({exc})")
    return ClusterRead(datetime.now(UTC), tuple(nodes), tuple(jobs), str(version) if version else None)


def _failed(why: str) -> ClusterRead:
    return ClusterRead(datetime.now(UTC), problem=f"cluster unreachable: {why}")


Reader = Callable[[str, httpx.Client, float], ClusterRead]


@dataclass
class ClusterWatch:
    """The last read of one cluster, read again in the background once it is older than ``fresh``."""

    address: str
    fresh: float = FRESH
    timeout: float = TIMEOUT
    reader: Reader = read_cluster
    _last: ClusterRead | None = None
    _last_at: float = -float("inf")  # monotonic
    _reading: threading.Event | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _client: httpx.Client | None = None

    def read(self, wait: float = 0.0) -> ClusterRead | None:
        """The last read, starting a new one if it is stale. Without any read yet, waits
        up to ``wait`` seconds for the first; None if it has not come (a page says so)."""
        with self._lock:
            if self._last is not None and time.monotonic() - self._last_at < self.fresh:
                return self._last
            if self._reading is None:
                self._reading = threading.Event()
                threading.Thread(target=self._refresh, args=(self._reading,), name="ray-cluster", daemon=True).start()
            reading, last = self._reading, self._last
        if last is None and wait > 0:
            reading.wait(wait)
        with self._lock:
            return self._last

    def _refresh(self, done: threading.Event) -> None:
        try:
            if self._client is None:
                self._client = httpx.Client(trust_env=False, follow_redirects=False)
            read = self.reader(self.address, self._client, self.timeout)
        except Exception as exc:  # noqa: BLE001 - a reader's bug must not leave the watch "reading" forever
            read = _failed(f"{type(exc).__name__}: {exc}")
        with self._lock:
            self._last, self._last_at, self._reading = read, time.monotonic(), None
        done.set()


_watches: dict[tuple[str, float, float], ClusterWatch] = {}
_watches_lock = threading.Lock()


def watch_for(address: str, *, fresh: float = FRESH, timeout: float = TIMEOUT) -> ClusterWatch:
    """The process's watch of the cluster at ``address`` (pages and the API share its reads)."""
    key = (address, fresh, timeout)
    with _watches_lock:
        watch = _watches.get(key)
        if watch is None:
            watch = _watches[key] = ClusterWatch(address, fresh, timeout)
        return watch
