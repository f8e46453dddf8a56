"""The Cloudflare layer's IR: DNS records, WAF entry-point rulesets, zone settings, origin pulls (the
setting and the zone's client certificate) and Origin CA certificates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from edgec.ir.model import Resource


@dataclass(frozen=True, slots=True)
class CfResource(Resource):
    layer: ClassVar[str] = "cloudflare"


@dataclass(frozen=True, slots=True)
class CfDnsRecord(CfResource):
    resource_type: ClassVar[str] = "cloudflare_dns_record"
    kind: ClassVar[str] = "dns_record"
    label_format: ClassVar[str] = "{fqdn} {type}"
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
    def hostname(self) -> str | None:
        return self.fqdn


@dataclass(frozen=True, slots=True)
class WafRule:
    ref: str  # stable identity of the rule inside its ruleset
    description: str
    expression: str
    action: str
    enabled: bool = True
    action_parameters: dict | None = None
    ratelimit: dict | None = None


@dataclass(frozen=True, slots=True)
class CfRuleset(CfResource):
    resource_type: ClassVar[str] = "cloudflare_ruleset"
    kind: ClassVar[str] = "ruleset"
    key_fields: ClassVar[tuple[str, ...]] = ("zone", "phase")
    label_format: ClassVar[str] = "{zone} {phase}"
    zone: str
    phase: str
    description: str
    rules: tuple[WafRule, ...]


@dataclass(frozen=True, slots=True)
class CfZoneSetting(CfResource):
    resource_type: ClassVar[str] = "cloudflare_zone_setting"
    kind: ClassVar[str] = "zone_setting"
    key_fields: ClassVar[tuple[str, ...]] = ("zone", "setting_id")
    label_format: ClassVar[str] = "{zone} {setting_id}"
    zone: str
    setting_id: str
    value: Any


@dataclass(frozen=True, slots=True)
class CfOriginPulls(CfResource):
    resource_type: ClassVar[str] = "cloudflare_authenticated_origin_pulls_settings"
    kind: ClassVar[str] = "origin_pulls"
    key_fields: ClassVar[tuple[str, ...]] = ("zone",)
    label_format: ClassVar[str] = "{zone}"
    zone: str
    enabled: bool


@dataclass(frozen=True, slots=True)
class CfOriginPullCertificate(CfResource):
    """The client certificate a zone presents to its origins (zone-level authenticated origin pulls)."""
    resource_type: ClassVar[str] = "cloudflare_authenticated_origin_pulls_certificate"
    kind: ClassVar[str] = "origin_pull_certificate"
    key_fields: ClassVar[tuple[str, ...]] = ("zone",)
    label_format: ClassVar[str] = "{zone}"
    zone: str
    fingerprint: str  # SHA-256 of the certificate: how it is compared
    certificate: str = ""  # the spec's certificate name (desired only)
    pem: str = ""  # the certificate, public (not compared: the fingerprint is)
    key_file: str | None = None  # where Terraform reads the private key, or
    key_secret: str | None = None  # the AWS Secrets Manager secret that holds it


@dataclass(frozen=True, slots=True)
class CfOriginCaCertificate(CfResource):
    resource_type: ClassVar[str] = "cloudflare_origin_ca_certificate"
    kind: ClassVar[str] = "origin_ca_certificate"
    key_fields: ClassVar[tuple[str, ...]] = ("certificate",)
    label_format: ClassVar[str] = "{certificate}"
    certificate: str  # the spec's certificate name
    hostnames: tuple[str, ...]
    request_type: Literal["origin-rsa", "origin-ecc"]
    validity_days: int


def record_content(record: CfDnsRecord) -> str | None:
    """What a record points at or holds, as compared: targets without a trailing dot or case."""
    if record.type in ("CNAME", "MX") and record.content:
        return record.content.rstrip(".").lower()
    return record.content
