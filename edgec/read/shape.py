"""The last check on what a reader made of an API's answers: every field of every live resource is of
the type its class declares. A value of the wrong type that no reader's own check caught (a port
that is a string, a name that is null) would otherwise be compared as a difference, or crash the
comparison; it is a malformed answer instead.

Types are read from the classes' annotations (as edgec/ir/serial.py does): a Literal is checked for
its values' type only, since a provider may hold values edgec never writes.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import timedelta
from functools import cache
from typing import Any, Iterable

from edgec.ir.model import Resource
from edgec.read.answers import malformed, shown


def first_misfit(resources: Iterable[Resource]) -> str | None:
    """What is wrong with the first resource that has a field of the wrong type, as people read it."""
    for resource in resources:
        problem = _misfit(resource)
        if problem is not None:
            return f"{resource.kind} {_label(resource)}: {problem}"
    return None


def _label(resource: Resource) -> str:
    try:
        return resource.label
    except (KeyError, TypeError, ValueError, AttributeError):  # a label made of the malformed field
        return resource.name


@cache
def _hints(kind: type) -> dict[str, Any]:
    return typing.get_type_hints(kind)


def _misfit(obj: Any) -> str | None:
    hints = _hints(type(obj))
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        problem = _fits(value, hints[f.name])
        if problem is not None:
            return f"{f.name}: {problem}"
    return None


def _fits(value: Any, hint: Any) -> str | None:
    """None if `value` is of type `hint`, else what is wrong."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return None
    if origin in (typing.Union, types.UnionType):
        problems = [_fits(value, arg) for arg in args]
        return None if None in problems else _wrong(value, hint)
    if origin is typing.Literal:
        return None if any(type(value) is type(arg) for arg in args) else _wrong(value, hint)
    if origin is tuple:
        if not isinstance(value, tuple):
            return _wrong(value, hint)
        kinds = [args[0]] * len(value) if len(args) == 2 and args[1] is Ellipsis else list(args)
        if len(kinds) != len(value):
            return _wrong(value, hint)
        return next((problem for item, kind in zip(value, kinds) if (problem := _fits(item, kind))), None)
    if origin is not None:  # dict[...], list[...]: the container's type is enough
        return None if isinstance(value, origin) else _wrong(value, hint)
    if hint is type(None):
        return None if value is None else _wrong(value, hint)
    if hint is int:
        return None if isinstance(value, int) and not isinstance(value, bool) else _wrong(value, hint)
    if hint is float:
        return None if isinstance(value, (int, float)) and not isinstance(value, bool) else _wrong(value, hint)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _misfit(value) if isinstance(value, hint) else _wrong(value, hint)
    if isinstance(hint, type):  # str, bool, dict, timedelta
        return None if isinstance(value, hint) else _wrong(value, hint)
    return None


def _wrong(value: Any, hint: Any) -> str:
    return f"{shown(value)} is not {_name(hint)}"


def _name(hint: Any) -> str:
    names = {str: "a string", int: "a number", float: "a number", bool: "true or false", timedelta: "a duration",
             type(None): "null"}
    return names.get(hint, getattr(hint, "__name__", str(hint)))


def check_shapes(what: str, resources: Iterable[Resource]) -> None:
    """A ReadError naming `what` if a live resource has a field of the wrong type."""
    problem = first_misfit(resources)
    if problem is not None:
        raise malformed(what, problem)
