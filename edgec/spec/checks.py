"""Semantic checks: everything that needs more than one field to decide.

Each `check_*` function looks at one concept and reports through `Checker.error` / `Checker.warn`
with the data path of the offending value; the source map turns paths into FILE:LINE:COL.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

import re2

from edgec.diagnostics import (
    Diagnostic,
    Location,
    Path,
    Severity,
    did_you_mean,
    format_path,
)
from edgec.layers.cloudflare.facts import OWASP_ANOMALY_RULE_ID
from edgec.spec.expressions import check_expression
from edgec.spec.lookup import (
    RE2_MAX_PROGRAM_SIZE,
    certificate_for,
    gateway_certificates,
    record_fqdn,
    zone_of,
)
from edgec.spec.model import Gateway, Ingress, Route, Spec
from edgec.spec.structure import ALL, Structured
from edgec.spec.yaml_source import SourceMap

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # errors are reported as diagnostics, not logged to stderr


@dataclass
class Checker:
    spec: Spec  # may lack entries that failed structural validation (see Structured)
    source: SourceMap
    structured: Structured
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def loc(self, path: Path) -> Location:
        return self.source.value(self.structured.original(path))

    def key_loc(self, path: Path) -> Location:
        return self.source.key(self.structured.original(path))

    def inside_loc(self, path: Path, value: str, offset: int) -> Location:
        return self.source.inside(self.structured.original(path), value, offset)

    def report(self, severity: Severity, path: Path, message: str, at: Location | None, code: str) -> None:
        original = self.structured.original(path)
        self.diagnostics.append(Diagnostic(at or self.source.value(original), original, message, severity, code))

    def error(self, path: Path, message: str, at: Location | None = None, code: str = "spec") -> None:
        self.report(Severity.ERROR, path, message, at, code)

    def warn(self, path: Path, message: str, at: Location | None = None, code: str = "spec") -> None:
        self.report(Severity.WARNING, path, message, at, code)

    def field(self, path: Path) -> str:
        """How the user would write `path` (list indexes as in their file, not as set aside)."""
        return format_path(self.structured.original(path))

    def where(self, path: Path) -> str:
        loc = self.loc(path)
        return f"{loc.file}:{loc.line}"

    def is_broken(self, section: str, name: str) -> bool:
        names = self.structured.broken.get(section, set())
        return name in names or ALL in names

    def reference(self, path: Path, section: str, name: str, what: str) -> bool:
        """True when `name` exists in `section`; reports an unknown reference otherwise."""
        known = getattr(self.spec, section)
        if name in known or self.is_broken(section, name):
            return name in known
        self.error(path, f"unknown {what} '{name}'{did_you_mean(name, known)}; "
                         f"declare it under '{section}' or fix the name", code="spec.reference")
        return False

    def ingresses(self):
        return ((("ingresses", i), ingress) for i, ingress in enumerate(self.spec.ingresses))


def run_checks(structured: Structured, source: SourceMap) -> list[Diagnostic]:
    spec = structured.spec
    if spec is None:
        return []
    checker = Checker(spec, source, structured)
    for check in (check_zones, check_certificates, check_gateways, check_services, check_ingresses, check_routes,
                  check_tls_coverage, check_waf, check_dns, check_acm_caa):
        check(checker)
    return checker.diagnostics


# --- zones -------------------------------------------------------------------------------------

def check_zones(c: Checker) -> None:
    for name, zone in c.spec.zones.items():
        path: Path = ("zones", name)
        if zone.provider == "cloudflare" and zone.private:
            c.error(path + ("private",), "Cloudflare zones are public; use provider: route53 for a private zone")
        if zone.provider == "route53" and zone.tls is not None:
            c.error(path + ("tls",), "tls settings apply to Cloudflare zones only; remove them "
                                     "(TLS for Route 53 hosts is set on the gateway)")
        if zone.vpc_ids and not zone.private:
            c.error(path + ("vpc_ids",), "vpc_ids apply to private zones only")
        if zone.private and c.spec.aws is None:
            c.error(path + ("private",), "a private Route 53 zone needs the 'aws' section (its VPC)")
        if zone.tls and zone.tls.min_version in ("1.0", "1.1"):
            c.warn(path + ("tls", "min_version"),
                   f"TLS {zone.tls.min_version} is deprecated and insecure; use '1.2'")


# --- certificates ------------------------------------------------------------------------------

def check_certificates(c: Checker) -> None:
    for name, cert in c.spec.certificates.items():
        for i, domain in enumerate(cert.domains):
            path: Path = ("certificates", name, "domains", i)
            if cert.source == "acm" and zone_of(c.spec, domain) is None:
                c.warn(path, f"'{domain}' is in no declared zone, so edgec cannot create its ACM validation "
                             "record; declare the zone or validate it yourself")
            if cert.source == "cloudflare-origin-ca":
                zone = zone_of(c.spec, domain)
                if zone and c.spec.zones[zone].provider != "cloudflare":
                    c.error(path, f"'{domain}' is in Route 53 zone '{zone}'; Cloudflare Origin CA "
                                  "certificates are only for hosts behind Cloudflare")
        if len(set(cert.domains)) != len(cert.domains):
            c.error(("certificates", name, "domains"), "a domain is listed twice; list each once")


# --- gateways ----------------------------------------------------------------------------------

def check_gateways(c: Checker) -> None:
    for name, gw in c.spec.gateways.items():
        path: Path = ("gateways", name)
        _check_gateway_ports(c, path, gw)
        _check_gateway_tls(c, path, gw)
        _check_allow_list(c, path + ("allow",), gw.allow)
        _check_gateway_network(c, path, gw)


def _check_gateway_ports(c: Checker, path: Path, gw: Gateway) -> None:
    used: dict[int, str] = {}
    for port_name in ("https", "http", "health", "admin"):
        port = getattr(gw.ports, port_name)
        if port is None:
            continue
        if port in used:
            c.error(path + ("ports", port_name),
                    f"port {port} is already used by ports.{used[port]}; each listener needs its own port")
        used[port] = port_name


def _check_gateway_tls(c: Checker, path: Path, gw: Gateway) -> None:
    tls, tpath = gw.tls, path + ("tls",)
    cert = None
    if tls.certificate is None:
        c.error(tpath, "missing 'certificate': the gateway's HTTPS listener needs one; name an entry "
                       "of 'certificates'")
    elif c.reference(tpath + ("certificate",), "certificates", tls.certificate, "certificate"):
        cert = c.spec.certificates[tls.certificate]
    for i, name in enumerate(tls.sni_certificates):
        if c.reference(tpath + ("sni_certificates", i), "certificates", name, "certificate"):
            _check_certificate_source(c, tpath + ("sni_certificates", i), tls, name)
    if cert is not None:
        _check_certificate_source(c, tpath + ("certificate",), tls, tls.certificate)
    if tls.terminate == "nlb":
        if tls.client_auth:
            c.error(tpath + ("client_auth",), "NLB TLS listeners cannot check client certificates; use "
                                              "terminate: envoy for authenticated origin pulls")
    if tls.client_auth == "cloudflare-origin-pull" and gw.exposure == "private":
        c.error(tpath + ("client_auth",), "authenticated origin pulls only make sense on a public gateway "
                                          "behind Cloudflare; remove client_auth")
    if tls.min_version in ("1.0", "1.1"):
        c.warn(tpath + ("min_version",), f"TLS {tls.min_version} is deprecated and insecure; use '1.2'")
    if cert is not None and gw.exposure == "private" and cert.source == "cloudflare-origin-ca":
        c.warn(tpath + ("certificate",), "a Cloudflare Origin CA certificate is trusted only by Cloudflare; "
                                         "clients of a private gateway will reject it")


def _check_certificate_source(c: Checker, path: Path, tls, name: str) -> None:
    source = c.spec.certificates[name].source
    if tls.terminate == "nlb" and source != "acm":
        c.error(path, f"the NLB terminates TLS only with ACM certificates, and '{name}' comes from {source}; "
                      "use terminate: envoy or an ACM certificate")
    elif tls.terminate == "envoy" and source == "acm":
        c.error(path, f"ACM certificates cannot be exported to Envoy, and '{name}' is one; use terminate: nlb, "
                      "or a Cloudflare Origin CA or file certificate")


def _check_allow_list(c: Checker, path: Path, cidrs: list[str]) -> None:
    """Duplicates are errors (AWS rejects duplicate rules); a block inside another is a warning.

    Sorted by address then prefix, each block is inside the last block not inside another, or in none."""
    first_at: dict[str, int] = {}
    for i, cidr in enumerate(cidrs):
        if cidr in first_at:
            c.error(path + (i,), f"'{cidr}' is listed twice; remove one")
        first_at.setdefault(cidr, i)
    networks = sorted((ipaddress.ip_network(cidr) for cidr in first_at),
                      key=lambda net: (net.version, net.network_address, net.prefixlen))
    cover = None
    for net in networks:
        if cover is not None and cover.version == net.version and net.subnet_of(cover):
            c.warn(path + (first_at[str(net)],), f"'{net}' is already inside '{cover}'; remove it")
        else:
            cover = net


def check_services(c: Checker) -> None:
    for name, service in c.spec.services.items():
        if service.tls is not None and not service.tls.ca_file:
            c.warn(("services", name, "tls"), "without ca_file, Envoy does not verify the upstream's certificate; "
                                              "give the CA bundle that signed it")


def _check_gateway_network(c: Checker, path: Path, gw: Gateway) -> None:
    if gw.exposure == "private" and not gw.allow:
        c.error(path + ("allow",), "a private gateway needs 'allow': the CIDRs that may reach it "
                                   "(e.g. your VPC's 10.0.0.0/8)")
    for i, cidr in enumerate(gw.allow):
        if gw.exposure == "public" and ipaddress.ip_network(cidr).prefixlen == 0:
            c.warn(path + ("allow", i), f"{cidr} lets clients bypass Cloudflare (and its WAF); leave 'allow' "
                                        "out to admit only Cloudflare's ranges")
    if c.is_broken("aws", ALL):
        return
    if c.spec.aws is None:
        c.error(path, "a gateway needs the 'aws' section (region, vpc_id, subnets) for its NLB")
        return
    subnets = c.spec.aws.subnets.public if gw.exposure == "public" else c.spec.aws.subnets.private
    if not subnets:
        c.error(path + ("exposure",), f"a {gw.exposure} gateway needs aws.subnets.{gw.exposure}: "
                                      "the subnets its NLB lives in")


# --- ingresses ---------------------------------------------------------------------------------

def check_ingresses(c: Checker) -> None:
    hosts: dict[str, Path] = {}
    for path, ingress in c.ingresses():
        if ingress.host in hosts:
            c.error(path + ("host",), f"host '{ingress.host}' is already declared at "
                                      f"{c.where(hosts[ingress.host] + ('host',))}; merge the two ingresses")
        else:
            hosts[ingress.host] = path
        gateway = None
        if c.reference(path + ("gateway",), "gateways", ingress.gateway, "gateway"):
            gateway = c.spec.gateways[ingress.gateway]
        _check_host_zone(c, path, ingress, gateway)


def _check_host_zone(c: Checker, path: Path, ingress: Ingress, gateway: Gateway | None) -> None:
    zone_name = zone_of(c.spec, ingress.host)
    if zone_name is None:
        if not _under_broken_zone(c, ingress.host):
            declared = ", ".join(sorted(c.spec.zones)) or "none"
            c.error(path + ("host",), f"host '{ingress.host}' is in no declared zone (declared: {declared}); "
                                      "add its zone under 'zones' or fix the host")
        return
    zone = c.spec.zones[zone_name]
    if gateway is None:
        return
    if gateway.exposure == "public" and zone.private:
        c.error(path + ("gateway",), f"public gateway '{ingress.gateway}' cannot serve '{ingress.host}' from "
                                     f"private zone '{zone_name}'; use a private gateway or a public zone")
    elif gateway.exposure == "private" and not zone.private:
        c.error(path + ("gateway",), f"private gateway '{ingress.gateway}' cannot serve '{ingress.host}' from "
                                     f"public zone '{zone_name}'; put the host in a private Route 53 zone")
    elif gateway.exposure == "public" and zone.provider != "cloudflare":
        c.warn(path + ("host",), f"'{ingress.host}' is in Route 53 zone '{zone_name}', so it is not behind "
                                 "Cloudflare's proxy or WAF")


def _under_broken_zone(c: Checker, host: str) -> bool:
    """A host whose zone failed structural validation: its zone error is the one to report."""
    broken = c.structured.broken.get("zones", set())
    return ALL in broken or any(host == z or host.endswith("." + z) for z in broken)


def check_routes(c: Checker) -> None:
    for path, ingress in c.ingresses():
        seen: dict[tuple, int] = {}
        for i, route in enumerate(ingress.routes):
            rpath = path + ("routes", i)
            key = (route.match, tuple(sorted(route.methods)),
                   tuple(sorted(h.model_dump_json() for h in route.headers)))
            if key in seen:
                c.error(rpath, f"routes[{seen[key]}] already matches the same requests "
                               f"({route.match[0]} {route.match[1]}); this route never matches")
            else:
                _check_shadowed(c, rpath, ingress.routes[:i], route)
            seen.setdefault(key, i)
            if route.service:
                c.reference(rpath + ("service",), "services", route.service, "service")
            for j, target in enumerate(route.split or []):
                c.reference(rpath + ("split", j, "service"), "services", target.service, "service")
            _check_split(c, rpath, route.split)
            if route.regex is not None:
                _check_regex(c, rpath + ("regex",), route.regex)
            for j, header in enumerate(route.headers):
                if header.regex is not None:
                    _check_regex(c, rpath + ("headers", j, "regex"), header.regex)
            first = route.service or (route.split[0].service if route.split else None)  # whose defaults apply
            _check_retries(c, rpath, route, c.spec.services.get(first or ""))
            if route.redirect is not None and not route.redirect.model_fields_set - {"code", "strip_query"}:
                c.error(rpath + ("redirect",), "the redirect changes nothing; set scheme, host or path")


def _covers_path(earlier: tuple[str, str], later: tuple[str, str]) -> bool:
    """Does a match on `earlier` take every request that `later` would match? (regexes: unknown)"""
    kind, value = earlier
    if kind == "exact":
        return later == earlier
    if kind != "path" or later[0] == "regex":
        return False
    return value == "/" or later[1] == value or later[1].startswith(value.rstrip("/") + "/")


def _check_shadowed(c: Checker, path: Path, earlier: list[Route], route: Route) -> None:
    """Warn when an earlier route takes all of this route's requests (first match wins).

    Quadratic in the routes of one host, which stay in the tens; never across hosts."""
    headers = {h.model_dump_json() for h in route.headers}
    for i, other in enumerate(earlier):
        if not _covers_path(other.match, route.match):
            continue
        if other.methods and not (route.methods and set(route.methods) <= set(other.methods)):
            continue
        if not {h.model_dump_json() for h in other.headers} <= headers:
            continue
        c.warn(path, f"routes[{i}] ({other.match[0]} {other.match[1]}) comes first and takes every request "
                     "this route matches, so it never matches; move it above")
        return


UNSAFE_METHODS = {"POST", "PATCH", "CONNECT"}
UNSAFE_RETRY_ON = {"5xx", "gateway-error", "reset", "retriable-4xx", "retriable-status-codes"}


def _check_retries(c: Checker, path: Path, route: Route, service) -> None:
    """Retries that could repeat a payment, or that can never happen."""
    retries = route.retries or (service.retries if service else None)
    timeout = route.timeout or (service.timeout if service else None)
    if retries is None or retries.attempts == 0:
        return
    # Only routes that name a non-idempotent method: a route for every method is usually a read path.
    methods = set(route.methods)
    risky = sorted(set(retries.on) & UNSAFE_RETRY_ON)
    if methods & UNSAFE_METHODS and risky:
        c.warn(path, f"retries on {', '.join(risky)} may send a {'/'.join(sorted(methods & UNSAFE_METHODS))} "
                     "twice (the upstream may have acted before failing); retry non-idempotent routes only on "
                     "connect-failure or refused-stream")
    if retries.per_try_timeout and timeout and retries.per_try_timeout >= timeout:
        c.warn(path, "per_try_timeout is not shorter than the route's timeout, so no retry can ever happen")


def _check_split(c: Checker, path: Path, split) -> None:
    if not split:
        return
    names = [t.service for t in split]
    if len(set(names)) != len(names):
        c.error(path + ("split",), "a service appears twice in the split; give each service one weight")
    if sum(t.weight for t in split) == 0:
        c.error(path + ("split",), "all weights are 0, so no request could be sent anywhere")


def _check_regex(c: Checker, path: Path, pattern: str) -> None:
    """Compiled with RE2 itself, the engine Envoy runs (no look-arounds, no back-references)."""
    try:
        compiled = re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        c.error(path, f"invalid RE2 regular expression (Envoy uses RE2): {reason}")
        return
    if compiled.programsize > RE2_MAX_PROGRAM_SIZE:
        c.error(path, f"the regular expression is too complex for the gateway (RE2 program size "
                      f"{compiled.programsize} > {RE2_MAX_PROGRAM_SIZE}); simplify it or use path/exact matches")


# --- TLS across layers -------------------------------------------------------------------------

def check_tls_coverage(c: Checker) -> None:
    for path, ingress in c.ingresses():
        gateway = c.spec.gateways.get(ingress.gateway)
        if gateway is None:
            continue
        names = [n for n in gateway_certificates(gateway) if n in c.spec.certificates]
        zone_name = zone_of(c.spec, ingress.host)
        zone = c.spec.zones.get(zone_name or "")
        mode = zone.tls.mode if zone and zone.tls else ("strict" if zone and zone.provider == "cloudflare" else None)
        if gateway.exposure == "public" and mode in ("off", "flexible"):
            serves = "only redirects to HTTPS" if gateway.ports.http else "does not serve"
            c.error(path + ("host",), f"zone '{zone_name}' has SSL mode {mode}: Cloudflare would reach "
                                      f"'{ingress.host}' over plain HTTP, which gateway '{ingress.gateway}' "
                                      f"{serves}; set the zone's tls.mode to strict")
        if not names or certificate_for(c.spec, gateway, ingress.host):
            continue
        covered = ", ".join(d for n in names for d in c.spec.certificates[n].domains)
        if len(names) == 1:
            message = (f"certificate '{names[0]}' of gateway '{ingress.gateway}' does not cover "
                       f"'{ingress.host}' (it covers {covered}); add the host to its domains")
        else:
            message = (f"no certificate of gateway '{ingress.gateway}' ({', '.join(names)}) covers "
                       f"'{ingress.host}' (they cover {covered}); add the host to one of them")
        if mode == "full":
            c.warn(path + ("host",), message + " — SSL mode full accepts it, strict would not")
        else:
            c.error(path + ("host",), message)


# --- WAF ---------------------------------------------------------------------------------------

def check_waf(c: Checker) -> None:
    for zone_name, waf in c.spec.waf.items():
        path: Path = ("waf", zone_name)
        zone = c.spec.zones.get(zone_name)
        if zone is None and not c.is_broken("zones", zone_name):
            c.error(path, f"WAF rules for undeclared zone '{zone_name}'{did_you_mean(zone_name, c.spec.zones)}",
                    at=c.key_loc(path))
        elif zone is not None and zone.provider != "cloudflare":
            c.error(path, f"zone '{zone_name}' is served by Route 53; WAF rules apply to Cloudflare zones only",
                    at=c.key_loc(path))
        _check_unique_names(c, path + ("custom",), [r.name for r in waf.custom])
        _check_unique_names(c, path + ("rate_limits",), [r.name for r in waf.rate_limits])
        for i, rule in enumerate(waf.custom):
            _check_expression(c, path + ("custom", i, "expression"), rule.expression)
            if rule.skip is not None and rule.action != "skip":
                c.error(path + ("custom", i, "skip"), f"'skip' options need action: skip (this rule's "
                                                      f"action is {rule.action})")
        for i, rule in enumerate(waf.rate_limits):
            _check_expression(c, path + ("rate_limits", i, "expression"), rule.expression)
            if "challenge" in rule.action and rule.mitigation_timeout:
                c.error(path + ("rate_limits", i, "mitigation_timeout"),
                        f"{rule.action} has no duration in Cloudflare (outside an Enterprise add-on); "
                        "remove mitigation_timeout or set it to 0")
            if "cf.colo.id" not in rule.characteristics:
                c.error(path + ("rate_limits", i, "characteristics"),
                        "Cloudflare requires 'cf.colo.id' among the characteristics; add it")
            for j, characteristic in enumerate(rule.characteristics):
                if characteristic not in RATE_LIMIT_CHARACTERISTICS and not _KEYED_CHARACTERISTIC.match(characteristic):
                    c.warn(path + ("rate_limits", i, "characteristics", j),
                           f"'{characteristic}' is not a rate-limit characteristic edgec knows"
                           f"{did_you_mean(characteristic, RATE_LIMIT_CHARACTERISTICS)}")
        _check_managed(c, path + ("managed",), waf.managed)


# Cloudflare's rate-limiting characteristics (its documentation), besides the keyed forms below.
RATE_LIMIT_CHARACTERISTICS = ("ip.src", "cf.colo.id", "ip.src.asnum", "ip.geoip.country", "ip.src.country",
                              "http.host", "http.request.uri.path", "cf.unique_visitor_id", "ip.geoip.asnum",
                              "cf.bot_management.ja3_hash", "cf.bot_management.ja4")
_KEYED_CHARACTERISTIC = re.compile(
    r'^(http\.request\.(headers|cookies|uri\.args|body\.json|body\.form)\["[^"]+"\]'
    r'|lookup_json_string\(http\.request\.body\.raw, "[^"]+"\))$')


def _check_unique_names(c: Checker, path: Path, names: list[str]) -> None:
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            c.error(path + (i, "name"), f"rule name '{name}' is already used by {c.field(path + (seen[name],))}; "
                                        "names identify rules and must be unique")
        seen.setdefault(name, i)


def _check_expression(c: Checker, path: Path, expression: str) -> None:
    problem = check_expression(expression)
    if problem:
        c.error(path, problem.message, at=c.inside_loc(path, expression, problem.offset), code="spec.waf")


def _check_managed(c: Checker, path: Path, managed) -> None:
    seen: set[str] = set()
    for i, entry in enumerate(managed):
        name = entry if isinstance(entry, str) else entry.ruleset
        if name in seen:
            c.error(path + (i,), f"managed ruleset '{name}' is listed twice")
        seen.add(name)
        if not isinstance(entry, str) and name != "owasp-core" and any(
                r.id == OWASP_ANOMALY_RULE_ID for r in entry.rules):
            c.error(path + (i, "rules"), f"rule {OWASP_ANOMALY_RULE_ID} belongs to owasp-core, not {name}; "
                                         "overrides must name rules of the ruleset they are under")
        if not isinstance(entry, str) and name != "owasp-core":
            for option in ("paranoia_level", "score_threshold"):
                if getattr(entry, option) is not None:
                    c.error(path + (i, option), f"{option} applies to owasp-core only")


# --- DNS ---------------------------------------------------------------------------------------

_CAA = re.compile(r'^\d{1,3} (issue|issuewild|iodef) "[^"]*"$')
_RECORD_NAME = re.compile(r"^(@|(\*|[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*)$")
TTL_RANGES = {"cloudflare": (30, 86400), "route53": (0, 2147483647)}  # plus 1 = automatic
_SRV_NAME = re.compile(r"^_[a-z0-9-]+\._(tcp|udp|tls)(\.|$)")
_SRV_CONTENT = re.compile(r"^\d{1,5} \d{1,5} \S+$")


def check_dns(c: Checker) -> None:
    hosts = {ingress.host for _, ingress in c.ingresses()}
    for zone_name, records in c.spec.dns.items():
        path: Path = ("dns", zone_name)
        zone = c.spec.zones.get(zone_name)
        if zone is None:
            if not c.is_broken("zones", zone_name):
                c.error(path, f"DNS records for undeclared zone '{zone_name}'"
                              f"{did_you_mean(zone_name, c.spec.zones)}", at=c.key_loc(path))
            continue
        seen: dict[tuple, int] = {}
        seen_sets: dict[tuple, tuple[int, int]] = {}
        types_at: dict[str, list[str]] = {}
        for i, record in enumerate(records):
            rpath = path + (i,)
            fqdn = record_fqdn(record.name, zone_name)
            _check_record(c, rpath, record, zone)
            key = (fqdn, record.type, record.content)
            if key in seen:
                c.error(rpath, f"same record as {c.field(path + (seen[key],))}; remove one")
            seen.setdefault(key, i)
            types_at.setdefault(fqdn, []).append(record.type)
            if zone.provider == "route53":
                first = seen_sets.setdefault((fqdn, record.type), (i, record.ttl))
                if first[1] != record.ttl:
                    c.error(rpath + ("ttl",), f"Route 53 keeps one TTL per name and type; {c.field(path + (first[0],))} "
                                              f"has {first[1]}, this record {record.ttl}")
            if fqdn in hosts and record.type in ("A", "AAAA", "CNAME"):
                c.error(rpath + ("name",), f"'{fqdn}' is an ingress host and already gets its record from its "
                                           "gateway; remove this record")
            elif "CNAME" in types_at[fqdn] and len(types_at[fqdn]) > 1:
                c.error(rpath + ("name",), f"'{fqdn}' has a CNAME, which cannot coexist with any other record "
                                           "(not even a second CNAME)")


AMAZON_CAS = {"amazon.com", "amazontrust.com", "awstrust.com", "amazonaws.com"}


def check_acm_caa(c: Checker) -> None:
    """ACM cannot issue for a name whose zone has CAA `issue` records that leave out Amazon."""
    issuers: dict[str, set[str]] = {}
    for zone, records in c.spec.dns.items():
        for record in records:
            if record.type == "CAA" and record_fqdn(record.name, zone) == zone and _CAA.match(record.content):
                _, tag, value = record.content.split(" ", 2)
                if tag in ("issue", "issuewild"):
                    issuers.setdefault(zone, set()).add(value.strip('"').split(";")[0].strip())
    for name, cert in c.spec.certificates.items():
        if cert.source != "acm":
            continue
        for i, domain in enumerate(cert.domains):
            zone = zone_of(c.spec, domain)
            if zone in issuers and not issuers[zone] & AMAZON_CAS:
                c.error(("certificates", name, "domains", i),
                        f"zone {zone} has CAA records that only allow {', '.join(sorted(issuers[zone]))}, so ACM "
                        f"cannot issue '{domain}'; add a CAA record '0 issue \"amazon.com\"'")


def _check_record(c: Checker, path: Path, record, zone) -> None:
    if not _RECORD_NAME.match(record.name):
        c.error(path + ("name",), f"'{record.name}' is not a record name: lower-case labels of a-z, 0-9, '-' "
                                  "and '_', relative to the zone, or '@' for the apex")
    problem = _record_content_problem(record)
    if problem:
        c.error(path + ("content",), problem)
    if record.type in ("MX", "SRV") and record.priority is None:
        c.error(path, f"{record.type} records need 'priority'")
    if record.proxied:
        if record.type not in ("A", "AAAA", "CNAME"):
            c.error(path + ("proxied",), f"{record.type} records cannot be proxied")
        elif zone.provider != "cloudflare":
            c.error(path + ("proxied",), "only records in Cloudflare zones can be proxied")
        elif record.ttl != 1:
            c.error(path + ("ttl",), "proxied records always have automatic TTL; remove 'ttl'")
    low, high = TTL_RANGES[zone.provider]
    if record.ttl != 1 and not low <= record.ttl <= high:
        c.error(path + ("ttl",), f"TTL {record.ttl} is out of range for {zone.provider}: use 1 (automatic) "
                                 f"or {low} to {high} seconds")
    if record.type == "SRV" and not _SRV_NAME.match(record.name):
        c.error(path + ("name",), "SRV names look like '_service._tcp' (or '_service._tcp.host')")


def _record_content_problem(record) -> str | None:
    content = record.content
    if record.type in ("A", "AAAA"):
        version = 4 if record.type == "A" else 6
        try:
            if ipaddress.ip_address(content).version == version:
                return None
        except ValueError:
            pass
        return f"'{content}' is not an IPv{version} address"
    if record.type == "MX" and content == ".":
        return None  # a null MX (RFC 7505): this domain receives no mail
    if record.type in ("CNAME", "MX"):
        target = content.rstrip(".")
        if re.match(r"^([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]*$", target.lower()):
            return None
        return f"'{content}' is not a host name"
    if record.type == "CAA" and not _CAA.match(content):
        return 'CAA content looks like: 0 issue "letsencrypt.org"'
    if record.type == "SRV" and not _SRV_CONTENT.match(content):
        return "SRV content is '<weight> <port> <target>' (priority goes in 'priority')"
    if record.type == "TXT" and len(content) > 2048:
        return f"TXT content is {len(content)} characters; Cloudflare allows 2,048"
    return None
