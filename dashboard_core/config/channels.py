"""Notification channels as Apprise URLs: ``notify`` on ``[[alerts]]`` and
``[alerting.channels]`` per severity; checked when the config loads, and shown
only with their secrets masked.

Apprise (https://appriseit.com/) turns one URL into e-mail, Slack, Teams, ntfy,
Telegram and a hundred more. A URL it cannot use stops start-up with a line naming
the setting and the URL's place in it; the URL itself is never echoed (it may hold
a password or a token), only its scheme. Apprise's own log lines are kept out of
the dashboard's log for the same reason (they may repeat a URL that did not load):
the dashboard logs each failing channel itself, masked.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import unquote

from pydantic import Field, field_validator

from dashboard_core.config.base import _Strict

if TYPE_CHECKING:
    from apprise.plugins.base import NotifyBase

SERVICES = "https://appriseit.com/services/"
_SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.-]{0,31})://")


def _quiet_apprise() -> None:
    """Apprise's log stays its own: each service's try still captures it (the reason of a
    failure), but it does not reach the dashboard's handlers."""
    logging.getLogger("apprise").propagate = False


def apprise_service(url: str) -> NotifyBase | None:
    """Apprise's service for the URL, None when Apprise cannot use it."""
    import apprise  # imported when a channel is configured: most configs have none

    _quiet_apprise()
    return apprise.Apprise.instantiate(url)


@lru_cache(maxsize=256)
def shown_url(url: str) -> str:
    """The URL as the UI, the API and the log may show it: Apprise's privacy form
    (passwords and tokens masked, ``slack://T...0/B...0/X...t``) without its query."""
    service = apprise_service(url)
    if service is None:
        return scheme_only(url)
    return str(service.url(privacy=True)).split("?", 1)[0]


def scrubbed(text: str, url: str) -> str:
    """``text`` (Apprise's reason for a failure) with every secret of the URL masked:
    what Apprise's privacy form masks, the password, and what looks like a token."""
    for piece, mask in _masks(url):
        text = text.replace(piece, mask)
    return text


@lru_cache(maxsize=256)
def _masks(url: str) -> tuple[tuple[str, str], ...]:
    """(secret, its mask) pairs, longest first."""
    from apprise.utils.cwe312 import cwe312_word
    from apprise.utils.parse import parse_url

    masks: dict[str, str] = {}
    service = apprise_service(url)
    if service is not None:  # the pieces the privacy form changes
        split = re.compile(r"[/?&=@:]")
        plain, private = split.split(service.url(privacy=False)), split.split(service.url(privacy=True))
        if len(plain) == len(private):
            for piece, mask in zip(plain, private, strict=True):
                if piece != mask and piece:
                    masks[piece] = masks[unquote(piece)] = mask
    parts = parse_url(url, verify_host=False) or {}
    pieces = [*(parts.get("fullpath") or "").split("/"), parts.get("user"), *(parts.get("qsd") or {}).values()]
    for piece in pieces:
        if isinstance(piece, str) and len(piece) >= 4 and cwe312_word(piece) != piece:
            masks.setdefault(piece, cwe312_word(piece))
    password = parts.get("password")
    if isinstance(password, str) and password:
        masks[password] = "****"  # as the privacy form shows it
    return tuple(sorted(masks.items(), key=lambda pair: len(pair[0]), reverse=True))


def scheme_only(url: str) -> str:
    match = _SCHEME.match(url)
    return f"{match.group(1).lower()}://…" if match else "(not a URL)"


def why_unusable(url: str) -> str | None:
    """None when Apprise can send to the URL, else why not, in words (never the URL)."""
    if apprise_service(url) is not None:
        return None
    from apprise.manager_plugins import NotificationManager

    match = _SCHEME.match(url)
    if match is None:
        return "is not a URL (it needs a scheme, e.g. mailtos:// or ntfys://)"
    scheme = match.group(1).lower()
    services = NotificationManager()
    if scheme not in services:
        return f"({scheme}://…): no Apprise service has that scheme"
    name = services[scheme].service_name
    return f"({scheme}://…): Apprise's {name} service cannot use it, a part it needs is missing or malformed"


def check_urls(urls: list[str]) -> list[str]:
    """The pydantic check of a list of Apprise URLs (the list is the input, so the
    loader's message never repeats a URL)."""
    problems = [f"URL {n} {reason}" for n, url in enumerate(urls, 1) if (reason := why_unusable(url))]
    if problems:
        raise ValueError(
            "; ".join(problems) + f". Check the URL's form for its service on {SERVICES} "
            "(or try it with the `apprise` command: apprise -vv -b test 'URL')"
        )
    return urls


class ChannelsConfig(_Strict):
    """Apprise URLs told of every rule of a severity, besides each rule's own ``notify``."""

    warning: list[str] = Field(
        default_factory=list, description="Apprise URLs told when a warning rule fires and resolves."
    )
    critical: list[str] = Field(
        default_factory=list, description="Apprise URLs told when a critical rule fires and resolves."
    )
    timeout_seconds: float = Field(
        15.0, gt=0, le=300, description="Time one delivery to one channel may take (one try)."
    )
    attempts: int = Field(5, ge=1, le=50, description="Tries per notification and channel, with exponential back-off.")

    @field_validator("warning", "critical")
    @classmethod
    def _usable(cls, value: list[str]) -> list[str]:
        return check_urls(value)

    def for_severity(self, severity: str) -> list[str]:
        return list(self.critical if severity == "critical" else self.warning)
