"""The IR as plain data (and back): for golden files, and for people who want to see what a spec
resolves to (`edgec compile --ir`).

A resource is written as its address and its class with its fields; nested values by their fields;
durations as seconds with an 's' ('2.5s'); tuples as lists. Loading reads the types back from the
classes' own annotations (a field that may hold one of several kinds of value, such as a route's
action, is told apart by the fields written), so the format needs no schema of its own.
"""

from __future__ import annotations

import dataclasses
import sys
import types
import typing
from datetime import timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from edgec.ir.model import IR, Estate, Resource


def resource_types() -> dict[str, type[Resource]]:
    """Every resource class, by name (all layers)."""
    import edgec.layers  # noqa: F401 (imports every layer's model)

    found: dict[str, type[Resource]] = {}
    pending = list(Resource.__subclasses__())
    while pending:
        kind = pending.pop()
        pending += kind.__subclasses__()
        if "resource_type" in vars(kind):
            # the class its module holds: a slots dataclass replaces the class its body made
            found[kind.__name__] = getattr(sys.modules[kind.__module__], kind.__name__)
    return found


def dump_ir(ir: IR) -> dict:
    return {"estate": _dump(ir.estate), "resources": dump_resources(ir.resources)}


def dump_resources(resources: list[Resource]) -> list[dict]:
    return [{"address": r.address, type(r).__name__: _fields(r)} for r in resources]


def load_ir(data: dict) -> IR:
    kinds = resource_types()
    resources = []
    for entry in data["resources"]:
        (name, fields), = ((k, v) for k, v in entry.items() if k != "address")
        resources.append(_load(kinds[name], fields))
    return IR(_load(Estate, data["estate"]), resources)


def _fields(obj: Any) -> dict:
    return {f.name: _dump(getattr(obj, f.name)) for f in dataclasses.fields(obj)}


def _dump(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _fields(value)
    if isinstance(value, timedelta):
        return f"{Decimal(str(value.total_seconds())).normalize():f}s"
    if isinstance(value, (tuple, list)):
        return [_dump(v) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    return value


@cache
def _hints(kind: type) -> dict[str, Any]:
    return typing.get_type_hints(kind)


def _load(kind: Any, data: Any) -> Any:
    if data is None:
        return None
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if len(options) > 1 and isinstance(data, dict) and all(dataclasses.is_dataclass(o) for o in options):
            return _load(_union_member(options, data), data)
        return _load(options[0], data) if len(options) == 1 else data
    if origin is tuple:
        inner = args[0] if len(args) == 2 and args[1] is Ellipsis else Any
        return tuple(_load(inner, v) for v in data)
    if origin is dict:
        return {k: _load(args[1], v) for k, v in data.items()}
    if kind is timedelta:
        return timedelta(seconds=float(Decimal(data[:-1])))
    if dataclasses.is_dataclass(kind):
        hints = _hints(kind)
        return kind(**{f.name: _load(hints[f.name], data[f.name]) for f in dataclasses.fields(kind)
                       if f.init and f.name in data})
    return data


def _union_member(options: list[type], data: dict) -> type:
    """The dataclass among `options` whose fields are exactly those written."""
    return next(o for o in options if {f.name for f in dataclasses.fields(o)} == set(data))
