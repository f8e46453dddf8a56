"""The layers edgec compiles a spec into and reads back, in the order they are applied: AWS first (the
Cloudflare layer looks its NLBs up by name, and compares host records with their DNS names), then
Cloudflare, then Envoy.

`ORDER` is the registry: the names of the layer packages below, each exporting `LAYER`. Adding a
layer means a package here and its name in ORDER. The packages are imported when first asked for
(`LAYERS`), so the spec model can name the layers without importing them.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from edgec.layers.base import Layer

ORDER = ("aws", "cloudflare", "envoy")
LAYER_NAMES = ORDER


@cache
def _layers() -> tuple[Layer, ...]:
    return tuple(importlib.import_module(f"edgec.layers.{name}").LAYER for name in ORDER)


def __getattr__(name: str):
    if name == "LAYERS":
        return _layers()
    if name == "TERRAFORM_LAYERS":
        return tuple(layer for layer in _layers() if layer.terraform)
    raise AttributeError(name)


def layer_named(name: str) -> Layer:
    return _layers()[ORDER.index(name)]
