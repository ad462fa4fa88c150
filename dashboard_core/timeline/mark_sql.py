"""Marks read in SQL, folded as rows when a chart gives its resolution.

A 30-day chart of every kind holds ~9,000 marks, most narrower than a pixel; making
each one a :class:`~dashboard_core.timeline.mark_model.Mark` only for
:func:`~dashboard_core.timeline.mark_groups.merge_narrow` to fold them again took
most of the read. So a reader that is one query gives its rows in one shape (the
base query's first columns, below); with a resolution the rows come sorted by
thing and time and are folded by merge_narrow's own rule before any mark is made:
a group of narrow neighbours becomes one mark, and only the rows drawn on their
own are made into marks of their own.

The rule, per kind and thing (``src``), in order of (begin, key): a mark narrower
than a pixel joins the group before it if it is in the same state and begins at
most a pixel after the group's reach (the latest finish in it); a wide mark, or a
change of state, ends the group.

Why not in SQL: the same rule as window functions (a running sum of the
boundaries, the running maximum of the finishes, the groups' counts) costs SQLite
a sort and a pass per window, ~10 ms for a month of test runs each: 218 ms in all
for a month of every kind, against ~2 ms to fold the sorted rows here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from dashboard_core.store import Store
from dashboard_core.timeline.mark_groups import group_mark
from dashboard_core.timeline.mark_model import Mark, MarkKind, utc

# The base query of a reader selects first, in this order: k (the mark's key, as text),
# b (when it begins), f (when it finishes: its end, its start if a point, now if it
# goes on), st (its state), src (the thing it is about), ongoing (0 or 1); then
# whatever its mark needs. Sorted by thing and time for the fold, after the window's
# rows are found (MATERIALIZED: else SQLite may walk an index on the thing, a whole table, to skip the sort):
_FOLDED = "WITH base AS MATERIALIZED ({base}) SELECT * FROM base ORDER BY src, b, k"
_K, _B, _F, _ST, _SRC, _ONGOING = range(6)


def read_marks(
    store: Store,
    kind: MarkKind,
    base: str,
    params: dict[str, Any],
    one: Callable[[sqlite3.Row], Mark],
    colour: Callable[[sqlite3.Row], str],
    resolution_s: float | None,
) -> list[Mark]:
    """The marks of ``base``'s rows (``one`` makes each); with ``resolution_s``, folded
    first and each group of two or more made into one mark (``colour``: its first's)."""
    if resolution_s is None:
        return [one(row) for row in store.all(base, params)]
    marks = []
    for first, n, reach, ongoing in fold(store.all(_FOLDED.format(base=base), params), resolution_s):
        if n == 1:
            marks.append(one(first))
        else:
            start, end = utc(first[_B]), utc(reach)
            marks.append(group_mark(kind, first[_K], n, start, end, ongoing, first[_ST], colour(first), first[_SRC]))
    return marks


Row = TypeVar("Row", bound=Sequence[Any])  # a row whose first columns are k, b, f, st, src, ongoing


def fold(rows: Sequence[Row], resolution_s: float) -> list[tuple[Row, int, float, bool]]:
    """``rows`` (sorted by thing, then begin and key) as the groups to draw, by the rule above."""
    groups: list[tuple[Row, int, float, bool]] = []
    first: Row | None = None
    n, reach, ongoing = 0, 0.0, False
    for row in rows:
        begin, finish = row[_B], row[_F]
        wide = finish - begin >= resolution_s
        if first is not None and (
            wide or row[_SRC] != first[_SRC] or row[_ST] != first[_ST] or begin - reach > resolution_s
        ):
            groups.append((first, n, reach, ongoing))
            first = None
        if wide:
            groups.append((row, 1, finish, bool(row[_ONGOING])))
        elif first is None:
            first, n, reach, ongoing = row, 1, finish, bool(row[_ONGOING])
        else:
            n, reach, ongoing = n + 1, max(reach, finish), ongoing or bool(row[_ONGOING])
    if first is not None:
        groups.append((first, n, reach, ongoing))
    return groups
