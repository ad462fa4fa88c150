"""Whether a test's time moved beyond its noise: an exact two-sided Mann-Whitney U test
of its durations on two sides of a comparison (``dashboard_core.testing.compare``).

Honest about small samples: with ``n`` durations on one side and ``m`` on the other,
the smallest p-value the exact test can give is 2 / C(n + m, m) (every duration of
one side beyond every one of the other). Where that is not below alpha no ordering
of the data could be significant, and the verdict is "too few runs": one run a side
never answers, one new run needs 40 on the other side at alpha 0.05.

A suite's tests mostly share their sample sizes (they ran in the same runs), so the
tests are grouped by sizes (and ties) and each group is one vectorised scipy call: 2,000 tests
took 3-6 s one call each, one call per group takes milliseconds. scipy is imported
at the first test that can answer, never at start-up.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Sequence

from dashboard_core.models.compare import DurationTest

ALPHA = 0.05


def smallest_p(n_base: int, n_head: int) -> float:
    """The smallest two-sided p-value an exact Mann-Whitney U test can give for these sizes."""
    if n_base < 1 or n_head < 1:
        return 1.0
    return min(1.0, 2 / math.comb(n_base + n_head, n_head))


def duration_test(base: Sequence[float], head: Sequence[float], alpha: float = ALPHA) -> DurationTest:
    """Slower, faster, no change, or too few runs for any answer at ``alpha``."""
    return duration_tests([(base, head)], alpha)[0]


def duration_tests(
    samples: Sequence[tuple[Sequence[float], Sequence[float]]], alpha: float = ALPHA
) -> list[DurationTest]:
    """One verdict per (base durations, head durations), in order."""
    tests = [_untested(base, head) for base, head in samples]
    # scipy's "auto" takes the exact test for a small side without ties, for a whole call:
    # tied samples go apart, so each test gets the method it would get alone.
    groups: dict[tuple[int, int, bool], list[int]] = defaultdict(list)
    for i, test in enumerate(tests):
        if test.smallest_p is not None and test.smallest_p < alpha:
            base, head = samples[i]
            tied = len(set(base) | set(head)) < len(base) + len(head)
            groups[(test.base_runs, test.head_runs, tied)].append(i)
    if not groups:
        return tests
    import numpy as np
    from scipy.stats import mannwhitneyu  # about a second to import: only once a test can answer

    for members in groups.values():
        heads = np.array([samples[i][1] for i in members], dtype=np.float64)
        bases = np.array([samples[i][0] for i in members], dtype=np.float64)
        pvalues = np.atleast_1d(mannwhitneyu(heads, bases, alternative="two-sided", method="auto", axis=1).pvalue)
        for i, p in zip(members, pvalues):
            _judge(tests[i], float(p), alpha)
    return tests


def _untested(base: Sequence[float], head: Sequence[float]) -> DurationTest:
    return DurationTest(
        verdict="too few runs",
        base_runs=len(base),
        head_runs=len(head),
        base_median=statistics.median(base) if base else None,
        head_median=statistics.median(head) if head else None,
        smallest_p=smallest_p(len(base), len(head)),
    )


def _judge(test: DurationTest, p_value: float, alpha: float) -> None:
    test.p_value = p_value
    if p_value >= alpha or test.head_median == test.base_median or test.head_median is None:
        test.verdict = "no change"
    else:
        test.verdict = "slower" if test.base_median is not None and test.head_median > test.base_median else "faster"
