"""The Envoy layer's IR: per gateway, its bootstrap, listeners with their filter chains, virtual hosts,
routes and clusters; and the SDS secrets the gateways serve.

Everything is resolved: a route carries its own timeout and retry policy (or the service's), its
clusters with their weights, its redirect and header changes; a cluster its discovery type, endpoints,
health check, circuit breaker, outlier detection and upstream TLS. Field names follow Envoy's
(`path_separated_prefix`, `ROUND_ROBIN`, `STRICT_DNS`), values are normalised (durations as
timedelta), and nothing is Envoy syntax: the emitter writes it, the reader parses a running gateway's
config dump back into it.

Names are paths, `<gateway>/<host>/<route>`, which need no escaping: gateways and hosts hold no '/'.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar, Literal

from edgec.ir.model import Resource

ENVOY_DIR = "/etc/envoy"  # where a gateway's generated files are mounted; every path in them hangs from it
ORIGIN_PULL_CA = f"{ENVOY_DIR}/certs/cloudflare-origin-pull-ca.pem"  # Cloudflare's shared CA (client_auth: cloudflare-origin-pull-shared), yours to place
READY_PATH = "/ready"  # the health listener's readiness path, probed by the NLB

PathKind = Literal["prefix", "path_separated_prefix", "path", "safe_regex"]
HeaderKind = Literal["exact", "prefix", "safe_regex", "present"]


@dataclass(frozen=True, slots=True)
class EnvoyResource(Resource):
    layer: ClassVar[str] = "envoy"


@dataclass(frozen=True, slots=True)
class EnvoyGateway(EnvoyResource):
    """The bootstrap of one gateway: its node identity and admin port."""

    resource_type: ClassVar[str] = "envoy_gateway"
    kind: ClassVar[str] = "gateway"
    gateway: str
    node: str
    admin_port: int


# --- listeners ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class DownstreamTls:
    certificate: str  # the SDS secret (a spec certificate name)
    min_version: str  # "1.2"
    client_ca: str | None = None  # require client certificates signed by this CA (file on the gateway)


@dataclass(frozen=True, slots=True)
class FilterChain:
    stat_prefix: str  # also the name of its route configuration
    server_names: tuple[str, ...] | None  # SNI names it is chosen for; None for the default chain
    tls: DownstreamTls | None  # None: plain HTTP (the NLB ended TLS)
    hosts: tuple[str, ...]  # its virtual hosts, in order


@dataclass(frozen=True, slots=True)
class EnvoyListener(EnvoyResource):
    resource_type: ClassVar[str] = "envoy_listener"
    kind: ClassVar[str] = "listener"
    label_format: ClassVar[str] = "{gateway}: {listener}"
    gateway: str
    listener: str  # https | http | health
    port: int
    role: Literal["routes", "redirect", "health"]
    filter_chains: tuple[FilterChain, ...] = ()  # routes
    client_address: Literal["cloudflare", "peer"] | None = None  # routes: whom to believe about the client
    trusted_cidrs: tuple[str, ...] = ()  # cloudflare: X-Forwarded-For is believed from these ranges
    redirect_port: int | None = None  # redirect: the https port, when it is not 443
    ready_path: str | None = None  # health: the path the NLB probes


@dataclass(frozen=True, slots=True)
class EnvoyVirtualHost(EnvoyResource):
    resource_type: ClassVar[str] = "envoy_virtual_host"
    kind: ClassVar[str] = "virtual_host"
    label_format: ClassVar[str] = "{gateway}: {listener} {host}"
    gateway: str
    listener: str
    host: str
    domains: tuple[str, ...]
    server_names: tuple[str, ...]  # of the filter chain that holds it
    routes: tuple[str, ...]  # names of its EnvoyRoutes, in the order Envoy tries them


# --- routes ------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class HeaderMatch:
    name: str  # lower case
    kind: HeaderKind
    value: str | bool  # bool for present
    invert: bool = False
    missing_as_empty: bool = False  # a request without the header is matched as if it sent it empty


@dataclass(frozen=True, slots=True)
class RouteMatch:
    kind: PathKind
    value: str
    methods: tuple[str, ...] = ()  # sorted; () matches every method
    headers: tuple[HeaderMatch, ...] = ()


@dataclass(frozen=True, slots=True)
class WeightedCluster:
    cluster: str  # the service name
    weight: int | None = None  # None: the route sends everything to this one cluster


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    retry_on: tuple[str, ...]
    num_retries: int
    per_try_timeout: timedelta | None = None
    retriable_status_codes: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Forward:
    clusters: tuple[WeightedCluster, ...]
    timeout: timedelta
    retry: RetryPolicy | None = None

    @property
    def weighted(self) -> bool:
        return any(c.weight is not None for c in self.clusters)


@dataclass(frozen=True, slots=True)
class Redirect:
    code: int
    scheme: str | None = None
    host: str | None = None
    path: str | None = None
    strip_query: bool = False


@dataclass(frozen=True, slots=True)
class HeaderChanges:
    set: tuple[tuple[str, str], ...] = ()  # replace any value already there
    add: tuple[tuple[str, str], ...] = ()  # append to values already there
    remove: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LocalRateLimit:
    requests: int
    per: timedelta


@dataclass(frozen=True, slots=True)
class EnvoyRoute(EnvoyResource):
    resource_type: ClassVar[str] = "envoy_route"
    kind: ClassVar[str] = "route"
    label_format: ClassVar[str] = "{gateway}: {host} {route_name}"
    gateway: str
    host: str
    position: int
    route_name: str  # as Envoy and its access log name it (names need not be unique; `name` is)
    match: RouteMatch
    action: Forward | Redirect
    request_headers: HeaderChanges | None = None
    response_headers: HeaderChanges | None = None
    rate_limit: LocalRateLimit | None = None


    @property
    def clusters(self) -> tuple[str, ...]:
        """The clusters (services) it can send a request to."""
        return tuple(c.cluster for c in self.action.clusters) if isinstance(self.action, Forward) else ()


# --- clusters and secrets ----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class HealthCheck:
    path: str
    interval: timedelta
    timeout: timedelta
    healthy_threshold: int
    unhealthy_threshold: int


@dataclass(frozen=True, slots=True)
class CircuitBreaker:
    max_connections: int
    max_pending_requests: int
    max_requests: int
    max_retries: int


@dataclass(frozen=True, slots=True)
class OutlierDetection:
    consecutive_5xx: int
    interval: timedelta
    base_ejection_time: timedelta
    max_ejection_percent: int


@dataclass(frozen=True, slots=True)
class UpstreamTls:
    sni: str
    ca_file: str | None = None  # verify the chain and that the certificate names `sni`


@dataclass(frozen=True, slots=True)
class EnvoyCluster(EnvoyResource):
    resource_type: ClassVar[str] = "envoy_cluster"
    kind: ClassVar[str] = "cluster"
    label_format: ClassVar[str] = "{gateway}: {cluster}"
    gateway: str
    cluster: str  # the service name
    discovery: Literal["STATIC", "STRICT_DNS"]  # STATIC when every endpoint is an address
    endpoints: tuple[tuple[str, int], ...]
    protocol: Literal["http1", "http2"]
    connect_timeout: timedelta
    lb_policy: str  # ROUND_ROBIN, LEAST_REQUEST, ...
    circuit_breaker: CircuitBreaker
    health_check: HealthCheck | None = None
    outlier_detection: OutlierDetection | None = None
    tls: UpstreamTls | None = None


@dataclass(frozen=True, slots=True)
class EnvoySecret(EnvoyResource):
    """A served certificate, delivered by file-based SDS (shared by every gateway that serves it)."""

    resource_type: ClassVar[str] = "envoy_secret"
    kind: ClassVar[str] = "secret"
    certificate: str
    certificate_chain: str  # PEM file paths on the gateway
    private_key: str
