"""What keeps an alert from notifying anyone: silences and maintenance windows.

A muted alert still records its interval and shows, marked with its :class:`Mute`,
but no channel (webhook, Apprise) is told. Each kind of mute is a :class:`MuteSource`
the Runtime adds to the alert engine's :class:`Mutes`; the first source that covers
an alert's labels at a moment wins.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from dashboard_core.models.silences import Matcher, Mute, Silence

Labels = Mapping[str, str]


class MuteSource(Protocol):
    def mute_for(self, labels: Labels, at: datetime) -> Mute | None:
        """The mute covering an alert with these labels at ``at``, or None."""
        ...


class Mutes:
    """Every mute source, asked in the order added."""

    def __init__(self) -> None:
        self._sources: list[MuteSource] = []
        self._lock = threading.Lock()

    def add(self, source: MuteSource) -> None:
        with self._lock:
            self._sources.append(source)

    def mute_for(self, labels: Labels, at: datetime) -> Mute | None:
        with self._lock:
            sources = list(self._sources)
        for source in sources:
            mute = source.mute_for(labels, at)
            if mute is not None:
                return mute
        return None


def matcher_matches(matcher: Matcher, labels: Labels) -> bool:
    """Alertmanager's rule: a missing label is the empty string; a regex is anchored."""
    value = labels.get(matcher.name, "")
    hit = re.fullmatch(matcher.value, value) is not None if matcher.is_regex else value == matcher.value
    return hit if matcher.is_equal else not hit


def silence_covers(silence: Silence, labels: Labels, at: datetime) -> bool:
    """Is the silence in force at ``at`` and do all its matchers match? (Expiring a
    silence early sets its ``ends_at`` to that moment, as Alertmanager does.)"""
    return silence.starts_at <= at < silence.ends_at and all(matcher_matches(m, labels) for m in silence.matchers)
