"""The README documents every config key and every API endpoint (Datasette's habit)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from dashboard_core.api import create_api
from dashboard_core.config import Config

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    out = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        annotation = info.annotation
        inner = (
            getattr(annotation, "__args__", (annotation,))[0]
            if getattr(annotation, "__origin__", None) is list
            else annotation
        )
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            if getattr(annotation, "__origin__", None) is list:
                out.append(path)
            out += keys(inner, f"{path}.")
        else:
            out.append(path)
    return out


def test_every_config_key_is_in_the_readme() -> None:
    missing = [k for k in keys(Config) if f"`{k}`" not in README]
    assert missing == []


def test_every_api_endpoint_is_in_the_readme() -> None:
    api = create_api(lambda: None)
    paths = list(api.openapi()["paths"])  # every documented operation (routers included)
    assert len(paths) >= 30
    missing = [p for p in paths if f"/api{p}".rstrip("/") not in README]
    assert missing == []
