"""A fixed-capacity rolling frame of samples: a numpy ring buffer.

Columns are grouped in one 2-D block per dtype, column-major, so a row costs 4
bytes per float32 column, 8 per float64 column, plus 8 for its timestamp, and
reading a window into a pandas DataFrame (UTC DatetimeIndex) is one plain copy
per column (a row-major ring needed a transposing copy: twice the time). The
server's own background readers (history writer, alert rules, the live feed)
read plain numpy arrays instead (:meth:`RollingFrame.rows`): an idle server then
never loads pandas (nor pyarrow, which pandas loads), about 75 MiB resident.

Appending is O(1): one C call (an ``itemgetter`` over the known columns,
grouped by dtype) picks the sample's values, and each block takes its share
as one strided write: about 3 µs for 31 columns on the 2-core development
machine, half what a ``dict.get`` per column and a list per block took
(``bench/frame_append.py``).

A column that first appears late (a new disk, a new interface) is added with
NaN for every earlier row, so no history is lost; a column that stops being
reported simply reads NaN from then on.
"""

from __future__ import annotations

import math
import operator
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # imported where used: an idle server reads the frame without pandas
    import pandas as pd

DtypeOf = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class Rows:
    """A window of the frame as numpy arrays, oldest first, for readers that need no DataFrame."""

    ts_ns: np.ndarray  # int64 sample times, ns since the epoch, UTC
    columns: list[str]  # in order of first appearance, as in to_frame
    values: np.ndarray  # float64, one row per sample and one column per name in columns

    def __len__(self) -> int:
        return len(self.ts_ns)

    def column(self, name: str) -> np.ndarray:
        return self.values[:, self.columns.index(name)]


def as_rows(data: Rows | pd.DataFrame) -> Rows:
    """A metric frame (UTC DatetimeIndex) as :class:`Rows`; Rows as they are. What the
    chart and card builders read, so the live feed never needs a DataFrame."""
    if isinstance(data, Rows):
        return data
    return Rows(time_index(data).as_unit("ns").asi8, [str(c) for c in data.columns], data.to_numpy(dtype=np.float64))


def rows_frame(rows: Rows, dtype_of: DtypeOf) -> pd.DataFrame:
    """Rows as a metric frame (what :meth:`RollingFrame.to_frame` gives), each column
    in its field's dtype: for the CSV export and the API's callers that want pandas."""
    import pandas as pd

    data = {c: rows.values[:, j].astype(dtype_of(c)) for j, c in enumerate(rows.columns)}
    return pd.DataFrame(data, index=_utc_index(rows.ts_ns), columns=list(rows.columns), copy=False)


class _Block:
    """The columns of one dtype: a (columns x capacity) array, each column
    contiguous, so a window is read with one plain copy per column."""

    def __init__(self, dtype: str, capacity: int) -> None:
        self.dtype = np.dtype(dtype)
        self.names: list[str] = []
        self.data = np.empty((0, capacity), dtype=self.dtype)

    def add(self, names: Sequence[str]) -> None:
        """New columns, NaN for every row so far: one copy of the block for
        all of them (a first sample brings every column at once)."""
        columns = np.full((len(names), self.data.shape[1]), np.nan, dtype=self.dtype)
        self.data = np.vstack([self.data, columns])
        self.names.extend(names)


class RollingFrame:
    """Thread-safe: one writer (the sampler) and any number of readers."""

    def __init__(self, capacity: int, dtype_of: DtypeOf = lambda _column: "float32") -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._dtype_of = dtype_of
        self._ts = np.zeros(capacity, dtype=np.int64)  # ns since the epoch, UTC
        self._blocks: dict[str, _Block] = {}
        self._known: dict[str, _Block] = {}  # column -> its block, in order of first appearance
        # The write path, rebuilt when a column is added: every known column in
        # block order, one getter for all of them, and each block's share of the row.
        self._order: list[str] = []
        self._pick: Callable[[Mapping[str, float]], Sequence[float]] = lambda _values: ()
        self._cuts: list[tuple[_Block, slice]] = []
        self._next = 0
        self._size = 0
        self._last_ts = -(2**62)
        self._lock = threading.Lock()

    # -- writing ---------------------------------------------------------------
    def append(self, ts_ns: int, values: Mapping[str, float]) -> None:
        """Add one sample. Timestamps never go backwards: an earlier one is
        moved to just after the last, so windows stay sorted."""
        with self._lock:
            try:
                # Exactly the known columns (the sampler's every sample): the
                # getter finds them all, and there is nothing else.
                if len(values) != len(self._order):
                    raise KeyError
                picked = self._pick(values)
            except KeyError:
                picked = self._pick_changed(values)
            i = self._next
            ts_ns = int(ts_ns)
            if ts_ns <= self._last_ts:
                ts_ns = self._last_ts + 1
            self._ts[i] = self._last_ts = ts_ns
            for block, cut in self._cuts:
                block.data[:, i] = picked[cut]
            self._next = i + 1 if i + 1 < self.capacity else 0
            if self._size < self.capacity:
                self._size += 1

    def _pick_changed(self, values: Mapping[str, float]) -> Sequence[float]:
        """A sample with new columns or without some known ones: add the new
        ones (NaN before), then every known column's value, NaN if missing."""
        added = [(column, self._dtype_of(column)) for column in values if column not in self._known]
        new: dict[str, list[str]] = {}  # dtype -> its new columns
        for column, dtype in added:  # (no change before every dtype is known)
            if dtype not in self._blocks:
                self._blocks[dtype] = _Block(dtype, self.capacity)
            self._known[column] = self._blocks[dtype]  # in order of appearance, whatever the dtype
            new.setdefault(dtype, []).append(column)
        for dtype, columns in new.items():
            self._blocks[dtype].add(columns)
        if new:
            self._rebuild_write_path()
        get, nan = values.get, math.nan
        return [get(column, nan) for column in self._order]

    def _rebuild_write_path(self) -> None:
        self._order, self._cuts = [], []
        for block in self._blocks.values():
            self._cuts.append((block, slice(len(self._order), len(self._order) + len(block.names))))
            self._order.extend(block.names)
        if len(self._order) == 1:  # itemgetter of one key returns the value, not a tuple
            only = self._order[0]
            self._pick = lambda values: (values[only],)
        else:
            self._pick = operator.itemgetter(*self._order)

    # -- reading ---------------------------------------------------------------
    def __len__(self) -> int:
        return self._size

    @property
    def columns(self) -> list[str]:
        with self._lock:
            return list(self._known)

    @property
    def bytes_per_row(self) -> int:
        with self._lock:
            return self._ts.itemsize + sum(b.dtype.itemsize * len(b.names) for b in self._blocks.values())

    def span_ns(self) -> tuple[int, int] | None:
        """Oldest and newest sample time held (ns since the epoch, UTC), or None when empty."""
        with self._lock:
            if self._size == 0:
                return None
            first = self._ts[(self._next - self._size) % self.capacity]
            last = self._ts[(self._next - 1) % self.capacity]
        return int(first), int(last)

    def span(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """Oldest and newest timestamp held, or None when empty."""
        import pandas as pd

        span = self.span_ns()
        if span is None:
            return None
        return pd.Timestamp(span[0], unit="ns", tz="UTC"), pd.Timestamp(span[1], unit="ns", tz="UTC")

    def rows(self, start_ns: int | None = None, end_ns: int | None = None) -> Rows:
        """Rows with ``start_ns <= time <= end_ns`` (either bound optional) as numpy arrays,
        the values as float64 whatever each column's dtype (what :meth:`to_frame` then
        ``to_numpy(dtype=float64)`` gave, without a DataFrame)."""
        with self._lock:
            segments = self._segments(start_ns, end_ns)
            ts = np.concatenate([self._ts[seg] for seg in segments]) if segments else np.empty(0, np.int64)
            columns = list(self._known)
            where = {name: i for i, name in enumerate(columns)}
            values = np.empty((len(ts), len(columns)), dtype=np.float64)
            for block in self._blocks.values():
                picked = [where[name] for name in block.names]
                offset = 0
                for seg in segments:
                    n = seg.stop - seg.start
                    values[offset : offset + n, picked] = block.data[:, seg].T
                    offset += n
        return Rows(ts, columns, values)

    def to_frame(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pd.DataFrame:
        """Rows with ``start <= timestamp <= end`` (either bound optional), oldest
        first, as a DataFrame indexed by a UTC DatetimeIndex named ``timestamp``."""
        import pandas as pd

        with self._lock:
            segments = self._segments(_ns(start), _ns(end))
            index = np.concatenate([self._ts[seg] for seg in segments]) if segments else np.empty(0, np.int64)
            parts: dict[str, np.ndarray] = {}
            for block in self._blocks.values():
                # One copy per block; the DataFrame owns it and never aliases the ring.
                columns = np.empty((len(block.names), len(index)), dtype=block.dtype)
                offset = 0
                for seg in segments:
                    n = seg.stop - seg.start
                    columns[:, offset : offset + n] = block.data[:, seg]
                    offset += n
                parts.update(zip(block.names, columns))
            order = list(self._known)
        return pd.DataFrame({name: parts[name] for name in order}, index=_utc_index(index), copy=False)

    def _segments(self, start_ns: int | None, end_ns: int | None) -> list[slice]:
        """Physical row ranges of the window, oldest first (two if the ring wrapped)."""
        cap, size, nxt = self.capacity, self._size, self._next
        first = (nxt - size) % cap
        # The ring holds two sorted runs: [first, cap) then [0, nxt) once it wrapped.
        runs = [(first, first + size)] if first + size <= cap else [(first, cap), (0, nxt)]
        picked: list[slice] = []
        for lo, hi in runs:
            ts = self._ts[lo:hi]
            a = lo + (int(np.searchsorted(ts, start_ns, "left")) if start_ns is not None else 0)
            b = lo + (int(np.searchsorted(ts, end_ns, "right")) if end_ns is not None else hi - lo)
            if b > a:
                picked.append(slice(a, b))
        return picked


def _ns(ts: datetime | None) -> int | None:
    if ts is None:
        return None
    import pandas as pd

    ts = pd.Timestamp(ts)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return int(ts.as_unit("ns").value)


def _utc_index(ns: np.ndarray) -> pd.DatetimeIndex:
    import pandas as pd

    return pd.DatetimeIndex(ns.astype("datetime64[ns]"), name="timestamp").tz_localize("UTC")


def time_index(frame: pd.DataFrame) -> pd.DatetimeIndex:
    """The frame's index, which for every metric frame is its sample times (the
    type checker only knows a DataFrame's index as some Index)."""
    import pandas as pd

    index = frame.index
    if not isinstance(index, pd.DatetimeIndex):
        raise TypeError(f"a metric frame is indexed by time, not by a {type(index).__name__}")
    return index
