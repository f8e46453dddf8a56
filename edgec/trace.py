"""`edgec trace URL`: a static walk of one request through every layer a spec describes.

DNS, Cloudflare's edge, the WAF, the NLB, Envoy's listener and routes, and the cluster are each asked
what they would do with the request, from the spec and the IR alone (nothing live is read). A layer
that depends on something a trace cannot know (the client's address, bot scores, request headers
not given) says "may" instead of guessing, so a "dead" verdict is always certain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal, TypeVar
from urllib.parse import urlsplit

import re2

from edgec.ir.build import build_ir
from edgec.ir.model import IR, Resource
from edgec.layers.aws.model import AwsListener, AwsLoadBalancer, AwsRoute53Record, AwsRoute53Zone, AwsSecurityGroupRule
from edgec.layers.cloudflare.ips import cloudflare_cidrs
from edgec.layers.cloudflare.model import CfDnsRecord, CfRuleset, CfZoneSetting, WafRule
from edgec.layers.envoy.model import (
    EnvoyCluster,
    EnvoyListener,
    EnvoyRoute,
    EnvoyVirtualHost,
    FilterChain,
    Forward,
    HeaderMatch,
    Redirect,
    RouteMatch,
)
from edgec.spec.lookup import inside_any, zone_of
from edgec.spec.model import Gateway, Spec
from edgec.spec.types import format_duration
from edgec.waf_eval import Tri, evaluate_expression, unknowns

Status = Literal["pass", "may", "dead"]

DEFAULT_PORTS = {"http": 80, "https": 443}
ADDRESS_TYPES = ("A", "AAAA", "CNAME")
MAX_CNAME_CHAIN = 8  # resolvers give up on longer chains; a loop in the spec must not hang the walk
WAF_PHASES = ("http_request_firewall_custom", "http_ratelimit", "http_request_firewall_managed")  # Cloudflare's order


@dataclass
class Hop:
    """What one layer does with the request."""

    layer: str
    status: Status
    details: list[str] = field(default_factory=list)


@dataclass
class Trace:
    """The walk of one request: every layer it passed, and where it ends."""

    url: str
    method: str
    hops: list[Hop] = field(default_factory=list)
    dies_at: str | None = None  # the layer that refuses the request; None when it reaches a cluster
    why: str | None = None  # one line: why it dies there
    route: str | None = None  # the Envoy route chosen (its name, as in access logs)
    clusters: dict[str, list[str]] = field(default_factory=dict)  # cluster -> endpoints reached
    redirect: str | None = None  # the redirect answered instead ("301 to https://...")

    @property
    def finished(self) -> bool:
        return bool(self.dies_at or self.redirect or self.clusters)


@dataclass(frozen=True)
class Request:
    """The parts of the URL every layer looks at; paths are normalised the way Envoy does it."""

    scheme: str
    host: str
    port: int | None  # as written in the URL; None means the scheme's default
    path: str
    query: str
    method: str
    headers: dict[str, str]  # lower-case names

    @property
    def target(self) -> str:
        return self.path + (f"?{self.query}" if self.query else "")


def trace_url(spec: Spec, url: str, method: str = "GET", headers: dict[str, str] | None = None,
              ir: IR | None = None) -> Trace:
    """Walk `method url` (with `headers`) through the layers of `spec` (as its IR resolves them). Raises
    ValueError on a URL that is not an absolute http(s) URL."""
    request = parse_request(url, method, headers or {})
    walk = _Walk(spec, ir if ir is not None else build_ir(spec), request, Trace(url, request.method))
    for step in (_dns, _cloudflare_edge, _waf, _nlb, _envoy_listener, _envoy_route, _cluster):
        if walk.trace.finished:
            break
        step(walk)
    return walk.trace


def parse_request(url: str, method: str, headers: dict[str, str]) -> Request:
    """The URL's parts; ValueError when it is not an absolute http(s) URL (the CLI reports it as usage)."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"'{url}' is not an absolute http:// or https:// URL")
    return Request(parts.scheme, parts.hostname.rstrip("."), parts.port, normalise_path(parts.path or "/"),
                   parts.query, method.upper(), {k.lower(): v for k, v in headers.items()})


def normalise_path(path: str) -> str:
    """Envoy's normalize_path and merge_slashes (both on in the generated config): '//a/./b/../c' -> '/a/c'."""
    segments: list[str] = []
    raw = re.sub("/{2,}", "/", path).split("/")[1:]
    for segment in raw:
        if segment == "..":
            segments = segments[:-1]
        elif segment != ".":
            segments.append(segment)
    trailing = "/" if raw and raw[-1] in (".", "..") else ""
    return "/" + "/".join(segments) + trailing


R = TypeVar("R", bound=Resource)


def _find(ir: IR, kind: type[R], **attributes: object) -> list[R]:
    """The IR resources of one kind with these attribute values."""
    return [r for r in ir.of(kind) if all(getattr(r, k) == v for k, v in attributes.items())]


@dataclass
class _Walk:
    """What the layers walked so far decided, for the layers after them."""

    spec: Spec
    ir: IR
    request: Request
    trace: Trace
    zone: str | None = None
    gateway: str | None = None
    proxied: bool = False  # the request goes through Cloudflare's proxy
    virtual_host: EnvoyVirtualHost | None = None
    route: EnvoyRoute | None = None
    details: list[str] = field(default_factory=list)  # of the Envoy listener, for the virtual host's hop

    def hop(self, layer: str, status: Status, details: list[str]) -> None:
        self.trace.hops.append(Hop(layer, status, details))

    def die(self, layer: str, why: str, details: list[str]) -> None:
        self.trace.hops.append(Hop(layer, "dead", [*details, why]))
        self.trace.dies_at, self.trace.why = layer, why

    def redirect(self, layer: str, status: Status, details: list[str], code: int, target: str) -> None:
        self.trace.redirect = f"{code} to {target}"
        self.hop(layer, status, [*details, f"answers {self.trace.redirect}"])

    @property
    def gateway_spec(self) -> Gateway:
        assert self.gateway is not None
        return self.spec.gateways[self.gateway]


# --- DNS ---------------------------------------------------------------------------------------

@dataclass
class _Resolution:
    """Where a name leads: a gateway's NLB, somewhere outside the spec, or nowhere."""

    lines: list[str] = field(default_factory=list)
    gateway: str | None = None
    proxied: bool = False
    outside: str | None = None  # an address or name that is not one of the spec's gateways


def _dns(walk: _Walk) -> None:
    """The records edgec creates (host records and the spec's extra ones, as the IR has them) decide which
    gateway, if any, the name leads to."""
    spec, host = walk.spec, walk.request.host
    walk.zone = zone_of(spec, host)
    if walk.zone is None:
        declared = ", ".join(sorted(spec.zones)) or "none"
        walk.die("dns", f"{host} is in no declared zone (declared: {declared})", [])
        return
    details = [_zone_line(walk.ir, walk.zone, spec.zones[walk.zone].provider)]
    resolution = _resolve(walk.ir, host)
    details += resolution.lines
    if resolution.gateway is None:
        why = (f"{host} leads to {resolution.outside}, which is not a gateway of this spec" if resolution.outside
               else f"no A, AAAA or CNAME record for {host} in zone {walk.zone}: NXDOMAIN")
        walk.die("dns", why, details)
        return
    walk.gateway, walk.proxied = resolution.gateway, resolution.proxied
    walk.hop("dns", "pass", details)


def _zone_line(ir: IR, zone: str, provider: str) -> str:
    if provider == "cloudflare":
        return f"zone {zone}: Cloudflare (public)"
    route53 = _find(ir, AwsRoute53Zone, zone=zone)
    if route53 and route53[0].private:
        return f"zone {zone}: Route 53, private (resolves only inside {', '.join(route53[0].vpc_ids) or 'its VPCs'})"
    return f"zone {zone}: Route 53 (public)"


def _records(ir: IR, name: str) -> list[CfDnsRecord | AwsRoute53Record]:
    """The address records of a name, or of the closest wildcard above it when it has none."""
    labels = name.split(".")
    for candidate in [name] + ["*." + ".".join(labels[i:]) for i in range(1, len(labels) - 1)]:
        found = [r for r in [*ir.of(CfDnsRecord), *ir.of(AwsRoute53Record)]
                 if r.fqdn == candidate and r.type in ADDRESS_TYPES]
        if found:
            return found
    return []


def _resolve(ir: IR, name: str) -> _Resolution:
    """Follow the spec's records from `name` to a gateway, through CNAMEs inside the spec."""
    resolution = _Resolution()
    for depth in range(MAX_CNAME_CHAIN):
        records = _records(ir, name)
        if not records:
            resolution.outside = name if depth else None
            return resolution
        resolution.lines += [_record_line(r) for r in records]
        resolution.proxied = resolution.proxied or any(isinstance(r, CfDnsRecord) and r.proxied for r in records)
        record = records[0]
        gateway = record.gateway if isinstance(record, CfDnsRecord) else record.alias_gateway
        if gateway is not None:
            resolution.gateway = gateway
            return resolution
        target = _record_target(record)
        if record.type != "CNAME":
            resolution.outside = target
            return resolution
        name = target
    resolution.outside = f"a CNAME chain longer than {MAX_CNAME_CHAIN}"
    return resolution


def _record_target(record: CfDnsRecord | AwsRoute53Record) -> str:
    if isinstance(record, CfDnsRecord):
        return (record.content or "").rstrip(".")
    return ", ".join(value.rstrip(".") for value in record.records)


def _record_line(record: CfDnsRecord | AwsRoute53Record) -> str:
    if isinstance(record, CfDnsRecord):
        target = f"the NLB of gateway '{record.gateway}'" if record.gateway else record.content
        how = "proxied by Cloudflare" if record.proxied else "DNS only"
        return f"{record.fqdn} {record.type} -> {target} ({how})"
    if record.alias_gateway:
        return f"{record.fqdn} {record.type} alias -> the NLB of gateway '{record.alias_gateway}'"
    return f"{record.fqdn} {record.type} -> {_record_target(record)} (ttl {record.ttl})"


# --- Cloudflare's edge -------------------------------------------------------------------------

def _cloudflare_edge(walk: _Walk) -> None:
    """SSL mode and Always Use HTTPS: a proxied http:// request may never leave Cloudflare."""
    if not walk.proxied or walk.zone is None:
        return
    settings = {s.setting_id: s.value for s in _find(walk.ir, CfZoneSetting, zone=walk.zone)}
    request = walk.request
    details = [f"SSL mode {settings.get('ssl')}, TLS {settings.get('min_tls_version')} or later from visitors"]
    if request.scheme == "http" and settings.get("always_use_https") == "on":
        walk.redirect("cloudflare", "pass", details + ["Always Use HTTPS is on"], 301,
                      f"https://{request.host}{request.target}")
        return
    port = request.port or DEFAULT_PORTS[request.scheme]
    walk.hop("cloudflare", "pass", details + [f"connects to the origin over {request.scheme} on port {port}"])


# --- WAF ---------------------------------------------------------------------------------------

@dataclass
class _WafWalk:
    """Cloudflare's phases in order; a skip rule that matches, or may match, skips what comes after."""

    status: Status = "pass"
    details: list[str] = field(default_factory=list)
    skipped: set[str] = field(default_factory=set)  # phases certainly skipped ("custom": the rest of it)
    maybe_skipped: set[str] = field(default_factory=set)
    blocked_by: WafRule | None = None

    def may(self, line: str) -> None:
        self.status = "may"
        self.details.append(line)


def _waf(walk: _Walk) -> None:
    """Only proxied requests meet the WAF: custom rules, then rate limits, then managed rulesets."""
    if not walk.proxied or walk.zone is None:
        return
    rulesets = {r.phase: r.rules for r in _find(walk.ir, CfRuleset, zone=walk.zone)}
    if not rulesets:
        walk.hop("waf", "pass", [f"zone {walk.zone} has no WAF rules"])
        return
    state = _WafWalk()
    fields = waf_fields(walk.request)
    for phase in WAF_PHASES:
        for rule in rulesets.get(phase, ()):
            if state.blocked_by is None and rule.enabled:
                _waf_rule(state, phase, rule, fields)
    if state.blocked_by is not None:
        walk.die("waf", f"custom rule '{state.blocked_by.description}' matches and blocks it: "
                        f"{_one_line(state.blocked_by.expression)}", state.details)
        return
    walk.hop("waf", state.status, state.details or ["no rule can match"])


def _waf_rule(state: _WafWalk, phase: str, rule: WafRule, fields: dict[str, object]) -> None:
    key = "custom" if phase == WAF_PHASES[0] else phase
    if key in state.skipped:
        return
    if rule.action == "execute":
        state.may(f"managed ruleset {rule.description.removeprefix('managed ruleset ')}: may match "
                  "(it inspects what a trace cannot know)")
        return
    matched = evaluate_expression(rule.expression, fields)
    if matched is False:
        return
    if matched is None:
        why = f"may match ({unknowns(rule.expression, fields)})"
    elif key in state.maybe_skipped:
        matched, why = None, "matches, unless a skip rule before it applied"
    else:
        why = "matches"
    if phase == "http_ratelimit":
        limit = rule.ratelimit or {}
        state.may(f"rate limit {rule.description}: {why}; over {limit.get('requests_per_period')} requests per "
                  f"{limit.get('period')}s -> {rule.action}")
    else:
        _custom_rule(state, rule, matched, why)


def _custom_rule(state: _WafWalk, rule: WafRule, matched: Tri, why: str) -> None:
    line = f"custom rule {rule.description} ({rule.action}): {why}"
    if rule.action == "skip":
        params = rule.action_parameters or {}
        skips = {"custom"} if params.get("ruleset") == "current" else set()
        skips |= set(params.get("phases", ()))
        (state.skipped if matched else state.maybe_skipped).update(skips)
        skipped = ["the rest of the custom rules"] * ("custom" in skips) + sorted(skips - {"custom"})
        state.details.append(f"{line}; skips {', '.join(skipped) or 'nothing'}")
    elif rule.action == "block" and matched:
        state.blocked_by = rule
    elif rule.action == "log":
        state.details.append(line)
    else:  # a block that may match, or a challenge: browsers pass challenges, API clients do not
        state.may(line)


def waf_fields(request: Request) -> dict[str, object]:
    """The Rules-language fields a URL decides; every other field is unknown to a trace."""
    scheme_port = "" if request.port in (None, DEFAULT_PORTS[request.scheme]) else f":{request.port}"
    return {
        "http.host": request.host,
        "http.request.method": request.method,
        "http.request.uri.path": request.path,
        "http.request.uri.query": request.query,
        "http.request.uri": request.target,
        "http.request.full_uri": f"{request.scheme}://{request.host}{scheme_port}{request.target}",
        "ssl": request.scheme == "https",
    }


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- NLB ---------------------------------------------------------------------------------------

def _nlb(walk: _Walk) -> None:
    """The listener for the port the request arrives on, then the security group in front of it."""
    gateway, request = walk.gateway_spec, walk.request
    scheme_port = gateway.ports.https if request.scheme == "https" else gateway.ports.http
    default_port = DEFAULT_PORTS[request.scheme]
    balancer = _find(walk.ir, AwsLoadBalancer, gateway=walk.gateway)[0]
    details = [f"gateway '{walk.gateway}': {'internal' if balancer.internal else 'internet-facing'} NLB "
               f"{balancer.lb_name}"]
    # Cloudflare connects on the visitor's port; a direct client on the URL's, or, when the URL names
    # none, on the gateway's (assuming the client knows it: said below when it is not the default)
    port = request.port or (default_port if walk.proxied else scheme_port or default_port)
    listeners = _find(walk.ir, AwsListener, gateway=walk.gateway, port=port)
    if not listeners or port != scheme_port:
        walk.die("nlb", _no_listener(walk, port), details)
        return
    status: Status = "pass"
    details.append(_listener_line(listeners[0]))
    if request.port is None and port != default_port:
        status = "may"
        details.append(f"the listener is on port {port}, not {default_port}: clients must use "
                       f"{request.scheme}://{request.host}:{port}/")
    _security_group(walk, port, status, details)


def _no_listener(walk: _Walk, port: int) -> str:
    ports = walk.gateway_spec.ports
    open_ports = ", ".join(f"{p} ({purpose})" for purpose, p in (("https", ports.https), ("http", ports.http)) if p)
    via = "Cloudflare connects to the origin" if walk.proxied else "the client connects"
    return (f"{via} over {walk.request.scheme} on port {port}, but the NLB of gateway '{walk.gateway}' "
            f"listens for it only on {open_ports}")


def _listener_line(listener: AwsListener) -> str:
    if listener.protocol == "TLS":
        return (f"listener :{listener.port} TLS: TLS ends at the NLB (certificate {listener.certificate}, "
                f"policy {listener.ssl_policy})")
    return f"listener :{listener.port} TCP: passed through to Envoy"


def _security_group(walk: _Walk, port: int, status: Status, details: list[str]) -> None:
    """Public gateways must admit Cloudflare; a host Cloudflare does not proxy must admit its clients."""
    rules = _find(walk.ir, AwsSecurityGroupRule, gateway=walk.gateway, direction="ingress", port=port)
    sources = [rule.cidr for rule in rules]
    if not sources:
        walk.die("nlb", f"the security group admits no one on tcp/{port}", details)
        return
    cloudflare = [c for c in cloudflare_cidrs() if ":" not in c]  # the NLB is IPv4-only, as in the IR
    details.append(f"security group admits tcp/{port} from {_sources_line(sources, cloudflare)}")
    covered = [inside_any(cidr, sources) for cidr in cloudflare]
    if walk.proxied and not any(covered):
        walk.die("nlb", "the security group admits none of Cloudflare's ranges, and Cloudflare proxies this host",
                 details)
        return
    if not walk.proxied and all(inside_any(source, cloudflare) for source in sources):
        walk.die("nlb", f"the security group admits only Cloudflare, but {walk.request.host} is not proxied "
                        "by Cloudflare: its clients connect directly", details)
        return
    if walk.proxied and not all(covered):
        status = "may"
        details.append("some of Cloudflare's ranges are not admitted: requests through them fail")
    walk.hop("nlb", status, details)


def _sources_line(sources: list[str], cloudflare: list[str]) -> str:
    if set(sources) == set(cloudflare):
        return f"Cloudflare's {len(cloudflare)} IPv4 ranges only"
    return ", ".join(sources)


# --- Envoy -------------------------------------------------------------------------------------

def _envoy_listener(walk: _Walk) -> None:
    """The http listener only redirects; the https one picks a filter chain, then a virtual host."""
    request = walk.request
    listeners = {listener.role: listener for listener in walk.ir.of(EnvoyListener) if listener.gateway == walk.gateway}
    if request.scheme == "http":
        redirect = listeners["redirect"]
        port = f":{redirect.redirect_port}" if redirect.redirect_port else ""
        walk.redirect("envoy listener", "pass", [f"http listener :{redirect.port} redirects every request "
                                                 "to https"], 301, f"https://{request.host}{port}{request.target}")
        return
    listener = listeners["routes"]
    chain = _filter_chain(walk, listener)
    if chain is not None:
        _virtual_host(walk, chain)


def _filter_chain(walk: _Walk, listener: EnvoyListener) -> FilterChain | None:
    """The chain Envoy picks by SNI: the one whose server names hold the host, else the default one."""
    host = walk.request.host
    chains = listener.filter_chains
    if len(chains) == 1 and chains[0].tls is None:
        walk.details = [f"https listener :{listener.port} speaks plain HTTP (the NLB ended TLS); one filter chain"]
        return chains[0]
    default = next((c for c in chains if c.server_names is None), None)
    tls = (default or chains[0]).tls if chains else None
    if tls is None:
        walk.die("envoy listener", f"gateway '{walk.gateway}' has no certificate: no TLS handshake succeeds",
                 [f"https listener :{listener.port}"])
        return None
    versions = "1.3 only" if tls.min_version == "1.3" else f"{tls.min_version} to 1.3"
    details = [f"https listener :{listener.port}: TLS {versions}, ALPN h2 and http/1.1"]
    if tls.client_ca:
        details.append("requires a client certificate from Cloudflare's origin-pull CA")
        if not walk.proxied:
            walk.die("envoy listener", f"{host} is not proxied by Cloudflare, so its clients have no origin-pull "
                                       "certificate: the TLS handshake fails", details)
            return None
    chosen = next((c for c in chains if c.server_names and host in c.server_names), default)
    if chosen is None:
        walk.die("envoy listener", f"no filter chain of gateway '{walk.gateway}' takes SNI {host}", details)
        return None
    which = " (the default chain)" if chosen is default else f" (server_names include {host})"
    assert chosen.tls is not None
    details.append(f"SNI {host} -> filter chain of certificate '{chosen.tls.certificate}'{which}")
    walk.details = details
    return chosen


def _virtual_host(walk: _Walk, chain: FilterChain) -> None:
    host = walk.request.host
    walk.virtual_host = next((h for h in walk.ir.of(EnvoyVirtualHost)
                              if h.gateway == walk.gateway and h.host == host and host in chain.hosts), None)
    if walk.virtual_host is None:
        walk.die("envoy listener", f"no virtual host for {host} in this filter chain: Envoy answers 404",
                 walk.details)
        return
    ingress = next(i for i in walk.spec.ingresses if i.host == host)
    owner = f", owner {ingress.owner}" if ingress.owner else ""
    walk.hop("envoy listener", "pass", [*walk.details, f"virtual host {host} ({len(walk.virtual_host.routes)} "
                                                       f"routes{owner})"])


def _envoy_route(walk: _Walk) -> None:
    """The first route that matches, in order, as Envoy takes it; near misses before it are shown."""
    assert walk.virtual_host is not None
    request = walk.request
    routes = {r.name: r for r in walk.ir.of(EnvoyRoute) if r.gateway == walk.gateway and r.host == request.host}
    details: list[str] = []
    status: Status = "pass"
    for route in (routes[name] for name in walk.virtual_host.routes):
        matched, reason = route_matches(route.match, request)
        if matched is None:
            status = "may"
            details.append(f"route {route.route_name} may match first ({reason})")
        elif matched:
            walk.route, walk.trace.route = route, route.route_name
            details.append(f"route {route.route_name} ({_describe_match(route.match)}) matches")
            _route_action(walk, route, status, details + _header_changes(route))
            return
        elif reason:
            details.append(f"route {route.route_name} not taken: {reason}")
    walk.die("envoy route", f"no route of {request.host} matches {request.method} {request.path}: Envoy answers 404",
             details)


def _route_action(walk: _Walk, route: EnvoyRoute, status: Status, details: list[str]) -> None:
    if not isinstance(route.action, Redirect):
        walk.hop("envoy route", status, details)
        return
    redirect, request = route.action, walk.request
    scheme = redirect.scheme or request.scheme
    query = "" if redirect.strip_query or not request.query else f"?{request.query}"
    target = f"{scheme}://{redirect.host or request.host}{redirect.path or request.path}{query}"
    walk.redirect("envoy route", status, details, redirect.code, target)


def route_matches(match: RouteMatch, request: Request) -> tuple[Tri, str]:
    """Envoy's match of one route: path, then :method, then headers. The reason says why it did not match
    when the path did (a near miss worth showing), or why the answer is unknown."""
    path = _path_matches(match, request.path)
    if path is not True:
        return path, "" if path is False else "its regex is not valid RE2"
    if match.methods and request.method not in match.methods:
        return False, f"method {request.method} is not {', '.join(match.methods)}"
    for header in match.headers:
        if not header_matches(header, request.headers.get(header.name)):
            return False, f"header {header.name} does not match ({_describe_header(header)})"
    return True, ""


def _path_matches(match: RouteMatch, path: str) -> Tri:
    if match.kind == "path":
        return path == match.value
    if match.kind == "safe_regex":
        try:
            return re2.fullmatch(match.value, path) is not None
        except re2.error:
            return None
    if match.kind == "prefix":
        return path.startswith(match.value)
    return path == match.value or path.startswith(match.value + "/")  # path_separated_prefix


def header_matches(header: HeaderMatch, value: str | None) -> bool:
    """Envoy's HeaderUtility::matchHeaders: a missing header matches only a present_match that expects it
    missing (present: false, or present: true inverted); a string match on a missing header never matches,
    inverted or not."""
    if value is None:
        return header.kind == "present" and header.value == header.invert
    if header.kind == "present":
        matched = bool(header.value)
    elif header.kind == "exact":
        matched = value == header.value
    elif header.kind == "prefix":
        matched = value.startswith(str(header.value))
    else:
        matched = re2.fullmatch(str(header.value), value) is not None
    return matched != header.invert


PATH_KINDS = {"prefix": "path", "path_separated_prefix": "path", "path": "exact", "safe_regex": "regex"}


def _describe_match(match: RouteMatch) -> str:
    parts = [f"{PATH_KINDS[match.kind]} {match.value}"]
    if match.methods:
        parts.append("methods " + ", ".join(match.methods))
    parts += [f"header {h.name} {_describe_header(h)}" for h in match.headers]
    return "; ".join(parts)


def _describe_header(header: HeaderMatch) -> str:
    condition = {"present": lambda: "present" if header.value else "absent",
                 "exact": lambda: f"= {header.value}", "prefix": lambda: f"starts with {header.value}",
                 "safe_regex": lambda: f"matches {header.value}"}[header.kind]()
    return f"not {condition}" if header.invert else condition


def _header_changes(route: EnvoyRoute) -> list[str]:
    lines = []
    for direction, changes in (("request", route.request_headers), ("response", route.response_headers)):
        if changes is None:
            continue
        names = [f"sets {', '.join(k for k, _ in changes.set)}"] if changes.set else []
        names += [f"adds {', '.join(k for k, _ in changes.add)}"] if changes.add else []
        names += [f"removes {', '.join(changes.remove)}"] if changes.remove else []
        lines.append(f"{direction} headers: {'; '.join(names)}")
    return lines


# --- cluster -----------------------------------------------------------------------------------

def _cluster(walk: _Walk) -> None:
    """The clusters behind the route (a weighted split), with the policies the route applies."""
    route = walk.route
    assert route is not None and isinstance(route.action, Forward)
    forward = route.action
    clusters = {c.cluster: c for c in walk.ir.of(EnvoyCluster) if c.gateway == walk.gateway}
    total = sum(target.weight or 1 for target in forward.clusters)
    details: list[str] = []
    for target in forward.clusters:
        cluster = clusters[target.cluster]
        share = f" ({(target.weight or 1) * 100 / total:.3g}% of requests)" if len(forward.clusters) > 1 else ""
        endpoints = [_endpoint(host, port) for host, port in cluster.endpoints]
        details += [f"cluster {target.cluster}{share}: {_endpoints_line(cluster, endpoints)}", *_cluster_lines(cluster)]
        walk.trace.clusters[target.cluster] = endpoints
    details += _route_policy(walk.spec, route, forward)
    walk.hop("cluster", "may" if route.rate_limit else "pass", details)


def _endpoint(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _endpoints_line(cluster: EnvoyCluster, endpoints: list[str]) -> str:
    tls = "TLS" if cluster.tls else "plain text"
    return (f"{', '.join(endpoints)} ({cluster.discovery}, {cluster.protocol}, {tls}, {cluster.lb_policy.lower()}, "
            f"connect timeout {format_duration(cluster.connect_timeout)})")


def _cluster_lines(cluster: EnvoyCluster) -> list[str]:
    check = cluster.health_check
    lines = [f"  health check GET {check.path} every {format_duration(check.interval)}" if check
             else "  no active health check"]
    if cluster.outlier_detection:
        lines.append(f"  ejects an endpoint after {cluster.outlier_detection.consecutive_5xx} 5xx in a row")
    return lines


def _route_policy(spec: Spec, route: EnvoyRoute, forward: Forward) -> list[str]:
    """Timeout and retries as the IR resolved them, and whether the route or its service set them."""
    _, i, _, j = route.origin
    written = spec.ingresses[int(i)].routes[int(j)]
    timeout = f"timeout {format_duration(forward.timeout)}" + (
        " (the route's)" if written.timeout else " (the service's)")
    retry = forward.retry
    lines = [timeout]
    if retry is None or retry.num_retries == 0:
        lines.append("no retries")
    else:
        per_try = f", {format_duration(retry.per_try_timeout)} per try" if retry.per_try_timeout else ""
        lines.append(f"retries: {retry.num_retries} on {', '.join(retry.retry_on)}{per_try}"
                     + (" (the route's)" if written.retries else " (the service's)"))
    if route.rate_limit:
        lines.append(f"rate limit {route.rate_limit.requests} per {format_duration(route.rate_limit.per)} per Envoy "
                     "instance: over it Envoy answers 429")
    return lines
