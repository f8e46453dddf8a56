"""The Envoy layer: per gateway a bootstrap with its listeners, virtual hosts, routes and clusters,
and the SDS secrets of the certificates it serves. Compiled, compared with running gateways through
their admin API (by version first), and delivered by `edgec apply` (edgec/apply/envoy_delivery.py)."""

from __future__ import annotations

from edgec.diff.plan import Change
from edgec.ir.model import IR, Resource
from edgec.layers.base import EmitOptions, Layer, LiveLayer, ReadContext
from edgec.layers.envoy.build import build_envoy
from edgec.layers.envoy.compare import compare_envoy
from edgec.layers.envoy.emit import emit_envoy
from edgec.spec.model import Spec


class EnvoyLayer(Layer):
    name, title, terraform = "envoy", "Envoy", False

    def build(self, spec: Spec) -> list[Resource]:
        return build_envoy(spec)

    def emit(self, ir: IR, options: EmitOptions = EmitOptions()) -> dict[str, str]:
        return emit_envoy(ir, options)

    def read(self, ir: IR, context: ReadContext) -> LiveLayer:
        from edgec.layers.envoy.read import read_envoy

        return read_envoy(ir, context)

    def compare(self, ir: IR, live: dict[str, LiveLayer]) -> list[Change]:
        return compare_envoy(ir, live)


LAYER = EnvoyLayer()
