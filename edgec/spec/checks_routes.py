"""Semantic checks of ingresses and routes: hosts in zones, references, shadowed and duplicate routes,
retries that are unsafe or cannot happen, splits, regexes; and TLS coverage across the layers."""

from __future__ import annotations

import re

import re2

from edgec.diagnostics import Path
from edgec.spec.checker import Checker
from edgec.spec.lookup import (
    RE2_MAX_PROGRAM_SIZE,
    certificate_for,
    gateway_certificates,
    zone_of,
)
from edgec.spec.model import Gateway, Ingress, Route
from edgec.spec.structure import ALL

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # errors are reported as diagnostics, not logged to stderr


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
            first = route.services[0] if route.services else None  # whose defaults apply
            _check_retries(c, rpath, route, c.spec.services.get(first or ""))
            _check_match_path(c, rpath, route)
            _check_envoy_limits(c, rpath, route)
            if route.redirect is not None and not route.redirect.model_fields_set - {"code", "strip_query"}:
                c.error(rpath + ("redirect",), "the redirect changes nothing; set scheme, host or path")


def _check_match_path(c: Checker, path: Path, route: Route) -> None:
    """Envoy matches the path without the query, after merging slashes: a path or exact match holding
    '?', '#' or '//' could never match (and Envoy refuses such a prefix)."""
    kind, value = route.match
    if kind == "regex":
        return
    if "?" in value or "#" in value:
        c.error(path + (kind,), f"'{value}' holds '{'?' if '?' in value else '#'}', but routes match the path "
                                "alone (without the query or fragment); match the path part only")
    elif "//" in value:
        c.error(path + (kind,), f"'{value}' holds '//', which no request reaches a route with (the gateway "
                                f"merges slashes); write '{re.sub('/+', '/', value)}'")


# Headers Envoy's routes may not change: the authority, and every pseudo-header (':path', ...).
FIXED_REQUEST_HEADERS = frozenset({"host"})
MIN_RATE_LIMIT_INTERVAL = 0.05  # seconds: Envoy refills a local rate limit's bucket at most every 50ms


def _check_envoy_limits(c: Checker, path: Path, route: Route) -> None:
    """What Envoy refuses in a route: a rate limit refilled more often than every 50ms, a change to the
    request's Host header."""
    if route.rate_limit and route.rate_limit.per.total_seconds() < MIN_RATE_LIMIT_INTERVAL:
        c.error(path + ("rate_limit", "per"), "Envoy refills a rate limit at most every 50ms; use per: 50ms "
                                              "or more (and scale requests to match)")
    changes = route.request_headers
    if changes is None:
        return
    for section, names in (("set", list(changes.set)), ("add", list(changes.add)), ("remove", changes.remove)):
        for i, name in enumerate(names):
            if name.lower() in FIXED_REQUEST_HEADERS:
                where = path + ("request_headers", section) + ((i,) if section == "remove" else ())
                c.error(where, f"Envoy does not let a route change the '{name}' header; "
                               "send the request to another host with a redirect instead")


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

def _check_unused_sni_certificates(c: Checker) -> None:
    """An SNI certificate that is the best one for none of the gateway's hosts is never served."""
    for name, gateway in c.spec.gateways.items():
        served = {certificate_for(c.spec, gateway, i.host) for _, i in c.ingresses() if i.gateway == name}
        for j, cert in enumerate(gateway.tls.sni_certificates):
            if cert in c.spec.certificates and cert != gateway.tls.certificate and cert not in served:
                c.warn(("gateways", name, "tls", "sni_certificates", j),
                       f"certificate '{cert}' is the best match for none of gateway '{name}''s hosts, so it is "
                       "never served; remove it, or serve a host it covers")


def check_tls_coverage(c: Checker) -> None:
    _check_unused_sni_certificates(c)
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


