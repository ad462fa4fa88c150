"""Metrics out: the sampler's samples pushed to a Prometheus-compatible store.

With ``[remote_push] url`` set, a thread of its own sends every sample to a
time-series database (VictoriaMetrics, vmagent), so long history and many hosts
live there. As for the history writer, the rolling frame is the queue: every
``interval_seconds`` the thread reads the rows appended since its last visit
(one short copy under the frame's lock) and the sampler never waits on the
network or does extra work per sample.

The wire format is the Prometheus text exposition with a timestamp on each line,
POSTed gzipped to VictoriaMetrics' ``/api/v1/import/prometheus``: the series
are named by the same code as the dashboard's own ``/api/metrics``
(:mod:`dashboard_core.metrics.exposition`), so a PromQL query reads the same on
a Prometheus that scrapes the dashboard and on the store it pushes to. (The
JSON-lines ``/api/v1/import`` would be smaller before compression, but is
VictoriaMetrics' own; the text format is one more reader of the names we
already export, and gzip takes the repeated names away.)

What waits is bounded: at most ``max_pending_samples`` rows; when the store
stays unreachable the oldest are dropped, counted in self-health and logged
once. A failed push is retried after a back-off that doubles up to
:data:`MAX_BACKOFF`; the batch is kept and sent again (the store keeps one
value per series and timestamp, so a batch that arrived although its answer was
lost does no harm).
"""

from __future__ import annotations

import gzip
import logging
import math
import socket
import threading
import time
from collections import deque
from datetime import UTC, datetime

import httpx2 as httpx
import numpy as np

from dashboard_core.config import RemotePushConfig
from dashboard_core.logonce import recovered, warn_once
from dashboard_core.metrics.exposition import label_name, metric_name
from dashboard_core.metrics.fields import FieldTable, split_column
from dashboard_core.metrics.frame import RollingFrame, Rows
from dashboard_core.models import RemotePushHealth

log = logging.getLogger(__name__)

MAX_BACKOFF = 300.0  # seconds between attempts while the store stays unreachable
STOP_SECONDS = 5.0  # at most this long at shutdown to send what is left


def escape_label(value: str) -> str:
    """A label value as the text format writes it: backslash, quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


class Encoder:
    """Rows -> Prometheus text lines with millisecond timestamps, one per column
    with a value; each column's series name (and labels) made once."""

    def __init__(self, fields: FieldTable, labels: dict[str, str]) -> None:
        self.fields = fields
        self.labels = sorted(labels.items())
        self._series: dict[str, str | None] = {}

    def series(self, column: str) -> str | None:
        """``dashboard_disk_percent{instance="web-1",job="dashboard",mount="/"}``; None for a column without a field."""
        if column in self._series:
            return self._series[column]
        field = self.fields.for_column(column)
        text = None
        if field is not None:
            labels = list(self.labels)
            _, value = split_column(column)
            if field.label and value is not None:
                labels.append((label_name(field), value))
            inner = ",".join(f'{name}="{escape_label(v)}"' for name, v in sorted(labels))
            text = f"{metric_name(field)}{{{inner}}}" if inner else metric_name(field)
        self._series[column] = text
        return text

    def encode(self, rows: Rows) -> tuple[bytes, int]:
        """The body for ``rows`` and how many values it holds (NaN, a missing reading, is left out)."""
        names = [self.series(c) for c in rows.columns]
        keep = [j for j, name in enumerate(names) if name is not None]
        lines: list[str] = []
        stamps = (rows.ts_ns // 1_000_000).tolist()
        values = rows.values[:, keep] if keep else np.empty((len(rows), 0))
        for i, ms in enumerate(stamps):
            row = values[i]
            for k, j in enumerate(keep):
                v = row[k]
                if v == v:  # not NaN
                    lines.append(f"{names[j]} {_number(v)} {ms}")
        return ("\n".join(lines) + "\n").encode() if lines else b"", len(lines)


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
                headers={"Content-Type": "text/plain; version=0.0.4", "Content-Encoding": "gzip"},
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


def remote_push_for(config: RemotePushConfig, frame: RollingFrame, fields: FieldTable) -> RemotePush | None:
    """The pusher ``config`` asks for, or None when ``remote_push.url`` is unset."""
    return RemotePush(config, frame, fields) if config.url else None
