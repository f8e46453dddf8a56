"""Resolve a validated spec into the IR: the estate's facts, and every layer's resources, sorted.

Each layer builds its own part (edgec/layers/*/build.py). Two spec elements must never become one
resource: no two resources of a type may share an address or a key (a provider's identity, such as a
load balancer's name or a record's name, type and value). Such a clash is a `NameClash`, which
validation reports as a located error on both elements.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgec.ir.model import IR, AwsFacts, Estate, Resource, StateBackend, ZoneFacts, sort_resources
from edgec.layers import LAYERS
from edgec.spec.model import Backend, Spec


@dataclass(frozen=True)
class Clash:
    first: Resource
    second: Resource
    what: str  # "address aws_lb.public" or "name acme-prod-a-b"


class NameClash(Exception):
    def __init__(self, clashes: list[Clash]):
        super().__init__("; ".join(f"{c.what}: {c.first.origin} and {c.second.origin}" for c in clashes))
        self.clashes = clashes


def build_ir(spec: Spec) -> IR:
    resources: list[Resource] = []
    for layer in LAYERS:
        resources += layer.build(spec)
    clashes = name_clashes(resources)
    if clashes:
        raise NameClash(clashes)
    return IR(estate_of(spec), sort_resources(resources))


def estate_of(spec: Spec) -> Estate:
    aws = None
    if spec.aws is not None:
        tags = tuple(sorted({**spec.metadata.labels, **spec.aws.tags}.items()))
        aws = AwsFacts(spec.aws.region, spec.aws.vpc_id, tags)
    zones = {name: ZoneFacts(zone.provider, zone.private) for name, zone in spec.zones.items()}
    return Estate(spec.name, zones, aws, spec.cloudflare.account_id, state_backends(spec))


def state_backends(spec: Spec) -> dict[str, StateBackend]:
    """Each Terraform layer's backend from the spec: its own, else the shared one with the layer's key."""
    backends = {}
    for layer in ("aws", "cloudflare"):
        own = spec.terraform.layers.get(layer)
        backend = own.backend if own is not None else spec.terraform.backend
        if backend is not None:
            backends[layer] = _backend(spec.name, layer, backend)
    return backends


def _backend(estate: str, layer: str, backend: Backend) -> StateBackend:
    s3 = backend.s3
    if s3 is not None:
        key = s3.key or f"{s3.key_prefix or 'edgec/' + estate}/{layer}.tfstate"
        config = {"bucket": s3.bucket, "key": key, "region": s3.region, "encrypt": s3.encrypt,
                  "use_lockfile": s3.use_lockfile or None, "dynamodb_table": s3.dynamodb_table}
        return StateBackend("s3", tuple((k, v) for k, v in config.items() if v is not None))
    assert backend.type is not None
    return StateBackend(backend.type, tuple((k, _with_layer(v, layer)) for k, v in backend.config.items()))


def _with_layer(value, layer: str):
    if isinstance(value, str):
        return value.replace("{layer}", layer)
    if isinstance(value, list):
        return [_with_layer(v, layer) for v in value]
    if isinstance(value, dict):
        return {k: _with_layer(v, layer) for k, v in value.items()}
    return value


def name_clashes(resources: list[Resource]) -> list[Clash]:
    """Pairs of resources that would be one object to Terraform (same address) or to the provider (same
    type and key)."""
    clashes = []
    addresses: dict[str, Resource] = {}
    keys: dict[tuple, Resource] = {}
    for resource in resources:
        first = addresses.setdefault(resource.address, resource)
        if first is not resource:
            clashes.append(Clash(first, resource, f"address {resource.address}"))
            continue
        if resource.key_fields == ("name",) and type(resource).key is Resource.key:
            continue  # its key is its name, which the address holds
        identity = (type(resource), resource.key())
        first = keys.setdefault(identity, resource)
        if first is not resource:
            key = ", ".join(str(part) for part in identity[1] if part is not None)
            clashes.append(Clash(first, resource, f"the same {resource.kind.replace('_', ' ')} ({key})"))
    return clashes
