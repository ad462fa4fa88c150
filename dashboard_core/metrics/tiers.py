"""Tiers of long metric history: coarser resolutions kept in the store.

A tier keeps one row per ``seconds``-long bucket (aligned to the epoch, so
``[12:00:00, 12:00:10)`` is one 10 s bucket) with some of ``min``, ``mean``,
``max`` of the samples in it. :func:`bucket` turns samples into :class:`Buckets`
with numpy (``reduceat`` over runs of equal bucket starts), NaN-aware: a missing
reading is not a zero, so each column counts its own values and a column
without any in a bucket reads NaN there. Buckets of the same start merge, which
is how a bucket filled across several flushes (or across a restart) stays right.

:func:`pick_tier` chooses the tier a window is read from: the finest one whose
retention reaches back to the window's start and that gives at most
:data:`MAX_ROWS` rows for the window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dashboard_core.config import TierConfig

STATS = ("min", "mean", "max")
NS_PER_MS = 1_000_000

# A window never reads more rows than this: about 2 days at 1 s, what the charts
# (downsampled) and the CSV export handle comfortably. Longer windows go coarser.
MAX_ROWS = 200_000


@dataclass(frozen=True, slots=True)
class Tier:
    seconds: float
    keep_days: float
    stats: tuple[str, ...]  # a subset of STATS, in STATS order

    @classmethod
    def from_config(cls, tier: TierConfig) -> Tier:
        return cls(float(tier.seconds), float(tier.keep_days), tuple(s for s in STATS if s in tier.stats))

    @property
    def ms(self) -> int:
        return round(self.seconds * 1000)

    @property
    def keep_ms(self) -> int:
        return round(self.keep_days * 86_400_000)

    @property
    def table(self) -> str:
        """The store table of this tier: ``metric_history_10s``, ``metric_history_1500ms``."""
        return f"metric_history_{self.ms // 1000}s" if self.ms % 1000 == 0 else f"metric_history_{self.ms}ms"

    @property
    def main_stat(self) -> str:
        """What charts draw and the CSV's plain columns hold: the mean if kept."""
        return "mean" if "mean" in self.stats else self.stats[-1]

    @property
    def label(self) -> str:
        """``10 s``, ``1 min``, ``1 h``: for sentences."""
        return format_resolution(self.seconds, " ", {"s": "s", "m": "min", "h": "h"})

    @property
    def token(self) -> str:
        """``10s``, ``1m``, ``1h``: the ``X-Resolution`` header, like window spans."""
        return format_resolution(self.seconds, "", {"s": "s", "m": "m", "h": "h"})

    def floor_ms(self, ms: int) -> int:
        return ms // self.ms * self.ms

    def ceil_ms(self, ms: int) -> int:
        return -(-ms // self.ms) * self.ms


def format_resolution(seconds: float, sep: str, units: dict[str, str]) -> str:
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{sep}{units[unit]}"
    return f"{seconds:g}{sep}{units['s']}"


def tiers_of(configs: list[TierConfig]) -> list[Tier]:
    return [Tier.from_config(t) for t in configs]


def pick_tier(
    start_ms: int, seconds: float, now_ms: int, tiers: list[Tier], oldest: dict[Tier, int] | None = None
) -> Tier:
    """The finest tier that draws the window in at most MAX_ROWS rows and whose
    retention reaches back to its start; failing that, the one that reaches
    back furthest.

    With ``oldest`` (each tier's oldest stored bucket start), only tiers with
    data count, and a finer tier whose data begins later than the window's
    start and than a coarser tier's (one added to the config last week) gives
    way to the coarser one.
    """
    fits = [t for t in tiers if seconds * 1000 / t.ms <= MAX_ROWS]
    # max(): a window resolved a moment before "now" still counts as covered
    covering = [t for t in fits if start_ms >= now_ms - t.keep_ms - max(t.ms, 60_000)]
    stored = [t for t in (covering or fits) if oldest and t in oldest]
    if oldest and stored:
        # A tier's data surely begins before the end of its oldest bucket; a
        # coarser bucket starts earlier than a finer one over the same samples.
        bar = max(start_ms, min(oldest[t] + t.ms for t in stored))
        return next(t for t in stored if oldest[t] <= max(bar, start_ms + t.ms))
    if covering:
        return covering[0]
    return max(tiers, key=lambda t: (t.keep_days, t.seconds))


@dataclass(slots=True)
class Buckets:
    """Consecutive buckets of one resolution: per bucket its start, the number
    of samples, and per column the count, sum, min and max of its values."""

    columns: list[str]
    start_ms: np.ndarray  # (k,) int64, ascending
    n: np.ndarray  # (k,) int64: samples in the bucket
    count: np.ndarray  # (k, c) int64: values (not NaN) per column
    total: np.ndarray  # (k, c) float64: sum of the values
    low: np.ndarray  # (k, c) float64: minimum, NaN without values
    high: np.ndarray  # (k, c) float64: maximum, NaN without values

    def __len__(self) -> int:
        return len(self.start_ms)

    @classmethod
    def empty(cls, columns: list[str] | None = None) -> Buckets:
        c = len(columns or [])
        return cls(
            list(columns or []),
            np.empty(0, np.int64),
            np.empty(0, np.int64),
            np.empty((0, c), np.int64),
            np.empty((0, c)),
            np.empty((0, c)),
            np.empty((0, c)),
        )

    def stat(self, name: str) -> np.ndarray:
        """A (k, c) float64 matrix of ``min``, ``mean`` or ``max``."""
        if name == "min":
            return self.low
        if name == "max":
            return self.high
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.count > 0, self.total / np.maximum(self.count, 1), np.nan)

    def take(self, rows: slice) -> Buckets:
        return Buckets(
            self.columns,
            self.start_ms[rows],
            self.n[rows],
            self.count[rows],
            self.total[rows],
            self.low[rows],
            self.high[rows],
        )

    def widen(self, columns: list[str]) -> Buckets:
        """The same buckets over ``columns`` (a superset): new columns have no values."""
        if columns == self.columns:
            return self
        where = {c: i for i, c in enumerate(columns)}
        idx = [where[c] for c in self.columns]
        k, c = len(self), len(columns)

        def spread(a: np.ndarray, fill: float) -> np.ndarray:
            out = np.full((k, c), fill, dtype=a.dtype)
            out[:, idx] = a
            return out

        return Buckets(
            list(columns),
            self.start_ms,
            self.n,
            spread(self.count, 0),
            spread(self.total, 0.0),
            spread(self.low, np.nan),
            spread(self.high, np.nan),
        )


def bucket(ts_ns: np.ndarray, values: np.ndarray, columns: list[str], tier_ms: int) -> Buckets:
    """Samples (timestamps ascending, a rows x columns matrix) into buckets."""
    values = np.asarray(values, dtype=np.float64)
    if len(ts_ns) == 0:
        return Buckets.empty(columns)
    start = np.asarray(ts_ns, dtype=np.int64) // NS_PER_MS // tier_ms * tier_ms
    first = np.concatenate(([0], np.flatnonzero(np.diff(start)) + 1))
    present = ~np.isnan(values)
    return Buckets(
        list(columns),
        start[first],
        np.diff(np.append(first, len(start))).astype(np.int64),
        np.add.reduceat(present, first, axis=0, dtype=np.int64),
        np.add.reduceat(np.where(present, values, 0.0), first, axis=0),
        np.fmin.reduceat(values, first, axis=0),  # fmin/fmax skip NaN; NaN only if all are
        np.fmax.reduceat(values, first, axis=0),
    )


def merge(a: Buckets, b: Buckets) -> Buckets:
    """``a`` followed by ``b``; a bucket in both (``a``'s last is ``b``'s first) is combined."""
    if len(a) == 0:
        return b
    if len(b) == 0:
        return a
    columns = a.columns + [c for c in b.columns if c not in set(a.columns)]
    a, b = a.widen(columns), b.widen(columns)
    if a.start_ms[-1] != b.start_ms[0]:
        return _concat(a, b)
    joint = Buckets(
        columns,
        b.start_ms[:1],
        a.n[-1:] + b.n[:1],
        a.count[-1:] + b.count[:1],
        a.total[-1:] + b.total[:1],
        np.fmin(a.low[-1:], b.low[:1]),
        np.fmax(a.high[-1:], b.high[:1]),
    )
    return _concat(_concat(a.take(slice(0, -1)), joint), b.take(slice(1, None)))


def _concat(a: Buckets, b: Buckets) -> Buckets:
    return Buckets(
        a.columns,
        np.concatenate([a.start_ms, b.start_ms]),
        np.concatenate([a.n, b.n]),
        np.concatenate([a.count, b.count]),
        np.concatenate([a.total, b.total]),
        np.concatenate([a.low, b.low]),
        np.concatenate([a.high, b.high]),
    )


def from_stats(columns: list[str], start_ms: int, n: int, stats: dict[str, np.ndarray | None]) -> Buckets:
    """One stored row back as a bucket, so later samples can merge into it.

    The per-column counts are not stored: a column with a mean counts as ``n``
    values (exact unless it was missing for part of the bucket).
    """
    c = len(columns)
    nan = np.full(c, np.nan)
    mean = stats.get("mean")
    mean = nan if mean is None else np.asarray(mean, np.float64)
    count = np.where(np.isnan(mean), 0, n).astype(np.int64)
    low, high = (np.asarray(v, np.float64) if v is not None else nan for v in (stats.get("min"), stats.get("max")))
    return Buckets(
        list(columns),
        np.array([start_ms], np.int64),
        np.array([n], np.int64),
        count[None, :],
        np.where(count > 0, mean * count, 0.0)[None, :],
        low[None, :],
        high[None, :],
    )
