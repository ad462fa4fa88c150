"""The CSV writer behind :func:`dashboard_core.metrics.export.frame_to_csv`, loaded with
the first export (it needs pandas and pyarrow, which an idle server never loads).

A text cell that starts with ``= + - @``, a tab or a carriage return is run as
a formula by Excel, LibreOffice and Google Sheets (CSV injection, OWASP). Such
cells, headers included, are prefixed with a single quote so they show as text.
Numbers are never touched: ``-3.5`` stays a number. Timestamps are ISO 8601 UTC.

A metric frame (a time index, numbers only: a 24 h CSV is 2.7 million numbers)
has its numbers written by orjson, whose Ryu float formatting is three times
faster than pyarrow's, as the same shortest text that reads back as the same
value; pyarrow joins the cells into rows. That about halves the time of a 24 h
export (``bench/csv_export.py``), and the bytes are exactly those pyarrow's
writer wrote. Anything else (text columns, infinities) goes through pyarrow's
CSV writer, itself about 10x faster than ``DataFrame.to_csv``.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from dashboard_core.metrics.frame import time_index

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """A spreadsheet-safe version of one text cell."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def iso_utc(index: pd.DatetimeIndex) -> np.ndarray:
    """ISO 8601 strings in UTC with millisecond precision, e.g. 2026-11-25T08:00:00.000Z."""
    utc = index.tz_convert("UTC") if index.tz is not None else index
    values = utc.tz_localize(None).to_numpy().astype("datetime64[ms]")
    return np.datetime_as_string(values, unit="ms", timezone="UTC")


_EXACT_INT = 2.0**53  # float64 holds every whole number below this exactly


def _numbers(values: np.ndarray) -> pa.Array[Any]:
    """Whole-valued float64 columns (byte counts) as integers, so 17179869184 is
    not written 1.7179869184e+10; anything else as it is. NaN stays empty."""
    if values.dtype == np.float64:
        missing = np.isnan(values)
        present = values[~missing]
        if present.size and np.all(present == np.trunc(present)) and np.all(np.abs(present) < _EXACT_INT):
            return pa.array(np.where(missing, 0.0, values).astype(np.int64), mask=missing)
    as_is: pa.Array[Any] = pa.array(values, from_pandas=True)  # pyarrow's stubs cannot tell from the dtype
    return as_is


def write_csv(frame: pd.DataFrame, index_label: str = "timestamp") -> bytes:
    """The frame as CSV bytes: the (datetime) index first, then every column."""
    if _is_metric_frame(frame, index_label):
        return _metric_csv(frame, index_label)
    return _arrow_csv(frame, index_label)


def _arrow_csv(frame: pd.DataFrame, index_label: str) -> bytes:
    """Any frame, through pyarrow's CSV writer."""
    columns: dict[str, pa.Array[Any]] = {}
    if isinstance(frame.index, pd.DatetimeIndex):
        columns[neutralise(index_label)] = pa.array(iso_utc(frame.index), type=pa.string())
    names = [neutralise(str(c)) for c in frame.columns]
    for name, (_, series) in zip(names, frame.items()):
        if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
            columns[name] = _numbers(series.to_numpy())
        else:
            text = [None if pd.isna(v) else neutralise(str(v)) for v in series.to_numpy(dtype=object)]
            columns[name] = pa.array(text, type=pa.string())
    table = pa.table(columns) if columns else pa.table({index_label: pa.array([], pa.string())})
    sink = io.BytesIO()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(quoting_style="needed"))
    return sink.getvalue()


# -- metric frames: the same bytes as pyarrow's writer, a third of the CPU ------
_NUMBERS = ("float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
_COMMA, _DOT, _ZERO = ord(","), ord("."), ord("0")
# Cells written at a time (32,768 rows of 32 columns): a 24 h export's peak
# memory grows by about what pyarrow's writer needed (52 MiB against 49; all
# rows at once: 83 MiB), for 5 % more time than all at once (a quarter of it:
# 25 %). Wide frames get fewer rows at a time; a part stays far below the
# 2 GiB a pyarrow string array can hold.
_CELLS_AT_ONCE = 32768 * 32
_FIRST_ISO, _LAST_ISO = pd.Timestamp("1000-01-01", tz="UTC"), pd.Timestamp("9999-12-31T23:59:59", tz="UTC")


def _is_metric_frame(frame: pd.DataFrame, index_label: str) -> bool:
    """A time index of 24-character ISO strings, at least one row and one
    column, unique names, numbers only and no infinity (orjson writes none)."""
    index = frame.index
    if not isinstance(index, pd.DatetimeIndex) or frame.empty or index.hasnans:
        return False
    utc = index.tz_convert("UTC") if index.tz is not None else index.tz_localize("UTC")
    if utc.min() < _FIRST_ISO or utc.max() > _LAST_ISO:
        return False
    names = [neutralise(index_label), *(neutralise(str(c)) for c in frame.columns)]
    if len(set(names)) != len(names) or any(str(t) not in _NUMBERS for t in frame.dtypes):
        return False
    return not any(t.kind == "f" and np.isinf(frame[c].to_numpy()).any() for c, t in frame.dtypes.items())


def _metric_csv(frame: pd.DataFrame, index_label: str) -> bytes:
    names = [neutralise(index_label), *(neutralise(str(c)) for c in frame.columns)]
    out = io.BytesIO()  # pyarrow's writer quotes (and escapes) the names as before
    pacsv.write_csv(pa.table({name: pa.array([], pa.string()) for name in names}), out)
    rows = max(1, _CELLS_AT_ONCE // (frame.shape[1] + 1))
    for first in range(0, len(frame), rows):
        out.write(_metric_rows(frame.iloc[first : first + rows]))
    return out.getvalue()


def _metric_rows(frame: pd.DataFrame) -> memoryview:
    last = frame.shape[1] - 1
    cells = [_time_cells(time_index(frame))]
    cells += [_number_cells(values, b"\n" if j == last else b",") for j, (_, values) in enumerate(frame.items())]
    # Each cell carries its own separator: join with none. (The stubs want the
    # separator as an array like the cells.)
    rows = pc.binary_join_element_wise(*cells, "")  # type: ignore[call-overload]
    size = int(np.frombuffer(rows.buffers()[1], np.int32)[len(rows)])
    return memoryview(rows.buffers()[2])[:size]


def _time_cells(index: pd.DatetimeIndex) -> pa.Array[Any]:
    """``"2026-11-25T08:00:00.123Z",`` per row (quoted as pyarrow quotes text),
    what :func:`iso_utc` writes, its digits computed as integers: a fifth of
    the time ``numpy.datetime_as_string`` takes. Years 1000-9999 only."""
    utc = index.tz_convert("UTC") if index.tz is not None else index.tz_localize("UTC")
    ms = utc.as_unit("ns").asi8 // 1_000_000  # floored to the millisecond, as iso_utc
    of_day = ms % 86_400_000
    template = np.frombuffer(b'"0000-00-00T00:00:00.000Z",', np.uint8)
    cells = np.empty((len(ms), len(template)), dtype=np.uint8)
    cells[:] = template
    for first, width, value in (
        (1, 4, utc.year),
        (6, 2, utc.month),
        (9, 2, utc.day),
        (12, 2, of_day // 3_600_000),
        (15, 2, of_day // 60_000 % 60),
        (18, 2, of_day // 1000 % 60),
        (21, 3, of_day % 1000),
    ):
        number = np.asarray(value, dtype=np.int64)
        for k in range(width):
            cells[:, first + width - 1 - k] = number // 10**k % 10 + ord("0")
    offsets = np.arange(len(ms) + 1, dtype=np.int32) * len(template)
    return pa.StringArray.from_buffers(len(ms), pa.py_buffer(offsets.data), pa.py_buffer(cells.data))


def _number_cells(series: pd.Series, end: bytes) -> pa.Array[Any]:
    """One column's cells, each followed by ``end`` (the separator, or a newline
    for the last column): numbers as orjson writes them (the shortest text that
    reads back as the same float32 or float64), whole floats without ``.0`` as
    pyarrow writes them (byte counts read as integers), NaN empty."""
    values = _as_integers(np.ascontiguousarray(series.to_numpy()))
    text = orjson.dumps(values, option=orjson.OPT_SERIALIZE_NUMPY)  # b"[57.3,100.0,null]"
    cells = np.frombuffer(text, np.uint8)[1:].copy()
    cells[-1] = _COMMA  # the closing bracket ends the last cell
    stops = np.flatnonzero(cells == _COMMA)
    if values.dtype.kind == "f":
        # Bytes to drop before a cell's separator: ".0" of a whole number (Ryu
        # never ends a fraction with 0) and "null" of a NaN. The byte two before
        # a one-character first cell's stop is the last separator, never a dot.
        drop = np.where((cells[stops - 2] == _DOT) & (cells[stops - 1] == _ZERO), 2, 0)
        drop[np.isnan(values)] = 4
        if drop.any():
            keep = np.ones(len(cells), dtype=bool)
            for k in range(1, 5):
                keep[stops[drop >= k] - k] = False
            cells = cells[keep]
            stops = stops - np.cumsum(drop)
    cells[stops] = ord(end)
    offsets = np.empty(len(stops) + 1, dtype=np.int32)
    offsets[0], offsets[1:] = 0, stops + 1
    return pa.StringArray.from_buffers(len(values), pa.py_buffer(offsets.data), pa.py_buffer(cells.data))


def _as_integers(values: np.ndarray) -> np.ndarray:
    """A float column of whole numbers only (byte counts, process counts) as
    int64, written three times faster and as the same text: below 2**24
    (float32) or 2**53 (float64) a whole float's shortest text is its digits.
    Not with NaN (no integer for it) or -0.0 (written ``-0``)."""
    if values.dtype.kind != "f" or not values.size:
        return values
    exact = 2.0**24 if values.dtype == np.float32 else _EXACT_INT
    whole = np.trunc(values) == values  # False for NaN
    if whole.all() and np.abs(values).max() < exact and not np.signbit(values[values == 0]).any():
        return values.astype(np.int64)
    return values
