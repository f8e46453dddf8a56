"""Semantic checks of ingresses and routes: hosts in zones, references, shadowed and duplicate routes,
retries that are unsafe or cannot happen, splits, regexes; and TLS coverage across the layers."""

from __future__ import annotations

import functools
import re

import re2

from edgec.diagnostics import Path
from edgec.spec.checker import Checker
from edgec.spec.lookup import (
    RE2_MAX_PROGRAM_SIZE,
    certificate_for,
    served_certificates,
    zone_of,
)
from edgec.spec.model import Gateway, Ingress, Route

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
        if not c.under_broken_zone(ingress.host):
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


# What a client sends a path as (RFC 3986): these characters raw, anything else percent-encoded.
_PATH_CHARS = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@/-]|%[0-9A-Fa-f]{2}")
# Characters a regex can only mean literally that no client sends raw in a path (space, quotes, non-ASCII).
_NEVER_RAW = re.compile(r"""[^\x00-\x7f]|[ "<>`]""")


def _check_match_path(c: Checker, path: Path, route: Route) -> None:
    """Envoy matches the path as the client sent it (percent-encoded), without the query, after merging
    slashes: a match holding what a request path never holds could never match. Said with the form to
    write instead."""
    kind, value = route.match
    if kind == "regex":
        raw = sorted(set(_NEVER_RAW.findall(value)))
        if raw:
            encoded = ", ".join(f"'{ch}' as {_encoded(ch)}" for ch in raw)
            c.error(path + (kind,), f"clients send {', '.join(repr(ch) for ch in raw)} percent-encoded, so this "
                                    f"regex could never match them; write {encoded}")
        return
    if _PATH_CHARS.sub("", value) and "?" not in value and "#" not in value:
        c.error(path + (kind,), f"'{value}' holds characters clients send percent-encoded, so it could never "
                                f"match; write '{_encoded_path(value)}'")
    elif "?" in value or "#" in value:
        c.error(path + (kind,), f"'{value}' holds '{'?' if '?' in value else '#'}', but routes match the path "
                                "alone (without the query or fragment); match the path part only")
    elif "//" in value:
        c.error(path + (kind,), f"'{value}' holds '//', which no request reaches a route with (the gateway "
                                f"merges slashes); write '{re.sub('/+', '/', value)}'")
    else:
        _check_percent_encoding(c, path + (kind,), value)


_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _check_percent_encoding(c: Checker, path: Path, value: str) -> None:
    """The gateway decodes an encoded unreserved character before routing (%7E reaches routes as '~'),
    and matches other encodings as written, in the case clients send: upper case (RFC 3986)."""
    for escape in sorted(set(re.findall(r"%[0-9A-Fa-f]{2}", value))):
        char = chr(int(escape[1:], 16))
        if char in "/\\":
            c.error(path, f"the gateway turns '{escape}' into '/' and redirects, so this could never match; write "
                          "the path with '/'")
        elif char in _UNRESERVED:
            c.error(path, f"'{escape}' reaches routes as '{char}' (the gateway decodes it), so this could never "
                          f"match; write '{char}'")
        elif escape != escape.upper():
            c.warn(path, f"clients send '{escape.upper()}', not '{escape}', and paths match as written; write "
                         f"'{escape.upper()}'")


def _encoded(text: str) -> str:
    return "".join(f"%{byte:02X}" for byte in text.encode())


def _encoded_path(value: str) -> str:
    """The path as clients send it: every character outside RFC 3986's path characters percent-encoded."""
    out, i = [], 0
    while i < len(value):
        found = _PATH_CHARS.match(value, i)
        out.append(found.group(0) if found else _encoded(value[i]))
        i = found.end() if found else i + 1
    return "".join(out)


# Headers Envoy's routes may not change: the authority, and every pseudo-header (':path', ...).
FIXED_REQUEST_HEADERS = frozenset({"host"})
MIN_RATE_LIMIT_INTERVAL = 0.05  # seconds: Envoy refills a local rate limit's bucket at most every 50ms


def _check_envoy_limits(c: Checker, path: Path, route: Route) -> None:
    """What Envoy refuses in a route: a rate limit refilled more often than every 50ms, a change to the
    request's Host header."""
    if route.rate_limit and route.rate_limit.per.total_seconds() < MIN_RATE_LIMIT_INTERVAL:
        c.error(path + ("rate_limit", "per"), "Envoy refills a rate limit at most every 50ms; use per: 50ms "
                                              "or more (and scale requests to match)")
    for direction in ("request_headers", "response_headers"):
        _check_header_values(c, path + (direction,), getattr(route, direction))
    changes = route.request_headers
    if changes is None:
        return
    for section, names in (("set", list(changes.set)), ("add", list(changes.add)), ("remove", changes.remove)):
        for i, name in enumerate(names):
            if name.lower() in FIXED_REQUEST_HEADERS:
                where = path + ("request_headers", section) + ((i,) if section == "remove" else ())
                c.error(where, f"Envoy does not let a route change the '{name}' header; "
                               "send the request to another host with a redirect instead")


def _check_header_values(c: Checker, path: Path, changes) -> None:
    """A header value travels as it is written only without control characters (HTTP forbids them) and
    without white space at either end (HTTP drops it)."""
    if changes is None:
        return
    for section in ("set", "add"):
        for name, value in getattr(changes, section).items():
            if any(ord(ch) < 0x20 and ch != "\t" or ord(ch) == 0x7F for ch in value):
                c.error(path + (section, name), "a header value cannot hold control characters (line breaks "
                                                "included); remove them")
            elif value != value.strip(" \t"):
                c.error(path + (section, name), "HTTP drops white space at either end of a header value, so it "
                                                f"would arrive as '{value.strip(' ')}'; write it so")


def _covers_path(earlier: tuple[str, str], later: tuple[str, str]) -> bool:
    """Does a match on `earlier` take every request that `later` would match? A regex is covered when
    every path it matches starts with the earlier prefix (its literal start does); other regexes: unknown."""
    kind, value = earlier
    if kind == "exact":
        return later == earlier
    if kind != "path":
        return False
    start = _literal_start(later[1]) if later[0] == "regex" else later[1]
    if start is None:
        return False
    prefix = value.rstrip("/")
    if later[0] == "regex":  # the regex's paths go on after its literal start, so /v1x... is not under /v1
        return value == "/" or start.startswith(prefix + "/")
    return value == "/" or start == value or start.startswith(prefix + "/")


@functools.cache
def _literal_start(pattern: str) -> str | None:
    """The text every match of a regex begins with ('^/v1/transfers/[0-9]+' -> '/v1/transfers/'), from
    the standard library's parser (RE2 reads these the same); None when it cannot tell (flags)."""
    import re._parser as parser  # noqa: PLC0415 (only regex routes need it)

    try:
        items = list(parser.parse(pattern))
    except (re.error, RecursionError, OverflowError):
        return None
    if pattern.startswith("(?"):
        return None  # flags such as (?i) change what the literal matches
    start = []
    for op, arg in items:
        if op == parser.AT and arg == parser.AT_BEGINNING:
            continue
        if op != parser.LITERAL:
            break
        start.append(chr(arg))
    return "".join(start)


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
        if not gateway.tls.sni_certificates:
            continue
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
        names = served_certificates(c.spec, gateway)
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


