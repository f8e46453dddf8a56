"""The layers edgec compiles a spec into and reads back, in the order they are applied: AWS first (the
Cloudflare layer looks its NLBs up by name, and compares host records with their DNS names), then
Cloudflare, then Envoy. Adding a layer means a package here and a line in LAYERS."""

from __future__ import annotations

from edgec.layers.aws import AWS
from edgec.layers.base import Layer
from edgec.layers.cloudflare import CLOUDFLARE
from edgec.layers.envoy import ENVOY

LAYERS: tuple[Layer, ...] = (AWS, CLOUDFLARE, ENVOY)
LAYER_NAMES = tuple(layer.name for layer in LAYERS)
TERRAFORM_LAYERS = tuple(layer for layer in LAYERS if layer.terraform)


def layer_named(name: str) -> Layer:
    return next(layer for layer in LAYERS if layer.name == name)
