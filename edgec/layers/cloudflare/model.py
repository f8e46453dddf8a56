"""The Cloudflare layer's IR: DNS records, WAF entry-point rulesets, zone settings, origin pulls and
Origin CA certificates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from edgec.ir.model import Resource


@dataclass(frozen=True)
class CfResource(Resource):
    layer: ClassVar[str] = "cloudflare"


@dataclass(frozen=True)
class CfDnsRecord(CfResource):
    resource_type: ClassVar[str] = "cloudflare_dns_record"
    kind: ClassVar[str] = "dns_record"
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

    def key(self) -> tuple:
        return (self.zone, self.fqdn.lower(), self.type, self.content, self.data, self.gateway)

    @property
    def label(self) -> str:
        return f"{self.fqdn} {self.type}"

    @property
    def hostname(self) -> str | None:
        return self.fqdn


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
class CfRuleset(CfResource):
    resource_type: ClassVar[str] = "cloudflare_ruleset"
    kind: ClassVar[str] = "ruleset"
    zone: str
    phase: str
    description: str
    rules: tuple[WafRule, ...]

    def key(self) -> tuple:
        return (self.zone, self.phase)

    @property
    def label(self) -> str:
        return f"{self.zone} {self.phase}"


@dataclass(frozen=True)
class CfZoneSetting(CfResource):
    resource_type: ClassVar[str] = "cloudflare_zone_setting"
    kind: ClassVar[str] = "zone_setting"
    zone: str
    setting_id: str
    value: Any

    def key(self) -> tuple:
        return (self.zone, self.setting_id)

    @property
    def label(self) -> str:
        return f"{self.zone} {self.setting_id}"


@dataclass(frozen=True)
class CfOriginPulls(CfResource):
    resource_type: ClassVar[str] = "cloudflare_authenticated_origin_pulls_settings"
    kind: ClassVar[str] = "origin_pulls"
    zone: str
    enabled: bool

    def key(self) -> tuple:
        return (self.zone,)

    @property
    def label(self) -> str:
        return self.zone


@dataclass(frozen=True)
class CfOriginCaCertificate(CfResource):
    resource_type: ClassVar[str] = "cloudflare_origin_ca_certificate"
    kind: ClassVar[str] = "origin_ca_certificate"
    certificate: str  # the spec's certificate name
    hostnames: tuple[str, ...]
    request_type: Literal["origin-rsa", "origin-ecc"]
    validity_days: int

    def key(self) -> tuple:
        return (self.certificate,)

    @property
    def label(self) -> str:
        return self.certificate


def record_content(record: CfDnsRecord) -> str | None:
    """What a record points at or holds, as compared: targets without a trailing dot or case."""
    if record.type in ("CNAME", "MX") and record.content:
        return record.content.rstrip(".").lower()
    return record.content
