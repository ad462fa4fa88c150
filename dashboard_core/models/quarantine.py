"""Tests in quarantine: a suite's test that still runs and shows, but whose failure does not
fail the suite's verdict; put there (and taken out) by an operator, with a reason."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

MAX_NODEID = 2000
MAX_REASON = 500

NodeId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NODEID)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_REASON)]


class Quarantined(BaseModel):
    """A test in quarantine, and who put it there, when and why."""

    suite: str
    nodeid: str = Field(description="The test, as its runs record it (the results' Test column).")
    reason: str
    by: str = Field(description="Who put it in quarantine (a user's or an API token's name).")
    at: datetime = Field(description="When (UTC).")


class QuarantineRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nodeid: NodeId = Field(description="A test that has run in the suite, as its runs record it.")
    reason: Reason = Field(description="Why: shown beside the test and written to the audit log.")


class QuarantineRelease(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nodeid: NodeId = Field(description="A test in the suite's quarantine.")
    reason: Reason | None = Field(None, description="Why it leaves (for the audit log); optional.")
