"""The policies `edgec check` enforces: each has a stable ID, a severity, why it matters and the fix.

A policy is a function from the `Subject` (the valid spec, its IR and its compiled AWS output) to
findings: (spec path, message). What the spec resolves to (a route's timeout and retries, where TLS
ends) is read from the IR; what was written (an explicit value) from the spec. IDs never change
meaning; retired IDs are not reused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterator

from edgec.diagnostics import Path
from edgec.emit.hcl import Block
from edgec.ir.model import IR
from edgec.ir.names import slug
from edgec.layers.cloudflare.ips import cloudflare_cidrs
from edgec.layers.envoy.model import EnvoyRoute, Forward
from edgec.spec.lookup import (
    certificate_for,
    gateway_certificates,
    inside_any,
    record_fqdn,
    zone_of,
)
from edgec.spec.model import Spec

SEVERITIES = ("note", "warning", "error")  # in increasing order, for --fail-on
WORLD = ("0.0.0.0/0", "::/0")
ADMIN_PATHS = ("/admin", "/internal", "/actuator", "/debug")
# Hosting services whose dangling CNAMEs can be claimed by anyone (subdomain takeover).
TAKEOVER_SUFFIXES = (".s3.amazonaws.com", ".s3-website", ".cloudfront.net", ".azurewebsites.net",
                     ".cloudapp.net", ".trafficmanager.net", ".herokuapp.com", ".github.io", ".netlify.app",
                     ".vercel.app", ".pages.dev", ".fastly.net", ".ghost.io", ".zendesk.com", ".statuspage.io")

Finding = tuple[Path, str]


@dataclass(frozen=True)
class Subject:
    spec: Spec
    ir: IR
    aws: dict[str, list[Block]]  # the AWS layer's files -> their blocks

    def routes(self) -> dict[Path, EnvoyRoute]:
        """The IR's routes, by the spec path of the route they come from."""
        return {route.origin: route for route in self.ir.of(EnvoyRoute)}


@dataclass(frozen=True)
class Policy:
    id: str
    severity: str
    title: str
    rationale: str
    fix: str
    check: Callable[[Subject], Iterator[Finding]]


POLICIES: list[Policy] = []


def policy(id: str, severity: str, title: str, rationale: str, fix: str):
    def register(check):
        POLICIES.append(Policy(id, severity, title, rationale, fix, check))
        return check
    return register


def _public_zones(spec: Spec) -> set[str]:
    """Cloudflare zones serving at least one host of a public gateway."""
    return {zone_of(spec, i.host) for i in spec.ingresses
            if spec.gateways[i.gateway].exposure == "public"} & {
        name for name, zone in spec.zones.items() if zone.provider == "cloudflare"}


def _routes(spec: Spec):
    for i, ingress in enumerate(spec.ingresses):
        for j, route in enumerate(ingress.routes):
            yield ("ingresses", i, "routes", j), ingress, route


@policy("EDGE001", "warning", "DNS record in a Cloudflare zone is not proxied",
        "Traffic to a DNS-only record skips Cloudflare's WAF and DDoS protection and reveals the origin.",
        "Set proxied: true, or suppress with the reason it must be DNS-only (mail, VPN, ACME).")
def unproxied_records(s: Subject) -> Iterator[Finding]:
    for zone, records in s.spec.dns.items():
        if s.spec.zones[zone].provider != "cloudflare":
            continue
        for i, record in enumerate(records):
            if record.type in ("A", "AAAA", "CNAME") and not record.proxied:
                yield ("dns", zone, i), f"{record_fqdn(record.name, zone)} {record.type} is DNS-only"


@policy("EDGE002", "error", "Public gateway admits more than Cloudflare's ranges",
        "A public gateway sits behind Cloudflare; any other source can reach the origin around the WAF.",
        "Leave 'allow' out on public gateways: edgec then admits exactly Cloudflare's published ranges.")
def public_gateway_wider_than_cloudflare(s: Subject) -> Iterator[Finding]:
    cloudflare = cloudflare_cidrs()
    for name, gateway in s.spec.gateways.items():
        if gateway.exposure != "public":
            continue
        for i, cidr in enumerate(gateway.allow):
            if not inside_any(cidr, cloudflare):
                yield ("gateways", name, "allow", i), f"{cidr} is not inside Cloudflare's ranges"


@policy("EDGE003", "error", "A port other than the HTTPS listener is open to the world",
        "Every extra port reachable from anywhere is attack surface (plain HTTP, probes, scans).",
        "Limit 'allow' to the networks that need the gateway, or drop ports.http on a world-open gateway.")
def extra_port_open_to_world(s: Subject) -> Iterator[Finding]:
    for name, gateway in s.spec.gateways.items():
        for i, cidr in enumerate(gateway.allow):
            if cidr in WORLD and gateway.ports.http is not None:
                yield (("gateways", name, "allow", i),
                       f"{cidr} reaches port {gateway.ports.http} (plain HTTP), not only HTTPS {gateway.ports.https}")


@policy("EDGE004", "error", "TLS below 1.2",
        "TLS 1.0 and 1.1 are deprecated (RFC 8996) and fail PCI DSS; their ciphers are broken.",
        "Set min_version: \"1.2\" (or \"1.3\").")
def tls_below_1_2(s: Subject) -> Iterator[Finding]:
    for name, zone in s.spec.zones.items():
        if zone.tls and zone.tls.min_version in ("1.0", "1.1"):
            yield ("zones", name, "tls", "min_version"), f"Cloudflare accepts TLS {zone.tls.min_version} on {name}"
    for name, gateway in s.spec.gateways.items():
        if gateway.tls.min_version in ("1.0", "1.1"):
            where = "the NLB's TLS policy" if gateway.tls.terminate == "nlb" else "Envoy"
            yield (("gateways", name, "tls", "min_version"),
                   f"{where} accepts TLS {gateway.tls.min_version} on gateway {name}")


@policy("EDGE005", "error", "Cloudflare SSL mode is not strict on a zone with public hosts",
        "Below strict, Cloudflare does not verify the origin's certificate: anyone on the path can pose as it.",
        "Set the zone's tls.mode: strict (the gateways' certificates already satisfy it).")
def ssl_not_strict(s: Subject) -> Iterator[Finding]:
    for name in sorted(_public_zones(s.spec)):
        zone = s.spec.zones[name]
        if zone.tls and zone.tls.mode != "strict":
            yield ("zones", name, "tls", "mode"), f"SSL mode is {zone.tls.mode} on {name}"


@policy("EDGE006", "warning", "HSTS is off on a public zone",
        "Without HSTS a browser's first request can be downgraded to plain HTTP and intercepted.",
        "Add tls.hsts with max_age of at least 15552000 (180 days) to the zone.")
def hsts_off(s: Subject) -> Iterator[Finding]:
    for name in sorted(_public_zones(s.spec)):
        zone = s.spec.zones[name]
        if zone.tls is None or zone.tls.hsts is None or not zone.tls.hsts.enabled or zone.tls.hsts.max_age == 0:
            yield ("zones", name), f"HSTS is off on {name}"


@policy("EDGE007", "error", "No managed WAF ruleset on a zone with public hosts",
        "Custom rules alone miss the injection and exploit patterns Cloudflare's managed rules catch.",
        "Add waf.<zone>.managed: [cloudflare-managed, owasp-core].")
def no_managed_waf(s: Subject) -> Iterator[Finding]:
    for name in sorted(_public_zones(s.spec)):
        waf = s.spec.waf.get(name)
        if waf is None or not waf.managed:
            yield (("waf", name) if waf else ("zones", name)), f"zone {name} has public hosts and no managed ruleset"


@policy("EDGE008", "warning", "Route without an explicit timeout",
        "A route relying on the implicit 15 s default (or 0: never) ties up connections when the upstream hangs.",
        "Set timeout on the route or its service, sized to the slowest legitimate request.")
def route_without_timeout(s: Subject) -> Iterator[Finding]:
    resolved = s.routes()
    for path, ingress, route in _routes(s.spec):
        forward = getattr(resolved.get(path), "action", None)
        if not isinstance(forward, Forward):
            continue
        explicit = route.timeout if "timeout" in route.model_fields_set else None
        if explicit is None and all("timeout" not in s.spec.services[n].model_fields_set for n in route.services):
            yield path, f"route {route.name or path[-1]} of {ingress.host} uses the implicit default timeout"
        elif forward.timeout.total_seconds() == 0:
            yield path + ("timeout",), f"route {route.name or path[-1]} of {ingress.host} never times out"


@policy("EDGE009", "warning", "Retries without a per-try timeout",
        "Without per_try_timeout, one slow try uses the whole route timeout and the retry on 5xx or "
        "gateway-error (a timed-out try counts as one) never happens.",
        "Set retries.per_try_timeout below the route's timeout.")
def retries_without_per_try_timeout(s: Subject) -> Iterator[Finding]:
    resolved = s.routes()
    for path, ingress, route in _routes(s.spec):
        retry = getattr(getattr(resolved.get(path), "action", None), "retry", None)
        if (retry and retry.num_retries > 0 and retry.per_try_timeout is None
                and {"5xx", "gateway-error"} & set(retry.retry_on)):
            where = path + ("retries",) if route.retries else ("services", route.services[0], "retries")
            yield where, f"route {route.name or path[-1]} of {ingress.host} retries without a per-try timeout"


def _nested_quantifier(pattern: str) -> bool:
    """A repeat inside an unbounded repeat, as in (a+)+ or (.*)*: exponential on backtracking engines,
    and large, slow programs in RE2."""
    import re._parser as parser  # the standard library's own regex parser

    def walk(items, inside_unbounded: bool) -> bool:
        for op, arg in items:
            if op in (parser.MAX_REPEAT, parser.MIN_REPEAT):
                low, high, sub = arg
                unbounded = high == parser.MAXREPEAT
                if inside_unbounded and (unbounded or high > 1):
                    return True
                if walk(sub, inside_unbounded or unbounded):
                    return True
            elif op == parser.SUBPATTERN and walk(arg[-1], inside_unbounded):
                return True
            elif op == parser.BRANCH and any(walk(b, inside_unbounded) for b in arg[1]):
                return True
        return False

    try:
        return walk(parser.parse(pattern), False)
    except (re.error, RecursionError):
        return False  # RE2-only syntax; validation already compiled it with RE2


@policy("EDGE010", "warning", "Regex route that can backtrack badly",
        "Nested unbounded quantifiers ((a+)+, (.*)*) are catastrophic on backtracking engines and slow in RE2.",
        "Remove the nested quantifier (e.g. [a-z]+ instead of ([a-z]+)+), or use path/exact matches.")
def backtracking_regex(s: Subject) -> Iterator[Finding]:
    for path, ingress, route in _routes(s.spec):
        if route.regex and _nested_quantifier(route.regex):
            yield path + ("regex",), f"{route.regex!r} has a quantifier inside an unbounded quantifier"
        for k, header in enumerate(route.headers):
            if header.regex and _nested_quantifier(header.regex):
                yield path + ("headers", k, "regex"), f"{header.regex!r} has a quantifier inside an unbounded one"


@policy("EDGE011", "error", "Admin-looking path on a public gateway",
        "Admin, internal, actuator and debug endpoints on the internet are a favourite first step of attacks.",
        "Serve them on a private gateway, or suppress with the reason they are safe in public (auth in front).")
def admin_path_public(s: Subject) -> Iterator[Finding]:
    for path, ingress, route in _routes(s.spec):
        if s.spec.gateways[ingress.gateway].exposure != "public" or route.redirect:
            continue
        for kind in ("path", "exact", "regex"):
            value = getattr(route, kind)
            text = value.lstrip("^").replace("\\", "") if value else ""
            if any(text == p or text.startswith(p + "/") or text.startswith(p + "(") or text.startswith(p + "$")
                   or text == p + "/" for p in ADMIN_PATHS):
                yield path + (kind,), f"{ingress.host}{text} is served on public gateway {ingress.gateway}"


@policy("EDGE012", "error", "DNS record points at a target nothing owns (dangling)",
        "A CNAME to a name no spec element defines, or to a hosting service you may no longer hold, can be "
        "claimed by someone else (subdomain takeover).",
        "Point it at a host of the spec, remove it, or suppress with the reason you own the target.")
def dangling_records(s: Subject) -> Iterator[Finding]:
    defined = {i.host for i in s.spec.ingresses} | {
        record_fqdn(r.name, zone) for zone, records in s.spec.dns.items() for r in records}
    for zone, records in s.spec.dns.items():
        for i, record in enumerate(records):
            if record.type != "CNAME":
                continue
            target = record.content.rstrip(".").lower()
            if zone_of(s.spec, target) is not None and target not in defined:
                yield ("dns", zone, i, "content"), f"{target} is in zone {zone_of(s.spec, target)} but nothing defines it"
            elif any(suffix in target + "." or target.endswith(suffix) for suffix in TAKEOVER_SUFFIXES):
                yield ("dns", zone, i, "content"), f"{target} is on a hosting service open to takeover if released"


@policy("EDGE013", "error", "Certificate does not cover a host served with it",
        "Clients (and Cloudflare in strict mode) reject a certificate that does not name the host.",
        "Add the host to the certificate's domains, or serve the host with another certificate.")
def certificate_not_covering(s: Subject) -> Iterator[Finding]:
    for i, ingress in enumerate(s.spec.ingresses):
        gateway = s.spec.gateways[ingress.gateway]
        if gateway_certificates(gateway) and not certificate_for(s.spec, gateway, ingress.host):
            yield ("ingresses", i, "host"), f"no certificate of gateway {ingress.gateway} covers {ingress.host}"


@policy("EDGE014", "error", "Load balancer without a security group",
        "An NLB created without a security group can only get one by being replaced, which changes its DNS name.",
        "Keep the security group edgec attaches at creation; do not override security_groups.")
def nlb_without_security_group(s: Subject) -> Iterator[Finding]:
    gateways = {slug(name): name for name in s.spec.gateways}
    for blocks in s.aws.values():
        for block in blocks:
            if block.type == "resource" and block.labels[:1] == ("aws_lb",):
                attributes = dict(item for item in block.body if isinstance(item, tuple))
                if not attributes.get("security_groups"):
                    name = gateways.get(block.labels[1], block.labels[1])
                    yield ("gateways", name), f"aws_lb.{block.labels[1]} has no security group"


@policy("EDGE015", "error", "Broken or orphaned chain across layers",
        "Each public hostname needs every layer: DNS, WAF, NLB listener and security group, an Envoy virtual "
        "host, a route and a cluster with endpoints; a missing link is an outage, a leftover is an unowned risk.",
        "Fix the layer named in the message (usually the spec element it points at), or remove the leftover.")
def broken_chain(s: Subject) -> Iterator[Finding]:
    from edgec.policy.chain import (
        chain_findings,  # the walk is long enough for a module of its own
    )

    yield from chain_findings(s)


@policy("EDGE016", "warning", "Public gateway reachable through any Cloudflare account",
        "A public gateway admits Cloudflare's ranges, from which every Cloudflare customer's traffic comes: "
        "anyone can point a zone of their own at the NLB and reach the gateway around your WAF rules. Only a "
        "client certificate that your zones alone present stops them; Cloudflare's shared origin-pull "
        "certificate is presented by every customer's zones.",
        "Set tls.client_auth: cloudflare-origin-pull with an origin_pull_certificate of your own "
        "(a certificates entry with source: origin-pull), or suppress with the reason.")
def public_gateway_without_own_client_certificate(s: Subject) -> Iterator[Finding]:
    for name, gateway in sorted(s.spec.gateways.items()):
        tls = gateway.tls
        if gateway.exposure != "public" or tls.client_auth == "cloudflare-origin-pull":
            continue
        if tls.client_auth == "cloudflare-origin-pull-shared":
            yield (("gateways", name, "tls", "client_auth"),
                   f"gateway '{name}' accepts Cloudflare's shared certificate, which every Cloudflare account presents")
        else:
            where = " (TLS ends at the NLB, which cannot check one)" if tls.terminate == "nlb" else ""
            yield ("gateways", name, "tls"), f"gateway '{name}' checks no client certificate{where}"
