"""The configuration reference, written from the pydantic models of ``dashboard.toml``.

Every key with its type, bounds, default and description comes from
``dashboard_core/config/``; a note in the page's front matter may add to a key's
description. The docs build (``scripts/mkdocs_hooks.py``) and ``tests/test_docs.py``
use the same walk, so the reference cannot drift from the code.
"""

from __future__ import annotations

import json
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from scripts.reference_markdown import cell, number

_SCALARS = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    Path: "path",
    datetime: "date-time",
    time: "time of day",
}


@dataclass(frozen=True)
class Key:
    """One row of the reference: a key and what the model says of it."""

    path: str
    type: str
    default: str
    description: str


@dataclass
class Section:
    """A TOML table (``[sampler]``) or array of tables (``[[suites]]``) and its keys."""

    anchor: str
    title: str
    depth: int
    intro: str
    keys: list[Key] = field(default_factory=list)


def sections(root: type[BaseModel], notes: Mapping[str, str] | None = None) -> list[Section]:
    """Every table of the config, depth first in the order of the models' fields."""
    notes = notes or {}
    out: list[Section] = []
    for name, info in root.model_fields.items():
        tp = _strip(info.annotation)
        item = _list_item(tp)
        if item is not None:  # [[suites]]: its own description opens the section
            intro = f"`{name}`: " + _join(info.description, notes.get(name), _doc(item), "A list of tables, each with:")
            out += _tables(item, name, name, f"[[{name}]]", 1, intro, notes)
            continue
        models = _models(tp)
        if len(models) != 1:
            raise TypeError(f"{root.__name__}.{name}: the top level of the config holds only tables")
        intro = _join(_doc(models[0]), info.description, notes.get(name))
        out += _tables(models[0], name, name, f"[{name}]", 1, intro, notes)
    return out


def keys(root: type[BaseModel], notes: Mapping[str, str] | None = None) -> list[Key]:
    return [key for section in sections(root, notes) for key in section.keys]


def render(root: type[BaseModel], notes: Mapping[str, str] | None = None) -> str:
    """The reference as Markdown: a heading and a table per section."""
    out: list[str] = []
    for section in sections(root, notes):
        out += [f"{'#' * (section.depth + 1)} `{section.title}` {{ #{section.anchor} }}", ""]
        if section.intro:
            out += [section.intro, ""]
        if section.keys:
            out += ["| Key | Type | Default | Description |", "|---|---|---|---|"]
            out += [f"| `{k.path}` | {k.type} | {k.default} | {k.description} |" for k in section.keys]
            out.append("")
    return "\n".join(out)


def _tables(
    model: type[BaseModel], prefix: str, anchor: str, title: str, depth: int, intro: str, notes: Mapping[str, str]
) -> list[Section]:
    """The model's section (its keys under ``prefix``) and the sections nested below it."""
    section = Section(anchor, title, depth, intro)
    nested: list[Section] = []
    for name, info in model.model_fields.items():
        path = f"{prefix}.{name}"
        here = path.replace(".", "-")
        tp = _strip(info.annotation)
        item = _list_item(tp)
        models = _models(tp)
        if item is not None:  # [[workflows.steps]]
            sub = f"[[{path}]]"
            section.keys.append(_key(path, info, f"list of tables ([`{sub}`](#{here}))", notes))
            nested += _tables(item, path, here, sub, depth + 1, _join(_doc(item), "Each with:"), notes)
        elif len(models) == 1:  # an optional table such as [auth.oidc]
            sub = f"[{path}]"
            section.keys.append(_key(path, info, f"table ([`{sub}`](#{here}))", notes))
            nested += _tables(models[0], path, here, sub, depth + 1, _doc(models[0]), notes)
        elif models:  # a table chosen by its `type`, such as [components.check]
            links = ", ".join(f"[`{_tag(m)}`](#{here}-{_tag(m)})" for m in models)
            chosen = f"A table chosen by its `type`: {links}."
            section.keys.append(_key(path, info, f"table ([`[{path}]`](#{here}))", notes, fallback=chosen))
            nested.append(Section(here, f"[{path}]", depth + 1, chosen))
            for m in models:
                sub = f'[{path}] type = "{_tag(m)}"'
                nested += _tables(m, path, f"{here}-{_tag(m)}", sub, depth + 2, _doc(m), notes)
        else:
            section.keys.append(_key(path, info, _type_text(tp) + _bounds(info, tp), notes))
    return [section, *nested]


def _key(path: str, info: FieldInfo, type_text: str, notes: Mapping[str, str], fallback: str = "") -> Key:
    tp = _strip(info.annotation)
    if not fallback and get_origin(tp) is Literal and len(get_args(tp)) == 1:  # `type = "http"` picks the table
        fallback = "Says which kind of table this is."
    description = _join(info.description or fallback, notes.get(path))
    return Key(path, type_text, _default(info), cell(description))


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    value = info.get_default(call_default_factory=True)
    if value is None or isinstance(value, BaseModel):
        return ""
    return f"`{toml(value)}`"


def toml(value: Any) -> str:
    """A value as it would be written in dashboard.toml."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:_}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str | Path):
        return json.dumps(str(value))
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="python")
    if isinstance(value, Mapping):
        items = ", ".join(f"{_bare(k)} = {toml(v)}" for k, v in value.items())
        return f"{{ {items} }}" if items else "{}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")


def _bare(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else json.dumps(key)


def _type_text(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is Literal:
        values = [f"`{toml(v)}`" for v in get_args(tp)]
        return values[0] if len(values) == 1 else "one of " + _or(values)
    if origin in (Union, types.UnionType):
        return _or(list(dict.fromkeys(_type_text(a) for a in get_args(tp) if a is not type(None))))
    if origin is list:
        inner = get_args(tp)[0]
        if get_origin(inner) is Literal:
            return "list, each " + _type_text(inner)
        return "list of " + _plural(_type_text(inner))
    if origin is dict:
        inner = get_args(tp)[1]
        if get_origin(inner) is Literal:
            return "table, each value " + _type_text(inner)
        return "table of " + _plural(_type_text(inner))
    if tp in _SCALARS:
        return _SCALARS[tp]
    raise TypeError(f"no reference wording for the type {tp!r}; add it to scripts/reference_config.py")


def _bounds(info: FieldInfo, tp: Any) -> str:
    """Bounds from the Field: ``0.1 to 3600``, ``1 to 64 characters``, a pattern."""
    found: dict[str, Any] = {}
    for meta in info.metadata:
        for name in ("ge", "gt", "le", "lt", "min_length", "max_length", "pattern"):
            value = getattr(meta, name, None)
            if value is not None:
                found[name] = value
    parts = []
    low = ("at least", found["ge"]) if "ge" in found else ("more than", found["gt"]) if "gt" in found else None
    high = ("at most", found["le"]) if "le" in found else ("less than", found["lt"]) if "lt" in found else None
    if low and high and low[0] == "at least" and high[0] == "at most":
        parts.append(f"{number(low[1])} to {number(high[1])}")
    else:
        parts += [f"{bound[0]} {number(bound[1])}" for bound in (low, high) if bound]
    unit = "items" if get_origin(tp) in (list, dict) else "characters"
    if "min_length" in found or "max_length" in found:
        lo, hi = found.get("min_length"), found.get("max_length")
        if lo is not None and hi is not None:
            parts.append(f"{lo} to {hi} {unit}")
        elif hi is not None:
            parts.append(f"at most {hi} {unit}")
        elif lo is not None and lo > 1:
            parts.append(f"at least {lo} {unit}")
        else:
            parts.append("not empty")
    if "pattern" in found:
        parts.append(f"matching `{found['pattern']}`")
    return f"; {', '.join(parts)}" if parts else ""


def _strip(tp: Any) -> Any:
    """The type without ``Annotated[...]`` and without ``None``: optional keys are just unset."""
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    if get_origin(tp) in (Union, types.UnionType):
        args = [_strip(a) for a in get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else Union[tuple(args)]  # noqa: UP007 - built at run time
    return tp


def _list_item(tp: Any) -> type[BaseModel] | None:
    """The model of a list of tables (``list[SuiteConfig]``), else None."""
    if get_origin(tp) is not list:
        return None
    models = _models(_strip(get_args(tp)[0]))
    return models[0] if len(models) == 1 else None


def _models(tp: Any) -> list[type[BaseModel]]:
    """The models a key holds: one table, or several chosen by ``type``; [] for a plain value."""
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if args and all(isinstance(a, type) and issubclass(a, BaseModel) for a in args):
            return list(args)
    return []


def _tag(model: type[BaseModel]) -> str:
    """The ``type`` value that selects this member of a union of tables."""
    (value,) = get_args(model.model_fields["type"].annotation)
    return str(value)


def _doc(model: type[BaseModel]) -> str:
    """The model's docstring as one line of Markdown."""
    return " ".join((model.__doc__ or "").split()).replace("``", "`")


def _join(*texts: str | None) -> str:
    return " ".join(t.strip() for t in texts if t and t.strip())


def _or(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _plural(text: str) -> str:
    if " or " in text or ", " in text:
        words = text.replace(" or ", ", ").split(", ")
        return _or([_plural(w) for w in words])
    return text if text.startswith("`") else text + "s"
