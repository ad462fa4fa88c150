"""What the suite manager refuses, each with the sentence for the user and the
HTTP status the API answers with."""

from __future__ import annotations

from collections.abc import Sequence

from dashboard_core.models import RunInfo


class SuiteError(Exception):
    """A request the manager refuses; ``str()`` is the sentence for the user,
    ``http_status`` the API's answer."""

    http_status = 409


class UnknownSuite(SuiteError):
    http_status = 404

    def __init__(self, name: str, known: Sequence[str]) -> None:
        names = ", ".join(known) or "none are configured"
        super().__init__(f"There is no test suite named {name!r}. Known suites: {names}.")


class UnknownRun(SuiteError):
    http_status = 404

    def __init__(self, run_id: int) -> None:
        super().__init__(f"There is no test run with id {run_id}.")


class RunAlreadyFinished(SuiteError):
    def __init__(self, run: RunInfo) -> None:
        self.run = run
        super().__init__(f"Run {run.id} of {run.suite!r} has already finished ({run.status}); nothing to cancel.")


class CannotRerun(SuiteError):
    pass


class NoLogFile(SuiteError):
    http_status = 404


class ShuttingDown(SuiteError):
    http_status = 503


class CannotSave(SuiteError):
    """The store cannot take the write an action needs (a full disk)."""

    http_status = 503


class CannotCompare(SuiteError):
    """Two runs that cannot be compared: of different suites, one not finished, or
    no earlier passed run to compare with."""

    http_status = 422
