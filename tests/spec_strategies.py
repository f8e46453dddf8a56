"""Hypothesis strategies that build *valid* edgec specs from the models (issue 13, item 6).

Unlike test_fuzz.py, which mutates the examples to find crashes in `validate`, these strategies
compose a spec from scratch, section by section, keeping every cross reference consistent, so that
nearly every generated spec passes `edgec validate` and reaches the IR and the emitters:

- zones: Cloudflare (with or without edge TLS settings) and Route 53, public and private, some nested
  in others (`shops.example.com` inside `example.com`);
- hosts in declared zones, with awkward but valid names: wildcards (`*.shops.example.com`), labels
  named `star`, `xn--` punycode labels, labels that start with a digit, 63-character labels;
- gateways of both exposures, with distinct ports, TLS at Envoy or at the NLB, SNI certificates and
  authenticated origin pulls; each host lands on a gateway of its zone's exposure, and the gateway's
  certificates are built to cover it (exactly, or with a one-label wildcard);
- certificates of every source, each one only where the checks allow it (ACM at the NLB, Origin CA
  only for names behind Cloudflare, ...);
- services reached by DNS name, IPv4 and IPv6 (`[2001:db8::1]:8080`), with every optional policy;
- routes of every match and action kind, with header matches (`invert`, `present`), splits,
  redirects, timeouts, retries, rate limits and header changes;
- WAF rules on Cloudflare zones only, with expressions Cloudflare's parser accepts;
- DNS records of every type, with awkward names (`a_b` and `a.b` in one zone, `_dmarc`, `_sip._tcp`,
  `@`, wildcards, names written in full) and awkward TXT content (quotes, backslashes, `${`, up to
  2,048 characters); the rules of check_dns (CNAME alone at its name, no A/AAAA/CNAME on an ingress
  host, one TTL per Route 53 record set, CAA records that still let ACM issue) are kept while drawing;
- ignore rules.

What the checks would refuse is avoided while drawing, not filtered afterwards, so the share of specs
that validate stays high (tests/test_valid_specs.py asserts at least 90%).

Two things are drawn on purpose because emitters get them wrong easily:
- names that only punctuation tells apart (`neighbour`): `*.x` beside `star.x`, `a_b` beside `a.b`,
  and one record name listed under a zone and under the zone nested in it;
- values the spec accepts though they are unusual: header values with `%` or quotes, paths with
  percent-encoded spaces or non-ASCII characters, counts of 2^32 - 1, durations under a millisecond, ports 1 and
  65535, IPv6 allow lists. (Values the spec refuses because Envoy or AWS would, such as paths with
  `?` or `//`, a rate-limit interval under 50ms, changes to the `host` header, an empty header
  prefix, counts of 2^32, Route 53 zones without the `aws` section or a spec named `internal`, are
  tests/test_checks.py's: each is a located error.)

`specs()` draws the spec as plain data (dicts and lists, as YAML would give); `spec_yaml()` writes it.
"""

from __future__ import annotations

import pathlib
import re
from typing import Any

import yaml
from hypothesis import strategies as st

ORIGIN_PULL_PEM = str(pathlib.Path(__file__).parent / "testdata" / "origin-pull.pem")  # a client certificate
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

# --- names -------------------------------------------------------------------------------------

LABELS = [
    "api", "www", "shops", "star", "a", "b", "a-b", "mail", "v2", "data", "internal",
    "xn--bcher-kva", "xn--80ak6aa92e", "xn--mnchen-3ya",  # punycode: bücher, испытание, münchen
    "1st", "0", "9lives", "123", "4-x",  # digits first (valid in host names since RFC 1123)
    "a" * 63, "l" + "-" * 61 + "z", "x" + "0123456789" * 6 + "yz",  # 63 characters, the most a label may have
]
TLDS = ["com", "net", "example", "internal", "test", "io", "xn--p1ai", "a"]
ZONES = [
    "example.com", "shops.example.com", "acme.test", "corp.internal", "data.corp.internal",
    "xn--bcher-kva.example", "0.example", "1st.io", "a-b.net", "star.example.com",
    ("a" * 63) + ".test",
]
IDENTIFIERS = ["public", "private", "edge", "internal", "a-b", "a_b", "gw-", "gw_", "p1", "x" * 63, "api", "z"]
HEADER_NAMES = ["x-tenant", "x-canary", "content-type", "X-Mixed-Case", "x_underscore", "a.b", "~", "x-edge-route",
                "cache-control", "accept", "authorization"]
HEADER_VALUES = ["no-store", "1", "", "true", "a \"quoted\" value", "back\\slash", "ünïcode ✓", "gzip, br",
                 "100%", "%REQ(x-id)%", "${var}", "x" * 200]
PATHS = ["/", "/v1", "/v1/payments", "/a_b", "/x/", "/%C3%BC", "/~user", "/a-b/c.d", "/v1/users/", "/search",
         "/a;b", "/healthz", "/x%20y", "/@me", "/a:b"]
REGEXES = ["^/v1/users/[0-9]+$", "^/api/(v1|v2)/.*$", "/static/.*\\.css", "^/[a-z0-9*,-]+/_search$", "\\pL+",
           "^/x(/[a-z]+)?$", ".*", "^/[a-z0-9-]{36}$", "(?i)^/ADMIN"]
HEADER_REGEXES = ["^(hr|finance)$", "[0-9]+", "^application/grpc", ".*"]
DURATIONS = ["1ms", "0.5ms", "10ms", "250ms", "500ms", "1s", "1.5s", "3s", "15s", "30s", "1m", "1m30s", "5m", "1h",
             "24h", "2h30m"]
IPV4 = ["10.20.4.11", "192.0.2.1", "203.0.113.10", "0.0.0.0", "255.255.255.255", "127.0.0.1"]
IPV6 = ["2001:db8::1", "::1", "fd00::a:b", "2001:db8:0:0:0:0:0:2", "fe80::1"]
CIDRS = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "10.40.0.0/16", "203.0.113.7/32",
         "2001:db8::/32", "fd00::/8", "0.0.0.0/0", "::/0"]
TXT = ["v=spf1 include:_spf.example.net -all", 'say "hi"', "back\\slash", 'both \\"escaped\\"', "ünïcode ✓",
       "a;b c=d", "${not_a_template}", "%{also_not}", "x" * 255, "y" * 256, "z" * 2048, "'single'", "trailing space ",
       "v=DMARC1; p=reject; rua=mailto:dmarc@example.com", "\\", '"']
CAA_ISSUERS = ["letsencrypt.org", "pki.goog", "digicert.com", ";"]
EXPRESSION_PARTS = [
    'http.request.uri.path eq "/login"',
    'starts_with(http.request.uri.path, "/admin")',
    'ip.src in {198.51.100.0/24 2001:db8::/32}',
    'http.host in {"a.example.com" "b.example.com"}',
    'http.request.method eq "POST"',
    'lower(http.user_agent) contains "curl"',
    'http.request.uri.path matches "^/v[0-9]+/"',
    'ip.geoip.country in {"FR" "DE"}',
    'cf.threat_score gt 10',
    'any(http.request.headers["x-api-key"][*] eq "secret")',
    'http.request.uri.path eq "/quote\\"and\\\\backslash"',
    'http.request.uri.path wildcard "/a*"',
    'http.request.uri.query contains "x=1"',
]
RATE_LIMIT_CHARACTERISTICS = ["ip.src", "ip.src.asnum", "ip.geoip.country", "http.host", "http.request.uri.path",
                              'http.request.headers["x-api-key"]', 'http.request.cookies["session"]']
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"]
RETRY_ON = ["5xx", "gateway-error", "reset", "connect-failure", "retriable-4xx", "refused-stream",
            "retriable-status-codes", "unavailable", "cancelled"]

_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


# Strategies are built once, here: building them while drawing (above all with lambdas, whose source
# hypothesis reads to describe them) made drawing a spec several times slower.
_LABELS = st.sampled_from(LABELS) | st.from_regex(r"\A[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?\Z")
_IDENTIFIERS = st.sampled_from(IDENTIFIERS) | st.from_regex(r"\A[a-z][a-z0-9_-]{0,12}\Z")
_ZONE_NAMES = st.sampled_from(ZONES) | st.tuples(_LABELS, st.sampled_from(TLDS)).map(".".join)
_CERT_NAMES = st.sampled_from(["acme-origin", "partners-acm", "corp", "a-b", "a_b", "c" * 63, "wild"]) | \
    st.from_regex(r"\A[a-z][a-z0-9-]{0,10}\Z")
_ENDPOINT_HOSTS = st.sampled_from(
    ["payments.payments.svc.cluster.local", "backend", "xn--bcher-kva.example", "a-b.c", "1st.svc.cluster.local",
     ("a" * 63) + ".internal"] + IPV4 + [f"[{ip}]" for ip in IPV6])


def labels() -> st.SearchStrategy[str]:
    return _LABELS


def identifiers() -> st.SearchStrategy[str]:
    return _IDENTIFIERS


def zone_names() -> st.SearchStrategy[str]:
    return _ZONE_NAMES


def durations(*, small: bool = False) -> st.SearchStrategy[str]:
    pool = [d for d in DURATIONS if not small or d.endswith("ms") or d in ("1s", "1.5s", "3s")]
    return st.sampled_from(pool)


@st.composite
def _counts(draw) -> int:
    return 2**32 - 1 if draw(st.integers(0, 19)) == 0 else draw(st.integers(1, 100000))


_COUNTS = _counts()


def counts() -> st.SearchStrategy[int]:
    """A count of Envoy's (circuit breakers, rate limits): now and then the largest 32 bits hold."""
    return _COUNTS


def zone_of(zones, host: str) -> str | None:
    """The most specific zone containing host (an oracle written apart from edgec.spec.lookup)."""
    labels_ = host.removeprefix("*.").split(".")
    for i in range(len(labels_) - 1):
        if ".".join(labels_[i:]) in zones:
            return ".".join(labels_[i:])
    return None


def record_fqdn(name: str, zone: str) -> str:
    if name in ("@", zone):
        return zone
    return name if name.endswith("." + zone) else f"{name}.{zone}"


def valid_hostname(name: str) -> bool:
    if len(name) > 253:
        return False
    parts = name.removeprefix("*.").split(".")
    return (len(parts) >= 2 and all(_LABEL.match(p) for p in parts)
            and re.match(r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", parts[-1]) is not None)


def _maybe(draw, strategy, p_none: float = 0.5):
    """None with probability about p_none, else a draw (None shrinks first: leaving a field out)."""
    return draw(strategy) if draw(st.integers(0, 9)) >= round(p_none * 10) else None


def _put(target: dict, key: str, value) -> None:
    if value is not None:
        target[key] = value


# --- zones -------------------------------------------------------------------------------------

def _zone(draw, with_aws: bool) -> dict:
    kinds = ["cloudflare"] + (["route53", "private"] if with_aws else [])  # Route 53 needs the aws section
    kind = draw(st.sampled_from(kinds))
    zone: dict[str, Any] = {"provider": "cloudflare" if kind == "cloudflare" else "route53"}
    if kind == "private":
        zone["private"] = True
        vpcs = draw(st.lists(st.sampled_from(["vpc-0f9d8c7b6a5e4d321", "vpc-1", "vpc-0abc"]), max_size=2, unique=True))
        _put(zone, "vpc_ids", vpcs or None)
    if kind == "cloudflare" and draw(st.booleans()):
        tls: dict[str, Any] = {}
        _put(tls, "mode", _maybe(draw, st.sampled_from(["strict", "full", "flexible", "off"])))
        _put(tls, "min_version", _maybe(draw, st.sampled_from(["1.0", "1.1", "1.2", "1.3", 1.2, 1.3])))
        _put(tls, "always_use_https", _maybe(draw, st.booleans()))
        _put(tls, "tls_1_3", _maybe(draw, st.booleans()))
        if draw(st.booleans()):
            hsts: dict[str, Any] = {}
            _put(hsts, "max_age", _maybe(draw, st.integers(0, 63072000)))
            for flag in ("enabled", "include_subdomains", "preload", "nosniff"):
                _put(hsts, flag, _maybe(draw, st.booleans(), 0.7))
            tls["hsts"] = hsts
        zone["tls"] = tls
    _put(zone, "owner", _maybe(draw, st.sampled_from(["platform-team", "dns team", "ünï"]), 0.7))
    if draw(st.integers(0, 9)) == 0:
        zone["apply_limits"] = {"max_change_percent": draw(st.integers(0, 100)),
                                "min_resources": draw(st.integers(1, 50))}
    return zone


# --- hosts -------------------------------------------------------------------------------------

def _host(draw, zones: list[str], taken: list[str]) -> str | None:
    """A host in one of `zones`; sometimes a neighbour of a host already taken (see `neighbour`)."""
    if taken and draw(st.integers(0, 2)) == 0:
        host = neighbour(draw, draw(st.sampled_from(taken)))
    else:
        zone = draw(st.sampled_from(zones))
        parts = draw(st.lists(labels(), max_size=2))
        if draw(st.integers(0, 4)) == 0:
            parts = ["*"] + parts
        host = ".".join(parts + [zone])
    if host.startswith("*.") and host.count(".") < 2:
        return None
    return host if valid_hostname(host) else None


def neighbour(draw, name: str, underscores: bool = False) -> str:
    """A different name that a careless normalisation could confuse with `name`: `*` and `star`
    (`*.shops.example.com` beside `star.shops.example.com`), `_` and `.` (`a_b` beside `a.b`; only
    where `underscores` are allowed, as in record names), `-` and `_`, or one more label in front."""
    first, dot, rest = name.partition(".")
    swaps = {"star": "*", "*": "star"}
    options = ["label"]
    if first in swaps:
        options += ["star"] * 3
    if underscores:
        options += [kind for kind, char in (("dot", "."), ("underscore", "_"), ("dash", "-"))
                    if re.search(_INNER.format(char), name)] * 2
    choice = draw(st.sampled_from(options))
    if choice == "star":
        return swaps[first] + dot + rest
    if choice == "dot":
        return re.sub(_INNER.format("."), "_", name, count=1)
    if choice == "underscore":
        return re.sub(_INNER.format("_"), draw(st.sampled_from([".", "-"])), name, count=1)
    if choice == "dash":
        return re.sub(_INNER.format("-"), "_", name, count=1)
    label = draw(st.sampled_from(["star", "*", "a", "a-b", "0"] + (["a_b"] if underscores else [])))
    return label if name == "@" else f"{label}.{name}"


_INNER = r"(?<=[a-z0-9])[{}](?=[a-z0-9])"  # a '.', '_' or '-' between two letters or digits


# --- certificates ------------------------------------------------------------------------------

def _cover_name(draw, host: str) -> str:
    """A certificate name that covers `host`: itself, or the wildcard one label up."""
    parent = host.split(".", 1)[1]
    wildcard = f"*.{parent}"
    if not host.startswith("*.") and valid_hostname(wildcard) and draw(st.booleans()):
        return wildcard
    return host


def _certificate(draw, source: str, name: str, domains: list[str]) -> dict:
    cert: dict[str, Any] = {"source": source, "domains": domains}
    if source == "acm":
        _put(cert, "validation", _maybe(draw, st.just("dns"), 0.8))
    elif source == "cloudflare-origin-ca":
        _put(cert, "key_type", _maybe(draw, st.sampled_from(["rsa", "ecc"])))
        _put(cert, "validity_days", _maybe(draw, st.sampled_from([7, 30, 90, 365, 730, 1095, 5475])))
    else:
        folder = draw(st.sampled_from(["/etc/envoy/certs", "/etc/envoy/certs/a b", "/etc/ssl/ünï", "/certs"]))
        cert["cert_file"] = f"{folder}/{name}.crt"
        cert["key_file"] = draw(st.sampled_from([f"{folder}/{name}.key", f"/etc/envoy/keys/{name}.pem"]))
    return cert


def _origin_pull_certificate(draw) -> dict:
    cert: dict[str, Any] = {"source": "origin-pull", "certificate_file": ORIGIN_PULL_PEM,
                            "ca_file": "/etc/envoy/certs/origin-pull-ca.pem"}
    if draw(st.booleans()):
        cert["key_file"] = "/run/secrets/origin-pull.key"
    else:
        cert["key_secret"] = draw(st.sampled_from(["edge/origin-pull-key",
                                                   "arn:aws:secretsmanager:eu-west-1:123456789012:secret:edge-AbCdEf"]))
    return cert


# --- gateways ----------------------------------------------------------------------------------

def _gateway(draw, exposure: str, client_auth: str) -> dict:
    gateway: dict[str, Any] = {"exposure": exposure}
    ports = draw(st.lists(st.sampled_from([443, 80, 8443, 8080, 8081, 8082, 9901, 9902, 1, 65535, 10000]),
                          min_size=4, max_size=4, unique=True))
    # each port given or left to its default (443, none, 8081, 9901); no two listeners on one port
    port_map = {key: port for key, port in zip(("https", "http", "health", "admin"), ports) if draw(st.booleans())}
    effective = {"https": 443, "health": 8081, "admin": 9901} | port_map
    if len(set(effective.values())) != len(effective):
        port_map = dict(zip(("https", "http", "health", "admin"), ports))
    if port_map:
        gateway["ports"] = port_map
    terminate = draw(st.sampled_from(["envoy", "envoy", "envoy", "nlb"]))
    tls: dict[str, Any] = {}
    if terminate == "nlb" or draw(st.booleans()):
        tls["terminate"] = terminate
    _put(tls, "min_version", _maybe(draw, st.sampled_from(["1.0", "1.1", "1.2", "1.3", 1.2]), 0.6))
    if exposure == "public" and terminate == "envoy" and draw(st.booleans()):
        tls["client_auth"] = client_auth  # one kind per spec: a zone presents one client certificate
    gateway["tls"] = tls
    if exposure == "private":
        gateway["allow"] = draw(st.lists(st.sampled_from([c for c in CIDRS if not c.endswith("/0")]),
                                         min_size=1, max_size=3, unique=True))
    elif draw(st.integers(0, 4)) == 0:
        gateway["allow"] = draw(st.lists(st.sampled_from(CIDRS), min_size=1, max_size=2, unique=True))
    if draw(st.booleans()):
        gateway["nlb"] = {"cross_zone": draw(st.booleans()), "deletion_protection": draw(st.booleans())}
    _put(gateway, "owner", _maybe(draw, st.sampled_from(["platform-team", "edge"]), 0.7))
    return gateway


# --- services ----------------------------------------------------------------------------------

def _endpoint(draw) -> str:
    host = draw(_ENDPOINT_HOSTS)  # names, IPv4 and [IPv6]
    port = draw(st.sampled_from([80, 443, 8080, 9200, 50051, 1, 65535]))
    return f"{host}:{port}"


def _retries(draw) -> dict:
    retries: dict[str, Any] = {"attempts": draw(st.integers(0, 10))}
    _put(retries, "on", _maybe(draw, st.lists(st.sampled_from(RETRY_ON), max_size=4, unique=True)))
    _put(retries, "per_try_timeout", _maybe(draw, durations(small=True)))
    if "retriable-status-codes" in retries.get("on", []) or draw(st.integers(0, 5)) == 0:
        retries["status_codes"] = draw(st.lists(st.integers(100, 599), min_size=1, max_size=3, unique=True))
    return retries


def _service(draw) -> dict:
    service: dict[str, Any] = {"endpoints": draw(st.lists(_ENDPOINTS, min_size=1, max_size=3,
                                                         unique=True))}
    _put(service, "protocol", _maybe(draw, st.sampled_from(["http1", "http2"])))
    if draw(st.integers(0, 3)) == 0:
        tls: dict[str, Any] = {}
        _put(tls, "sni", _maybe(draw, st.sampled_from(["accounts.internal.example.com", "backend.svc", "x.a"])))
        _put(tls, "ca_file", _maybe(draw, st.sampled_from(["/etc/ssl/certs/internal-ca.pem", "/etc/envoy/ca b.pem"]),
                                    0.2))
        service["tls"] = tls
    _put(service, "connect_timeout", _maybe(draw, durations(small=True)))
    _put(service, "timeout", _maybe(draw, durations()))
    if draw(st.booleans()):
        service["retries"] = _retries(draw)
    if draw(st.booleans()):
        check: dict[str, Any] = {}
        _put(check, "path", _maybe(draw, st.sampled_from(["/healthz", "/ready", "/_cluster/health", "/"])))
        _put(check, "interval", _maybe(draw, durations()))
        _put(check, "timeout", _maybe(draw, durations(small=True)))
        _put(check, "healthy_threshold", _maybe(draw, st.integers(1, 10)))
        _put(check, "unhealthy_threshold", _maybe(draw, st.integers(1, 10)))
        service["health_check"] = check
    if draw(st.booleans()):
        breaker: dict[str, Any] = {}
        for key in ("max_connections", "max_pending_requests", "max_requests"):
            _put(breaker, key, _maybe(draw, counts()))
        _put(breaker, "max_retries", _maybe(draw, st.integers(0, 100)))
        service["circuit_breaker"] = breaker
    if draw(st.booleans()):
        outlier: dict[str, Any] = {}
        _put(outlier, "consecutive_5xx", _maybe(draw, st.integers(1, 100)))
        _put(outlier, "interval", _maybe(draw, durations()))
        _put(outlier, "base_ejection_time", _maybe(draw, durations()))
        _put(outlier, "max_ejection_percent", _maybe(draw, st.integers(0, 100)))
        service["outlier_detection"] = outlier
    _put(service, "load_balancing", _maybe(draw, st.sampled_from(
        ["round_robin", "least_request", "random", "ring_hash", "maglev"])))
    _put(service, "owner", _maybe(draw, st.sampled_from(["payments-team", "search"]), 0.7))
    return service


# --- routes ------------------------------------------------------------------------------------

def _header_match(draw) -> dict:
    match: dict[str, Any] = {"name": draw(st.sampled_from(HEADER_NAMES))}
    kind = draw(st.sampled_from(["exact", "prefix", "regex", "present"]))
    if kind == "present":
        match["present"] = draw(st.booleans())
    elif kind == "regex":
        match["regex"] = draw(st.sampled_from(HEADER_REGEXES))
    else:  # a prefix of nothing would match everything: the spec asks for one character at least
        match[kind] = draw(st.sampled_from([v for v in HEADER_VALUES if v or kind == "exact"]))
    _put(match, "invert", _maybe(draw, st.booleans(), 0.6))
    return match


def _header_changes(draw) -> dict:
    changes: dict[str, Any] = {}
    names = st.sampled_from(HEADER_NAMES + ["x-powered-by", "server"])
    for key in ("set", "add"):
        if draw(st.booleans()):
            changes[key] = draw(st.dictionaries(names, st.sampled_from(HEADER_VALUES), min_size=1, max_size=2))
    if draw(st.booleans()):
        changes["remove"] = draw(st.lists(names, min_size=1, max_size=2, unique=True))
    return changes


def _route(draw, services: list[str]) -> dict:
    route: dict[str, Any] = {}
    _put(route, "name", _maybe(draw, st.sampled_from(["payments", "a b", "ünï", "x" * 100, "r#1", "api.v1"]), 0.6))
    kind = draw(st.sampled_from(["none", "path", "path", "exact", "regex"]))
    if kind == "regex":
        route["regex"] = draw(st.sampled_from(REGEXES))
    elif kind != "none":
        route[kind] = draw(st.sampled_from(PATHS))
    _put(route, "methods", _maybe(draw, st.lists(st.sampled_from(METHODS), min_size=1, max_size=3, unique=True), 0.6))
    _put(route, "headers", _maybe(draw, st.lists(_HEADER_MATCHES, min_size=1, max_size=2),
                                  0.7))
    actions = ["redirect"] + (["service", "service", "service"] if services else []) + \
        (["split"] if len(services) >= 2 else [])
    action = draw(st.sampled_from(actions))
    if action == "service":
        route["service"] = draw(st.sampled_from(services))
    elif action == "split":
        targets = draw(st.lists(st.sampled_from(services), min_size=2, max_size=3, unique=True))
        weights = draw(st.lists(st.integers(0, 1000), min_size=len(targets), max_size=len(targets)))
        if sum(weights) == 0:
            weights[0] = 1
        route["split"] = [{"service": s, "weight": w} for s, w in zip(targets, weights)]
    else:
        redirect: dict[str, Any] = {}
        _put(redirect, "scheme", _maybe(draw, st.sampled_from(["http", "https"])))
        _put(redirect, "host", _maybe(draw, st.sampled_from(["docs.example.com", "xn--bcher-kva.example",
                                                             "*.example.com", "0.a"])))
        _put(redirect, "path", _maybe(draw, st.sampled_from(["/new", "/", "/a b", "/ü"])))
        if not redirect:
            redirect["path"] = "/moved"
        _put(redirect, "code", _maybe(draw, st.sampled_from([301, 302, 303, 307, 308])))
        _put(redirect, "strip_query", _maybe(draw, st.booleans()))
        route["redirect"] = redirect
    if action != "redirect":
        _put(route, "timeout", _maybe(draw, durations()))
        if draw(st.integers(0, 2)) == 0:
            route["retries"] = _retries(draw)
    if draw(st.integers(0, 3)) == 0:
        route["rate_limit"] = {"requests": draw(counts()),
                               "per": draw(st.sampled_from([d for d in DURATIONS if d not in ("1ms", "0.5ms", "10ms")]))}
    for direction in ("request_headers", "response_headers"):
        if draw(st.integers(0, 3)) == 0:
            route[direction] = _header_changes(draw)
    return route


def route_key(route: dict) -> tuple:
    """What check_routes compares: two routes with the same match, methods and headers are an error."""
    match = next(((k, route[k]) for k in ("exact", "regex", "path") if k in route), ("path", "/"))
    headers = tuple(sorted(repr(sorted(h.items())) for h in route.get("headers", [])))
    return match, tuple(sorted(route.get("methods", []))), headers


# --- WAF ---------------------------------------------------------------------------------------

def _expression(draw) -> str:
    if draw(st.integers(0, 5)) == 0:
        return "true"
    parts = draw(st.lists(st.sampled_from(EXPRESSION_PARTS), min_size=1, max_size=3))
    text = parts[0]
    for part in parts[1:]:
        op = draw(st.sampled_from([" and ", " or ", "\nand not ", " && ", " || "]))
        text = f"({text}){op}{part}"
    return ("not " + f"({text})") if draw(st.integers(0, 5)) == 0 else text


RULE_NAMES = ["block-admin", "a b", "a.b", "a_b", "ünïcode", "1st", "x" * 100, "login", "api-burst", "Rule"]


def _waf(draw) -> dict:
    waf: dict[str, Any] = {}
    managed = []
    for ruleset in draw(st.lists(st.sampled_from(["cloudflare-managed", "owasp-core", "exposed-credentials"]),
                                 max_size=3, unique=True)):
        if draw(st.booleans()):
            managed.append(ruleset)
            continue
        entry: dict[str, Any] = {"ruleset": ruleset}
        _put(entry, "action", _maybe(draw, st.sampled_from(["block", "challenge", "managed_challenge",
                                                            "js_challenge", "log"])))
        if draw(st.booleans()):
            entry["rules"] = []
            for rule_id in draw(st.lists(st.from_regex(r"\A[0-9a-f]{32}\Z"), min_size=1, max_size=2, unique=True)):
                override: dict[str, Any] = {"id": rule_id}
                _put(override, "action", _maybe(draw, st.sampled_from(["block", "log", "managed_challenge"])))
                _put(override, "enabled", _maybe(draw, st.booleans()))
                entry["rules"].append(override)
        if draw(st.booleans()):
            entry["categories"] = [{"category": c, "enabled": draw(st.booleans())}
                                   for c in draw(st.lists(st.sampled_from(["wordpress", "php", "xss", "a b"]),
                                                          min_size=1, max_size=2, unique=True))]
        if ruleset == "owasp-core":
            _put(entry, "paranoia_level", _maybe(draw, st.sampled_from(["PL1", "PL2", "PL3", "PL4"])))
            _put(entry, "score_threshold", _maybe(draw, st.sampled_from([25, 40, 60])))
        managed.append(entry)
    _put(waf, "managed", managed or None)
    custom = []
    for name in draw(st.lists(st.sampled_from(RULE_NAMES), max_size=3, unique=True)):
        action = draw(st.sampled_from(["block", "challenge", "managed_challenge", "js_challenge", "log", "skip"]))
        rule: dict[str, Any] = {"name": name, "expression": _expression(draw), "action": action}
        if action == "skip" and draw(st.booleans()):
            skip: dict[str, Any] = {}
            _put(skip, "rest_of_ruleset", _maybe(draw, st.booleans()))
            _put(skip, "phases", _maybe(draw, st.lists(st.sampled_from(
                ["http_ratelimit", "http_request_firewall_managed", "http_request_sbfm"]), min_size=1, unique=True)))
            _put(skip, "products", _maybe(draw, st.lists(st.sampled_from(
                ["bic", "hot", "rateLimit", "securityLevel", "uaBlock", "waf", "zoneLockdown"]), min_size=1,
                max_size=3, unique=True)))
            rule["skip"] = skip
        _put(rule, "enabled", _maybe(draw, st.booleans(), 0.7))
        custom.append(rule)
    _put(waf, "custom", custom or None)
    limits = []
    for name in draw(st.lists(st.sampled_from(RULE_NAMES), max_size=2, unique=True)):
        action = draw(st.sampled_from(["block", "challenge", "managed_challenge", "js_challenge", "log"]))
        rule = {"name": name, "expression": _expression(draw), "requests": draw(st.integers(1, 10000)),
                "period": draw(st.sampled_from([10, 60, 120, 300, 600, 3600]))}
        if draw(st.booleans()):
            extra = draw(st.lists(st.sampled_from(RATE_LIMIT_CHARACTERISTICS), max_size=2, unique=True))
            rule["characteristics"] = draw(st.permutations(["cf.colo.id", *extra]))
        if "challenge" in action:
            _put(rule, "mitigation_timeout", _maybe(draw, st.just(0), 0.7))
        else:
            _put(rule, "mitigation_timeout", _maybe(draw, st.sampled_from([0, 10, 60, 120, 300, 600, 3600, 86400])))
        if action != "block" or draw(st.booleans()):
            rule["action"] = action
        limits.append(rule)
    _put(waf, "rate_limits", limits or None)
    return waf


# --- DNS ---------------------------------------------------------------------------------------

RECORD_NAMES = ["@", "www", "a_b", "a.b", "_dmarc", "star", "*", "*.shops", "shops", "sub", "1st", "xn--bcher-kva",
                "a" * 63, "mail", "a-b", "_domainkey.s1", "x.y.z"]
SRV_NAMES = ["_sip._tcp", "_ldap._tcp.dc", "_xmpp._udp", "_h._tls", "_sip._tcp.a_b"]


def _record(draw, zone: str, provider: str, child_labels: list[str]) -> dict:
    rtype = draw(st.sampled_from(["A", "AAAA", "CNAME", "MX", "TXT", "TXT", "TXT", "CAA", "SRV"]))
    if rtype == "SRV":
        name = draw(st.sampled_from(SRV_NAMES))
    else:
        name = draw(st.sampled_from(RECORD_NAMES + child_labels))
    if name != "@" and draw(st.integers(0, 5)) == 0:
        name = f"{name}.{zone}"  # written in full: the same name
    record: dict[str, Any] = {"name": name, "type": rtype}
    if rtype == "A":
        record["content"] = draw(st.sampled_from(IPV4))
    elif rtype == "AAAA":
        record["content"] = draw(st.sampled_from(IPV6))
    elif rtype == "CNAME":
        record["content"] = draw(st.sampled_from(["api.example.com", "target.example.net.", "a_b.example.org",
                                                  "xn--bcher-kva.example", "1st.io"]))
    elif rtype == "MX":
        record["content"] = draw(st.sampled_from(["mx1.mail.example.net", ".", "mail.example.com."]))
        record["priority"] = draw(st.integers(0, 65535))
    elif rtype == "TXT":
        record["content"] = draw(st.sampled_from(TXT))
    elif rtype == "CAA":
        flags, tag = draw(st.sampled_from([0, 128])), draw(st.sampled_from(["issue", "issuewild", "iodef"]))
        record["content"] = f'{flags} {tag} "{draw(st.sampled_from(CAA_ISSUERS + ["mailto:security@example.com"]))}"'
    else:
        record["content"] = f"{draw(st.integers(0, 65535))} {draw(st.integers(1, 65535))} " \
                            f"{draw(st.sampled_from(['sip.example.com', '.', 'dc1.corp.internal.']))}"
        record["priority"] = draw(st.integers(0, 65535))
    if provider == "cloudflare" and rtype in ("A", "AAAA", "CNAME") and draw(st.integers(0, 2)) == 0:
        record["proxied"] = True
    elif draw(st.booleans()):
        low, high = (30, 86400) if provider == "cloudflare" else (0, 2147483647)
        record["ttl"] = draw(st.sampled_from([1, low, high, 300, 3600]))
    _put(record, "comment", _maybe(draw, st.sampled_from(["legacy host", 'say "hi"', "ünï", "x" * 100]), 0.8))
    return record


_SRV_NAME = re.compile(r"^_[a-z0-9-]+\._(tcp|udp|tls)(\.|$)")


def relative_name(fqdn: str, zone: str) -> str:
    return "@" if fqdn == zone else fqdn[: -len(zone) - 1]


def _dns(draw, zone: str, provider: str, hosts: set[str], child_labels: list[str],
         drawn: dict[str, list[dict]]) -> list[dict]:
    """Records for one zone, each kept only where check_dns accepts it.

    Some are neighbours of a record drawn before (`a.b` after `a_b`, `*` after `star`, see `neighbour`),
    some repeat a record of another zone whose name lies in this one (zones nest: `shops` in
    example.com is `@` in shops.example.com). `drawn` holds the records of the zones drawn so far."""
    records: list[dict] = []
    seen: set[tuple] = set()
    types_at: dict[str, set[str]] = {}
    ttl_of: dict[tuple, int] = {}
    elsewhere = [(record_fqdn(r["name"], z), r) for z, rs in drawn.items() for r in rs
                 if record_fqdn(r["name"], z).endswith("." + zone) or record_fqdn(r["name"], z) == zone]
    for _ in range(draw(st.integers(0, 8))):
        how = draw(st.sampled_from(["new", "new", "neighbour", "neighbour"] + ["elsewhere"] * (2 if elsewhere else 0)))
        if how == "neighbour" and records:
            record = dict(draw(st.sampled_from(records)))
            record["name"] = neighbour(draw, relative_name(record_fqdn(record["name"], zone), zone), underscores=True)
            if "*" in record["name"][1:] or max(map(len, record["name"].split("."))) > 63 or \
                    (record["type"] == "SRV" and not _SRV_NAME.match(record["name"])):
                continue  # '*' only as the whole first label; labels of 63 characters at most; SRV: _service._proto
        elif how == "elsewhere" and elsewhere:
            fqdn, other = draw(st.sampled_from(elsewhere))
            record = {k: v for k, v in other.items() if k not in ("proxied", "ttl")}
            record["name"] = relative_name(fqdn, zone)
        else:
            record = draw(_records(zone, provider, child_labels))
        fqdn = record_fqdn(record["name"], zone)
        if record["type"] in ("A", "AAAA", "CNAME") and fqdn in hosts:
            continue
        if record.get("proxied") and provider != "cloudflare":
            del record["proxied"]
        if "ttl" in record and record["ttl"] != 1 and provider == "cloudflare" and not 30 <= record["ttl"] <= 86400:
            del record["ttl"]
        key = (fqdn, record["type"], record["content"])
        types = types_at.setdefault(fqdn, set())
        if key in seen or (types and ("CNAME" in types or record["type"] == "CNAME")):
            continue
        if provider == "route53":
            ttl = ttl_of.setdefault((fqdn, record["type"]), record.get("ttl", 1))
            if ttl != 1:
                record["ttl"] = ttl
            else:
                record.pop("ttl", None)
        seen.add(key)
        types.add(record["type"])
        records.append(record)
    apex_issue = any(r["type"] == "CAA" and record_fqdn(r["name"], zone) == zone
                     and r["content"].split(" ")[1] in ("issue", "issuewild") for r in records)
    if apex_issue and "CNAME" not in types_at.get(zone, set()) and (zone, "CAA", '0 issue "amazon.com"') not in seen:
        # without it ACM could not issue for names in this zone (check_acm_caa)
        amazon = {"name": "@", "type": "CAA", "content": '0 issue "amazon.com"'}
        if provider == "route53":
            _put(amazon, "ttl", None if ttl_of.get((zone, "CAA"), 1) == 1 else ttl_of[(zone, "CAA")])
        records.append(amazon)
    return records


# The drawing functions above as strategies (made once: st.composite inspects the function's source).
_ENDPOINTS = st.composite(_endpoint)()
_HEADER_MATCHES = st.composite(_header_match)()
_records = st.composite(_record)
_routes = st.composite(_route)


# --- the spec ----------------------------------------------------------------------------------

@st.composite
def specs(draw) -> dict:
    """A spec (as YAML data) that should pass `edgec validate`."""
    # (an AWS load balancer's name may not begin with "internal-", and it begins with the spec's)
    spec: dict[str, Any] = {"apiVersion": "edgec/v1", "name": draw(identifiers().filter(lambda n: n != "internal"))}
    if draw(st.booleans()):
        metadata: dict[str, Any] = {}
        _put(metadata, "owner", _maybe(draw, st.sampled_from(["platform-team", "ünï"])))
        _put(metadata, "description", _maybe(draw, st.sampled_from(["Production edge", 'a "quoted" one'])))
        _put(metadata, "labels", _maybe(draw, st.dictionaries(st.sampled_from(["env", "cost-center", "team", "a:b"]),
                                                              st.sampled_from(["prod", "edge", "", "ünï"]),
                                                              min_size=1, max_size=3)))
        spec["metadata"] = metadata
    if draw(st.booleans()):
        spec["cloudflare"] = {"account_id": draw(st.from_regex(r"\A[0-9a-f]{32}\Z"))}

    # Zones first: everything else refers to them.
    with_aws = draw(st.integers(0, 5)) > 0
    zone_names_ = draw(st.lists(zone_names(), min_size=1, max_size=4, unique=True))
    if draw(st.booleans()):  # a zone inside another: its records and hosts have two candidate zones
        child = f"{draw(st.sampled_from(['shops', 'star', 'sub', '0']))}.{draw(st.sampled_from(zone_names_))}"
        if valid_hostname(child) and child not in zone_names_:
            zone_names_.append(child)
    zones = {name: _zone(draw, with_aws) for name in zone_names_}
    public_zones = [z for z, v in zones.items() if not v.get("private")]
    private_zones = [z for z, v in zones.items() if v.get("private")]

    # Gateways: public ones if there are public zones, private ones for private zones (some spare).
    gateways: dict[str, dict] = {}
    if with_aws:
        # usually a gateway for each exposure the zones have, sometimes one more or none at all
        needed = (["public"] if public_zones else []) + (["private"] if private_zones else [])
        exposures = needed + [draw(st.sampled_from(["public", "private"]) if private_zones else st.just("public"))]
        exposures = exposures[: draw(st.sampled_from([0] + [len(needed)] * 4 + [len(needed) + 1]))]
        names = draw(st.lists(identifiers(), min_size=len(exposures), max_size=len(exposures), unique=True))
        client_auth = draw(st.sampled_from(["cloudflare-origin-pull"] * 3 + ["cloudflare-origin-pull-shared"]))
        for name, exposure in zip(names, exposures):
            gateways[name] = _gateway(draw, exposure, client_auth)
        aws: dict[str, Any] = {"region": draw(st.sampled_from(["eu-west-1", "us-east-2", "ap-southeast-2",
                                                                  "us-gov-west-1"])),
                               "vpc_id": draw(st.sampled_from(["vpc-0a1b2c3d4e5f60718", "vpc-0abc"]))}
        subnets: dict[str, list[str]] = {}
        exposures = {g["exposure"] for g in gateways.values()}
        for exposure in ("public", "private"):
            if exposure in exposures or draw(st.booleans()):
                subnets[exposure] = draw(st.lists(st.sampled_from(
                    ["subnet-0a11b22c33d44e55f", "subnet-0b22", "subnet-0c33", "subnet-1"]), min_size=1, max_size=3,
                    unique=True))
        if subnets:
            aws["subnets"] = subnets
        _put(aws, "tags", _maybe(draw, st.dictionaries(st.sampled_from(["cost-center", "data-classification"]),
                                                       st.sampled_from(["edge", "internal"]), min_size=1), 0.6))
        spec["aws"] = aws

    # Services, then ingresses whose routes use them.
    services = {name: _service(draw) for name in draw(st.lists(identifiers(), max_size=4, unique=True))}
    ingresses: list[dict] = []
    hosts_of: dict[str, list[str]] = {name: [] for name in gateways}
    hosts: set[str] = set()
    for _ in range(draw(st.integers(0, 6) if gateways else st.just(0))):
        host = _host(draw, zone_names_, sorted(hosts))
        if host is None or host in hosts:
            continue
        zone = zone_of(zones, host)
        if zone is None:  # `*.example.com` next to the apex of zone star.example.com
            continue
        private = bool(zones[zone].get("private"))
        fitting = [g for g, v in gateways.items() if (v["exposure"] == "private") == private]
        if not fitting:
            continue
        gateway = draw(st.sampled_from(fitting))
        routes = draw(st.lists(_routes(sorted(services)), min_size=1, max_size=4, unique_by=route_key))
        ingress: dict[str, Any] = {"host": host, "gateway": gateway, "routes": routes}
        _put(ingress, "owner", _maybe(draw, st.sampled_from(["payments-team", "web"]), 0.7))
        ingresses.append(ingress)
        hosts.add(host)
        hosts_of[gateway].append(host)
        # A public host needs Cloudflare to speak HTTPS to the gateway.
        tls = zones[zone].get("tls", {})
        if zones[zone]["provider"] == "cloudflare" and tls.get("mode") in ("off", "flexible"):
            tls["mode"] = draw(st.sampled_from(["strict", "full"]))

    # Certificates: each gateway's cover its hosts; their source fits where TLS ends and whose names.
    certificates: dict[str, dict] = {}

    def new_cert_name() -> str:
        name = draw(_CERT_NAMES)
        return name if name not in certificates else f"cert-{len(certificates)}"

    def sources_for(domains: list[str], terminate: str) -> list[str]:
        if terminate == "nlb":
            return ["acm"]
        behind_cloudflare = all(zone_of(zones, d) is None or zones[zone_of(zones, d)]["provider"] == "cloudflare"
                                for d in domains)
        return ["files", "cloudflare-origin-ca"] if behind_cloudflare else ["files"]

    acm_names: set[tuple[str, ...]] = set()  # ACM certificates are told apart by the names they cover

    def distinct_acm(bucket: list[str], spare: list[str]) -> list[str]:
        for extra in [None, *spare]:
            names = bucket + ([extra] if extra and extra not in bucket else [])
            if tuple(sorted(names)) not in acm_names:
                acm_names.add(tuple(sorted(names)))
                return names
        return bucket

    for name, gateway in gateways.items():
        terminate = gateway["tls"].get("terminate", "envoy")
        names = sorted({_cover_name(draw, h) for h in hosts_of[name]})
        # the default certificate, then SNI certificates that each serve some of the hosts; now and
        # then one more that serves none of them (a certificate kept for a host that moved away)
        count = 1 + draw(st.integers(0, min(2, max(len(names) - 1, 0))))
        buckets: list[list[str]] = [[] for _ in range(count)]
        for i, cover in enumerate(names):
            buckets[i if i < count else draw(st.integers(0, count - 1))].append(cover)
        if draw(st.integers(0, 9)) == 0:
            buckets.append([])
        spare = [f"*.{z}" for z in zone_names_ if valid_hostname(f"*.{z}")] + zone_names_
        cert_list = []
        for bucket in buckets:
            unused = [d for d in spare if d not in bucket]
            if unused and (not bucket or draw(st.integers(0, 3)) == 0):  # names this gateway does not serve
                bucket.append(draw(st.sampled_from(unused)))
            cert_name = new_cert_name()
            source = draw(st.sampled_from(sources_for(bucket, terminate)))
            if source == "acm":
                bucket = distinct_acm(bucket, unused)
            certificates[cert_name] = _certificate(draw, source, cert_name, bucket)
            cert_list.append(cert_name)
        gateway["tls"]["certificate"] = cert_list[0]
        if cert_list[1:]:
            gateway["tls"]["sni_certificates"] = cert_list[1:]
    pulling = [g for g in gateways.values() if g["tls"].get("client_auth") == "cloudflare-origin-pull"]
    if pulling:
        cert_name = new_cert_name()
        certificates[cert_name] = _origin_pull_certificate(draw)
        for gateway in pulling:
            gateway["tls"]["origin_pull_certificate"] = cert_name
    for source in draw(st.lists(st.sampled_from(["acm", "cloudflare-origin-ca", "files"]), max_size=2)):
        domains = draw(st.lists(st.sampled_from([f"*.{z}" for z in public_zones if valid_hostname(f"*.{z}")]
                                                + public_zones + ["elsewhere.example.org"]),
                                min_size=1, max_size=3, unique=True))
        if source not in sources_for(domains, "envoy") + ["acm"]:
            source = "files"  # Origin CA only for names behind Cloudflare
        if source == "acm" and ("aws" not in spec or tuple(sorted(domains)) in acm_names):
            source = "files"  # ACM needs the aws section, and certificates covering other names
        if source == "acm":
            acm_names.add(tuple(sorted(domains)))
        cert_name = new_cert_name()
        certificates[cert_name] = _certificate(draw, source, cert_name, domains)

    # WAF on Cloudflare zones, DNS records on any zone.
    cloudflare_zones = [z for z, v in zones.items() if v["provider"] == "cloudflare"]
    waf = {z: _waf(draw) for z in draw(st.lists(st.sampled_from(cloudflare_zones), unique=True))} \
        if cloudflare_zones else {}
    dns: dict[str, list] = {}
    # inner zones first, so that their parents can repeat their names (see _dns)
    for zone in sorted((z for z in zone_names_ if draw(st.integers(0, 2))), key=lambda z: -z.count(".")):
        children = [c[: -len(zone) - 1] for c in zone_names_ if c.endswith("." + zone)]
        records = _dns(draw, zone, zones[zone]["provider"], hosts, children, dns)
        if records:
            dns[zone] = records

    spec["zones"] = zones
    if certificates:
        spec["certificates"] = certificates
    if gateways:
        spec["gateways"] = gateways
    if services:
        spec["services"] = services
    if ingresses:
        spec["ingresses"] = ingresses
    if waf:
        spec["waf"] = waf
    if dns:
        spec["dns"] = dns
    if draw(st.integers(0, 3)) == 0:
        spec["ignore"] = [_ignore(draw) for _ in range(draw(st.integers(1, 2)))]
    if draw(st.integers(0, 2)) == 0:
        spec["terraform"] = _terraform(draw)
    return spec


def _backend(draw, key: str | None = None) -> dict:
    if draw(st.booleans()):
        s3: dict[str, Any] = {"bucket": draw(st.sampled_from(["acme-tf-state", "a.b-c"])), "region": "eu-west-1"}
        lock = draw(st.sampled_from(["lockfile", "dynamodb", "both"]))
        _put(s3, "use_lockfile", True if lock != "dynamodb" else None)
        _put(s3, "dynamodb_table", "tf-locks" if lock != "lockfile" else None)
        _put(s3, "key" if key else "key_prefix", key or _maybe(draw, st.sampled_from(["edge/prod", "é/x y"])))
        _put(s3, "encrypt", _maybe(draw, st.booleans()))
        return {"s3": s3}
    name = key or draw(st.sampled_from(["edge/{layer}", "{layer}", 'we"ird/${x}/{layer}']))
    config: dict[str, Any] = {"bucket": "acme-tf-state", "prefix": name}
    _put(config, "encryption_key", _maybe(draw, st.sampled_from(["k", ""])))
    return {"type": "gcs", "config": config}


def _terraform(draw) -> dict:
    section: dict[str, Any] = {}
    layers = draw(st.sets(st.sampled_from(["aws", "cloudflare"])))
    if len(layers) < 2 or draw(st.booleans()):
        section["backend"] = _backend(draw)
    if layers:
        section["layers"] = {layer: {"backend": _backend(draw, f"edge/{layer}.tfstate")} for layer in sorted(layers)}
    return section


def _ignore(draw) -> dict:
    rule: dict[str, Any] = {"key": draw(st.sampled_from(["www.example.com CNAME", "legacy-*.example.com A", "*",
                                                         "[ab].example.com TXT"])),
                            "reason": draw(st.sampled_from(["managed by the mail team", "migration", "ünï"]))}
    _put(rule, "layer", _maybe(draw, st.sampled_from(["cloudflare", "aws", "envoy"])))
    _put(rule, "kind", _maybe(draw, st.sampled_from(["dns_record", "security_group_rule", "ruleset"])))
    _put(rule, "attribute", _maybe(draw, st.sampled_from(["ttl", "content"])))
    _put(rule, "expires", _maybe(draw, st.sampled_from(["2027-03-31", "2099-12-31", "2001-01-01"])))
    return rule


# PyYAML writes YAML 1.1; edgec reads YAML 1.2, whose core schema takes more plain scalars for numbers
# (`1e5`, `0o17`, `.5`). Such strings are written quoted, so the file means what the data says.
_YAML12_NOT_STRING = re.compile(
    r"^([-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?"
    r"|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)|null|Null|NULL|~|true|True|TRUE|false|False|FALSE|)$")


class _Dumper(DUMPER):
    pass


def _represent_str(dumper, value: str):
    style = '"' if _YAML12_NOT_STRING.match(value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def spec_yaml(spec: dict) -> str:
    """The spec as a YAML file edgec reads back to the same data (long lines stay on one line)."""
    return yaml.dump(spec, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10**6)
