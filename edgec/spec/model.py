"""The edge spec, version 1 (`apiVersion: edgec/v1`), as pydantic models.

These models say what a user may write and check each value on its own. Checks that need the
whole spec (references, zones, overlaps, TLS coverage, WAF expressions) live in `checks*.py`.
Each field's docstring becomes its description in the JSON Schema and in docs/spec.md.

One module for the whole format on purpose: it reads top to bottom as the spec does, and the schema
and the field reference are generated from it in that order.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from edgec.layers import ORDER
from edgec.spec.types import (
    Cidr,
    Duration,
    Endpoint,
    HeaderName,
    Hostname,
    HttpPath,
    Identifier,
    Port,
    TlsVersion,
    ZoneName,
)

API_VERSION = "edgec/v1"
UINT32_MAX = 4294967295  # Envoy's counts are 32-bit unsigned


class SpecModel(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True, validate_default=True)


def required_in_schema(*fields: str) -> ConfigDict:
    """The model's config, with `fields` required in the JSON Schema (and the field reference): the model
    leaves them optional only so that the checker says what is missing in its own words; edgec refuses a
    spec without them all the same."""
    def extra(schema: dict) -> None:
        schema["required"] = [*schema.get("required", []), *fields]

    return ConfigDict(**SpecModel.model_config, json_schema_extra=extra)


# --- metadata and provider settings -------------------------------------------------------------

class Metadata(SpecModel):
    owner: str | None = Field(None, examples=["platform-team"])
    """Team that owns this estate; shown in drift reports."""
    description: str | None = Field(None, examples=["Production edge of acme.com"])
    """Free text for humans."""
    labels: dict[str, str] = Field(default_factory=dict, examples=[{"env": "prod"}])
    """Key/value labels, copied onto every cloud resource as tags where the provider supports them."""


class CloudflareSettings(SpecModel):
    account_id: str | None = Field(None, pattern=r"^[0-9a-f]{32}$", examples=["0123456789abcdef0123456789abcdef"])
    """Cloudflare account ID (32 hex digits). Not a secret; the API token comes from CLOUDFLARE_API_TOKEN."""


class AwsSubnets(SpecModel):
    public: list[Annotated[str, Field(pattern=r"^subnet-[0-9a-z]+$")]] = Field(
        default_factory=list, examples=[["subnet-0a1b2c3d", "subnet-4e5f6a7b"]])
    """Subnets for internet-facing NLBs (public gateways), one per availability zone."""
    private: list[Annotated[str, Field(pattern=r"^subnet-[0-9a-z]+$")]] = Field(
        default_factory=list, examples=[["subnet-8c9d0e1f"]])
    """Subnets for internal NLBs (private gateways)."""


class AwsSettings(SpecModel):
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$", examples=["eu-west-1"])
    """AWS region of the load balancers, security groups and certificates."""
    vpc_id: str = Field(pattern=r"^vpc-[0-9a-z]+$", examples=["vpc-0abc1234"])
    """VPC that holds the gateways; private Route 53 zones are associated with it."""
    subnets: AwsSubnets = Field(default_factory=AwsSubnets)
    """Subnets by exposure."""
    tags: dict[str, str] = Field(default_factory=dict, examples=[{"cost-center": "edge"}])
    """Extra tags on every AWS resource (edgec adds its own ownership tags)."""


# --- zones -------------------------------------------------------------------------------------

class Hsts(SpecModel):
    enabled: bool = True
    """Send Strict-Transport-Security from Cloudflare's edge."""
    max_age: int = Field(31536000, ge=0, le=63072000, examples=[31536000])
    """Seconds browsers remember to use HTTPS (one year is the usual value)."""
    include_subdomains: bool = True
    """Apply HSTS to every subdomain as well."""
    preload: bool = False
    """Ask to be put on browsers' preload lists (hard to undo)."""
    nosniff: bool = True
    """Also send X-Content-Type-Options: nosniff."""


class ZoneTls(SpecModel):
    mode: Literal["off", "flexible", "full", "strict"] = "strict"
    """Cloudflare SSL mode: how Cloudflare connects to the origin. `strict` checks the origin certificate."""
    min_version: TlsVersion = "1.2"
    """Lowest TLS version visitors may use. Below 1.2 is a warning."""
    always_use_https: bool = True
    """Redirect every plain-HTTP request to HTTPS at Cloudflare's edge."""
    tls_1_3: bool = True
    """Offer TLS 1.3 to visitors."""
    hsts: Hsts | None = None
    """HTTP Strict Transport Security; leave out to keep it off."""


class ApplyLimits(SpecModel):
    max_change_percent: int = Field(30, ge=0, le=100, examples=[30])
    """`edgec apply` refuses, without `--force`, to update or delete more than this share of the owned
    resources of one zone or gateway at once."""
    min_resources: int = Field(10, ge=1, examples=[10])
    """The share is checked only when the zone or gateway holds at least this many owned resources."""


class Zone(SpecModel):
    provider: Literal["cloudflare", "route53"] = Field(examples=["cloudflare"])
    """Who serves the zone's DNS: `cloudflare` (public, proxied) or `route53`."""
    private: bool = False
    """A private Route 53 zone, visible only inside the VPC. Cloudflare zones are always public."""
    tls: ZoneTls | None = None
    """Edge TLS settings (Cloudflare zones only)."""
    vpc_ids: list[Annotated[str, Field(pattern=r"^vpc-[0-9a-z]+$")]] = Field(default_factory=list,
                                                                             examples=[["vpc-0abc1234"]])
    """Extra VPCs to associate with a private zone, besides `aws.vpc_id`."""
    owner: str | None = None
    """Team that owns the zone."""
    apply_limits: ApplyLimits = Field(default_factory=ApplyLimits)
    """Safety rail of `edgec apply` for this zone (see docs/apply.md)."""


# --- certificates ------------------------------------------------------------------------------

class _CertificateBase(SpecModel):
    domains: list[Hostname] = Field(min_length=1, examples=[["acme.com", "*.acme.com"]])
    """Names the certificate covers; `*.acme.com` covers one label below acme.com."""


class AcmCertificate(_CertificateBase):
    source: Literal["acm"]
    """Issued by AWS Certificate Manager, validated through DNS records edgec creates."""
    validation: Literal["dns"] = "dns"
    """How ACM proves control of the names; only DNS validation is supported (it renews by itself)."""


class OriginCaCertificate(_CertificateBase):
    source: Literal["cloudflare-origin-ca"]
    """Issued by Cloudflare's Origin CA: trusted by Cloudflare only, valid for SSL mode strict."""
    key_type: Literal["rsa", "ecc"] = "ecc"
    """Key algorithm of the certificate."""
    validity_days: Literal[7, 30, 90, 365, 730, 1095, 5475] = 5475
    """How long the certificate is valid."""


class FileCertificate(_CertificateBase):
    source: Literal["files"]
    """A certificate and key you manage yourself, as PEM files on the gateway's filesystem."""
    cert_file: str = Field(min_length=1, examples=["/etc/envoy/certs/acme.crt"])
    """Path of the PEM certificate chain, as seen by Envoy."""
    key_file: str = Field(min_length=1, examples=["/etc/envoy/certs/acme.key"])
    """Path of the PEM private key, as seen by Envoy. Never put key material in the spec."""


class OriginPullCertificate(SpecModel):
    source: Literal["origin-pull"]
    """A client certificate of your own that Cloudflare presents to your gateways (zone-level
    authenticated origin pulls): only your zones can reach them, not every Cloudflare customer's."""
    certificate_file: str = Field(min_length=1, examples=["certs/origin-pull.pem"])
    """PEM of the client certificate, relative to the spec file that names it. It is public: commit
    it; edgec writes it into the Terraform files and compares it with the one Cloudflare holds."""
    key_file: str | None = Field(None, min_length=1, examples=["/run/secrets/origin-pull.key"])
    """Absolute path of the PEM private key on the machine that runs Terraform (read by Terraform
    only). Give this or `key_secret`."""
    key_secret: str | None = Field(None, min_length=1, examples=["edge/origin-pull-key"])
    """Name or ARN of the AWS Secrets Manager secret holding the PEM private key (read by Terraform
    only). Give this or `key_file`."""
    ca_file: str = Field(min_length=1, examples=["/etc/envoy/certs/origin-pull-ca.pem"])
    """Path, as seen by Envoy, of the PEM of the CA that signed the client certificate: the only CA
    the gateway trusts for client certificates."""

    @model_validator(mode="after")
    def _one_key_source(self):
        if (self.key_file is None) == (self.key_secret is None):
            raise ValueError("give exactly one of key_file or key_secret (never the key itself)")
        return self


Certificate = Annotated[AcmCertificate | OriginCaCertificate | FileCertificate | OriginPullCertificate,
                        Field(discriminator="source")]
ServedCertificate = AcmCertificate | OriginCaCertificate | FileCertificate  # what a listener can serve


# --- gateways ----------------------------------------------------------------------------------

class GatewayPorts(SpecModel):
    https: Port = 443
    """Port of the HTTPS listener (on the NLB and on Envoy)."""
    http: Port | None = Field(None, examples=[80])
    """Port of a plain-HTTP listener that only redirects to HTTPS; leave out for none."""
    health: Port = 8081
    """Envoy's readiness endpoint, used by the NLB health check."""
    admin: Port = 9901
    """Envoy's admin interface, bound to loopback only."""


class GatewayTls(SpecModel):
    model_config = required_in_schema("certificate")

    terminate: Literal["envoy", "nlb"] = "envoy"
    """Where TLS ends: in Envoy (the NLB passes TCP through) or at the NLB (needs an ACM certificate)."""
    certificate: Identifier | None = Field(None, examples=["acme-origin"])
    """Name of an entry in `certificates`: the gateway's default certificate."""
    sni_certificates: list[Identifier] = Field(default_factory=list, examples=[["partners-origin"]])
    """More certificates, chosen by the client's SNI: each host gets the most specific certificate that
    covers it (an exact name before a wildcard); `certificate` serves the rest."""
    min_version: TlsVersion = "1.2"
    """Lowest TLS version accepted from clients. Below 1.2 is a warning."""
    client_auth: Literal["cloudflare-origin-pull", "cloudflare-origin-pull-shared"] | None = None
    """Require client certificates (authenticated origin pulls): `cloudflare-origin-pull` accepts only the
    client certificate `origin_pull_certificate` that your Cloudflare zones present;
    `cloudflare-origin-pull-shared` accepts Cloudflare's certificate shared by all its customers, so
    any Cloudflare zone can reach the gateway (`edgec check` warns)."""
    origin_pull_certificate: Identifier | None = Field(None, examples=["origin-pull"])
    """Name of an entry in `certificates` with `source: origin-pull`: the client certificate the
    Cloudflare zones of this gateway's hosts present. Needed by `client_auth: cloudflare-origin-pull`."""


class NlbSettings(SpecModel):
    cross_zone: bool = True
    """Spread traffic across availability zones."""
    deletion_protection: bool = True
    """Refuse to delete the NLB through the API (its DNS name is hard to replace)."""


class Gateway(SpecModel):
    model_config = required_in_schema("tls")

    exposure: Literal["public", "private"] = Field(examples=["public"])
    """`public`: internet-facing NLB behind the Cloudflare proxy. `private`: internal NLB for the VPC."""
    ports: GatewayPorts = Field(default_factory=GatewayPorts)
    """Listener, health and admin ports."""
    tls: GatewayTls = Field(default_factory=GatewayTls)
    """TLS termination, certificate and client authentication."""
    allow: list[Cidr] = Field(default_factory=list, examples=[["10.0.0.0/8"]])
    """Source CIDRs allowed to reach the NLB. Public gateways default to Cloudflare's published ranges."""
    nlb: NlbSettings = Field(default_factory=NlbSettings)
    """Network Load Balancer settings."""
    owner: str | None = None
    """Team that owns the gateway."""
    apply_limits: ApplyLimits = Field(default_factory=ApplyLimits)
    """Safety rail of `edgec apply` for this gateway's load balancer, listeners and security group."""


# --- services ----------------------------------------------------------------------------------

RetryOn = Literal["5xx", "gateway-error", "reset", "connect-failure", "retriable-4xx",
                  "refused-stream", "retriable-status-codes", "unavailable", "cancelled"]


class Retries(SpecModel):
    attempts: int = Field(ge=0, le=10, examples=[2])
    """How many times to retry after the first try."""
    on: list[RetryOn] = Field(default_factory=lambda: ["5xx", "reset", "connect-failure"],
                              examples=[["5xx", "reset", "connect-failure"]])
    """Conditions that trigger a retry (Envoy's retry_on)."""
    per_try_timeout: Duration | None = Field(None, examples=["1s"])
    """Time limit of each try; without it one slow try uses the whole route timeout."""
    status_codes: list[Annotated[int, Field(ge=100, le=599)]] = Field(default_factory=list, examples=[[503]])
    """Status codes retried when `on` has `retriable-status-codes`."""


class HealthCheck(SpecModel):
    path: HttpPath = "/healthz"
    """HTTP path Envoy probes on each endpoint."""
    interval: Duration = "10s"
    """Time between probes."""
    timeout: Duration = "2s"
    """Time a probe may take."""
    healthy_threshold: int = Field(2, ge=1, le=10)
    """Passing probes before an endpoint is healthy again."""
    unhealthy_threshold: int = Field(3, ge=1, le=10)
    """Failing probes before an endpoint is taken out."""


class CircuitBreaker(SpecModel):
    max_connections: int = Field(1024, ge=1, le=UINT32_MAX)
    """Most connections Envoy opens to the service."""
    max_pending_requests: int = Field(1024, ge=1, le=UINT32_MAX)
    """Most requests waiting for a connection."""
    max_requests: int = Field(1024, ge=1, le=UINT32_MAX)
    """Most requests in flight."""
    max_retries: int = Field(3, ge=0, le=UINT32_MAX)
    """Most retries in flight at once."""


class OutlierDetection(SpecModel):
    consecutive_5xx: int = Field(5, ge=1, le=UINT32_MAX)
    """5xx responses in a row that eject an endpoint."""
    interval: Duration = "10s"
    """How often ejection is evaluated."""
    base_ejection_time: Duration = "30s"
    """How long an endpoint stays ejected (grows with repeated ejections)."""
    max_ejection_percent: int = Field(10, ge=0, le=100)
    """Most of the service's endpoints that may be ejected at once."""


class UpstreamTls(SpecModel):
    sni: Hostname | None = Field(None, examples=["payments.internal.acme.com"])
    """Server name sent to the upstream; defaults to the endpoint's host name."""
    ca_file: str | None = Field(None, examples=["/etc/ssl/certs/ca-certificates.crt"])
    """CA bundle (on the gateway) that verifies the upstream's certificate."""


class Service(SpecModel):
    endpoints: list[Endpoint] = Field(min_length=1, examples=[["payments.payments.svc.cluster.local:8080"]])
    """Where the service listens, as host:port (DNS names are resolved by Envoy, IPs used as they are)."""
    protocol: Literal["http1", "http2"] = "http1"
    """HTTP version spoken to the upstream (http2 for gRPC)."""
    tls: UpstreamTls | None = Field(None, examples=[{"ca_file": "/etc/ssl/certs/ca-certificates.crt"}])
    """Speak TLS to the upstream; leave out for plain text inside the cluster."""
    connect_timeout: Duration = Field("2s", examples=["500ms"])
    """Time to open a connection to an endpoint."""
    timeout: Duration = Field("15s", examples=["3s"])
    """Default request timeout of routes to this service."""
    retries: Retries | None = None
    """Default retry policy of routes to this service."""
    health_check: HealthCheck | None = None
    """Active health checking by Envoy; leave out for none."""
    circuit_breaker: CircuitBreaker = Field(default_factory=CircuitBreaker)
    """Limits that protect the service from overload."""
    outlier_detection: OutlierDetection | None = None
    """Passive ejection of failing endpoints; leave out for none."""
    load_balancing: Literal["round_robin", "least_request", "random", "ring_hash", "maglev"] = "round_robin"
    """How Envoy picks an endpoint."""
    owner: str | None = None
    """Team that owns the service."""


# --- ingresses and routes ----------------------------------------------------------------------

Method = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"]


class HeaderMatch(SpecModel):
    name: HeaderName = Field(examples=["x-tenant"])
    """Request header to match."""
    exact: str | None = None
    """Header value equals this."""
    prefix: str | None = Field(None, min_length=1)
    """Header value starts with this."""
    regex: str | None = Field(None, min_length=1)
    """Header value matches this RE2 regular expression."""
    present: bool | None = None
    """Header is present (true) or absent (false)."""
    invert: bool = False
    """Match when the condition does not hold, a request without the header included."""

    @model_validator(mode="after")
    def _one_condition(self):
        given = [k for k in ("exact", "prefix", "regex", "present") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of exact, prefix, regex or present")
        return self


class HeaderChanges(SpecModel):
    set: dict[HeaderName, str] = Field(default_factory=dict, examples=[{"x-edge": "edgec"}])
    """Headers to set, replacing any value already there."""
    add: dict[HeaderName, str] = Field(default_factory=dict)
    """Headers to append, keeping values already there."""
    remove: list[HeaderName] = Field(default_factory=list, examples=[["x-powered-by"]])
    """Headers to remove."""


class RateLimit(SpecModel):
    requests: int = Field(ge=1, le=UINT32_MAX, examples=[100])
    """Requests allowed per interval, per gateway instance (Envoy local rate limit)."""
    per: Duration = Field(examples=["1s"])
    """The interval: 50ms or more (Envoy refills its token bucket at most that often)."""


class Redirect(SpecModel):
    scheme: Literal["http", "https"] | None = None
    """New scheme."""
    host: Hostname | None = Field(None, examples=["www.acme.com"])
    """New host."""
    path: HttpPath | None = Field(None, examples=["/new"])
    """New path (replaces the whole path)."""
    code: Literal[301, 302, 303, 307, 308] = 301
    """Redirect status code."""
    strip_query: bool = False
    """Drop the query string."""


class WeightedService(SpecModel):
    service: Identifier = Field(examples=["payments-v2"])
    """Name of an entry in `services`."""
    weight: int = Field(ge=0, le=1000, examples=[10])
    """Share of traffic, relative to the other entries."""


class Route(SpecModel):
    name: str | None = Field(None, examples=["payments"])
    """Name shown in plans and logs; defaults to the path."""
    path: HttpPath | None = Field(None, examples=["/v1/payments"])
    """Match requests whose path starts with this (segment-wise: /v1 matches /v1/x, not /v1x)."""
    exact: HttpPath | None = Field(None, examples=["/healthz"])
    """Match exactly this path."""
    regex: str | None = Field(None, examples=["^/v[0-9]+/users/[^/]+$"])
    """Match paths against this RE2 regular expression."""
    methods: list[Method] = Field(default_factory=list, examples=[["GET", "HEAD"]])
    """Match only these methods; empty matches all."""
    headers: list[HeaderMatch] = Field(default_factory=list)
    """Match only requests with all these headers."""
    service: Identifier | None = Field(None, examples=["payments"])
    """Send matching requests to this service."""
    split: list[WeightedService] | None = Field(None, min_length=2, examples=[[
        {"service": "payments", "weight": 90}, {"service": "payments-v2", "weight": 10}]])
    """Send matching requests to several services by weight (canaries, migrations)."""
    redirect: Redirect | None = Field(None, examples=[{"scheme": "https"}])
    """Answer with a redirect instead of proxying."""
    timeout: Duration | None = Field(None, examples=["5s"])
    """Request timeout; defaults to the service's timeout."""
    retries: Retries | None = None
    """Retry policy; defaults to the service's."""
    rate_limit: RateLimit | None = None
    """Local rate limit; over it, Envoy answers 429."""
    request_headers: HeaderChanges | None = None
    """Changes to the request before it goes upstream."""
    response_headers: HeaderChanges | None = None
    """Changes to the response before it goes to the client."""

    @model_validator(mode="after")
    def _one_match_one_action(self):
        matches = [k for k in ("path", "exact", "regex") if getattr(self, k) is not None]
        if len(matches) > 1:
            raise ValueError(f"give one of path, exact or regex, not {' and '.join(matches)}")
        actions = [k for k in ("service", "split", "redirect") if getattr(self, k) is not None]
        if len(actions) != 1:
            raise ValueError("give exactly one of service, split or redirect"
                             + (f" (found {' and '.join(actions)})" if actions else ""))
        return self

    @property
    def services(self) -> list[str]:
        """Every service the route names (split targets of weight 0 too); the first one's timeout and
        retries are the route's defaults. Empty for a redirect."""
        if self.service:
            return [self.service]
        return [target.service for target in self.split or []]

    @property
    def match(self) -> tuple[str, str]:
        """(kind, value) of the path match; no match means the prefix '/'."""
        for kind in ("exact", "regex", "path"):
            if getattr(self, kind) is not None:
                return kind, getattr(self, kind)
        return "path", "/"


class Ingress(SpecModel):
    host: Hostname = Field(examples=["api.acme.com"])
    """Hostname served; it must lie in a declared zone."""
    gateway: Identifier = Field(examples=["public"])
    """Name of the entry in `gateways` that serves it."""
    routes: list[Route] = Field(min_length=1, examples=[[{"path": "/v1/payments", "service": "payments"}]])
    """Routes, matched in order: the first that matches wins."""
    owner: str | None = Field(None, examples=["payments-team"])
    """Team that owns the hostname."""


# --- WAF ---------------------------------------------------------------------------------------

WafAction = Literal["block", "challenge", "managed_challenge", "js_challenge", "log", "skip"]
ManagedRulesetName = Literal["cloudflare-managed", "owasp-core", "exposed-credentials"]
OverrideAction = Literal["block", "challenge", "managed_challenge", "js_challenge", "log"]


class RuleOverride(SpecModel):
    id: str = Field(pattern=r"^[0-9a-f]{32}$", examples=["5de7edfa648c4d6891dc3e7f84534ffa"])
    """Rule ID inside the managed ruleset."""
    action: OverrideAction | None = None
    """Action to use instead of the rule's default."""
    enabled: bool | None = None
    """Turn the rule on or off."""


class CategoryOverride(SpecModel):
    category: str = Field(min_length=1, examples=["wordpress"])
    """Rule category (tag) inside the managed ruleset."""
    action: OverrideAction | None = None
    """Action for every rule of the category."""
    enabled: bool | None = None
    """Turn the whole category on or off."""


class ManagedRuleset(SpecModel):
    ruleset: ManagedRulesetName = Field(examples=["cloudflare-managed"])
    """Which Cloudflare managed ruleset to deploy."""
    action: OverrideAction | None = None
    """Override the action of every rule in the ruleset."""
    rules: list[RuleOverride] = Field(default_factory=list)
    """Per-rule overrides."""
    categories: list[CategoryOverride] = Field(default_factory=list)
    """Per-category overrides."""
    paranoia_level: Literal["PL1", "PL2", "PL3", "PL4"] | None = None
    """OWASP core ruleset only: how aggressive it is."""
    score_threshold: Literal[25, 40, 60] | None = None
    """OWASP core ruleset only: anomaly score that blocks (60 low, 40 medium, 25 high sensitivity)."""


class SkipOptions(SpecModel):
    rest_of_ruleset: bool = True
    """Skip the remaining custom rules of this zone."""
    phases: list[Literal["http_ratelimit", "http_request_firewall_managed", "http_request_sbfm"]] = Field(
        default_factory=list)
    """Also skip these later phases."""
    products: list[Literal["bic", "hot", "rateLimit", "securityLevel", "uaBlock", "waf", "zoneLockdown"]] = \
        Field(default_factory=list)
    """Also skip these security products."""


class CustomRule(SpecModel):
    name: str = Field(min_length=1, max_length=100, examples=["block-admin"])
    """Unique name within the zone; used as the rule's description and stable identity."""
    expression: str = Field(min_length=1, examples=['starts_with(http.request.uri.path, "/admin")'])
    """Cloudflare Rules-language expression (at most 4,096 characters)."""
    action: WafAction = Field(examples=["block"])
    """What to do with matching requests."""
    skip: SkipOptions | None = None
    """What a `skip` rule skips (defaults to the remaining custom rules)."""
    enabled: bool = True
    """Deploy the rule switched off when false."""


class RateLimitRule(SpecModel):
    name: str = Field(min_length=1, max_length=100, examples=["login"])
    """Unique name within the zone."""
    expression: str = Field(min_length=1, examples=['http.request.uri.path eq "/login"'])
    """Which requests are counted (Rules language)."""
    characteristics: list[str] = Field(default_factory=lambda: ["ip.src", "cf.colo.id"],
                                       examples=[["ip.src", "cf.colo.id"]])
    """What a counter is kept per; Cloudflare requires cf.colo.id among them."""
    requests: int = Field(ge=1, examples=[10])
    """Requests allowed per period."""
    period: Literal[10, 60, 120, 300, 600, 3600] = Field(examples=[60])
    """Counting period in seconds (your Cloudflare plan limits which are available)."""
    mitigation_timeout: Literal[0, 10, 60, 120, 300, 600, 3600, 86400] | None = None
    """Seconds a block lasts once triggered (0: only while over the limit); default 60 for block and log.
    Challenge actions have no duration: leave it out or 0 (only an Enterprise add-on allows one)."""
    action: Literal["block", "challenge", "managed_challenge", "js_challenge", "log"] = "block"
    """What to do once over the limit."""


class ZoneWaf(SpecModel):
    managed: list[ManagedRulesetName | ManagedRuleset] = Field(
        default_factory=list, examples=[["cloudflare-managed", "owasp-core"]])
    """Managed rulesets to deploy, by name or with overrides."""
    custom: list[CustomRule] = Field(default_factory=list)
    """Custom firewall rules, evaluated in order."""
    rate_limits: list[RateLimitRule] = Field(default_factory=list)
    """Rate-limiting rules, evaluated in order."""


# --- DNS ---------------------------------------------------------------------------------------

class DnsRecord(SpecModel):
    name: str = Field(min_length=1, examples=["www"])
    """Name relative to the zone (`@` for the apex), or a full name inside the zone."""
    type: Literal["A", "AAAA", "CNAME", "MX", "TXT", "CAA", "SRV"] = Field(examples=["CNAME"])
    """Record type."""
    content: str = Field(min_length=1, examples=["api.acme.com"])
    """Record data: an address, a target name, text, `0 issue "letsencrypt.org"` for CAA,
    `<weight> <port> <target>` for SRV."""
    ttl: int = Field(1, examples=[300])
    """Seconds; 1 means automatic (Cloudflare) and is read as 300 for Route 53."""
    proxied: bool = False
    """Send traffic through Cloudflare's proxy (A, AAAA and CNAME in Cloudflare zones only)."""
    priority: int | None = Field(None, ge=0, le=65535, examples=[10])
    """Priority, required for MX and SRV."""
    comment: str | None = Field(None, max_length=100)
    """Note stored with the record."""


# --- ignore rules ------------------------------------------------------------------------------

class IgnoreRule(SpecModel):
    key: str = Field(min_length=1, examples=["legacy-*.acme.com A"])
    """Which changes to hide: a glob over the change's key as plans show it (`api.acme.com CNAME`)."""
    reason: str = Field(min_length=1, examples=["managed by the mail team's own tooling"])
    """Why this difference is acceptable; shown in every plan."""
    layer: Literal[ORDER] | None = None  # type: ignore[valid-type] (the registry's names)
    """Only changes in this layer."""
    kind: str | None = Field(None, examples=["dns_record"])
    """Only changes of this kind (dns_record, security_group_rule, ruleset, ...)."""
    attribute: str | None = Field(None, examples=["ttl"])
    """Only this attribute of an update; other attributes still show."""
    expires: date | None = Field(None, examples=["2027-03-31"])
    """After this day the rule stops hiding anything (and plans say it expired)."""


# --- Terraform state ---------------------------------------------------------------------------

BackendValue = str | int | bool | list[str] | dict[str, str]


class S3Backend(SpecModel):
    bucket: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", examples=["acme-terraform-state"])
    """S3 bucket that holds the state (create it beforehand, with versioning on)."""
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$", examples=["eu-west-1"])
    """The bucket's region."""
    key_prefix: str | None = Field(None, pattern=r"^[^/]+(/[^/]+)*$", examples=["edge/acme-prod"])
    """Folder of the state objects: each layer keeps its state in `<key_prefix>/<layer>.tfstate`.
    Default `edgec/<spec name>`."""
    key: str | None = Field(None, pattern=r"^[^/]+(/[^/]+)*$", examples=["edge/acme-prod/aws.tfstate"])
    """The state object's whole key, for a backend of one layer (`terraform.layers.<layer>.backend`);
    default `<key_prefix>/<layer>.tfstate`."""
    use_lockfile: bool = Field(False, examples=[True])
    """Lock the state with a lock file beside it in the bucket (Terraform 1.10 or later)."""
    dynamodb_table: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]{3,255}$", examples=["terraform-locks"])
    """DynamoDB table that locks the state (partition key `LockID`, a string), before Terraform 1.10."""
    encrypt: bool = True
    """Encrypt the state object at rest."""

    @model_validator(mode="after")
    def _locked(self):
        if not self.use_lockfile and self.dynamodb_table is None:
            raise ValueError("state without locking lets two applies interleave; set use_lockfile: true "
                             "(Terraform 1.10 or later) or dynamodb_table: TABLE")
        if self.key is not None and self.key_prefix is not None:
            raise ValueError("give key or key_prefix, not both")
        return self


class Backend(SpecModel):
    s3: S3Backend | None = Field(None, examples=[{"bucket": "acme-terraform-state", "region": "eu-west-1", "use_lockfile": True}])
    """State in S3, with locking."""
    type: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]*$", examples=["gcs"])
    """Any other Terraform backend, by name (`gcs`, `azurerm`, `http`, `pg`, `consul`, `remote`, ...),
    with its settings in `config`."""
    config: dict[str, BackendValue] = Field(default_factory=dict, examples=[{"bucket": "acme-tf-state",
                                                                            "prefix": "edge/{layer}"}])
    """The backend block's settings, as Terraform documents them for `type`. `{layer}` in a string
    becomes the layer's name (`aws`, `cloudflare`), so that each layer keeps its own state."""

    @model_validator(mode="after")
    def _one_kind(self):
        if (self.s3 is None) == (self.type is None):
            raise ValueError("give exactly one of s3 (S3 with locking) or type (any backend, with config)")
        if self.s3 is not None and self.config:
            raise ValueError("config goes with type; with s3, write the settings under s3")
        return self


class LayerTerraform(SpecModel):
    backend: Backend = Field(examples=[{"s3": {**{"bucket": "acme-terraform-state", "region": "eu-west-1", "use_lockfile": True}, "key": "edge/acme-prod/aws.tfstate"}}])
    """Where this layer keeps its Terraform state, instead of `terraform.backend`."""


class TerraformLayers(SpecModel):
    """The Terraform layers, each with its own state."""

    # the Terraform layers of edgec.layers (TERRAFORM_LAYERS)
    aws: LayerTerraform | None = Field(None, examples=[{"backend": {"type": "gcs", "config": {
        "bucket": "acme-tf-state", "prefix": "edge/aws"}}}])
    """The AWS layer's backend."""
    cloudflare: LayerTerraform | None = Field(None, examples=[{"backend": {"type": "gcs", "config": {
        "bucket": "acme-tf-state", "prefix": "edge/cloudflare"}}}])
    """The Cloudflare layer's backend."""

    def get(self, layer: str) -> LayerTerraform | None:
        return getattr(self, layer, None)

    def named(self) -> set[str]:
        return {name for name in ("aws", "cloudflare") if self.get(name) is not None}


class TerraformSettings(SpecModel):
    backend: Backend | None = Field(None, examples=[{"s3": {"bucket": "acme-terraform-state", "region": "eu-west-1", "use_lockfile": True}}])
    """Where the Terraform layers keep their state (each layer its own). Without it, state is a local
    `terraform.tfstate` in each layer's folder, unless a `*.tf` file of yours there names a backend."""
    layers: TerraformLayers = Field(default_factory=TerraformLayers, examples=[{"cloudflare": {"backend": {
        "type": "gcs", "config": {"bucket": "acme-tf-state", "prefix": "edge/cloudflare"}}}}])
    """A backend for one layer (`aws`, `cloudflare`), instead of `backend`."""


# --- the spec ----------------------------------------------------------------------------------

class Spec(SpecModel):
    """An edge estate: zones, gateways, services, ingresses, WAF, DNS and certificates."""

    # Top-level `x-...` keys hold the user's YAML anchors; the loader drops them before validation.
    model_config = ConfigDict(json_schema_extra={"patternProperties": {"^x-": {}}})

    api_version: Literal["edgec/v1"] = Field(alias="apiVersion")
    """Spec format version; always `edgec/v1`."""
    name: Identifier = Field(examples=["acme-prod"])
    """Name of the estate; names the generated output and tags every resource."""
    metadata: Metadata = Field(default_factory=Metadata)
    """Ownership and labels."""
    include: list[str] = Field(default_factory=list, examples=[["teams/*.yaml"]])
    """Other spec files merged into this one (paths or globs, relative to this file)."""
    cloudflare: CloudflareSettings = Field(default_factory=CloudflareSettings)
    """Cloudflare account settings."""
    aws: AwsSettings | None = None
    """AWS region, VPC and subnets; needed as soon as there is a gateway."""
    zones: dict[ZoneName, Zone] = Field(default_factory=dict)
    """DNS zones, by name."""
    gateways: dict[Identifier, Gateway] = Field(default_factory=dict)
    """Gateways (an NLB plus an Envoy fleet), by name."""
    services: dict[Identifier, Service] = Field(default_factory=dict)
    """Upstream services, by name."""
    ingresses: list[Ingress] = Field(default_factory=list)
    """Hostnames and their routes."""
    waf: dict[ZoneName, ZoneWaf] = Field(default_factory=dict)
    """WAF rules per Cloudflare zone."""
    dns: dict[ZoneName, list[DnsRecord]] = Field(default_factory=dict)
    """Extra DNS records per zone (gateway hostnames get their records automatically)."""
    certificates: dict[Identifier, Certificate] = Field(default_factory=dict)
    """Certificates, by name."""
    ignore: list[IgnoreRule] = Field(default_factory=list)
    """Differences between the spec and what is live that plans should not report, each with a reason."""
    terraform: TerraformSettings = Field(default_factory=TerraformSettings,
                                         examples=[{"backend": {"s3": {"bucket": "acme-terraform-state", "region": "eu-west-1", "use_lockfile": True}}}])
    """Where the Terraform layers keep their state."""
