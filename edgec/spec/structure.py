"""Structural validation: pydantic errors turned into located diagnostics, and a best-effort spec.

Pydantic reports every structural error at once. To also run the cross-reference checks when some
entries are broken, the broken entries are set aside and the rest validated again; checks treat the
names of set-aside entries as existing, so one typo does not cascade into false "unknown" errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pydantic import ValidationError

from edgec.diagnostics import Diagnostic, Path, did_you_mean
from edgec.spec.loader import KEYED_SECTIONS, LIST_SECTIONS
from edgec.spec.model import API_VERSION, Spec
from edgec.spec.yaml_source import SourceMap

ALL = "*"  # in `broken`: the whole section was unusable
NESTED_WAF_LISTS = ("managed", "custom", "rate_limits")


@dataclass
class Structured:
    spec: Spec | None
    diagnostics: list[Diagnostic]
    broken: dict[str, set[str]] = field(default_factory=dict)
    # list path -> original index of each item kept, when broken items were set aside
    index_map: dict[Path, list[int]] = field(default_factory=dict)

    def original(self, path: Path) -> Path:
        """Translate a path into the set-aside spec back into a path into the user's data."""
        out: list = []
        for part in path:
            kept = self.index_map.get(tuple(out))
            out.append(kept[part] if kept is not None and isinstance(part, int) and part < len(kept) else part)
        return tuple(out)


@cache
def spec_json_schema() -> dict:
    return Spec.model_json_schema(by_alias=True)


def validate_structure(data: dict, source: SourceMap) -> Structured:
    try:
        spec = Spec.model_validate(data)
        return Structured(spec, [])
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    diagnostics = _one_per_misspelling(_dedupe([_diagnostic(e, data, source) for e in errors]))
    pruned, broken, index_map = _prune(data, [d.path for d in diagnostics])
    try:
        spec = Spec.model_validate(pruned)
    except ValidationError:
        spec = None  # could not isolate the damage; semantic checks are skipped
    return Structured(spec, diagnostics, broken, index_map)


# --- pydantic error -> Diagnostic --------------------------------------------------------------

def _data_path(loc: tuple, data: Any, names_field: bool) -> tuple[Path, bool, bool]:
    """Follow pydantic's loc through the data, skipping union tags and validator names.

    Returns the data path, whether the error is about a mapping key (loc has '[key]'), and whether
    the loc went through a union member. `names_field`: the last loc item is a field name that is
    not in the data (missing or unknown fields)."""
    path: list = []
    node = data
    is_key = via_union = False
    for n, part in enumerate(loc):
        if part == "[key]" and not (isinstance(node, dict) and part in node):  # a user may name a key "[key]"
            is_key = True
            break
        if isinstance(node, dict) and part in node:
            node = node[part]
            path.append(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            path.append(part)
        elif names_field and n == len(loc) - 1:
            path.append(part)
        else:
            via_union = True  # a union member or validator name, not data
    return tuple(path), is_key, via_union


def _diagnostic(error: dict, data: Any, source: SourceMap) -> Diagnostic:
    kind = error["type"]
    path, is_key, via_union = _data_path(error["loc"], data, kind in ("missing", "extra_forbidden"))
    if kind == "extra_forbidden" or is_key:
        location = source.key(path)
    elif kind == "missing":
        location = source.value(path[:-1])
    else:
        location = source.value(path)
    code = f"schema.{kind}" + (".union" if via_union else "")
    return Diagnostic(location, path, _message(error, path, data), code=code)


def _message(error: dict, path: Path, data: Any) -> str:
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    if kind == "missing":
        return f"missing required field '{path[-1]}'"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(path[:-1], data)
        hint = did_you_mean(path[-1], allowed) or (f" (allowed: {', '.join(sorted(allowed))})" if allowed else "")
        return f"unknown field '{path[-1]}'{hint}"
    if kind in ("literal_error", "enum"):
        options = re.findall(r"'([^']*)'|(\d+)", ctx.get("expected", ""))
        options = [a or b for a, b in options]
        return f"{value!r} is not allowed here; use one of: {', '.join(options)}{did_you_mean(value, options)}"
    if kind == "union_tag_not_found":
        return f"missing field '{ctx.get('discriminator', '').strip(chr(39))}' that says which kind this is"
    if kind == "union_tag_invalid":
        return f"{ctx.get('tag')!r} is not allowed here; use one of: {ctx.get('expected_tags')}"
    message = error["msg"].removeprefix("Value error, ")
    if kind.endswith("_type") or kind.endswith("_parsing"):
        message += f" (got {_short(value)})"
    return message


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _one_per_misspelling(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """A misspelt field is one mistake: its 'unknown field' error (did you mean 'provider'?) says it all,
    so the 'missing required field' error of the name it suggests, at the same place, goes."""
    meant = {(*d.path[:-1], name) for d in diagnostics if d.code == "schema.extra_forbidden"
             for name in _SUGGESTED.findall(d.message)}
    return [d for d in diagnostics if not (d.code == "schema.missing" and d.path in meant)]


_SUGGESTED = re.compile(r"did you mean '([^']+)'")


def _dedupe(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """One message per place: a union reports one error per member; keep the most specific.

    A union member's error about the whole value is dropped when another member found errors
    inside the value (the user clearly meant that member)."""
    deeper = {d.path[:n] for d in diagnostics for n in range(len(d.path))}
    by_path: dict[Path, list[Diagnostic]] = {}
    for d in diagnostics:
        if d.code.endswith(".union") and d.path in deeper:
            continue
        by_path.setdefault(d.path, []).append(d)
    kept = []
    for group in by_path.values():
        specific = [d for d in group if not d.code.removesuffix(".union").endswith("_type")] or group
        seen = set()
        for d in specific:
            if d.message not in seen:
                seen.add(d.message)
                kept.append(d)
    return kept


def _allowed_keys(path: Path, data: Any) -> list[str]:
    """Field names the JSON Schema allows at `path` (for did-you-mean on unknown fields)."""
    schema = spec_json_schema()
    node, defs = schema, schema.get("$defs", {})
    value = data
    for part in path:
        node = _resolve(node, defs, value)
        if isinstance(part, int):
            node = node.get("items", {})
            value = value[part] if isinstance(value, list) and part < len(value) else None
        else:
            props = node.get("properties", {})
            node = props.get(part) or node.get("additionalProperties") or {}
            value = value.get(part) if isinstance(value, dict) else None
    node = _resolve(node, defs, value)
    return list(node.get("properties", {}))


def _resolve(node: dict, defs: dict, value: Any) -> dict:
    """Follow $ref and pick the union member that fits `value` (by discriminator or by keys)."""
    for _ in range(10):
        if "$ref" in node:
            node = defs[node["$ref"].rsplit("/", 1)[-1]]
            continue
        members = node.get("oneOf") or node.get("anyOf")
        if not members:
            return node
        members = [defs[m["$ref"].rsplit("/", 1)[-1]] if "$ref" in m else m for m in members]
        objects = [m for m in members if "properties" in m]
        if not objects:
            return node
        tag = (node.get("discriminator") or {}).get("propertyName")
        chosen = objects[0]
        if tag and isinstance(value, dict):
            chosen = next((m for m in objects if m["properties"].get(tag, {}).get("const") == value.get(tag)),
                          chosen)
        node = chosen
    return node


# --- set broken entries aside ------------------------------------------------------------------

def _prune_point(path: Path, data: dict) -> Path | None:
    """The smallest unit to set aside for an error at `path`: a list item or a named entry."""
    if not path:
        return None
    section = path[0]
    if section in LIST_SECTIONS and len(path) >= 2 and isinstance(path[1], int):
        return path[:2]
    if section in KEYED_SECTIONS and len(path) >= 2 and isinstance(data.get(section), dict):
        if section == "waf" and len(path) >= 4 and path[2] in NESTED_WAF_LISTS and isinstance(path[3], int):
            return path[:4]
        if section == "dns" and len(path) >= 3 and isinstance(path[2], int):
            return path[:3]
        return path[:2]
    return path[:1]


def _prune(data: dict, paths: list[Path]) -> tuple[dict, dict[str, set[str]], dict[Path, list[int]]]:
    """Copy `data` without the broken units; map each shortened list back to original indexes."""
    points = {p for p in (_prune_point(path, data) for path in paths) if p is not None}
    broken: dict[str, set[str]] = {}
    dropped_items: dict[Path, set[int]] = {}
    pruned = dict(data)
    for point in sorted(points, key=len):
        if len(point) == 1:
            broken.setdefault(point[0], set()).add(ALL)
            pruned.pop(point[0], None)
        elif isinstance(point[-1], int):
            dropped_items.setdefault(point[:-1], set()).add(point[-1])
        else:
            if len(point) == 2:
                broken.setdefault(point[0], set()).add(point[1])
            parent = _copy_to(pruned, point[:-1])
            if parent is not None:
                parent.pop(point[-1], None)
    index_map: dict[Path, list[int]] = {}
    for list_path, drop in dropped_items.items():
        parent = _copy_to(pruned, list_path[:-1])
        items = parent.get(list_path[-1]) if parent is not None else None
        if isinstance(items, list):
            index_map[list_path] = [i for i in range(len(items)) if i not in drop]
            parent[list_path[-1]] = [items[i] for i in index_map[list_path]]
    if "apiVersion" in broken:
        pruned["apiVersion"] = API_VERSION
    if "name" in broken:
        pruned["name"] = "unnamed"
    return pruned, broken, index_map


def _copy_to(root: dict, path: Path) -> dict | None:
    """Walk `path` from `root`, shallow-copying each mapping on the way so the original is untouched."""
    node = root
    for part in path:
        child = node.get(part) if isinstance(node, dict) else None
        if not isinstance(child, dict):
            return None
        node[part] = dict(child)
        node = node[part]
    return node
