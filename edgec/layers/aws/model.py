"""The AWS layer's IR: security groups and rules, NLBs, target groups, listeners, Route 53, ACM."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

from edgec.ir.model import Resource


@dataclass(frozen=True, slots=True)
class AwsResource(Resource):
    layer: ClassVar[str] = "aws"


@dataclass(frozen=True, slots=True)
class AwsSecurityGroup(AwsResource):
    resource_type: ClassVar[str] = "aws_security_group"
    kind: ClassVar[str] = "security_group"
    key_fields: ClassVar[tuple[str, ...]] = ("group_name",)
    label_format: ClassVar[str] = "{group_name}"
    gateway: str
    group_name: str
    description: str


@dataclass(frozen=True, slots=True)
class AwsSecurityGroupRule(AwsResource):
    resource_type: ClassVar[str] = "aws_vpc_security_group_rule"
    kind: ClassVar[str] = "security_group_rule"
    key_fields: ClassVar[tuple[str, ...]] = ("gateway", "direction", "cidr", "port", "protocol")
    label_format: ClassVar[str] = "{gateway} {direction} {protocol}/{port} {cidr}"
    gateway: str
    direction: Literal["ingress", "egress"]
    cidr: str  # IPv4 or IPv6 block; for egress, 'vpc' means the VPC's own CIDR
    port: int
    protocol: str
    description: str

    @property
    def address(self) -> str:  # the provider has one resource type per direction
        return f"aws_vpc_security_group_{self.direction}_rule.{self.name}"


@dataclass(frozen=True, slots=True)
class AwsLoadBalancer(AwsResource):
    resource_type: ClassVar[str] = "aws_lb"
    kind: ClassVar[str] = "load_balancer"
    key_fields: ClassVar[tuple[str, ...]] = ("lb_name",)
    label_format: ClassVar[str] = "{lb_name}"
    gateway: str
    lb_name: str
    internal: bool
    subnets: tuple[str, ...]
    cross_zone: bool | None  # None: not read
    deletion_protection: bool | None


@dataclass(frozen=True, slots=True)
class AwsTargetGroup(AwsResource):
    resource_type: ClassVar[str] = "aws_lb_target_group"
    kind: ClassVar[str] = "target_group"
    key_fields: ClassVar[tuple[str, ...]] = ("group_name",)
    label_format: ClassVar[str] = "{group_name}"
    gateway: str
    group_name: str
    port: int
    protocol: Literal["TCP", "TLS"]
    health_port: int
    health_path: str


@dataclass(frozen=True, slots=True)
class AwsListener(AwsResource):
    resource_type: ClassVar[str] = "aws_lb_listener"
    kind: ClassVar[str] = "listener"
    key_fields: ClassVar[tuple[str, ...]] = ("gateway", "port")
    label_format: ClassVar[str] = "{gateway}:{port}"
    gateway: str
    port: int
    protocol: Literal["TCP", "TLS"]
    target_group: str  # name of the AwsTargetGroup
    certificate: str | None = None  # name of the AwsAcmCertificate (TLS listeners): the default
    sni_certificates: tuple[str, ...] = ()  # more AwsAcmCertificates, chosen by SNI
    ssl_policy: str | None = None
    alpn_policy: str | None = None


@dataclass(frozen=True, slots=True)
class AwsRoute53Zone(AwsResource):
    resource_type: ClassVar[str] = "aws_route53_zone"
    kind: ClassVar[str] = "route53_zone"
    key_fields: ClassVar[tuple[str, ...]] = ("zone",)
    label_format: ClassVar[str] = "{zone}"
    zone: str
    private: bool
    vpc_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AwsRoute53Record(AwsResource):
    """A record set: every value of one name and type (Route 53 holds them together, with one TTL)."""

    resource_type: ClassVar[str] = "aws_route53_record"
    kind: ClassVar[str] = "route53_record"
    key_fields: ClassVar[tuple[str, ...]] = ("zone", "fqdn", "type")
    label_format: ClassVar[str] = "{fqdn} {type}"
    zone: str
    fqdn: str
    type: str
    ttl: int | None = None
    records: tuple[str, ...] = ()  # Route 53's text form: TXT quoted, MX and SRV led by the priority
    alias_gateway: str | None = None  # an alias A record to this gateway's NLB
    alias_target: str | None = None  # (live) an alias to a DNS name that is no gateway's NLB


@dataclass(frozen=True, slots=True)
class AwsAcmCertificate(AwsResource):
    resource_type: ClassVar[str] = "aws_acm_certificate"
    kind: ClassVar[str] = "acm_certificate"
    certificate: str  # the spec's certificate name
    domains: tuple[str, ...]
    # zone of each domain and who serves it: validation records go to that provider
    validation_zones: tuple[tuple[str, str, str], ...] = field(default=())  # (domain, zone, provider)

    def key(self) -> tuple:
        return tuple(sorted(self.domains))

    @property
    def label(self) -> str:
        return f"{self.certificate} ({', '.join(self.domains)})"

    @property
    def validated_in_cloudflare(self) -> bool:
        return any(provider == "cloudflare" for _, _, provider in self.validation_zones)
