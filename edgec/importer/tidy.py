"""Leave out what the spec would assume anyway: an imported spec reads like one written by hand, with
only the values that differ from edgec's defaults."""

from __future__ import annotations

import functools
import types
import typing
from typing import Any

from pydantic import BaseModel

from edgec.spec.model import Spec

_NO_DEFAULT = object()


def without_defaults(document: dict[str, Any], model: type[BaseModel] = Spec) -> dict[str, Any]:
    """The document, minus every value equal to its field's default (a block of defaults only is left
    out when the field defaults to that block; an optional block that is present stays, even empty),
    with its keys in the model's order."""
    fields = _fields(model)
    out = {}
    for key, value in sorted(document.items(), key=lambda item: fields.get(item[0], (len(fields),))[0]):
        if key not in fields:
            out[key] = value
            continue
        _, annotation, default = fields[key]
        value = _tidy(annotation, value)
        if value != default:
            out[key] = value
    return out


@functools.cache
def _fields(model: type[BaseModel]) -> dict[str, tuple[int, Any, Any]]:
    """Each field by the name the document uses: its position, its type and its default as the document
    would write it (pruned the same way)."""
    out = {}
    for position, (name, field) in enumerate(model.model_fields.items()):
        default = field.get_default(call_default_factory=True) if not field.is_required() else _NO_DEFAULT
        if isinstance(default, BaseModel):
            default = without_defaults(default.model_dump(mode="json", by_alias=True), type(default))
        out[field.alias or name] = (position, field.annotation, default)
    return out


def _tidy(annotation: Any, value: Any) -> Any:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        return _tidy(models[0], value) if len(models) == 1 and isinstance(value, dict) else value
    if origin is typing.Annotated:
        return _tidy(args[0], value)
    if origin is dict and isinstance(value, dict):
        return {k: _tidy(args[1], v) for k, v in value.items()}
    if origin is list and isinstance(value, list):
        return [_tidy(args[0], v) for v in value]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel) and isinstance(value, dict):
        return without_defaults(value, annotation)
    return value
