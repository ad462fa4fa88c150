"""The password login form at ``/auth/login``: checked off the event loop, limited, audited.

An argon2 check takes tens of milliseconds of CPU on purpose. On the event loop that
serves every page, websocket and API call, twelve failed logins pushed ``/api/health``
to a median of 3.9 s; here each check runs on one worker thread (argon2 releases the
GIL), with at most :data:`MAX_WAITING` logins waiting for it: past that, a login is
answered 503 at once, so a flood costs one core at most and nothing else waits.

Wrong passwords are limited per address and per address + name (``ratelimit.py``).
Each wrong password is audited (their number is bounded by the limits); a try refused
while blocked is only counted: the audit log gets one line when a block starts and one
with the count when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from dashboard_core.auth.asgi import Headers, Receive, Scope, Send, client_of, html, local_path, read_body, redirect
from dashboard_core.auth.audit import audit
from dashboard_core.auth.credentials import check_password
from dashboard_core.auth.principals import Principal
from dashboard_core.auth.ratelimit import FailedLogins, what
from dashboard_core.auth.sessions import COOKIE, Sessions
from dashboard_core.config import AuthConfig
from dashboard_core.events import EventLog
from dashboard_core.store import StoreError
from dashboard_core.units import format_duration

MAX_WAITING = 16
LOGIN_NICE = 10  # the worker's nice value: about a tenth of the CPU's weight of the event loop
BLOCKED = "login blocked (too many failures)"
REFUSED = "login refused (too many failures)"


@dataclass(slots=True)
class _Outcome:
    status: int  # 303: logged in
    error: str = ""
    cookie: str = ""
    blocks: list[float] = field(default_factory=list)  # seconds each new block lasts


class PasswordLogin:
    def __init__(
        self,
        auth: AuthConfig,
        sessions: Callable[[], Sessions | None],
        events: Callable[[], EventLog | None],
        page: Callable[[str, str], str],
    ) -> None:
        """``sessions`` and ``events``: the running dashboard's (None while it starts or stops),
        for the session of a login and its audit line; ``page``: the login page's HTML for
        (where to go next, an error)."""
        self.auth = auth
        self.sessions = sessions
        self.events = events
        self.page = page
        self.failed = FailedLogins(
            auth.max_failed_logins, auth.max_failed_logins_per_address, auth.failed_login_window_seconds
        )
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="password-check", initializer=_yield_cpu)
        self._waiting = 0

    async def post(self, scope: Scope, receive: Receive, send: Send, target: str) -> None:
        form = parse_qs((await read_body(receive)).decode(errors="replace"))
        name = form.get("name", [""])[0][:200]
        password = form.get("password", [""])[0][:1000]
        target = local_path(form.get("next", [target])[0])
        address = client_of(scope)
        loop = asyncio.get_running_loop()
        wait = self.failed.blocked_for(address, name)
        if wait > 0:
            message = f"Too many failed logins: try again in {format_duration(wait)}."
            await html(send, 429, self.page(target, message), extra=_retry_after(wait))
            return
        if self._waiting >= MAX_WAITING:
            await html(send, 503, self.page(target, "Too many logins at once: try again in a few seconds."),
                       extra=_retry_after(2))  # fmt: skip
            return
        self._waiting += 1
        try:
            outcome = await loop.run_in_executor(self._pool, self._check, name, password, address)
        finally:
            self._waiting -= 1
        for seconds in outcome.blocks:  # its summary once it is over
            loop.call_later(seconds + 0.5, lambda: loop.run_in_executor(self._pool, self.report_ended))
        if outcome.status == 303:
            await redirect(send, target, self.cookie(scope, outcome.cookie))
        else:
            await html(send, outcome.status, self.page(target, outcome.error))

    def cookie(self, scope: Scope, value: str) -> str:
        """The session cookie: ``Secure`` when the page was served over https."""
        secure = "; Secure" if scope.get("scheme") in ("https", "wss") else ""
        return (
            f"{COOKIE}={value}; Path=/; Max-Age={int(self.auth.session_hours * 3600)}; HttpOnly; SameSite=Lax{secure}"
        )

    def _check(self, name: str, password: str, address: str) -> _Outcome:
        """On the worker thread: the argon2 check, the counts, the session and the audit."""
        self.report_ended()
        principal = check_password(self.auth, name, password)
        if principal is None:
            blocks = self.failed.failed(address, name)
            who = Principal(name or "?", "unknown", "user")
            audit(self.events(), who, "failed login", "", address)
            for block in blocks:
                audit(self.events(), who, BLOCKED, f"for {format_duration(block.seconds)} after {block.failures} failed logins "
                      f"({what(block.key)})", address)  # fmt: skip
            return _Outcome(401, "That name and password do not match.", blocks=[b.seconds for b in blocks])
        sessions = self.sessions()
        if sessions is None:
            return _Outcome(503, "The dashboard is starting or stopping: try again in a moment.")
        try:
            cookie = sessions.issue(principal)
        except StoreError as exc:
            return _Outcome(503, f"The login could not be recorded: {exc}. Try again once the store can be written.")
        self.failed.succeeded(address, name)
        audit(self.events(), principal, "login", "", address)
        return _Outcome(303, cookie=cookie)

    def report_ended(self) -> None:
        """Audit the blocks that are over, with the tries they refused."""
        for ended in self.failed.take_ended():
            if ended.refused:
                address, name = ended.key
                audit(self.events(), Principal(name or "?", "unknown", "user"), REFUSED,
                      f"{ended.refused:,} tries while {what(ended.key)} was blocked", address)  # fmt: skip


def _yield_cpu() -> None:
    """Lower this thread's CPU priority (Linux: threads are tasks with a nice value of their
    own, and argon2's lane threads inherit it): pages and the API come before logins."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOGIN_NICE)


def _retry_after(seconds: float) -> Headers:
    return [(b"retry-after", str(int(seconds) + 1).encode())]
