"""The IR: the provider-level resources a spec implies, one object per resource.

Emitters turn these into Terraform (and Envoy config); live readers will produce the same shapes so
the differ can compare desired and live state attribute by attribute. Values here are normalised
(full names without trailing dots, TTL 1 for automatic, sorted collections); provider syntax and
quirks (HCL, API field names, references between Terraform resources) stay in emitters and readers.

Every resource has a `name`: a stable slug derived from spec names (never from positions), used
for Terraform addresses, so adding or renaming one element never re-addresses the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal


@dataclass(frozen=True)
class Resource:
    provider: ClassVar[str]
    name: str  # stable slug, unique per resource kind
    origin: str  # the spec element that produced it, e.g. 'ingresses[api.acme.com]'


# --- Cloudflare --------------------------------------------------------------------------------

@dataclass(frozen=True)
class CfDnsRecord(Resource):
    provider: ClassVar[str] = "cloudflare"
    zone: str
    fqdn: str
    type: str
    ttl: int  # 1 = automatic
    proxied: bool
    content: str | None = None  # None when the target is a gateway's NLB
    gateway: str | None = None  # points at this gateway's NLB
    priority: int | None = None
    comment: str | None = None
    data: tuple[tuple[str, Any], ...] | None = None  # structured data (SRV, CAA), sorted pairs


@dataclass(frozen=True)
class WafRule:
    ref: str  # stable identity of the rule inside its ruleset
    description: str
    expression: str
    action: str
    enabled: bool = True
    action_parameters: dict | None = None
    ratelimit: dict | None = None


@dataclass(frozen=True)
class CfRuleset(Resource):
    provider: ClassVar[str] = "cloudflare"
    zone: str
    phase: str
    description: str
    rules: tuple[WafRule, ...]


@dataclass(frozen=True)
class CfZoneSetting(Resource):
    provider: ClassVar[str] = "cloudflare"
    zone: str
    setting_id: str
    value: Any


@dataclass(frozen=True)
class CfOriginPulls(Resource):
    provider: ClassVar[str] = "cloudflare"
    zone: str
    enabled: bool


@dataclass(frozen=True)
class CfOriginCaCertificate(Resource):
    provider: ClassVar[str] = "cloudflare"
    certificate: str  # spec certificate name
    hostnames: tuple[str, ...]
    request_type: Literal["origin-rsa", "origin-ecc"]
    validity_days: int


# --- AWS ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AwsSecurityGroup(Resource):
    provider: ClassVar[str] = "aws"
    gateway: str
    group_name: str
    description: str


@dataclass(frozen=True)
class AwsSecurityGroupRule(Resource):
    provider: ClassVar[str] = "aws"
    gateway: str
    direction: Literal["ingress", "egress"]
    cidr: str  # IPv4 or IPv6 block; for egress, 'vpc' means the VPC's own CIDR
    port: int
    protocol: str
    description: str


@dataclass(frozen=True)
class AwsLoadBalancer(Resource):
    provider: ClassVar[str] = "aws"
    gateway: str
    lb_name: str
    internal: bool
    subnets: tuple[str, ...]
    cross_zone: bool | None  # None: not read
    deletion_protection: bool | None


@dataclass(frozen=True)
class AwsTargetGroup(Resource):
    provider: ClassVar[str] = "aws"
    gateway: str
    group_name: str
    port: int
    protocol: Literal["TCP", "TLS"]
    health_port: int
    health_path: str


@dataclass(frozen=True)
class AwsListener(Resource):
    provider: ClassVar[str] = "aws"
    gateway: str
    port: int
    protocol: Literal["TCP", "TLS"]
    target_group: str  # name of the AwsTargetGroup
    certificate: str | None = None  # name of the AwsAcmCertificate (TLS listeners): the default
    sni_certificates: tuple[str, ...] = ()  # more AwsAcmCertificates, chosen by SNI
    ssl_policy: str | None = None
    alpn_policy: str | None = None


@dataclass(frozen=True)
class AwsRoute53Zone(Resource):
    provider: ClassVar[str] = "aws"
    zone: str
    private: bool
    vpc_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class AwsRoute53Record(Resource):
    provider: ClassVar[str] = "aws"
    zone: str
    fqdn: str
    type: str
    ttl: int | None = None
    records: tuple[str, ...] = ()
    alias_gateway: str | None = None  # an alias A record to this gateway's NLB


@dataclass(frozen=True)
class AwsAcmCertificate(Resource):
    provider: ClassVar[str] = "aws"
    certificate: str  # spec certificate name
    domains: tuple[str, ...]
    # zone of each domain and who serves it: validation records go to that provider
    validation_zones: tuple[tuple[str, str, str], ...] = field(default=())  # (domain, zone, provider)


IR = list[Resource]
