"""What the API answers of itself: its errors, its health, its list of endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class HealthResponse(BaseModel):
    success: bool
    message: str
    timestamp: datetime


class ErrorResponse(BaseModel):
    """Every 4xx/5xx body of the API."""

    success: Literal[False] = False
    message: str = Field(description="What went wrong, as a sentence.")
    errors: list[str] = Field(default_factory=list, description="One line per invalid input, if any.")


class EndpointInfo(BaseModel):
    method: str
    path: str
    summary: str


class ApiInfo(BaseModel):
    name: str
    version: str
    docs: str
    endpoints: list[EndpointInfo]
