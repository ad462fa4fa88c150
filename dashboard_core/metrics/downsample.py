"""Server-side downsampling so no chart ships more than ~2,000 points per series.

M4 (tsdownsample, in Rust) keeps the first, last, minimum and maximum point of
each of n/4 buckets: every extreme survives (a one-second CPU spike in a 24 h
window is still drawn) and, with a bucket per pixel column or finer, the line
is drawn exactly as the raw data would be. MinMaxLTTB keeps the shape with
fewer points but may drop a peak in noisy data, which a monitoring chart must
not. The NaN-aware variant keeps gaps (a disk that was unmounted) as gaps.
tsdownsample is loaded by the first series longer than that (about 18 MiB): the
default 15-minute view at full resolution never needs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, Literal

import numpy as np

MAX_POINTS = 2000


@cache
def _downsampler() -> Any:
    from tsdownsample import NaNM4Downsampler

    return NaNM4Downsampler()  # type: ignore[no-untyped-call]  # tsdownsample leaves __init__ unannotated


def downsample_indices(x: np.ndarray, y: np.ndarray, n_out: int = MAX_POINTS) -> np.ndarray:
    """Indices of at most ``n_out`` points of ``y`` (sorted ``x``) to draw."""
    n = len(y)
    if n <= n_out:
        return np.arange(n)
    y = np.ascontiguousarray(y)
    if y.dtype not in (np.float32, np.float64):
        y = y.astype(np.float64)
    if np.isnan(y).all():
        return np.linspace(0, n - 1, n_out).astype(np.int64)
    keep = _downsampler().downsample(np.ascontiguousarray(x), y, n_out=n_out - n_out % 4)
    # A bucket's first point may also be its minimum: drop the repeats.
    return np.unique(keep.astype(np.int64))


Reducer = Literal["max", "mean"]


def bucket_reduce(
    matrix: np.ndarray, reducers: Sequence[Reducer], n_out: int = MAX_POINTS, *, same_size: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Column buckets of a (series x time) matrix, each series reduced by its own
    reducer (its highest or its mean), NaN left out; a NaN-only bucket stays NaN.

    ``n_out`` buckets spread evenly (sizes differ by one at most: a heatmap's columns);
    or, ``same_size``, buckets of one size, the fewest that fit in ``n_out`` (each point
    of a run's story the same span of time). Returns the first index of each bucket
    and the reduced matrix; the matrix itself when it fits.
    """
    n = matrix.shape[1]
    if n <= n_out:
        return np.arange(n), matrix
    if same_size:
        starts = np.arange(0, n, -(-n // n_out), dtype=np.int64)
    else:
        starts = np.linspace(0, n, n_out, endpoint=False).astype(np.int64)
    missing = np.isnan(matrix)
    reduced = np.empty((matrix.shape[0], len(starts)), dtype=np.result_type(matrix.dtype, np.float32))
    for i, reducer in enumerate(reducers):
        row, gaps = matrix[i], missing[i]
        if reducer == "max":
            top = np.maximum.reduceat(np.where(gaps, -np.inf, row), starts)
            reduced[i] = np.where(np.isneginf(top), np.nan, top)
        else:
            counts = np.add.reduceat((~gaps).astype(np.int64), starts)
            sums = np.add.reduceat(np.where(gaps, 0.0, row), starts)
            with np.errstate(invalid="ignore", divide="ignore"):
                reduced[i] = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return starts, reduced


def bucket_max(matrix: np.ndarray, n_out: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Column buckets of a (series x time) matrix reduced to their maximum.

    For heatmaps, where every series must share one x axis. Returns the first
    index of each bucket and the reduced matrix; NaN-only buckets stay NaN.
    """
    return bucket_reduce(matrix, ["max"] * matrix.shape[0], n_out)
