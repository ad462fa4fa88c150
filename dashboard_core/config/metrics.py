"""Sampling, watched processes, storage, long history, Prometheus, the UI and the API:
``[sampler]``, ``[[watch]]``, ``[storage]``, ``[api]``, ``[history]``, ``[prometheus]``,
``[remote_push]``, ``[ui]``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from dashboard_core.config.base import _Strict


class SamplerConfig(_Strict):
    interval_seconds: float = Field(1.0, ge=0.1, le=3600, description="Seconds between host samples.")
    history_hours: float = Field(24.0, gt=0, le=24 * 31, description="Hours of full-resolution history held in memory.")
    process_interval_seconds: float = Field(
        5.0, ge=1, le=3600, description="Seconds between full process-table scans (top-N tables, watch matching)."
    )
    top_n: int = Field(10, ge=1, le=200, description="Rows in the top processes tables.")
    mounts: list[str] = Field(
        default_factory=list,
        description="Mount points to report; empty = every real file system, re-listed each minute.",
    )

    @property
    def capacity(self) -> int:
        """Rows the rolling frame holds: history_hours at interval_seconds."""
        return max(2, int(self.history_hours * 3600 / self.interval_seconds))

    @model_validator(mode="after")
    def _bounded(self) -> SamplerConfig:
        if self.capacity > 10_000_000:
            raise ValueError(
                f"history_hours / interval_seconds holds {self.capacity:,} rows; at most 10,000,000 fit in memory"
            )
        return self


class WatchConfig(_Strict):
    label: str = Field(min_length=1, max_length=64, description="Name shown for this process in charts and columns.")
    match: Literal["name", "cmdline", "self"] = Field(
        "name",
        description="Match the process name exactly (Linux: the kernel's name, at most 15 characters), search the "
        "command line, or 'self': this dashboard's own server process (by its pid; no pattern).",
    )
    pattern: str | None = Field(
        None, min_length=1, description="Process name, or a regular expression over the command line."
    )

    @field_validator("label")
    @classmethod
    def _plain_label(cls, value: str) -> str:
        if any(c in value for c in "[]\n\r\t"):
            raise ValueError("may not contain brackets, tabs or line breaks")
        return value

    @model_validator(mode="after")
    def _valid_regex(self) -> WatchConfig:
        if self.match == "self":
            if self.pattern is not None:
                raise ValueError('match = "self" is this dashboard\'s own process: leave out pattern')
            return self
        if self.pattern is None:
            raise ValueError(f'pattern is required with match = "{self.match}"')
        if self.match == "cmdline":
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"pattern is not a valid regular expression: {exc}") from None
        return self


class StorageConfig(_Strict):
    data_dir: Path = Field(Path("data"), description="Folder for the store and logs; relative to the config file.")


class ApiConfig(_Strict):
    csv_max_rows: int = Field(
        2_000_000, ge=1, description="Largest CSV export in rows; bigger windows are refused with 413."
    )


TierStat = Literal["min", "mean", "max"]


def _mean_only() -> list[TierStat]:
    return ["mean"]


class TierConfig(_Strict):
    """One resolution of the long metric history kept in the store."""

    seconds: float = Field(ge=1, le=86400, description="Resolution: one row per this many seconds.")
    keep_days: float = Field(gt=0, le=3650, description="Rows older than this are deleted.")
    stats: list[TierStat] = Field(
        default_factory=_mean_only, min_length=1, description="What each row keeps of the samples in it."
    )


def _default_tiers() -> list[TierConfig]:
    return [
        TierConfig(seconds=10, keep_days=7, stats=["mean"]),
        TierConfig(seconds=60, keep_days=90, stats=["min", "mean", "max"]),
    ]


class HistoryConfig(_Strict):
    enabled: bool = Field(True, description="Keep metric history in the store (it survives restarts).")
    flush_seconds: float = Field(
        10.0, ge=1, le=3600, description="Seconds between batched writes: a crash loses at most this much."
    )
    tiers: list[TierConfig] = Field(
        default_factory=_default_tiers, min_length=1, max_length=6, description="Resolutions, finest first."
    )

    @field_validator("tiers")
    @classmethod
    def _finest_first(cls, value: list[TierConfig]) -> list[TierConfig]:
        seconds = [t.seconds for t in value]
        if seconds != sorted(set(seconds)):
            raise ValueError("tiers must go from the finest resolution to the coarsest, each different")
        return value


class PrometheusConfig(_Strict):
    url: str | None = Field(
        None, pattern=r"^https?://\S+$", description="A Prometheus server for the fleet view; none = local only."
    )
    job: str = Field("node", min_length=1, description="The job label of the node_exporter targets.")
    timeout_seconds: float = Field(5.0, gt=0, le=120, description="A query slower than this is given up.")
    max_points: int = Field(2000, ge=10, le=100_000, description="Points per series a chart asks Prometheus for.")
    headers: dict[str, str] = Field(
        default_factory=dict,
        description='Extra HTTP headers on every query, e.g. { "X-Scope-OrgID" = "team-a" } for Mimir.',
    )

    @field_validator("headers")
    @classmethod
    def _header_names(cls, value: dict[str, str]) -> dict[str, str]:
        return _checked_headers(value)


_LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an HTTP token (RFC 9110)


def _checked_headers(value: dict[str, str]) -> dict[str, str]:
    bad = [n for n in value if not _HEADER_NAME.match(n)]
    if bad:
        raise ValueError(f"not an HTTP header name: {', '.join(map(repr, bad))}")
    broken = [n for n, v in value.items() if "\r" in v or "\n" in v]
    if broken:
        raise ValueError(f"a header value cannot hold a line break: {', '.join(map(repr, broken))}")
    return value


class RemotePushConfig(_Strict):
    """``[remote_push]``: the sampler's samples sent to a Prometheus-compatible store."""

    url: str | None = Field(
        None,
        pattern=r"^https?://\S+$",
        description="Where samples are POSTed as JSON lines, e.g. VictoriaMetrics' "
        "http://host:8428/api/v1/import; none = no push.",
    )
    interval_seconds: float = Field(10.0, ge=0.1, le=3600, description="Seconds between pushes.")
    batch_samples: int = Field(
        600, ge=1, le=10_000, description="Samples (each one every column of one sampler row) per request at most."
    )
    max_pending_samples: int = Field(
        10_000,
        ge=1,
        le=1_000_000,
        description="Samples kept while the store cannot be reached; older ones are dropped and counted.",
    )
    timeout_seconds: float = Field(10.0, gt=0, le=120, description="A request slower than this has failed.")
    labels: dict[str, str] = Field(
        default_factory=dict,
        description='Labels on every series; job = "dashboard" and instance = the host name unless set here.',
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description='Extra HTTP headers on every push, e.g. { Authorization = "Bearer ..." }.'
    )

    @field_validator("labels")
    @classmethod
    def _label_names(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [n for n in value if not _LABEL_NAME.match(n) or n.startswith("__")]
        if bad:
            raise ValueError(
                f"label names may hold letters, digits and '_' only, and not start with '__': {', '.join(map(repr, bad))}"
            )
        return value

    @field_validator("headers")
    @classmethod
    def _header_names(cls, value: dict[str, str]) -> dict[str, str]:
        return _checked_headers(value)


class UiConfig(_Strict):
    chart_refresh_seconds: float = Field(
        5.0, ge=1, le=3600, description="Seconds between chart redraws while Live is on (cards tick every sample)."
    )
