"""MkDocs hooks (``hooks:`` in mkdocs.yml): the reference pages, written from the code.

``docs/reference/configuration.md`` and ``docs/reference/api.md`` hold an introduction,
notes in their front matter and a marker line; at build time the marker becomes the
reference, from the config models (``scripts/reference_config.py``) and the API's
OpenAPI document (``scripts/reference_api.py``). A note for a key or an operation that
does not exist, or a key nothing describes, is a warning, which ``--strict`` (as in
mkdocs.yml and tests/test_docs.py) turns into a failed build.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `mkdocs` runs from its own script; the package lives here
    sys.path.insert(0, str(ROOT))

from scripts import reference_api, reference_config  # noqa: E402

log = logging.getLogger("mkdocs.hooks.reference")
MARKERS = {
    "reference/configuration.md": "<!-- reference: configuration -->",
    "reference/api.md": "<!-- reference: api -->",
}


def config_reference(notes: dict[str, str]) -> tuple[str, list[str]]:
    """The configuration reference, and what is wrong with the notes or the models."""
    from dashboard_core.config import Config

    known = {k.path for k in reference_config.keys(Config)} | set(Config.model_fields)
    problems = [f"a note for {key!r}, which is no config key" for key in notes if key not in known]
    problems += [
        f"the config key {k.path!r} has no description: give its Field one in dashboard_core/config/"
        for k in reference_config.keys(Config, notes)
        if not k.description
    ]
    return reference_config.render(Config, notes), problems


def api_reference(notes: dict[str, str]) -> tuple[str, list[str]]:
    """The API reference, and what is wrong with the notes or the document."""
    from dashboard_core.api import create_api

    api = create_api(lambda: None)
    doc, sockets = api.openapi(), reference_api.websockets(api)
    ops = reference_api.operations(doc, sockets)
    known = {op.key for op in ops}
    problems = [f"a note for {key!r}, which is no operation of the API" for key in notes if key not in known]
    problems += [
        f"{op.key} has no summary and no note" for op in ops if not op.spec.get("summary") and op.key not in notes
    ]
    return reference_api.render(doc, sockets, notes), problems


WRITERS = {"reference/configuration.md": config_reference, "reference/api.md": api_reference}


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    where = page.file.src_uri
    if where not in WRITERS:
        return markdown
    marker = MARKERS[where]
    if marker not in markdown:
        log.warning("%s: the line %s is missing; the reference goes there", where, marker)
        return markdown
    notes = {str(k): " ".join(str(v).split()) for k, v in (page.meta.get("notes") or {}).items()}
    text, problems = WRITERS[where](notes)
    for problem in dict.fromkeys(problems):
        log.warning("%s: %s", where, problem)
    return markdown.replace(marker, text)


def on_serve(server: Any, config: Any, builder: Any) -> Any:
    """`mkdocs serve` rebuilds when the code the references come from changes."""
    server.watch(str(ROOT / "dashboard_core"))
    server.watch(str(ROOT / "scripts"))
    return server
