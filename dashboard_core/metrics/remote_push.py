"""Metrics out: the sampler's samples pushed to a Prometheus-compatible store.

With ``[remote_push] url`` set, a thread of its own sends every sample to a
time-series database (VictoriaMetrics, vmagent), so long history and many hosts
live there. As for the history writer, the rolling frame is the queue: every
``interval_seconds`` the thread reads the rows appended since its last visit
(one short copy under the frame's lock) and the sampler never waits on the
network or does extra work per sample.

The wire format is VictoriaMetrics' JSON lines (``/api/v1/import``, what its
``/api/v1/export`` writes): per batch, one line per series with its values and
their millisecond timestamps as arrays, gzipped. The series are named by the same
code as the dashboard's own ``/api/metrics``
(:mod:`dashboard_core.metrics.exposition`), so a PromQL query reads the same on a
Prometheus that scrapes the dashboard and on the store it pushes to. Why not the
Prometheus text format (``/api/v1/import/prometheus``), which repeats the name and
labels on every value: ``bench/remote_push.py`` measured it at 1.9 times the bytes
after gzip and 2.4 to 2.7 times the CPU for the same samples.

What waits is bounded: at most ``max_pending_samples`` rows; when the store
stays unreachable the oldest are dropped, counted in self-health and logged
once. A failed push is retried after a back-off that doubles up to
:data:`MAX_BACKOFF`; the batch is kept and sent again (a batch that arrived
although its answer was lost is stored twice: the same values at the same
times, which queries read as one).
"""

from __future__ import annotations

import gzip
import logging
import socket
import threading
import time
from collections import deque
from datetime import UTC, datetime

import httpx2 as httpx
import numpy as np
import orjson

from dashboard_core.config import RemotePushConfig
from dashboard_core.logonce import recovered, warn_once
from dashboard_core.metrics.fields import FieldTable, split_column
from dashboard_core.metrics.frame import RollingFrame, Rows
from dashboard_core.models import RemotePushHealth

log = logging.getLogger(__name__)

MAX_BACKOFF = 300.0  # seconds between attempts while the store stays unreachable
STOP_SECONDS = 5.0  # at most this long at shutdown to send what is left


class Encoder:
    """Rows -> VictoriaMetrics' JSON lines, one per column with a value; each
    column's series (name and labels) made once."""

    def __init__(self, fields: FieldTable, labels: dict[str, str]) -> None:
        self.fields = fields
        self.labels = dict(labels)
        self._metrics: dict[str, dict[str, str] | None] = {}

    def metric(self, column: str) -> dict[str, str] | None:
        """``{"__name__": "dashboard_disk_percent", "job": ..., "instance": ..., "mount": "/"}``;
        None for a column without a field."""
        if column in self._metrics:
            return self._metrics[column]
        # here, not at the top: the exposition loads prometheus_client, which an idle server does without
        from dashboard_core.metrics.exposition import label_name, metric_name

        field = self.fields.for_column(column)
        metric = None
        if field is not None:
            metric = {"__name__": metric_name(field), **self.labels}
            _, value = split_column(column)
            if field.label and value is not None:
                metric[label_name(field)] = value
        self._metrics[column] = metric
        return metric

    def encode(self, rows: Rows) -> tuple[bytes, int]:
        """The body for ``rows`` and how many values it holds: a value that is not
        finite (NaN, a missing reading; JSON has no infinity) is left out."""
        stamps = rows.ts_ns // 1_000_000
        lines: list[bytes] = []
        count = 0
        for j, column in enumerate(rows.columns):
            metric = self.metric(column)
            if metric is None:
                continue
            values = rows.values[:, j]
            keep = np.isfinite(values)
            kept = int(keep.sum())
            if not kept:
                continue
            series = {"metric": metric, "values": values[keep].tolist(), "timestamps": stamps[keep].tolist()}
            lines.append(orjson.dumps(series))
            count += kept
        return (b"\n".join(lines) + b"\n" if lines else b""), count


def _take(pending: deque[Rows], n: int) -> Rows:
    """The oldest ``n`` rows (or fewer) of the pending chunks, without removing them."""
    parts, left = [], n
    for chunk in pending:
        if left <= 0:
            break
        parts.append(chunk if len(chunk) <= left else _slice(chunk, 0, left))
        left -= len(parts[-1])
    if len(parts) == 1:
        return parts[0]
    columns = list(dict.fromkeys(c for p in parts for c in p.columns))
    values = np.full((sum(len(p) for p in parts), len(columns)), np.nan)
    offset = 0
    for p in parts:
        idx = [columns.index(c) for c in p.columns]
        values[offset : offset + len(p), idx] = p.values
        offset += len(p)
    return Rows(np.concatenate([p.ts_ns for p in parts]), columns, values)


def _slice(rows: Rows, start: int, stop: int | None) -> Rows:
    return Rows(rows.ts_ns[start:stop], rows.columns, rows.values[start:stop])


def _drop(pending: deque[Rows], n: int) -> None:
    """Remove the oldest ``n`` rows."""
    while n > 0 and pending:
        head = pending[0]
        if len(head) <= n:
            pending.popleft()
            n -= len(head)
        else:
            pending[0] = _slice(head, n, None)
            n = 0


class RemotePush:
    """The thread that pushes the frame's new rows to ``config.url``."""

    def __init__(
        self,
        config: RemotePushConfig,
        frame: RollingFrame,
        fields: FieldTable,
        *,
        instance: str | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        if not config.url:
            raise ValueError("remote_push.url is not set")
        self.config = config
        self.url = config.url
        self.frame = frame
        labels = {"job": "dashboard", "instance": instance or socket.gethostname(), **config.labels}
        self.encoder = Encoder(fields, labels)
        self._client = client or httpx.Client(trust_env=False, follow_redirects=False, headers=config.headers)
        self._pending: deque[Rows] = deque()
        self._pending_rows = 0
        self._last_ns: int | None = None
        self._failures = 0
        self._retry_at = 0.0  # monotonic
        self._sending = False
        self.pushed = 0
        self.requests = 0
        self.dropped = 0
        self.last_push_at: datetime | None = None
        self.last_error: str | None = None
        self._lock = threading.Lock()  # tick() from the thread, or from stop() and tests
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="dashboard-remote-push", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Stop the thread, then try once (at most :data:`STOP_SECONDS`) to send what is left;
        a push still waiting on a silent store is left to its daemon thread, not waited for."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("Metrics push: %s does not answer; %d sample(s) not sent", self.url, self._pending_rows)
                return
        self.tick(final=True)
        if self._pending_rows:
            log.warning("Metrics push: %d sample(s) not sent to %s at shutdown", self._pending_rows, self.url)
        self._client.close()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def sending(self) -> bool:
        """A request is on its way (or waiting for its answer)."""
        return self._sending

    def _run(self) -> None:
        while not self._stop.wait(self.config.interval_seconds):
            self.tick()

    def tick(self, *, final: bool = False) -> None:
        """Take the new rows; push them when no back-off holds. Never raises."""
        with self._lock:
            try:
                self.pull()
                if final or time.monotonic() >= self._retry_at:
                    self.send(deadline=time.monotonic() + STOP_SECONDS if final else None)
            except Exception as exc:  # noqa: BLE001 - pushing must never take the dashboard down
                self._failed(f"{type(exc).__name__}: {exc}")

    # -- the work --------------------------------------------------------------------
    def pull(self) -> int:
        """Queue the rows appended since the last pull (dropping the oldest beyond the bound); how many."""
        rows = self.frame.rows(None if self._last_ns is None else self._last_ns + 1)
        if not len(rows):
            return 0
        self._last_ns = int(rows.ts_ns[-1])
        self._pending.append(rows)
        self._pending_rows += len(rows)
        excess = self._pending_rows - self.config.max_pending_samples
        if excess > 0:
            _drop(self._pending, excess)
            self._pending_rows -= excess
            self.dropped += excess
            warn_once(
                log,
                f"remote-push-dropped:{self.url}",
                "Metrics push: %s cannot take samples; dropping the oldest beyond %d (counted in self-health)",
                self.url,
                self.config.max_pending_samples,
            )
        return len(rows)

    def send(self, *, deadline: float | None = None) -> int:
        """Push the pending rows, a batch per request, until none is left or one fails; rows sent."""
        sent = 0
        while self._pending_rows and (deadline is None or time.monotonic() < deadline):
            batch = _take(self._pending, self.config.batch_samples)
            body, values = self.encoder.encode(batch)
            if values:
                error = self._post(body, self.config.timeout_seconds if deadline is None else STOP_SECONDS)
                if error is not None:
                    self._failed(error)
                    return sent
            _drop(self._pending, len(batch))
            self._pending_rows -= len(batch)
            sent += len(batch)
            self.pushed += len(batch)
            self.requests += 1
            self.last_push_at = datetime.now(UTC)
            if self.last_error is not None:
                self.last_error = None
                recovered(log, f"remote-push:{self.url}", "Metrics push to %s works again", self.url)
            self._failures = 0
        return sent

    def _post(self, body: bytes, timeout: float) -> str | None:
        """None when the store took the body, else why not (a sentence's end)."""
        self._sending = True
        try:
            response = self._client.post(
                self.url,
                content=gzip.compress(body, compresslevel=5),
                headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
                timeout=timeout,
            )
        except httpx.TimeoutException:
            return f"no answer within {timeout:g} s"
        except httpx.HTTPError as exc:
            return str(exc) or type(exc).__name__
        finally:
            self._sending = False
        if response.is_success:
            return None
        return f"HTTP {response.status_code}: {response.text.strip()[:200]}"

    def _failed(self, reason: str) -> None:
        self._failures += 1
        backoff = min(MAX_BACKOFF, self.config.interval_seconds * 2 ** min(self._failures, 20))
        self._retry_at = time.monotonic() + backoff
        self.last_error = reason
        warn_once(
            log, f"remote-push:{self.url}", "Metrics push to %s failed, retrying with back-off: %s", self.url, reason
        )

    # -- reading ---------------------------------------------------------------------
    def health(self) -> RemotePushHealth:
        return RemotePushHealth(
            url=self.url,
            pushed_samples=self.pushed,
            requests=self.requests,
            pending_samples=self._pending_rows,
            dropped_samples=self.dropped,
            last_push_at=self.last_push_at,
            last_error=self.last_error,
        )


def push_health(push: RemotePush | None) -> RemotePushHealth | None:
    """What the Runtime's pusher has done (self-health), or None when it has none."""
    return push.health() if push is not None else None
