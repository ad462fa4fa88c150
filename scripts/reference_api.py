"""The API reference, written from the API's own OpenAPI document.

Each operation with its parameters, body and answers, grouped by area (its OpenAPI
tag, as at ``/api/docs``), then every schema; WebSocket routes (which OpenAPI cannot describe) from the app's routes. A note
in the page's front matter, keyed ``"GET /api/metrics/latest"``, may add to what the
code says. The docs build (``scripts/mkdocs_hooks.py``) and ``tests/test_docs.py`` use
the same functions, so the reference cannot drift from the code.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dashboard_core.api import flat_routes
from scripts.reference_markdown import cell, code, number

PREFIX = "/api"  # where the server mounts the API
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Operation:
    """One method on one path, as the reference shows it."""

    method: str
    path: str  # with PREFIX: /api/testing/runs/{run_id}
    spec: Mapping[str, Any]

    @property
    def key(self) -> str:
        return f"{self.method.upper()} {self.path}"

    @property
    def anchor(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.key.lower()).strip("-")


def operations(doc: Mapping[str, Any], sockets: Mapping[str, Mapping[str, Any]] | None = None) -> list[Operation]:
    """Every operation of the document, and every WebSocket route (method ``WS``)."""
    found = [
        Operation(method, PREFIX + path.rstrip("/") if path != "/" else PREFIX, spec)
        for path, item in doc.get("paths", {}).items()
        for method, spec in item.items()
        if method in METHODS
    ]
    found += [Operation("ws", PREFIX + path, spec) for path, spec in (sockets or {}).items()]
    return found


def websockets(app: Any) -> dict[str, dict[str, Any]]:
    """The app's WebSocket routes as small OpenAPI-like operations (summary, query parameters)."""
    out: dict[str, dict[str, Any]] = {}
    for route in flat_routes(app):
        if type(route).__name__ != "APIWebSocketRoute":
            continue
        params = []
        for name, param in inspect.signature(route.endpoint).parameters.items():
            annotation = str(param.annotation)
            if "WebSocket" in annotation:
                continue
            default = None if param.default is inspect.Parameter.empty else param.default
            params.append({"name": name, "in": "query", "schema": {"title": annotation, "default": default}})
        summary = " ".join((inspect.getdoc(route.endpoint) or "").split()).replace("``", "`")
        router = getattr(sys.modules[route.endpoint.__module__], "router", None)  # FastAPI keeps no tags on a socket
        tags = [str(t) for t in getattr(router, "tags", [])]
        out[route.path] = {"summary": summary, "parameters": params, "tags": tags}
    return out


def area(op: Operation) -> str:
    """The operation's area: its first tag."""
    tags = op.spec.get("tags") or [""]
    return str(tags[0])


def render(doc: Mapping[str, Any], sockets: Mapping[str, Mapping[str, Any]], notes: Mapping[str, str]) -> str:
    """The reference as Markdown: an index, each area's operations (in the document's
    order of tags, with the tag's description), then the schemas."""
    ops = operations(doc, sockets)
    described = {t["name"]: t.get("description", "") for t in doc.get("tags", [])}
    order = [*described, *dict.fromkeys(area(op) for op in ops)]
    groups = {name: [op for op in ops if area(op) == name] for name in dict.fromkeys(order)}
    out = ["| Operation | Summary |", "|---|---|"]
    out += [f"| [`{op.key}`](#{op.anchor}) | {cell(op.spec.get('summary', ''))} |" for g in groups.values() for op in g]
    out.append("")
    for name, group in groups.items():
        if group:
            out += [f"## {name or 'Untagged'}", ""]
            if described.get(name):
                out += [described[name], ""]
            for op in group:
                out += _operation(op, notes.get(op.key, ""))
    schemas = doc.get("components", {}).get("schemas", {})
    if schemas:
        out += ["## Schemas", "", "What the bodies above hold; a field not marked required may be left out.", ""]
        for name in sorted(schemas):
            out += _schema(name, schemas[name])
    return "\n".join(out)


def _operation(op: Operation, note: str) -> list[str]:
    spec = op.spec
    out = [f"### `{op.key}` {{ #{op.anchor} }}", ""]
    for paragraph in (spec.get("summary", ""), note):
        if paragraph:
            out += [paragraph, ""]
    params = spec.get("parameters", [])
    if params:
        out += ["| Parameter | In | Type | Default | Description |", "|---|---|---|---|---|"]
        for p in params:
            schema = p.get("schema", {})
            default = schema.get("default")
            out.append(
                f"| `{p['name']}` | {p.get('in', '')} | {cell(_type(schema))} | "
                f"{'' if default is None else code(json.dumps(default))} | {cell(p.get('description', ''))} |"
            )
        out.append("")
    body = spec.get("requestBody")
    if body:
        for media, content in body.get("content", {}).items():
            out += [f"Body ({media}): {_type(content.get('schema', {}))}.", ""]
    responses = spec.get("responses", {})
    if responses:
        out += ["| Status | Meaning | Body |", "|---|---|---|"]
        for status in sorted(responses):
            answer = responses[status]
            bodies = [
                _type(content["schema"]) if content.get("schema") else f"`{media}`"
                for media, content in answer.get("content", {}).items()
            ]
            out.append(f"| {status} | {cell(answer.get('description', ''))} | {cell(', '.join(bodies))} |")
        out.append("")
    return out


def _schema(name: str, schema: Mapping[str, Any]) -> list[str]:
    out = [f"### `{name}` {{ #{_schema_anchor(name)} }}", ""]
    if schema.get("description"):
        out += [" ".join(str(schema["description"]).split()), ""]
    if "enum" in schema:
        out += ["One of " + ", ".join(code(json.dumps(v)) for v in schema["enum"]) + ".", ""]
    properties = schema.get("properties", {})
    if properties:
        required = set(schema.get("required", []))
        out += ["| Field | Type | Required | Description |", "|---|---|---|---|"]
        for field, spec in properties.items():
            text = spec.get("description", "")
            out.append(f"| `{field}` | {cell(_type(spec))} | {'yes' if field in required else ''} | {cell(text)} |")
        out.append("")
    return out


def _type(schema: Mapping[str, Any]) -> str:
    """A JSON schema in a few words, linking to the named schemas."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[`{name}`](#{_schema_anchor(name)})"
    for key in ("anyOf", "oneOf"):
        if key in schema:
            kinds = [s for s in schema[key] if s.get("type") != "null"]
            text = " or ".join(dict.fromkeys(_type(s) for s in kinds))
            return text + (" or null" if len(kinds) < len(schema[key]) else "")
    if "enum" in schema:
        return "one of " + ", ".join(code(json.dumps(v)) for v in schema["enum"])
    if "const" in schema:
        return code(json.dumps(schema["const"]))
    kind = schema.get("type")
    if kind == "array":
        return "list of " + _type(schema.get("items", {}))
    if kind == "object":
        extra = schema.get("additionalProperties")
        return "object of " + _type(extra) if isinstance(extra, dict) and extra else "object"
    if kind is None:
        return str(schema.get("title", "any"))
    text = {"integer": "integer", "number": "number", "string": "string", "boolean": "boolean"}.get(kind, str(kind))
    if schema.get("format"):
        text += f" ({schema['format']})"
    bounds = [
        f"{word} {number(schema[key])}"
        for key, word in (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"), ("exclusiveMaximum", "<"))
        if key in schema
    ]
    bounds += [
        f"{word} {schema[key]} characters" for key, word in (("minLength", "≥"), ("maxLength", "≤")) if key in schema
    ]
    if "pattern" in schema:
        bounds.append(f"matching {code(schema['pattern'])}")
    return text + (f" ({', '.join(bounds)})" if bounds else "")


def _schema_anchor(name: str) -> str:
    return "schema-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
