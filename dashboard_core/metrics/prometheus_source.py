"""The fleet source: other machines' history, read from a Prometheus server.

When ``prometheus.url`` is set, the Metrics page offers the hosts behind the
``up{job="<prometheus.job>"}`` targets (node_exporter) next to this machine.
:meth:`PrometheusSource.history` asks Prometheus' HTTP API (``query_range``)
for CPU, memory, disk and network series and returns a DataFrame shaped like
the local sampler's (UTC ``DatetimeIndex`` named ``timestamp``, the same column
names: ``cpu.total``, ``memory.percent``, ``disk.percent[/]``, ``net.sent``,
``load.1`` …), so the same charts and CSV export draw it unchanged.

The series are computed the way the local sources compute theirs: CPU busy is
everything but idle and iowait, memory in use is total minus available, disk
use is psutil's ``used / (used + available to users)`` over real file systems
(one mount per device), network totals leave out loopback.

The HTTP side (one deadline per call across all its requests, and every failure
as a :class:`~dashboard_core.metrics.prometheus_api.PrometheusError` whose message
is a sentence for the page) is :mod:`dashboard_core.metrics.prometheus_api`.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx2 as httpx
import numpy as np
import pandas as pd

from dashboard_core.config import PrometheusConfig
from dashboard_core.metrics.prometheus_api import Deadline, PrometheusApi, PrometheusError, promql_duration
from dashboard_core.metrics.sources.disk import _SKIP_FSTYPES  # the local sampler's rule for real file systems
from dashboard_core.metrics.sources.network import LOOPBACK

# Prometheus refuses a range query of more than 11,000 points per series.
PROMETHEUS_MAX_POINTS = 11_000
DEFAULT_SCRAPE_INTERVAL = 15.0  # Prometheus' own default, when the server does not say
_INTERVAL_TTL = 60.0  # seconds a target's scrape interval is trusted before it is asked again


@dataclass(frozen=True, slots=True)
class Target:
    """One node_exporter target as Prometheus sees it."""

    instance: str
    job: str
    up: bool
    last_scrape: datetime | None
    nodename: str | None = None  # from node_uname_info, when the target exports it

    @property
    def label(self) -> str:
        """``web-1 (10.0.0.5:9100), up`` for a selector."""
        name = f"{self.nodename} ({self.instance})" if self.nodename and self.nodename not in self.instance else None
        return f"{name or self.instance}, {'up' if self.up else 'down'}"


def query_step(span_seconds: float, max_points: int, scrape_interval: float) -> float:
    """The ``query_range`` step: never finer than the scrape interval (finer
    points would only repeat samples), and coarse enough that a series over
    ``span_seconds`` has at most ``max_points`` points (``span / step + 1``)."""
    points = max(2, min(max_points, PROMETHEUS_MAX_POINTS))
    needed = math.ceil(max(span_seconds, 0.0) / (points - 1)) if span_seconds > 0 else 1
    return float(max(needed, scrape_interval, 0.001))


def rate_range(step: float, scrape_interval: float) -> float:
    """The ``rate()`` window: the step plus one scrape, and at least four scrapes
    (Grafana's ``$__rate_interval``), so every point rests on two samples or more."""
    return max(step + scrape_interval, 4 * scrape_interval)


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|y|w|d|h|m|s)")
_DURATION_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def parse_duration(text: str) -> float | None:
    """Prometheus' ``1m30s`` / ``500ms`` -> seconds; None if it is not one."""
    text = (text or "").strip()
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(n) * _DURATION_SECONDS[u] for n, u in parts)


def promql_string(value: str) -> str:
    """A PromQL string literal (Go escaping, which JSON's is a subset of)."""
    return json.dumps(value)


def _utc(moment: datetime | pd.Timestamp | str) -> pd.Timestamp:
    ts = pd.Timestamp(moment)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


class PrometheusSource(PrometheusApi):
    """The fleet view's client of one Prometheus server: its node_exporter targets and their history."""

    def __init__(self, config: PrometheusConfig, *, client: httpx.Client | None = None) -> None:
        if not config.url:
            raise ValueError("prometheus.url is not set")
        super().__init__(config.url, config.timeout_seconds, client=client, headers=config.headers)
        self.config = config
        self.job = config.job
        self._intervals: dict[str, float] = {}
        self._intervals_at = -math.inf
        self._lock = threading.Lock()

    # -- targets ------------------------------------------------------------------------
    def _selector(self, instance: str | None = None) -> str:
        job = f"job={promql_string(self.job)}"
        return f"{job},instance={promql_string(instance)}" if instance is not None else job

    def targets(self) -> list[Target]:
        """The ``up{job=...}`` targets, by instance, with when each was last scraped."""
        deadline = Deadline(self.timeout)
        sel = self._selector()
        up = self.query(f"up{{{sel}}}", deadline=deadline)
        scraped = {
            _labels(s).get("instance", ""): _value(s) for s in self.query(f"timestamp(up{{{sel}}})", deadline=deadline)
        }
        names = {
            _labels(s).get("instance", ""): _labels(s).get("nodename")
            for s in self.query(f"node_uname_info{{{sel}}}", deadline=deadline)
        }
        out = []
        for sample in up:
            labels = _labels(sample)
            instance = labels.get("instance", "")
            stamp = scraped.get(instance)
            out.append(
                Target(
                    instance=instance,
                    job=labels.get("job", self.job),
                    up=_value(sample) == 1.0,
                    last_scrape=datetime.fromtimestamp(stamp, UTC)
                    if stamp is not None and math.isfinite(stamp)
                    else None,
                    nodename=names.get(instance) or None,
                )
            )
        return sorted(out, key=lambda t: t.instance)

    def scrape_interval(self, instance: str | None = None, *, deadline: Deadline | None = None) -> float:
        """Seconds between scrapes of the instance (else the job's longest): from
        ``/api/v1/targets`` (Prometheus' ``scrapeInterval``, VictoriaMetrics'
        ``__scrape_interval__``); where no target says (Mimir serves no targets
        API, a store fed by remote write scrapes nothing itself), from how many
        ``up`` samples the last five minutes hold; else Prometheus' default 15 s."""
        with self._lock:
            fresh = time.monotonic() - self._intervals_at < _INTERVAL_TTL
            intervals = dict(self._intervals) if fresh else None
        if intervals is None:
            deadline = deadline or Deadline(self.timeout)
            intervals = self._target_intervals(deadline) or self._sampled_intervals(deadline)
            with self._lock:
                self._intervals, self._intervals_at = intervals, time.monotonic()
        if instance is not None and instance in intervals:
            return intervals[instance]
        return max(intervals.values(), default=DEFAULT_SCRAPE_INTERVAL)

    def _target_intervals(self, deadline: Deadline) -> dict[str, float]:
        try:
            data = self._get("/api/v1/targets", {"state": "active"}, deadline)
        except PrometheusError as exc:
            if exc.kind in ("unreachable", "timeout"):
                raise
            return {}  # a PromQL endpoint without the targets API
        intervals = {}
        for target in (data if isinstance(data, dict) else {}).get("activeTargets") or []:
            labels = target.get("labels") or {}
            said = target.get("scrapeInterval") or (target.get("discoveredLabels") or {}).get("__scrape_interval__")
            seconds = parse_duration(str(said or ""))
            if labels.get("job") == self.job and seconds:
                intervals[labels.get("instance", "")] = seconds
        return intervals

    def _sampled_intervals(self, deadline: Deadline) -> dict[str, float]:
        span = 300
        counts = self.query(f"count_over_time(up{{{self._selector()}}}[{span}s])", deadline=deadline)
        intervals = {}
        for sample in counts:
            count = _value(sample)
            if count is not None and count >= 2:
                intervals[_labels(sample).get("instance", "")] = float(max(1, round(span / count)))
        return intervals

    # -- history ------------------------------------------------------------------------
    def step_for(self, start: pd.Timestamp, end: pd.Timestamp, scrape_interval: float) -> float:
        return query_step((end - start).total_seconds(), self.config.max_points, scrape_interval)

    def history(
        self, instance: str, start: datetime | pd.Timestamp | str, end: datetime | pd.Timestamp | str
    ) -> pd.DataFrame:
        """The host's CPU, memory, disk, network and load between ``start`` and
        ``end``, with the local frame's column names; empty if it has no data."""
        start, end = _utc(start), _utc(end)
        if end <= start:
            raise ValueError(f"start {start} is not before end {end}")
        deadline = Deadline(self.timeout)
        interval = self.scrape_interval(instance, deadline=deadline)
        step = self.step_for(start, end, interval)
        window = promql_duration(rate_range(step, interval))
        sel = self._selector(instance)

        def matrix(promql: str) -> list[dict[str, Any]]:
            return self.query_range(promql, start, end, step, deadline=deadline)

        columns: dict[str, pd.Series] = {}
        # CPU: busy = everything but idle and iowait, as the local source counts it.
        idle = f'rate(node_cpu_seconds_total{{{sel},mode=~"idle|iowait"}}[{window}])'
        every = f"rate(node_cpu_seconds_total{{{sel}}}[{window}])"
        for s in matrix(f"100 * (1 - sum({idle}) / sum({every}))"):
            columns["cpu.total"] = _series(s)
        cores = {
            _labels(s).get("cpu", ""): _series(s)
            for s in matrix(f"100 * (1 - sum by (cpu) ({idle}) / sum by (cpu) ({every}))")
        }
        for cpu in sorted(cores, key=_natural):
            columns[f"cpu.core[{cpu}]"] = cores[cpu]

        # Memory and swap, from the raw gauges (one query).
        raw = {
            _labels(s).get("__name__", ""): _series(s)
            for s in matrix(f'{{__name__=~"node_memory_(MemTotal|MemAvailable|SwapTotal|SwapFree)_bytes",{sel}}}')
        }
        total, available = raw.get("node_memory_MemTotal_bytes"), raw.get("node_memory_MemAvailable_bytes")
        if total is not None and available is not None:
            columns["memory.percent"] = 100 * (1 - available / total)
            columns["memory.used"] = total - available
            columns["memory.available"] = available
        swap_total, swap_free = raw.get("node_memory_SwapTotal_bytes"), raw.get("node_memory_SwapFree_bytes")
        if swap_total is not None and swap_free is not None:
            used = swap_total - swap_free
            # psutil says 0 % for a machine without swap; so does this
            columns["swap.percent"] = (100 * used / swap_total).where(swap_total > 0, 0.0).where(used.notna())
            columns["swap.used"] = used

        # Disk space per mount: real file systems, one mount per device, like the local source.
        columns.update(_disk_usage(matrix(f'{{__name__=~"node_filesystem_(size|free|avail)_bytes",{sel}}}')))
        for name, metric in (
            ("disk.read", "node_disk_read_bytes_total"),
            ("disk.write", "node_disk_written_bytes_total"),
        ):
            for s in matrix(f"sum(rate({metric}{{{sel}}}[{window}]))"):
                columns[name] = _series(s)

        # Network per interface (loopback included) and in total (without it).
        for field, metric in (
            ("sent", "node_network_transmit_bytes_total"),
            ("recv", "node_network_receive_bytes_total"),
        ):
            nics = {_labels(s).get("device", ""): _series(s) for s in matrix(f"rate({metric}{{{sel}}}[{window}])")}
            for device in sorted(nics):
                columns[f"nic.{field}[{device}]"] = nics[device]
            others = [series for device, series in nics.items() if device != LOOPBACK]
            if others:
                columns[f"net.{field}"] = pd.concat(others, axis=1, sort=True).sum(axis=1, min_count=1)

        loads = {_labels(s).get("__name__", ""): _series(s) for s in matrix(f'{{__name__=~"node_load(1|5|15)",{sel}}}')}
        for minutes in ("1", "5", "15"):
            if f"node_load{minutes}" in loads:
                columns[f"load.{minutes}"] = loads[f"node_load{minutes}"]
        return _frame(columns)


# -- shaping answers ----------------------------------------------------------------------
def _labels(sample: dict[str, Any]) -> dict[str, str]:
    metric = sample.get("metric")
    return metric if isinstance(metric, dict) else {}


def _value(sample: dict[str, Any]) -> float | None:
    try:
        return float(sample["value"][1])
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def _series(sample: dict[str, Any]) -> pd.Series:
    """A matrix series as floats on a UTC index (whole milliseconds, so the
    series of one query line up exactly)."""
    values = sample.get("values") or []
    stamps = np.fromiter((float(v[0]) for v in values), dtype=np.float64, count=len(values))
    numbers = np.fromiter((float(v[1]) for v in values), dtype=np.float64, count=len(values))
    index = pd.to_datetime(np.round(stamps * 1000).astype(np.int64), unit="ms", utc=True)
    return pd.Series(numbers, index=index).replace([np.inf, -np.inf], np.nan)


def _natural(text: str) -> tuple[int, str]:
    return (int(text), "") if text.isdigit() else (1 << 30, text)


def _disk_usage(series: Iterable[dict[str, Any]]) -> dict[str, pd.Series]:
    """``disk.percent[MOUNT]`` and ``disk.free[MOUNT]`` from node_filesystem_*:
    psutil's percent (used over used plus what users may still write)."""
    by_mount: dict[str, dict[str, pd.Series]] = {}
    info: dict[str, tuple[str, str]] = {}  # mount -> (device, fstype)
    for s in series:
        labels = _labels(s)
        mount = labels.get("mountpoint", "")
        kind = labels.get("__name__", "").removeprefix("node_filesystem_").removesuffix("_bytes")
        by_mount.setdefault(mount, {})[kind] = _series(s)
        info[mount] = (labels.get("device", ""), labels.get("fstype", ""))
    seen: set[str] = set()
    mounts = []
    for mount in sorted(by_mount, key=lambda m: (len(m), m)):  # "/" before the mounts under it
        device, fstype = info[mount]
        if fstype in _SKIP_FSTYPES or device in seen:
            continue
        seen.add(device)
        mounts.append(mount)
    if not mounts and "/" in by_mount:  # like the local source: "/" when nothing else qualifies
        mounts = ["/"]
    out: dict[str, pd.Series] = {}
    for mount in mounts:
        parts = by_mount[mount]
        size, free, avail = parts.get("size"), parts.get("free"), parts.get("avail")
        if size is None or free is None or avail is None:
            continue
        used = size - free
        out[f"disk.percent[{mount}]"] = 100 * used / (used + avail).where(used + avail > 0)
    for mount in mounts:
        if "avail" in by_mount[mount] and f"disk.percent[{mount}]" in out:
            out[f"disk.free[{mount}]"] = by_mount[mount]["avail"]
    return out


def _frame(columns: dict[str, pd.Series]) -> pd.DataFrame:
    """One frame like the local one: a UTC DatetimeIndex named ``timestamp``."""
    if not columns:
        return pd.DataFrame(index=pd.DatetimeIndex([], tz="UTC", name="timestamp"), dtype=np.float64)
    frame = pd.concat(columns, axis=1, sort=True).astype(np.float64)
    frame.index = pd.DatetimeIndex(frame.index, name="timestamp").as_unit("ns")
    return frame


# -- one client per configured server, shared by pages and the API ------------------------
_sources: dict[tuple[str, str, float, int, tuple[tuple[str, str], ...]], PrometheusSource] = {}
_sources_lock = threading.Lock()


def source_for(config: PrometheusConfig) -> PrometheusSource | None:
    """The process's client of the configured Prometheus, or None if none is set."""
    if not config.url:
        return None
    key = (config.url, config.job, config.timeout_seconds, config.max_points, tuple(sorted(config.headers.items())))
    with _sources_lock:
        source = _sources.get(key)
        if source is None:
            source = _sources[key] = PrometheusSource(config)
        return source
