"""Resolve a validated spec into the IR: the estate's facts, and every layer's resources, sorted.

Each layer builds its own part (edgec/layers/*/build.py). Two spec elements must never become one
resource: no two resources of a type may share an address or a key (a provider's identity, such as a
load balancer's name or a record's name, type and value). Such a clash is a `NameClash`, which
validation reports as a located error on both elements.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgec.ir.model import IR, AwsFacts, Estate, Resource, ZoneFacts, sort_resources
from edgec.layers import LAYERS
from edgec.spec.model import Spec


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
    return Estate(spec.name, zones, aws, spec.cloudflare.account_id)


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
