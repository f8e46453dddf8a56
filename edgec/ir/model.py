"""The IR: every resource a spec implies, in every layer, with the estate facts the emitters need.

It is the one middle of edgec. The spec is resolved into it once (defaults filled in, references
followed, names chosen); emitters write files from it alone; readers turn live state into the same
resource types; the differ compares the two; trace and the policies walk it.

Every resource has
- `name`: a stable label derived from spec names (never from positions), so adding or renaming one
  element never re-addresses another. With its class's `resource_type` it makes the `address`: the
  Terraform address for the Terraform layers (`aws_lb.public`), a path for Envoy
  (`envoy_route.public/api.acme.com/payments`). A live resource carries the address of the desired
  resource it is, so desired and live pair by address.
- `key()`: what makes it the same object to the provider (a record's zone, name and type; a load
  balancer's name). Two resources of one type never share an address or a key.
- `origin`: the spec path that produced it, so a problem with it can be located in the spec (empty for
  live resources).
Values are normalised (names without trailing dots, durations as timedelta, sorted collections);
provider syntax (HCL, API field names, Envoy's JSON) stays in each layer's emitter and reader.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterable, TypeVar

from edgec.diagnostics import Path


@dataclass(frozen=True, slots=True)
class Resource:
    layer: ClassVar[str]  # the layer that emits and reads it: aws, cloudflare, envoy
    resource_type: ClassVar[str]  # the first part of its address (a Terraform type for Terraform layers)
    kind: ClassVar[str]  # how plans name the type: dns_record, security_group_rule, route, ...
    key_fields: ClassVar[tuple[str, ...]] = ("name",)  # what makes it the same object to the provider
    label_format: ClassVar[str] = "{name}"  # how plans show it, from its fields
    name: str
    origin: Path

    @property
    def address(self) -> str:
        return f"{self.resource_type}.{self.name}"

    def key(self) -> tuple:
        """The provider's identity of the object: a record's zone, name and type; an NLB's name."""
        return tuple(getattr(self, f) for f in self.key_fields)

    @property
    def label(self) -> str:
        """How plans show it, e.g. 'api.acme.com CNAME' (ignore rules match this)."""
        return self.label_format.format_map({f: getattr(self, f) for f in self.__dataclass_fields__})

    @property
    def hostname(self) -> str | None:
        """The hostname it serves or names, for grouping plans by host."""
        return getattr(self, "host", None)

    @property
    def gateway_name(self) -> str | None:
        """The gateway it belongs to, for owners in drift reports."""
        return getattr(self, "gateway", None)


R = TypeVar("R", bound=Resource)


# --- facts the emitters need besides the resources --------------------------------------------

@dataclass(frozen=True, slots=True)
class AwsFacts:
    region: str
    vpc_id: str
    tags: tuple[tuple[str, str], ...]  # the spec's labels and aws.tags, sorted (edgec adds its own)


@dataclass(frozen=True, slots=True)
class ZoneFacts:
    provider: str  # cloudflare | route53
    private: bool


@dataclass(frozen=True, slots=True)
class StateBackend:
    """Where one Terraform layer keeps its state: a backend block's type and settings, in order."""

    type: str  # s3, gcs, azurerm, ...
    config: tuple[tuple[str, Any], ...]


@dataclass(frozen=True, slots=True)
class Estate:
    """What the spec says about the whole estate: its name, account, region, VPC, zones, and where each
    Terraform layer keeps its state (a layer without an entry: wherever its folder says, local by default)."""

    name: str
    zones: dict[str, ZoneFacts]
    aws: AwsFacts | None = None
    cloudflare_account: str | None = None
    backends: dict[str, StateBackend] = field(default_factory=dict)

    def zones_of(self, provider: str) -> list[str]:
        return sorted(name for name, zone in self.zones.items() if zone.provider == provider)


@dataclass
class IR:
    estate: Estate
    resources: list[Resource]
    _by_type: dict[type, list[Resource]] = field(default_factory=dict, repr=False, compare=False)

    def of(self, kind: type[R]) -> list[R]:
        """The resources of one type, in IR order."""
        if not self._by_type:
            index: dict[type, list[Resource]] = defaultdict(list)
            for resource in self.resources:
                index[type(resource)].append(resource)
            self._by_type.update(index)
        return self._by_type.get(kind, [])  # type: ignore[return-value]

    def in_layer(self, layer: str) -> list[Resource]:
        return [r for r in self.resources if r.layer == layer]


def sort_resources(resources: Iterable[Resource]) -> list[Resource]:
    """The IR's order: by layer, type and name, so output never depends on the order of the spec."""
    return sorted(resources, key=lambda r: (r.layer, r.resource_type, r.name))

