"""Downsampling caps points per series and keeps the extremes and the gaps."""

from __future__ import annotations

import numpy as np

from dashboard_core.metrics.downsample import MAX_POINTS, bucket_max, downsample_indices


def day_of_seconds(seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.arange(86_400, dtype=np.int64) * 1_000_000_000
    y = (20 + rng.normal(0, 2, 86_400)).astype(np.float32)
    return x, y


def test_caps_the_points_and_keeps_a_one_second_spike_and_dip() -> None:
    x, y = day_of_seconds()
    y[12_345] = 100.0
    y[54_321] = -50.0
    keep = downsample_indices(x, y)
    assert len(keep) <= MAX_POINTS
    assert 12_345 in keep and 54_321 in keep
    assert np.all(np.diff(keep) > 0)


def test_short_series_are_left_alone() -> None:
    x = np.arange(10, dtype=np.int64)
    assert downsample_indices(x, np.ones(10)).tolist() == list(range(10))


def test_gaps_stay_gaps() -> None:
    x, y = day_of_seconds()
    y[40_000:50_000] = np.nan
    keep = downsample_indices(x, y)
    assert len(keep) <= MAX_POINTS
    assert np.isnan(y[keep]).any(), "a gap of NaN must still be drawn as a gap"


def test_all_nan_series_still_returns_evenly_spread_points() -> None:
    x = np.arange(5000, dtype=np.int64)
    keep = downsample_indices(x, np.full(5000, np.nan))
    assert len(keep) == MAX_POINTS
    assert keep[0] == 0 and keep[-1] == 4999


def test_bucket_max_keeps_the_peak_of_each_bucket_and_nan_buckets() -> None:
    matrix = np.zeros((2, 10_000), dtype=np.float32)
    matrix[0, 7_777] = 99.0
    matrix[1, :5_000] = np.nan
    starts, reduced = bucket_max(matrix, 100)
    assert reduced.shape == (2, 100)
    assert starts[0] == 0 and len(starts) == 100
    assert reduced[0].max() == 99.0
    assert np.isnan(reduced[1, :50]).all() and not np.isnan(reduced[1, 50:]).any()


def test_bucket_reduce_takes_a_reducer_per_series_and_buckets_of_one_size() -> None:
    """One helper for the heatmaps (highest) and a run's host story (mean CPU, highest memory)."""
    from dashboard_core.metrics.downsample import bucket_reduce

    cpu = np.array([10.0, 20.0, np.nan, np.nan, np.nan, 30.0, 50.0])
    memory = np.array([1.0, 9.0, 2.0, np.nan, np.nan, np.nan, 4.0])
    starts, reduced = bucket_reduce(np.vstack([cpu, memory]), ["mean", "max"], 3, same_size=True)
    assert starts.tolist() == [0, 3, 6]  # buckets of 3: the fewest of one size that fit in 3
    assert reduced[0, 0] == 15.0 and reduced[0, 1] == 30.0  # NaN left out of the mean
    assert reduced[0, 2] == 50.0
    assert reduced[1, 0] == 9.0 and np.isnan(reduced[1, 1]) and reduced[1, 2] == 4.0
    spread, _ = bucket_reduce(np.vstack([cpu]), ["max"], 3)  # spread evenly: sizes 2, 2, 3
    assert spread.tolist() == [0, 2, 4]
