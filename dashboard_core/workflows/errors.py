"""What the workflow supervisor refuses, each with the sentence for the user and
the HTTP status the API answers with."""

from __future__ import annotations

from collections.abc import Sequence

from dashboard_core.models import WorkflowRunInfo


class WorkflowError(Exception):
    """A request the supervisor refuses; ``str()`` is the sentence for the user,
    ``http_status`` the API's answer."""

    http_status = 409


class UnknownWorkflow(WorkflowError):
    http_status = 404

    def __init__(self, name: str, known: Sequence[str]) -> None:
        self.name = name
        names = ", ".join(known) or "none are configured"
        super().__init__(f"There is no workflow named {name!r}. Known workflows: {names}.")


class UnknownWorkflowRun(WorkflowError):
    http_status = 404

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        super().__init__(f"There is no workflow run with id {run_id}.")


class AlreadyRunning(WorkflowError):
    def __init__(self, workflow: str, run_id: int) -> None:
        self.workflow, self.run_id = workflow, run_id
        super().__init__(
            f"{workflow!r} is already running (run {run_id}). Stop that run first, "
            f"or set concurrent = true for {workflow!r} to allow runs side by side."
        )


class BadParams(WorkflowError):
    http_status = 422

    def __init__(self, workflow: str, errors: Sequence[str]) -> None:
        self.workflow = workflow
        self.errors = list(errors)
        super().__init__(f"The parameters of {workflow!r} are not valid: {'; '.join(self.errors)}.")


class NotRunning(WorkflowError):
    def __init__(self, run: WorkflowRunInfo) -> None:
        self.run = run
        super().__init__(
            f"Run {run.id} of {run.workflow!r} has already finished ({run.status}); there is nothing to stop."
        )


class UnknownStep(WorkflowError):
    http_status = 404

    def __init__(self, run: WorkflowRunInfo, step: str) -> None:
        self.run, self.step = run, step
        names = ", ".join(s.name for s in run.steps) or "none"
        super().__init__(f"Run {run.id} of {run.workflow!r} has no step named {step!r}. Its steps: {names}.")


class NoStepLog(WorkflowError):
    http_status = 404


class ShuttingDown(WorkflowError):
    http_status = 503


class CannotSave(WorkflowError):
    """The store cannot take the write an action needs (a full disk)."""

    http_status = 503
