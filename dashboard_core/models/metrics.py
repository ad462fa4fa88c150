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


class ProcessInfo(BaseModel):
    pid: int
    name: str
    user: str
    cpu_percent: float
    rss: int
    memory_percent: float
    cmdline: str
