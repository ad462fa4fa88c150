"""Reading a window of history across memory and the store, without a seam.

The rolling frame holds every sample of the last hours; the store's tiers hold
coarser buckets for days and months. :meth:`HistoryReader.read` returns the
window from the finest source that covers it, and says which:

- every sample (full resolution) from memory when memory reaches back to the
  window's start (or the store has nothing older) and the window holds at most
  ``MAX_ROWS`` samples;
- otherwise the finest tier that reaches back to the start in at most
  ``MAX_ROWS`` rows (:func:`~dashboard_core.metrics.tiers.pick_tier`): a 3-day
  window reads 10-second means, a 30-day one 1-minute means. Flushed buckets
  come from the store; the newest stored one (it may have been filling) and
  newer ones are computed from memory with the writer's own bucketing, as is
  anything the store lacks that memory holds whole. The two parts meet at a
  bucket boundary: no gap, no bucket twice, and the bucket not flushed yet is
  there.

Timestamps of a tier read are bucket starts. Charts draw the mean (or the one
statistic a tier keeps); the CSV adds ``column:min`` and ``column:max`` after
the means when the tier keeps them. Alert rules and live cards do not come
here: they read recent samples from memory (``Runtime.history``).

A read is numpy rows (:class:`~dashboard_core.metrics.frame.Rows`); its DataFrame is
built when asked for (the CSV, the API's callers): the live charts, which read the
default 15 minutes from memory, never load pandas.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from dashboard_core.logonce import recovered, warn_once
from dashboard_core.metrics.frame import RollingFrame, Rows, rows_frame
from dashboard_core.metrics.history_store import HistoryStore, TierRows
from dashboard_core.metrics.tiers import MAX_ROWS, Tier, bucket, format_resolution, pick_tier
from dashboard_core.metrics.windows import Window
from dashboard_core.store import StoreError

if TYPE_CHECKING:  # imported where used: a read from memory needs no DataFrame
    import pandas as pd

log = logging.getLogger(__name__)

FULL = "full"


def _float32(_column: str) -> str:
    return "float32"


@dataclass(frozen=True)
class HistoryRead:
    """A window of history and where it came from.

    ``rows``: sample times (or bucket starts for a tier) and the usual columns
    (``name`` or ``name[label]``), holding the tier's mean. ``extreme_rows``:
    ``min``/``max`` rows of the same shape, when asked for and kept by the tier.
    :attr:`frame` and :attr:`extremes` are the same as DataFrames (UTC
    DatetimeIndex named ``timestamp``, each column in its field's dtype).
    """

    rows: Rows
    tier: Tier | None = None  # None: full resolution, every sample
    sources: tuple[str, ...] = ("memory",)
    extreme_rows: dict[str, Rows] = field(default_factory=dict)
    sample_interval: float = 1.0
    problem: str = ""  # why the store could not be read, if it could not
    dtype_of: Callable[[str], str] = _float32

    @cached_property
    def frame(self) -> pd.DataFrame:
        return rows_frame(self.rows, self.dtype_of)

    @cached_property
    def extremes(self) -> dict[str, pd.DataFrame]:
        return {stat: rows_frame(rows, self.dtype_of) for stat, rows in self.extreme_rows.items()}

    @property
    def resolution(self) -> str:
        """``full``, ``10 s``, ``1 min``: for labels."""
        return FULL if self.tier is None else self.tier.label

    @property
    def token(self) -> str:
        """``full``, ``10s``, ``1m``: the ``X-Resolution`` header."""
        return FULL if self.tier is None else self.tier.token

    @property
    def description(self) -> str:
        """One sentence for the page: what the user is looking at."""
        if self.tier is None:
            text = (
                f"Every sample (full resolution, {format_resolution(self.sample_interval, ' ', _SHORT)}), from memory."
            )
        else:
            span = format_resolution(self.tier.seconds, "-", _LONG)
            where = " and ".join({"store": "the store", "memory": "memory"}[s] for s in self.sources)
            text = f"{span.capitalize()} {self.tier.main_stat}s from {where}."
            kept = [s for s in ("min", "max") if s in self.tier.stats and s != self.tier.main_stat]
            if kept:
                text += f" The CSV adds each bucket's {' and '.join(kept)}."
        return f"{text} {self.problem}".strip()

    def csv_frame(self) -> pd.DataFrame:
        """The frame, then ``column:min`` and ``column:max`` when there are extremes."""
        if not self.extremes:
            return self.frame
        import pandas as pd

        parts = [self.frame] + [x.add_suffix(f":{stat}") for stat, x in self.extremes.items()]
        return pd.concat(parts, axis=1)

    def chart_rows(self) -> Rows:
        """The rows with an empty one where buckets are missing (the server was
        down), so a chart draws a gap there instead of a straight line."""
        rows = self.rows
        if self.tier is None or len(rows) < 2:
            return rows
        ns = rows.ts_ns
        step = int(self.tier.ms * 1_000_000)
        limit = 3 * max(step, int(self.sample_interval * 1e9))
        gaps = np.flatnonzero(np.diff(ns) > limit)
        if len(gaps) == 0:
            return rows
        at = gaps + 1  # each empty row goes right after the row before its gap
        values = np.insert(rows.values, at, np.nan, axis=0)
        return Rows(np.insert(ns, at, ns[gaps] + step), rows.columns, values)


_SHORT = {"s": "s", "m": "min", "h": "h"}
_LONG = {"s": "second", "m": "minute", "h": "hour"}


class HistoryReader:
    def __init__(
        self,
        frame: RollingFrame,
        history: HistoryStore | None,
        *,
        sample_interval: float,
        dtype_of: Callable[[str], str] = lambda _c: "float32",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.frame = frame
        self.history = history
        self.sample_interval = sample_interval
        self.dtype_of = dtype_of
        self.clock = clock

    def read(self, window: Window, *, extremes: bool = False) -> HistoryRead:
        history = self.history
        if history is None:
            return self._memory(window)
        span = self.frame.span_ns()
        start_ms, end_ms = epoch_ms(window.start), epoch_ms(window.end)
        try:
            if window.seconds / self.sample_interval <= MAX_ROWS and (
                (span is not None and span[0] <= epoch_ns(window.start))
                or not self._older_in_store(history, start_ms, span, end_ms)
            ):
                return self._memory(window)
            oldest = {t: ms for t in history.tiers if (ms := history.oldest(t)) is not None}
            tier = pick_tier(start_ms, window.seconds, round(self.clock() * 1000), history.tiers, oldest)
            read = self._tiered(history, window, tier, span, extremes)
        except (sqlite3.Error, StoreError) as exc:
            warn_once(log, "history-read", "Reading metric history from the store failed: %s", exc)
            return self._memory(window, f"(The store could not be read: {exc}.)")
        recovered(log, "history-read", "Reading metric history from the store works again")
        return read

    def tail(self, since_ms: int, tier: Tier | None) -> Rows:
        """What a live chart drawn at ``tier``'s resolution (None: every sample)
        lacks: the samples after ``since_ms`` (UTC epoch ms); or, for a tier, the
        buckets from the one holding ``since_ms`` on (it may have filled since),
        computed from memory as the tier computes them (the window's newest
        buckets always are)."""
        if tier is None:  # `since` is whole milliseconds, sample times are not: from the next millisecond
            return self.frame.rows((since_ms + 1) * 1_000_000)
        rows = self.frame.rows(tier.floor_ms(since_ms) * 1_000_000)
        b = bucket(rows.ts_ns, rows.values, rows.columns, tier.ms)
        return Rows(b.start_ms * 1_000_000, list(b.columns), np.asarray(b.stat(tier.main_stat), dtype=np.float64))

    def _memory(self, window: Window, problem: str = "") -> HistoryRead:
        rows = self.frame.rows(epoch_ns(window.start), epoch_ns(window.end))
        return HistoryRead(rows, sample_interval=self.sample_interval, problem=problem, dtype_of=self.dtype_of)

    @staticmethod
    def _older_in_store(history: HistoryStore, start_ms: int, span: tuple[int, int] | None, end_ms: int) -> bool:
        """Does any tier hold a bucket of the window that ends before memory begins?"""
        first_ms = span[0] // 1_000_000 if span is not None else end_ms + 1
        return any(history.has_rows(t, start_ms - t.ms + 1, first_ms - t.ms + 1) for t in history.tiers)

    def _tiered(
        self,
        history: HistoryStore,
        window: Window,
        tier: Tier,
        span: tuple[int, int] | None,  # ns
        extremes: bool,
    ) -> HistoryRead:
        main = tier.main_stat
        stats = [main] + ([s for s in ("min", "max") if s in tier.stats and s != main] if extremes else [])
        lo, end_ms = tier.ceil_ms(epoch_ms(window.start)), epoch_ms(window.end)
        # From `boundary` on, buckets are computed from memory: the newest stored
        # bucket (it may still have been filling) and anything not flushed yet,
        # never before the first bucket memory holds whole (unless the store has
        # nothing of that one either). The rest is read.
        if span is None:
            boundary = end_ms + 1
        else:
            first = span[0] // 1_000_000
            newest = history.newest_start(tier, end_ms + 1)
            stale = newest is None or newest < tier.floor_ms(first)
            boundary = max(lo, tier.floor_ms(first) if stale else tier.ceil_ms(first), newest or lo)
        stored = history.read(tier, lo, min(boundary, end_ms + 1), stats) if boundary > lo else None
        fresh = self._bucketed(tier, boundary, epoch_ns(window.end), stats) if boundary <= end_ms else None
        sources = tuple(name for name, part in (("store", stored), ("memory", fresh)) if part is not None and len(part))
        joined = _join(stored, fresh, stats)
        return HistoryRead(
            joined[main],
            tier,
            sources or ("store",),
            {s: joined[s] for s in stats if s != main},
            self.sample_interval,
            dtype_of=self.dtype_of,
        )

    def _bucketed(self, tier: Tier, from_ms: int, end_ns: int, stats: list[str]) -> TierRows:
        rows = self.frame.rows(from_ms * 1_000_000, end_ns)
        b = bucket(rows.ts_ns, rows.values, rows.columns, tier.ms)
        return TierRows(b.start_ms, b.columns, {s: b.stat(s) for s in stats})


def _join(stored: TierRows | None, fresh: TierRows | None, stats: list[str]) -> dict[str, Rows]:
    """Store rows then memory rows, per statistic, over the union of their
    columns (memory's order first: the columns the sampler reports now)."""
    parts = [p for p in (stored, fresh) if p is not None]
    columns = list(dict.fromkeys([c for p in reversed(parts) for c in p.columns]))
    ts_ns = np.concatenate([p.start_ms for p in parts] or [np.empty(0, np.int64)]).astype(np.int64) * 1_000_000
    out: dict[str, Rows] = {}
    for stat in stats:
        values = np.full((len(ts_ns), len(columns)), np.nan, dtype=np.float64)
        offset = 0
        for p in parts:
            for j, c in enumerate(p.columns):
                values[offset : offset + len(p), columns.index(c)] = p.stats[stat][:, j]
            offset += len(p)
        out[stat] = Rows(ts_ns, columns, values)
    return out


def epoch_ns(ts: datetime) -> int:
    """Nanoseconds since the epoch of an aware time (a pandas Timestamp keeps its
    nanoseconds; a naive time is UTC)."""
    exact = getattr(ts, "value", None)  # pandas' Timestamp: ns since the epoch, UTC
    if isinstance(exact, int):
        return exact
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return (ts - _EPOCH) // timedelta(microseconds=1) * 1_000


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_ms(ts: datetime) -> int:
    """Epoch milliseconds of a timestamp (bucket starts and windows are kept in them)."""
    return epoch_ns(ts) // 1_000_000
