"""Leave out what the spec would assume anyway: an imported spec reads like one written by hand, with
only the values that differ from edgec's defaults."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel

from edgec.spec.model import Spec


def without_defaults(document: dict[str, Any], model: type[BaseModel] = Spec) -> dict[str, Any]:
    """The document, minus every value equal to its field's default (a block of defaults only is left
    out when the field defaults to that block; an optional block that is present stays, even empty),
    with its keys in the model's order."""
    order = {f.alias or name: i for i, (name, f) in enumerate(model.model_fields.items())}
    out = {}
    for key, value in sorted(document.items(), key=lambda item: order.get(item[0], len(order))):
        field = model.model_fields.get(key) or next(
            (f for f in model.model_fields.values() if f.alias == key), None)
        if field is None:
            out[key] = value
            continue
        value = _tidy(field.annotation, value)
        default = field.get_default(call_default_factory=True)
        if isinstance(default, BaseModel):
            default = without_defaults(default.model_dump(mode="json", by_alias=True), type(default))
        if value == default:
            continue
        out[key] = value
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
