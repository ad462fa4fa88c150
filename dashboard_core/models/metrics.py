"""The host and its metrics: the field table, the latest sample, the dashboard's own health, processes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class FieldInfo(BaseModel):
    name: str
    unit: str
    description: str
    kind: Literal["gauge", "rate"]
    label: str | None = Field(None, description="Label name for labelled fields; columns read name[label value].")


class LatestSample(BaseModel):
    timestamp: datetime
    values: dict[str, float | None] = Field(
        description="Column -> value; null where a reading is missing (no rate yet, source failed)."
    )


class HostInfo(BaseModel):
    hostname: str
    platform: str
    cpu_cores: int
    memory_total: int = Field(description="bytes")
    boot_time: datetime


class RemotePushHealth(BaseModel):
    """Metrics out (``[remote_push]``): what was pushed, what waits, what was dropped."""

    url: str
    pushed_samples: int = Field(description="Samples (sampler rows) the store accepted since start")
    requests: int = Field(description="Successful pushes since start")
    pending_samples: int = Field(description="Samples waiting for the next push")
    dropped_samples: int = Field(description="Samples given up since start: the store was unreachable too long")
    last_push_at: datetime | None = None
    last_error: str | None = Field(None, description="Why the last push failed; null once one succeeds again")

    @property
    def problem(self) -> str | None:
        """A sentence for the Overview while pushing fails or has dropped samples, else None."""
        parts = []
        if self.last_error:
            parts.append(
                f"Pushing metrics to {self.url} fails ({self.last_error}); {self.pending_samples:,} samples wait"
            )
        if self.dropped_samples:
            parts.append(f"{self.dropped_samples:,} samples were dropped since start (remote_push.max_pending_samples)")
        return "; ".join(parts) + "." if parts else None


class SelfHealth(BaseModel):
    """The dashboard's own health, shown on the Overview page."""

    started_at: datetime
    uptime_seconds: float
    sampling_interval_seconds: float
    process_interval_seconds: float
    samples_held: int
    capacity: int
    history_span_seconds: float
    bytes_per_row: int
    sampler_running: bool
    sampler_cpu_ms_per_sample: float | None
    process_scan_cpu_ms: float | None
    sampler_crashes: int
    sampler_last_crash: str | None
    failing_sources: dict[str, str]
    store_error: str | None = Field(
        None, description="While the store cannot be written (a full disk): since when, how often and why, in words"
    )
    process_rss: int = Field(description="bytes, the whole dashboard server process")
    process_cpu_percent: float = Field(description="% of one core, the whole server process, since start")
    remote_push: RemotePushHealth | None = Field(None, description="Metrics out, when remote_push.url is set")


class ProcessInfo(BaseModel):
    pid: int
    name: str
    user: str
    cpu_percent: float
    rss: int
    memory_percent: float
    cmdline: str
