"""The docs cover the code (Datasette's habit): every config key and every API endpoint is in
the references, which are written from the code with a description for each; every TOML
example in the docs is a valid config; the README keeps the two commands; links lead
somewhere; and the site builds with ``mkdocs build --strict``, asking nothing of the internet."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from fastapi.routing import APIWebSocketRoute
from pydantic import BaseModel, ValidationError

from dashboard_core.api import create_api, flat_routes
from dashboard_core.config import Config
from scripts import reference_api, reference_config

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"
README = (ROOT / "README.md").read_text(encoding="utf-8")


def keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every key of the config, as a user writes it (``suites.timeout_seconds``)."""
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


def notes(page: str) -> dict[str, str]:
    """The notes in a reference page's front matter."""
    text = (DOCS / page).read_text(encoding="utf-8")
    match = re.match(r"---\n(.*?)\n---\n", text, re.S)
    assert match, f"docs/{page} has no front matter"
    return {str(k): str(v) for k, v in (yaml.safe_load(match.group(1)).get("notes") or {}).items()}


CONFIG_NOTES = notes("reference/configuration.md")
API_NOTES = notes("reference/api.md")


def endpoint_paths() -> list[str]:
    api = create_api(lambda: None)
    return [
        f"/api{r.path}".rstrip("/")
        for r in flat_routes(api)
        if getattr(r, "include_in_schema", False) or isinstance(r, APIWebSocketRoute)
    ]


def api_reference() -> tuple[str, list[reference_api.Operation]]:
    api = create_api(lambda: None)
    doc, sockets = api.openapi(), reference_api.websockets(api)
    return reference_api.render(doc, sockets, API_NOTES), reference_api.operations(doc, sockets)


# -- the configuration reference ----------------------------------------------------------
def test_every_config_key_is_in_the_reference() -> None:
    page = reference_config.render(Config, CONFIG_NOTES)
    missing = [k for k in keys(Config) if f"`{k}`" not in page]
    assert missing == []


def test_every_config_key_has_a_description() -> None:
    undescribed = [k.path for k in reference_config.keys(Config, CONFIG_NOTES) if not k.description]
    assert undescribed == []


def test_every_config_note_names_a_config_key() -> None:
    known = {k.path for k in reference_config.keys(Config)} | set(Config.model_fields)
    assert [k for k in CONFIG_NOTES if k not in known] == []


def test_the_reference_shows_defaults_and_bounds_as_the_models_say() -> None:
    rows = {k.path: k for k in reference_config.keys(Config, CONFIG_NOTES)}
    assert rows["sampler.interval_seconds"].default == "`1.0`"
    assert rows["sampler.interval_seconds"].type == "number; 0.1 to 3600"
    assert rows["api.csv_max_rows"].default == "`2_000_000`"
    assert rows["suites.name"].default == "required"
    assert rows["suites.kind"].type == 'one of `"pytest"` or `"command"`'
    assert rows["history.tiers"].default.startswith("`[{ seconds = 10.0, keep_days = 7.0")
    assert rows["components.check.url"].default == "required"  # one table per check type
    assert "capacity" in rows["sampler.history_hours"].description  # a note joins the model's text


# -- the API reference --------------------------------------------------------------------
def test_every_api_endpoint_is_in_the_reference() -> None:
    page, _ = api_reference()
    missing = [p for p in endpoint_paths() if f"`{p}" not in page and f" {p}`" not in page]
    assert missing == []


def test_every_operation_has_a_summary_or_a_note() -> None:
    _, ops = api_reference()
    assert [op.key for op in ops if not op.spec.get("summary") and op.key not in API_NOTES] == []


def test_every_api_note_names_an_operation() -> None:
    _, ops = api_reference()
    known = {op.key for op in ops}
    assert [k for k in API_NOTES if k not in known] == []


# -- examples, commands and links ----------------------------------------------------------
def markdown_files() -> list[Path]:
    return [*sorted(DOCS.rglob("*.md")), ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "examples" / "README.md"]


def test_every_toml_example_in_the_docs_is_a_valid_config() -> None:
    problems, seen = [], 0
    for path in markdown_files():
        for n, block in enumerate(re.findall(r"```toml\n(.*?)```", path.read_text(encoding="utf-8"), re.S), 1):
            seen += 1
            try:
                Config.model_validate(tomllib.loads(block))
            except (tomllib.TOMLDecodeError, ValidationError) as exc:
                problems.append(f"{path.relative_to(ROOT)}, TOML block {n}: {exc}")
    assert problems == []
    assert seen >= 8  # the guide pages show their config


def test_the_readme_keeps_the_two_commands_and_the_fast_one() -> None:
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.strip()]
    for command in (ci[-1], "bash scripts/start.sh", "bash scripts/test.sh", "bash scripts/test-fast.sh"):
        assert command in README


@pytest.mark.parametrize("name", ["README.md", "CONTRIBUTING.md", "CHANGELOG.md"])
def test_relative_links_lead_to_files(name: str) -> None:
    text = (ROOT / name).read_text(encoding="utf-8")
    targets = [t for t in re.findall(r"\]\(([^)\s#]+)", text) if not re.match(r"[a-z]+:", t)]
    assert [t for t in targets if not (ROOT / t).exists()] == []


# -- the site ------------------------------------------------------------------------------
# What a page loads by itself (scripts, styles, fonts, images), as opposed to a link one clicks.
_LOADED = re.compile(r"<(?:script|link|img|iframe|source)\b[^>]*?\b(?:src|href)=[\"']?((?:https?:)?//[^\"'\s>]+)", re.I)
_CSS_URL = re.compile(r"(?:url\(|@import\s+)[\"']?((?:https?:)?//[^\"')\s]+)", re.I)


def outside_resources(site: Path) -> list[str]:
    found = []
    for path in site.rglob("*"):
        if path.suffix == ".html":
            found += [f"{path.relative_to(site)}: {u}" for u in _LOADED.findall(path.read_text(encoding="utf-8"))]
        elif path.suffix == ".css":
            found += [f"{path.relative_to(site)}: {u}" for u in _CSS_URL.findall(path.read_text(encoding="utf-8"))]
    return found


@pytest.mark.slow
def test_the_site_builds_strict_and_needs_nothing_from_outside(tmp_path: Path) -> None:
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},  # Material's end-of-life banner
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    config_page = (site / "reference" / "configuration" / "index.html").read_text(encoding="utf-8")
    assert [k for k in keys(Config) if f"<code>{k}</code>" not in config_page] == []
    api_page = (site / "reference" / "api" / "index.html").read_text(encoding="utf-8")
    assert [p for p in endpoint_paths() if p not in api_page] == []
    assert (site / "images" / "overview.png").exists()
    assert outside_resources(site) == []
