"""CSV export: a round trip through pandas and spreadsheet-formula neutralising."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from dashboard_core.metrics import csv_writer
from dashboard_core.metrics.csv_writer import neutralise
from dashboard_core.metrics.export import csv_filename, frame_to_csv
from dashboard_core.metrics.frame import RollingFrame


def history() -> pd.DataFrame:
    frame = RollingFrame(100, lambda c: "float64" if c == "memory.used" else "float32")
    base = pd.Timestamp("2026-11-25T08:00:00Z").value
    for i in range(50):
        frame.append(
            base + i * 1_000_000_000 + 123_000_000,
            {"cpu.total": i * 1.5, "memory.used": 2**34 + i, "nic.recv[eth0]": -0.25},
        )
    frame.append(base + 60_000_000_000, {"cpu.total": float("nan")})
    return frame.to_frame()


def test_round_trip_through_pandas() -> None:
    df = history()
    back = pd.read_csv(io.BytesIO(frame_to_csv(df)), index_col="timestamp")
    assert list(back.columns) == list(df.columns)
    assert len(back) == len(df)
    parsed = pd.to_datetime(back.index, utc=True, format="ISO8601")
    assert (parsed == df.index.floor("ms")).all()
    assert np.allclose(back["cpu.total"].to_numpy()[:-1], df["cpu.total"].to_numpy()[:-1])
    assert (back["memory.used"].to_numpy()[:-1] == df["memory.used"].to_numpy()[:-1]).all(), "byte counts are exact"
    assert back["nic.recv[eth0]"].iloc[0] == -0.25, "negative numbers stay numbers"
    assert pd.isna(back["cpu.total"].iloc[-1]) and pd.isna(back["memory.used"].iloc[-1])


def test_whole_byte_counts_are_written_as_integers() -> None:
    text = frame_to_csv(history()).decode()
    row = text.splitlines()[1].split(",")
    assert row[2] == str(2**34)  # memory.used, not 1.7179869184e+10
    assert row[1] == "0" and row[3] == "-0.25"
    assert text.splitlines()[-1].split(",")[2] == ""  # a missing reading stays empty


def test_timestamps_are_iso_8601_utc() -> None:
    text = frame_to_csv(history()).decode()
    first_row = text.splitlines()[1]
    assert first_row.startswith('"2026-11-25T08:00:00.123Z",')


@pytest.mark.parametrize("dangerous", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\r=1"])
def test_formula_cells_are_neutralised_in_text_and_headers(dangerous: str) -> None:
    df = pd.DataFrame({"name": [dangerous, "safe"], dangerous: [1.0, -2.0]})
    back = pd.read_csv(io.BytesIO(frame_to_csv(df)), keep_default_na=False)
    assert back["name"].tolist() == ["'" + dangerous, "safe"]
    assert back.columns[1] == "'" + dangerous
    assert back.iloc[:, 1].tolist() == [1.0, -2.0]


def test_neutralise_leaves_ordinary_text_alone() -> None:
    assert neutralise("python3") == "python3"
    assert neutralise("a=b") == "a=b"
    assert neutralise("=cmd") == "'=cmd"


def test_empty_frame_still_has_a_header() -> None:
    df = history().iloc[0:0]
    text = frame_to_csv(df).decode()
    assert text.splitlines() == ['"timestamp","cpu.total","memory.used","nic.recv[eth0]"']


def test_file_name_names_the_window() -> None:
    name = csv_filename("metrics", pd.Timestamp("2026-11-25T08:00:00Z"), pd.Timestamp("2026-11-25T08:15:00Z"))
    assert name == "metrics_20261125T080000Z_20261125T081500Z.csv"


def mixed_frame() -> pd.DataFrame:
    """Every kind of cell the fast writer handles, over a month, a year and a
    leap day boundary, and before 1970."""
    index = pd.DatetimeIndex(
        [
            "1969-12-31T23:59:59.9995Z",  # floored to the millisecond
            "2024-02-28T23:59:59.999Z",
            "2024-02-29T12:34:56.789Z",
            "2025-12-31T23:59:59.999999Z",
            "2026-01-01T00:00:00Z",
            "2026-11-25T08:00:00.123Z",
        ],
        name="timestamp",
    )
    nan = float("nan")
    columns = {
        "f32": np.array([57.3, 100.0, nan, -2.5, 0.0, 19.589207], np.float32),
        "f32 whole": np.array([0, 1, 212, 16_777_215, -0.0, 3], np.float32),
        "f32 whole, past 2**24": np.array([0, 1, 123_456_789, 2.0**24, 3, 4], np.float32),  # 123456792 in float32
        "f32 tiny and huge": np.array([1e-7, 3.4e38, 1.5e-45, -0.0, 0.1, 1e-5], np.float32),
        "f64 bytes": np.array([2.0**34, 6798286848, 0, 4096, 12, 1], np.float64),
        "f64 bytes, a gap": np.array([2.0**34, nan, 0, 4096, 12, 1], np.float64),
        "f64 rate": np.array([150857.125, 0.0, 1234.5678901234, nan, -0.25, 1e300], np.float64),
        "int": np.array([0, -5, 2**62, 7, 8, 9], np.int64),
        "u8": np.array([0, 1, 2, 3, 255, 9], np.uint8),
        "last, 1 char": np.array([1, 2, 3, nan, 5, 6], np.float32),
    }
    return pd.DataFrame(columns, index=index)


def test_metric_frames_are_written_as_pyarrow_writes_them() -> None:
    # Numbers-only frames take a faster path (orjson's numbers, pyarrow's row
    # join); its bytes must be exactly those of pyarrow's CSV writer.
    df = mixed_frame()
    assert csv_writer._is_metric_frame(df, "timestamp")
    fast = frame_to_csv(df)
    assert fast == csv_writer._arrow_csv(df, "timestamp")
    lines = fast.decode().splitlines()
    assert lines[1].startswith('"1969-12-31T23:59:59.999Z",57.3,0,0,1e-7,17179869184,17179869184,150857.125,0,0,1')
    assert lines[2].split(",")[1:5] == ["100", "1", "1", "3.4e+38"]
    assert lines[3].split(",")[3] == "123456790"  # the shortest text of float32 123456792
    assert lines[3].split(",")[1] == "" and lines[4].endswith(",")  # NaN: empty, last column too


def test_metric_frames_written_a_few_rows_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    df = mixed_frame()
    monkeypatch.setattr(csv_writer, "_CELLS_AT_ONCE", 4 * (df.shape[1] + 1))  # 6 rows: 4, then 2
    assert frame_to_csv(df) == csv_writer._arrow_csv(df, "timestamp")
    assert len(frame_to_csv(df).decode().splitlines()) == 1 + len(df)


def test_metric_frames_in_another_zone_and_one_row() -> None:
    df = mixed_frame().tz_localize(None).tz_localize("UTC").tz_convert("Europe/Berlin").iloc[-1:]
    assert frame_to_csv(df) == csv_writer._arrow_csv(df, "timestamp")
    assert frame_to_csv(df).decode().splitlines()[1].startswith('"2026-11-25T08:00:00.123Z",19.589207,3,')


def test_infinity_and_text_take_pyarrow_s_writer() -> None:
    df = mixed_frame()
    df["f64 rate"] = df["f64 rate"].replace(1e300, np.inf)
    assert not csv_writer._is_metric_frame(df, "timestamp")
    assert frame_to_csv(df).decode().splitlines()[-1].split(",")[7] == "inf"
    df = mixed_frame().assign(name="x")
    assert not csv_writer._is_metric_frame(df, "timestamp")
