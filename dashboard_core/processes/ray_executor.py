"""The Ray executor: a process run as a job on a Ray cluster (the Jobs API).

:meth:`RayExecutor.start` submits the spec's argv as the job's entrypoint
(``shlex.join``: Ray runs an entrypoint through a shell, so every argument is
quoted; nothing from a request is ever put in it), with the working directory
uploaded through ``runtime_env`` (``working_dir``), the environment as its
``env_vars``, and the CPUs, memory and custom resources of the suite.
:meth:`events` follows the job's log (the state API's log stream, a tenth of a
second behind the file, :mod:`~dashboard_core.processes.ray_logs`; it ends once
the job has ended and its log is read) and then asks ``get_job_info`` for the
exit code.
There is no shared file system: progress lines come through the same log, each
written after :data:`MARKER` (``DASHBOARD_PROGRESS=stdout:<marker>`` tells the
pytest plugin to), and :class:`MarkedStream` takes them out of the output.
:meth:`stop` is ``stop_job`` (Ray's job supervisor sends SIGTERM to the job's
process tree, then SIGKILL); a job found again after a restart (:meth:`reattach`,
by its submission id in :attr:`ProcessRecord.ref`) is followed from the start of
its log, so its progress is read whole again.

``ray`` is imported only when a Ray executor is made: the dashboard runs without it.
"""

from __future__ import annotations

import logging
import shlex
import signal
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dashboard_core.processes.executor import Usage
from dashboard_core.processes.ray_logs import follow_job_log
from dashboard_core.processes.ray_shards import SHARD_ENV, merge_streams
from dashboard_core.processes.spec import (
    PROGRESS_ENV,
    CannotStart,
    Exited,
    Handle,
    LogChunk,
    ProcessEvent,
    ProcessRecord,
    ProcessSpec,
    ProgressLine,
    Started,
)

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # dashboard_core
MARKER = "\x1e@dashboard-progress@"  # before each progress line in the job's output
SUBMISSION_PREFIX = "dashboard-"
TERMINAL = ("SUCCEEDED", "FAILED", "STOPPED")
STATUS_POLL = 0.2  # after the log has ended, until the job's status is final
STATUS_WAIT = 30.0
GONE_POLL = 0.5


@dataclass(frozen=True, slots=True)
class RayResources:
    """What a job asks the cluster for (``entrypoint_num_cpus`` and the rest)."""

    cpus: float | None = None
    memory_bytes: int | None = None
    resources: Mapping[str, float] = field(default_factory=dict)


class MarkedStream:
    """Splits a job's output into output and progress lines: a progress line is
    what follows :data:`MARKER` up to the newline (which is the plugin's, not the
    output's). A chunk may end inside the marker: that tail is held back until
    the next chunk says what it is."""

    def __init__(self, marker: bytes = MARKER.encode()) -> None:
        self.marker = marker
        self.buf = b""
        self.in_line = False

    def feed(self, data: bytes) -> list[ProcessEvent]:
        self.buf += data
        out: list[ProcessEvent] = []
        while self.buf:
            if self.in_line:
                end = self.buf.find(b"\n")
                if end < 0:
                    break
                line, self.buf, self.in_line = self.buf[:end], self.buf[end + 1 :], False
                if line.strip():
                    out.append(ProgressLine(line))
                continue
            at = self.buf.find(self.marker)
            if at < 0:
                keep = _prefix_kept(self.buf, self.marker)
                text, self.buf = self.buf[: len(self.buf) - keep], self.buf[len(self.buf) - keep :]
                if text:
                    out.append(LogChunk(text))
                break
            if at:
                out.append(LogChunk(self.buf[:at]))
            self.buf, self.in_line = self.buf[at + len(self.marker) :], True
        return out

    def flush(self) -> list[ProcessEvent]:
        """At the end: a cut progress line is dropped (as the local executor drops it)."""
        rest, self.buf = self.buf, b""
        return [] if self.in_line or not rest else [LogChunk(rest)]


def _prefix_kept(buf: bytes, marker: bytes) -> int:
    """How many bytes at the end of ``buf`` could begin the marker."""
    for n in range(min(len(marker) - 1, len(buf)), 0, -1):
        if buf.endswith(marker[:n]):
            return n
    return 0


class RayHandle(Handle):
    def __init__(self, record: ProcessRecord, name: str) -> None:
        super().__init__(record)
        self.name = name
        self.stopping = threading.Event()

    @property
    def job_ids(self) -> list[str]:
        """Its jobs' submission ids (one per shard), kept comma-separated in ``record.ref``."""
        assert self.record.ref is not None
        return self.record.ref.split(",")


class RayExecutor:
    """One cluster (``address``: its dashboard's HTTP address) and what each job asks of it."""

    name = "ray"

    def __init__(
        self, address: str, resources: RayResources | None = None, *, upload: bool = True, shards: int = 1
    ) -> None:
        try:
            from ray.job_submission import JobSubmissionClient
        except ImportError:  # pragma: no cover - depends on the install
            raise CannotStart(
                "executor = \"ray\" needs Ray: pip install 'ray[default]' (see requirements-ray.txt)"
            ) from None
        self.address = address
        self.resources = resources or RayResources()
        self.upload = upload  # send the working directory with the job (a cluster without the files)
        self.shards = shards  # jobs per process (ray_shards): each gets DASHBOARD_SHARD=i/N
        self._client_class = JobSubmissionClient
        self._client: Any = None
        self._lock = threading.Lock()

    def client(self) -> Any:
        """The cluster's client, made at first use (it connects at once)."""
        with self._lock:
            if self._client is None:
                try:
                    self._client = self._client_class(self.address)
                except Exception as exc:  # noqa: BLE001 - ConnectionError, ValueError, RuntimeError...
                    raise CannotStart(f"cannot reach the Ray cluster at {self.address}: {exc}") from None
            return self._client

    # -- the Executor protocol ---------------------------------------------------
    def start(self, spec: ProcessSpec) -> RayHandle:
        env = dict(spec.env)
        if spec.progress:
            env[PROGRESS_ENV] = f"stdout:{MARKER}"
        runtime_env: dict[str, Any] = {"env_vars": env}
        if self.upload:
            runtime_env["working_dir"] = str(spec.cwd)
            if spec.progress:  # the pytest plugin, for a cluster without the dashboard installed
                runtime_env["py_modules"] = [str(PACKAGE_DIR)]
        name = f"{SUBMISSION_PREFIX}{spec.name}-{uuid.uuid4().hex[:12]}"
        ids = [name] if self.shards == 1 else [f"{name}-{i + 1}of{self.shards}" for i in range(self.shards)]
        for i, submission_id in enumerate(ids):
            job_env = dict(runtime_env)
            if self.shards > 1:
                job_env["env_vars"] = {**env, SHARD_ENV: f"{i}/{self.shards}"}
            try:
                self._submit(spec, submission_id, job_env)
            except CannotStart:
                for submitted in ids[:i]:  # all or none: a half-submitted run stops what it started
                    self._stop_job(submitted)
                raise
        return RayHandle(ProcessRecord(None, time.time(), ",".join(ids)), spec.name)

    def _submit(self, spec: ProcessSpec, submission_id: str, runtime_env: dict[str, Any]) -> None:
        r = self.resources
        try:
            self.client().submit_job(
                entrypoint=shlex.join(spec.argv),
                submission_id=submission_id,
                runtime_env=runtime_env,
                entrypoint_num_cpus=r.cpus,
                entrypoint_memory=r.memory_bytes,
                entrypoint_resources=dict(r.resources) or None,
                metadata={"dashboard": spec.name},
            )
        except CannotStart:
            raise
        except Exception as exc:  # noqa: BLE001 - the client raises RuntimeError with the server's words
            raise CannotStart(f"the Ray cluster at {self.address} did not take the job: {_first_line(exc)}") from None

    def events(self, handle: Handle) -> Iterator[ProcessEvent]:
        assert isinstance(handle, RayHandle)
        if len(handle.job_ids) == 1:
            yield Started(handle.record)
            yield from self._job_events(handle.job_ids[0])
            return
        yield from merge_streams(
            [lambda job=job: self._job_events(job) for job in handle.job_ids],  # type: ignore[misc]
            Started(handle.record),
        )

    def _job_events(self, job_id: str) -> Iterator[ProcessEvent]:
        stream = MarkedStream()
        for data in self._tail(job_id):
            yield from stream.feed(data)
        yield from stream.flush()
        yield Exited(self._exit_code(job_id))

    def stop(self, handle: Handle, grace: float) -> None:
        """Ray's job supervisor stops the whole process tree (SIGTERM, then SIGKILL
        after the cluster's ``RAY_JOB_STOP_WAIT_TIME_S``); asked on a thread, as the
        local executor does, so the caller never waits on the network."""
        assert isinstance(handle, RayHandle)
        handle.stopping.set()
        for job in handle.job_ids:
            threading.Thread(target=self._stop_job, args=(job,), name=f"{handle.name}-stop", daemon=True).start()

    def reattach(self, record: ProcessRecord) -> Handle | None:
        """The run's jobs if the cluster still knows them: one that ended meanwhile is
        followed too (its log and exit code are still there), so the run gets its results."""
        if not record.ref:
            return None
        if any(self.status(job) is None for job in record.ref.split(",")):
            return None
        return RayHandle(record, "reattached")

    def usage(self, handle: Handle) -> Usage:
        return None, None  # on another host: the cluster's own views tell

    # -- the cluster ------------------------------------------------------------------
    def status(self, job_id: str) -> str | None:
        """The job's status (``RUNNING``, ``SUCCEEDED``...), None if the cluster does not know it."""
        try:
            return str(self.client().get_job_status(job_id).value)
        except CannotStart:
            return None
        except Exception as exc:  # noqa: BLE001
            log.info("Ray job %s: no status (%s)", job_id, _first_line(exc))
            return None

    def _stop_job(self, job_id: str) -> None:
        try:
            self.client().stop_job(job_id)
        except Exception as exc:  # noqa: BLE001 - gone already, or the cluster is away: the tail ends either way
            log.warning("Ray job %s: stop_job failed: %s", job_id, _first_line(exc))

    def _tail(self, job_id: str) -> Iterator[bytes]:
        """The job's output as it comes, from the start of its log; ends with the job
        (the state API's log stream, :mod:`~dashboard_core.processes.ray_logs`)."""
        try:
            yield from follow_job_log(self.client(), job_id)
        except Exception as exc:  # noqa: BLE001 - the cluster went away mid-tail: wait for its verdict below
            log.warning("Ray job %s: its log could not be followed: %s", job_id, _first_line(exc))

    def _exit_code(self, job_id: str) -> int | None:
        """The driver's exit code once the job's status is final (polled while the
        job runs: after a broken log tail it may run on); a stopped job without one
        counts as killed by SIGTERM; a cluster that does not answer for
        :data:`STATUS_WAIT` seconds, as not seen to end (None)."""
        deadline = time.monotonic() + STATUS_WAIT
        while True:
            try:
                info = self.client().get_job_info(job_id)
            except Exception as exc:  # noqa: BLE001
                log.warning("Ray job %s: no status: %s", job_id, _first_line(exc))
                info = None
            status = str(info.status.value) if info is not None else None
            if status is not None and status not in TERMINAL:
                deadline = time.monotonic() + STATUS_WAIT  # it runs: wait for its end
            if status in TERMINAL:
                code = getattr(info, "driver_exit_code", None)
                if code is not None:
                    return int(code)
                if status == "SUCCEEDED":
                    return 0
                return -int(signal.SIGTERM) if status == "STOPPED" else None
            if time.monotonic() >= deadline:
                return None
            time.sleep(STATUS_POLL)  # polling a remote status, with a deadline


def wait_gone(executor: RayExecutor, job_id: str, timeout: float) -> bool:
    """True once the job's status is final (for tests and the leftover check)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if executor.status(job_id) in (*TERMINAL, None):
            return True
        time.sleep(GONE_POLL)
    return False


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
