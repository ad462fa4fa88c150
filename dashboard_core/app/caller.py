"""Who asks, what they may do, and the one refusal the front ends show.

A :class:`Refusal` carries the HTTP status the API answers with and a sentence a page can
show as it is (plus, for bad input, one line per problem). The API turns it into an
``ErrorResponse``; a page into ``st.error``. The domain's own refusals (a suite that does
not exist, a workflow already running, a full store) become Refusals in one place,
:func:`refusing`, so no front end needs to know them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from dashboard_core.auth.principals import OPEN, Principal
from dashboard_core.health.agents import ExpectedAgent, NoSuchAgent, TooManyAgents
from dashboard_core.store import StoreError
from dashboard_core.testing.manager import SuiteError
from dashboard_core.workflows.supervisor import WorkflowError


class Refusal(Exception):
    """An operation that was not done, and why; ``str()`` is the sentence for the user."""

    status = 400

    def __init__(self, message: str, errors: Sequence[str] = (), *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = list(errors)
        if status is not None:
            self.status = status


class NotAllowed(Refusal):
    status = 403


class NotFound(Refusal):
    status = 404


class Conflict(Refusal):
    status = 409


class Unavailable(Refusal):
    status = 503


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asks (their principal) and from where (an address, for the audit log)."""

    principal: Principal
    address: str = "?"

    def may(self, role: str) -> bool:
        """Whether their role is ``role`` or above: the pages show only the buttons they may use."""
        return self.principal.can(role)

    def require(self, role: str, to: str) -> None:
        """Refuse unless their role is ``role`` or above; ``to`` says what they asked to do."""
        if not self.principal.can(role):
            raise NotAllowed(f"{self.principal.label} may not {to}: it needs the {role} role or above.")


# Whoever reaches a dashboard without authentication: the machine's own user.
LOCAL = Caller(OPEN, "localhost")


def as_refusal(exc: BaseException) -> Refusal | None:
    """The Refusal a domain error stands for (same status and words), or None if it is no refusal."""
    if isinstance(exc, Refusal):
        return exc
    if isinstance(exc, SuiteError | WorkflowError):
        return Refusal(str(exc), getattr(exc, "errors", ()) or (), status=exc.http_status)
    if isinstance(exc, NoSuchAgent):
        return NotFound(str(exc))
    if isinstance(exc, ExpectedAgent | TooManyAgents):
        return Conflict(str(exc))
    if isinstance(exc, StoreError):  # a full disk: nothing it held is lost
        return Unavailable(
            f"The dashboard cannot save this: {exc}. What it already holds is kept; retry once it can write."
        )
    return None


@contextmanager
def refusing() -> Iterator[None]:
    """The domain's refusals, raised inside, come out as Refusals."""
    try:
        yield
    except Exception as exc:
        refusal = as_refusal(exc)
        if refusal is None or refusal is exc:
            raise
        raise refusal from exc


def form_words(exc: ValueError) -> str:
    """A form that could not become a request, in words: pydantic's messages joined, or the
    sentence of a plain ValueError (a duration or matcher that is none)."""
    errors = getattr(exc, "errors", None)
    return "; ".join(str(e["msg"]) for e in errors()) if callable(errors) else str(exc)
