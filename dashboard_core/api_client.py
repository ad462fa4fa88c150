"""The one HTTP client for the dashboard's API, with the standard library only.

Used by the command line (``export-csv``, ``run-suite``, ``cancel-run``) and by
the agent heartbeat client, so all of them authenticate, route and fail the same
way: an API token goes in an ``Authorization: Bearer`` header; a request to this
machine never goes through a proxy from the environment; redirects are not
followed (the API does not redirect, and urllib would carry the token to
wherever one points); a refusal is an :class:`ApiError` carrying the API's own
``{"success": false, "message", "errors"}`` as a sentence, and no answer at all
is an :class:`Unreachable` that says how to start the dashboard.

It imports nothing outside the standard library, so ``agent_client`` stays light.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

__all__ = ["DEFAULT_URL", "TOKEN_ENV", "URL_ENV", "Answer", "ApiClient", "ApiError", "Unreachable"]

DEFAULT_URL = "http://127.0.0.1:8501"
URL_ENV = "DASHBOARD_URL"
TOKEN_ENV = "DASHBOARD_TOKEN"
TOKEN_HINT = f"pass --token TOKEN or set ${TOKEN_ENV}"


class ApiError(Exception):
    """A request that did not succeed; ``str()`` says why, as a sentence.

    ``status`` is the HTTP status when the dashboard answered (None when nothing
    answered), ``message`` and ``errors`` are the dashboard's own words.
    """

    def __init__(self, text: str, *, status: int | None = None, message: str = "", errors: list[str] | None = None):
        super().__init__(text)
        self.status = status
        self.message = message or text
        self.errors = list(errors or [])


class Unreachable(ApiError):
    """No HTTP answer at all: nothing listens there, a timeout, a broken connection."""


@dataclass(frozen=True)
class Answer:
    """A successful (2xx) answer."""

    status: int
    body: bytes
    headers: Message = field(repr=False)

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            raise ApiError(f"The answer is not JSON: {self.body[:200]!r}") from None


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx comes back as an HTTPError: urllib would resend the Authorization header to any host."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class ApiClient:
    """Requests to the dashboard at ``url`` (``http://host:port``; a trailing
    ``/`` or ``/api`` is fine), with ``token`` as a bearer token when given."""

    def __init__(self, url: str = DEFAULT_URL, *, token: str | None = None, timeout: float = 30.0) -> None:
        base = url.strip().rstrip("/")
        if base.endswith("/api"):
            base = base[: -len("/api")]
        parts = urllib.parse.urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ApiError(f"The dashboard's address must look like http://host:port, not {url!r}.")
        self.base = base
        self.token = token or None
        self.timeout = timeout
        # A proxy from the environment must never see a request (or a token) meant for this machine.
        handlers: list[urllib.request.BaseHandler] = [_NoRedirects()]
        if is_loopback(parts.hostname):
            handlers.append(urllib.request.ProxyHandler({}))
        self._opener = urllib.request.build_opener(*handlers)

    def url(self, path: str) -> str:
        """The full address of an API path such as ``/testing/runs/3``."""
        return f"{self.base}/api{path}"

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        what: str = "the request",
        role: str | None = None,
        timeout: float | None = None,
    ) -> Answer:
        """Send ``body`` (as JSON, when not None) and return the 2xx answer.

        ``what`` names the request in error sentences ("the export"); ``role``,
        when given, is the role it needs: a 401 or 403 then says to pass a
        token with that role (``--token`` or ``$DASHBOARD_TOKEN``).
        """
        url = self.url(path)
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        wait = self.timeout if timeout is None else timeout
        try:
            with self._opener.open(request, timeout=wait) as response:
                return Answer(response.status, response.read(), response.headers)
        except urllib.error.HTTPError as exc:
            raise self._refusal(exc, f"{method} /api{path}", what, role) from None
        except urllib.error.URLError as exc:
            raise self._unreachable(exc.reason, wait) from None
        except (TimeoutError, http.client.HTTPException, OSError) as exc:
            raise self._unreachable(exc, wait) from None

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        """:meth:`request`, and the answer's JSON."""
        answer = self.request(method, path, body, **kwargs)
        try:
            return json.loads(answer.body)
        except ValueError:
            raise ApiError(f"The answer from {self.url(path)} is not JSON: {answer.body[:200]!r}") from None

    # -- errors as sentences ---------------------------------------------------------
    def _unreachable(self, reason: object, timeout: float) -> Unreachable:
        if isinstance(reason, TimeoutError):
            return Unreachable(f"The dashboard at {self.base} did not answer within {timeout:g} s.")
        if isinstance(reason, ConnectionRefusedError):
            reason = "connection refused"
        return Unreachable(
            f"No dashboard answers at {self.base} ({reason}): is it running? Start it with "
            f"`bash scripts/start.sh`, or point --url or ${URL_ENV} at the one that runs."
        )

    def _refusal(self, exc: urllib.error.HTTPError, request: str, what: str, role: str | None) -> ApiError:
        """The dashboard's ``{"success": false, "message", "errors"}`` as an exception."""
        try:
            raw = exc.read()
        except OSError:
            raw = b""
        finally:
            exc.close()
        message, errors = "", []
        try:
            data = json.loads(raw)
            if isinstance(data, dict):
                message = str(data.get("message") or data.get("detail") or "")
                errors = [str(e) for e in data.get("errors") or []]
        except ValueError:
            message = raw.decode("utf-8", "replace").strip()[:300]
        message = message or (exc.reason if isinstance(exc.reason, str) else "") or "no reason given"
        if 300 <= exc.code < 400:
            where = exc.headers.get("Location", "?")
            text = (
                f"The server at {self.base} answered {what} with a redirect (HTTP {exc.code} to {where}), "
                f"which the dashboard's API never does: is {self.base} the dashboard's address?"
            )
            return ApiError(text, status=exc.code, message=message, errors=errors)
        text = f"The dashboard at {self.base} refused {what} (HTTP {exc.code} from {request}): {message}"
        if errors:
            text += " (" + "; ".join(errors) + ")"
        if role is not None and exc.code == 401:
            if self.token:
                text = (
                    f"The dashboard at {self.base} does not accept the API token given for {what} (HTTP 401): "
                    f"check --token or ${TOKEN_ENV}; it needs a token with the {role} role or above."
                )
            else:
                text = (
                    f"The dashboard at {self.base} needs an API token for {what} (HTTP 401): {TOKEN_HINT} "
                    f"(a token with the {role} role or above; an admin makes one with "
                    f"`python -m dashboard_core new-token NAME --role {role}`)."
                )
        elif role is not None and exc.code == 403:
            text = (
                f"The dashboard at {self.base} refused {what} (HTTP 403): {message.rstrip('.')}. "
                f"Use a token with the {role} role or above: {TOKEN_HINT}."
            )
        return ApiError(text, status=exc.code, message=message, errors=errors)
