"""The rolling frame: wrap-around, windows, late columns, dtypes, memory per row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard_core.metrics.frame import RollingFrame

S = 1_000_000_000  # ns per second


def ts(second: int) -> pd.Timestamp:
    return pd.Timestamp(second * S, unit="ns", tz="UTC")


def by_prefix(column: str) -> str:
    return "float64" if column.startswith("big") else "float32"


def filled(capacity: int, rows: int) -> RollingFrame:
    frame = RollingFrame(capacity, by_prefix)
    for i in range(rows):
        frame.append(i * S, {"a": float(i), "big": float(i) * 1e10})
    return frame


def test_wrap_around_keeps_the_newest_rows_in_order() -> None:
    frame = filled(5, 12)
    df = frame.to_frame()
    assert len(frame) == 5
    assert list(df["a"]) == [7.0, 8.0, 9.0, 10.0, 11.0]
    assert list(df.index) == [ts(i) for i in range(7, 12)]
    assert frame.span() == (ts(7), ts(11))


def test_window_bounds_are_inclusive_and_work_across_the_wrap() -> None:
    frame = filled(5, 8)  # holds 3..7, stored physically as [5, 6, 7, 3, 4]
    df = frame.to_frame(ts(4), ts(6))
    assert list(df["a"]) == [4.0, 5.0, 6.0]
    assert list(frame.to_frame(start=ts(6))["a"]) == [6.0, 7.0]
    assert list(frame.to_frame(end=ts(3))["a"]) == [3.0]
    assert frame.to_frame(ts(100), ts(200)).empty
    assert list(frame.to_frame(ts(100), ts(200)).columns) == ["a", "big"]


def test_naive_bounds_are_taken_as_utc() -> None:
    frame = filled(10, 5)
    df = frame.to_frame(pd.Timestamp(2 * S, unit="ns"), None)
    assert list(df["a"]) == [2.0, 3.0, 4.0]


def test_a_column_that_appears_late_keeps_all_history() -> None:
    frame = filled(10, 3)
    frame.append(3 * S, {"a": 3.0, "big": 0.0, "nic[eth1]": 42.0})
    frame.append(4 * S, {"a": 4.0})  # every column missing but one
    df = frame.to_frame()
    assert list(df.columns) == ["a", "big", "nic[eth1]"]
    assert list(df["a"]) == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert df["nic[eth1]"].isna().tolist() == [True, True, True, False, True]
    assert df["nic[eth1]"].iloc[3] == 42.0
    assert np.isnan(df["big"].iloc[4])


def test_dtypes_and_index() -> None:
    df = filled(4, 2).to_frame()
    assert df["a"].dtype == np.float32
    assert df["big"].dtype == np.float64
    assert df["big"].iloc[1] == 1e10  # float64 keeps large byte counts exact
    assert isinstance(df.index, pd.DatetimeIndex)
    assert str(df.index.tz) == "UTC"
    assert df.index.name == "timestamp"


def test_bytes_per_row_counts_each_dtype() -> None:
    frame = RollingFrame(1000, by_prefix)
    frame.append(0, {"a": 1.0, "b": 2.0, "big1": 3.0, "big2": 4.0, "big3": 5.0})
    assert frame.bytes_per_row == 8 + 2 * 4 + 3 * 8
    held = frame._ts.nbytes + sum(b.data.nbytes for b in frame._blocks.values())
    assert held == frame.bytes_per_row * frame.capacity


def test_timestamps_never_go_backwards() -> None:
    frame = RollingFrame(10)
    frame.append(10 * S, {"a": 1.0})
    frame.append(5 * S, {"a": 2.0})  # the wall clock stepped back
    index = frame.to_frame().index
    assert index.is_monotonic_increasing
    assert index[1] > index[0]


def test_the_frame_returned_is_a_copy() -> None:
    frame = filled(5, 3)
    df = frame.to_frame()
    df.iloc[0, 0] = -1.0
    assert frame.to_frame()["a"].iloc[0] == 0.0


def test_rows_are_the_frames_window_as_float64_arrays() -> None:
    """What the history writer and the alert rules read instead of a DataFrame: the same
    rows, columns and values, across the wrap, with a late column and both dtypes."""
    frame = RollingFrame(6, by_prefix)
    for i in range(9):  # holds 3..8, wrapped
        frame.append(i * S, {"a": float(i), "big": i * 1e10 + 1, **({"late": 0.5} if i >= 7 else {})})
    for start, end in [(None, None), (4 * S, 7 * S), (7 * S, None), (None, 2 * S)]:
        rows = frame.rows(start, end)
        df = frame.to_frame(None if start is None else ts(start // S), None if end is None else ts(end // S))
        assert rows.columns == list(df.columns) == ["a", "big", "late"]
        assert len(rows) == len(df) and rows.ts_ns.dtype == np.int64 and rows.values.dtype == np.float64
        assert rows.ts_ns.tolist() == df.index.as_unit("ns").asi8.tolist()
        np.testing.assert_array_equal(rows.values, df.to_numpy(dtype=np.float64))  # NaN where late had none
    assert frame.rows(7 * S).values[:, 1].tolist() == [7e10 + 1, 8e10 + 1]  # float64 columns stay exact
    assert frame.span_ns() == (3 * S, 8 * S) and RollingFrame(3).span_ns() is None


def test_rows_are_a_copy() -> None:
    frame = filled(5, 3)
    frame.rows().values[0, 0] = -1.0
    assert frame.rows().values[0, 0] == 0.0


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="capacity"):
        RollingFrame(0)


def test_columns_keep_their_order_of_appearance_across_dtypes() -> None:
    # Values are written per dtype block; the frame must still read back in
    # the order the columns first appeared, each value in its own column.
    frame = RollingFrame(4, by_prefix)
    frame.append(0, {"big1": 1e10, "a": 1.0, "big2": 2e10, "b": 2.0})
    frame.append(S, {"b": 4.0, "big2": 4e10, "a": 3.0, "big1": 3e10})  # another key order
    df = frame.to_frame()
    assert list(df.columns) == ["big1", "a", "big2", "b"]
    assert df.to_dict("list") == {"big1": [1e10, 3e10], "a": [1.0, 3.0], "big2": [2e10, 4e10], "b": [2.0, 4.0]}


def test_a_sample_that_swaps_a_column_for_a_new_one() -> None:
    # As many values as known columns, but not the same ones: the new column
    # is added and the missing one reads NaN.
    frame = RollingFrame(4, by_prefix)
    frame.append(0, {"a": 1.0, "big": 10.0})
    frame.append(S, {"a": 2.0, "c": 30.0})
    frame.append(2 * S, {"a": 3.0, "big": 12.0, "c": 31.0})
    df = frame.to_frame()
    assert list(df.columns) == ["a", "big", "c"]
    assert df["a"].tolist() == [1.0, 2.0, 3.0]
    assert df["big"].isna().tolist() == [False, True, False] and df["big"].iloc[2] == 12.0
    assert df["c"].isna().tolist() == [True, False, False] and df["c"].tolist()[1:] == [30.0, 31.0]


def test_a_single_column_frame() -> None:
    frame = RollingFrame(3)
    for i in range(4):
        frame.append(i * S, {"only": float(i)})
    assert frame.to_frame()["only"].tolist() == [1.0, 2.0, 3.0]


def test_a_column_whose_dtype_cannot_be_told_changes_nothing() -> None:
    def dtype_of(column: str) -> str:
        if column == "bad":
            raise ValueError("no dtype for 'bad'")
        return "float32"

    frame = RollingFrame(4, dtype_of)
    frame.append(0, {"a": 1.0})
    with pytest.raises(ValueError, match="no dtype"):
        frame.append(S, {"a": 2.0, "b": 3.0, "bad": 4.0})
    frame.append(2 * S, {"a": 5.0, "b": 6.0})
    df = frame.to_frame()
    assert list(df.columns) == ["a", "b"]
    assert df["a"].tolist() == [1.0, 5.0] and df["b"].isna().tolist() == [True, False]
