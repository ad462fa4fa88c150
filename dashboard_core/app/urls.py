"""URLs of the pages: a query string as values, back and forth, and what a bad value gets.

A page keeps its state (filters, the run shown) in its URL so the URL can be shared;
:mod:`dashboard_core.app.view_state` says which names each page reads, and
:mod:`dashboard_core.app.links` builds the links between pages. Links are relative
(``tests?run=12``): the app may be served under a path, and every page sits at
the same depth, so a link resolves the same from any page.

A value that does not work never stops a page: it is left out, with a sentence
(:class:`Parsed`) that says which value, why, and what is shown instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar
from urllib.parse import parse_qs, urlencode, urlsplit

# A query string as values: each name, its values in order (``kind=a&kind=b``).
Query = dict[str, list[str]]
QueryIn = Mapping[str, Sequence[str]]

# The pages' URL paths, as ui/router.py gives them.
OVERVIEW = ""  # the default page
METRICS = "metrics"
TESTS = "tests"
WORKFLOWS = "workflows"
AGENTS = "agents"
SAFETY = "safety"
EVENTS = "events"
PAGES = (OVERVIEW, METRICS, TESTS, WORKFLOWS, AGENTS, SAFETY, EVENTS)

MAX_SHOWN = 80  # characters of a bad value quoted back to the viewer
MAX_DIGITS = 18  # a run number fits SQLite's integer

V = TypeVar("V")
E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True, slots=True)
class Parsed(Generic[V]):
    """A page's state read from its URL, and one sentence per value that was left out."""

    view: V
    problems: tuple[str, ...] = field(default=())


def href(page: str, query: QueryIn | None = None) -> str:
    """The relative link to ``page`` with ``query`` (``tests?suite=unit&run=12``);
    names without values are left out, colons kept readable in times."""
    pairs = [(name, value) for name, values in (query or {}).items() for value in values if value != ""]
    encoded = urlencode(pairs, safe=":")
    path = page or "./"
    return f"{path}?{encoded}" if encoded else path


def parse_href(link: str) -> tuple[str, Query] | None:
    """The page and query of a relative link :func:`href` made (``tests?suite=unit&run=12``),
    for ``st.switch_page``; None for a link to no page of this app (an absolute URL, another path)."""
    parts = urlsplit(link)
    page = "" if parts.path in ("", "./") else parts.path
    if parts.scheme or parts.netloc or page not in PAGES:
        return None
    return page, parse_qs(parts.query, keep_blank_values=False)


def canonical(query: QueryIn) -> str:
    """One string per query, whatever the order of its names: to tell whether two are the same."""
    return urlencode(sorted((name, value) for name, values in query.items() for value in values))


def compact(query: Mapping[str, Sequence[str] | str | None]) -> Query:
    """A query without the names that have no value (a view's defaults are left out of its URL)."""
    out: Query = {}
    for name, value in query.items():
        values = [value] if isinstance(value, str) else list(value or ())
        values = [v for v in values if v != ""]
        if values:
            out[name] = values
    return out


# -- reading values ----------------------------------------------------------------
class Reader:
    """Reads the values of one query, collecting a sentence for each one it leaves out."""

    def __init__(self, query: QueryIn) -> None:
        self.query = query
        self.problems: list[str] = []

    def note(self, name: str, value: str, why: str, instead: str) -> None:
        shown = value.replace("`", "'")
        shown = shown if len(shown) <= MAX_SHOWN else shown[: MAX_SHOWN - 1] + "…"
        self.problems.append(f"The link's `{name}={shown}` {why}: {instead}.")

    def text(self, name: str) -> str | None:
        """The last non-empty value of ``name``, stripped (a link pasted twice keeps the newest)."""
        values = [v.strip() for v in self.query.get(name, ()) if v.strip()]
        return values[-1] if values else None

    def words(self, name: str) -> list[str]:
        """Every value of ``name``: repeated (``kind=a&kind=b``) or separated by commas."""
        return [w.strip() for v in self.query.get(name, ()) for w in v.split(",") if w.strip()]

    def run_id(self, name: str, instead: str) -> int | None:
        """A run number (a whole number from 1), or None with a note."""
        value = self.text(name)
        if value is None:
            return None
        if not (value.isascii() and value.isdigit() and len(value) <= MAX_DIGITS) or int(value) < 1:
            self.note(name, value, "is not a run number (a whole number from 1)", instead)
            return None
        return int(value)

    def choice(self, name: str, choices: Sequence[str], what: str, instead: str) -> str | None:
        """One of ``choices`` (a suite, a rule), or None with a note naming a few of them."""
        value = self.text(name)
        if value is None or value in choices:
            return value
        self.note(name, value, f"is not {what} here ({one_of(choices)})", instead)
        return None

    def enums(self, name: str, allowed: Iterable[E], what: str) -> tuple[E, ...]:
        """The values of ``name`` that are among ``allowed`` (``test run`` reads as ``test_run``)."""
        allowed = list(allowed)
        by_value = {e.value: e for e in allowed}
        picked: list[E] = []
        for word in self.words(name):
            found = by_value.get(word.lower().replace(" ", "_").replace("-", "_"))
            if found is None:
                self.note(
                    name, word, f"is not {what} you can pick here ({one_of([e.value for e in allowed])})", "left out"
                )
            elif found not in picked:
                picked.append(found)
        return tuple(picked)

    def time(self, name: str) -> datetime | None:
        """A UTC time (ISO 8601; one without a zone is UTC), or None with a note."""
        value = self.text(name)
        if value is None:
            return None
        at = utc_time(value)
        if at is None:
            self.note(name, value, "is not a time like 2026-12-06T10:00:00Z", "left out")
        return at

    def done(self, view: V) -> Parsed[V]:
        return Parsed(view, tuple(self.problems))


def one_of(choices: Sequence[str], shown: int = 6) -> str:
    """``one of a, b, c`` (the first few), or ``none is configured``."""
    if not choices:
        return "none is configured"
    listed = ", ".join(choices[:shown]) + (", …" if len(choices) > shown else "")
    return f"one of {listed}"


# -- times -------------------------------------------------------------------------
def utc_time(value: str) -> datetime | None:
    """``2026-12-06T10:00:00Z`` (or any ISO 8601 time; without a zone, UTC) as a UTC
    datetime; None if it is not a time the dashboard can hold."""
    import pandas as pd

    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):  # pandas' OutOfBoundsDatetime is a ValueError
        return None
    if pd.isna(ts):
        return None
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.to_pydatetime()


def to_local(at: datetime, tz: str) -> datetime:
    """A UTC time as the viewer's wall-clock time, without a zone (what a date input holds)."""
    import pandas as pd

    return pd.Timestamp(at).tz_convert(tz).tz_localize(None).to_pydatetime()


def to_utc(local: datetime, tz: str) -> datetime:
    """The viewer's wall-clock time (no zone) as a UTC time; a time skipped by a clock
    change moves forward, an ambiguous one is read as the first."""
    import pandas as pd

    ts = pd.Timestamp(local).tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
    return ts.tz_convert("UTC").to_pydatetime()
