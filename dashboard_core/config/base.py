"""What every part of the config shares: the error, the name pattern and the strict base model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ConfigError(Exception):
    """A config file that cannot be used; ``str()`` is the message for the user."""


NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


def _refuse_repeats(what: str, values: list[str]) -> None:
    dupes = sorted({x for x in values if values.count(x) > 1})
    if dupes:
        raise ValueError(f"{what} must be unique; repeated: {', '.join(dupes)}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
