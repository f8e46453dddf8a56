"""Semantic checks: each mistake a user can make across fields is reported at the right place."""

import copy
import pathlib

import pytest
import yaml

from edgec.diagnostics import Severity
from edgec.spec.validate import validate

BASE = {
    "apiVersion": "edgec/v1",
    "name": "acme",
    "aws": {"region": "eu-west-1", "vpc_id": "vpc-0abc",
            "subnets": {"public": ["subnet-0a"], "private": ["subnet-0c"]}},
    "zones": {"acme.com": {"provider": "cloudflare", "tls": {"mode": "strict"}},
              "corp.internal": {"provider": "route53", "private": True}},
    "certificates": {
        "origin": {"source": "cloudflare-origin-ca", "domains": ["acme.com", "*.acme.com"]},
        "internal": {"source": "files", "domains": ["*.corp.internal"], "cert_file": "/c", "key_file": "/k"},
        "nlb": {"source": "acm", "domains": ["*.acme.com"]},
    },
    "gateways": {
        "public": {"exposure": "public", "tls": {"certificate": "origin"}},
        "internal": {"exposure": "private", "tls": {"certificate": "internal"}, "allow": ["10.0.0.0/8"]},
    },
    "services": {"app": {"endpoints": ["app:80"]}, "app2": {"endpoints": ["10.1.2.3:80"]}},
    "ingresses": [
        {"host": "api.acme.com", "gateway": "public", "routes": [{"path": "/", "service": "app"}]},
        {"host": "ledger.corp.internal", "gateway": "internal", "routes": [{"path": "/", "service": "app"}]},
    ],
    "waf": {"acme.com": {"managed": ["cloudflare-managed"],
                         "custom": [{"name": "a", "expression": 'http.host eq "x"', "action": "block"}],
                         "rate_limits": [{"name": "r", "expression": 'http.host eq "x"', "requests": 5,
                                          "period": 60}]}},
    "dns": {"acme.com": [{"name": "www", "type": "CNAME", "content": "api.acme.com", "proxied": True}]},
}


def run(tmp_path, mutate):
    data = copy.deepcopy(BASE)
    mutate(data)
    path = tmp_path / "edge.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return validate(str(path))


def test_base_spec_is_valid(tmp_path):
    result = run(tmp_path, lambda d: None)
    assert result.ok and not result.diagnostics, result.diagnostics


def _set(path, value):
    def mutate(data):
        node = data
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
    return mutate


CASES = [
    # (id, mutation, expected path, message fragment, severity)
    ("unknown gateway", _set(("ingresses", 0, "gateway"), "publik"),
     ("ingresses", 0, "gateway"), "did you mean 'public'", Severity.ERROR),
    ("unknown certificate", _set(("gateways", "public", "tls", "certificate"), "orign"),
     ("gateways", "public", "tls", "certificate"), "did you mean 'origin'", Severity.ERROR),
    ("unknown split service", _set(("ingresses", 0, "routes", 0),
                                   {"split": [{"service": "app", "weight": 1}, {"service": "ap3", "weight": 1}]}),
     ("ingresses", 0, "routes", 0, "split", 1, "service"), "unknown service 'ap3'", Severity.ERROR),
    ("public host in private zone", _set(("ingresses", 1, "gateway"), "public"),
     ("ingresses", 1, "gateway"), "private zone", Severity.ERROR),
    ("private host in public zone", _set(("ingresses", 0, "gateway"), "internal"),
     ("ingresses", 0, "gateway"), "public zone", Severity.ERROR),
    ("duplicate route", _set(("ingresses", 0, "routes"), [{"path": "/", "service": "app"},
                                                          {"path": "/", "service": "app2"}]),
     ("ingresses", 0, "routes", 1), "never matches", Severity.ERROR),
    ("shadowed route", _set(("ingresses", 0, "routes"), [{"path": "/v1", "service": "app"},
                                                         {"exact": "/v1/users", "methods": ["GET"],
                                                          "service": "app2"}]),
     ("ingresses", 0, "routes", 1), "takes every request", Severity.WARNING),
    ("port clash", _set(("gateways", "public", "ports"), {"https": 443, "http": 443}),
     ("gateways", "public", "ports", "http"), "already used by ports.https", Severity.ERROR),
    ("duplicate CIDR", _set(("gateways", "internal", "allow"), ["10.0.0.0/8", "10.0.0.0/8"]),
     ("gateways", "internal", "allow", 1), "listed twice", Severity.ERROR),
    ("nested CIDR", _set(("gateways", "internal", "allow"), ["10.1.0.0/16", "10.0.0.0/8"]),
     ("gateways", "internal", "allow", 0), "already inside '10.0.0.0/8'", Severity.WARNING),
    ("private gateway without allow", _set(("gateways", "internal", "allow"), []),
     ("gateways", "internal", "allow"), "needs 'allow'", Severity.ERROR),
    ("certificate does not cover host", _set(("certificates", "origin", "domains"), ["acme.com"]),
     ("ingresses", 0, "host"), "does not cover 'api.acme.com'", Severity.ERROR),
    ("strict mode with flexible", _set(("zones", "acme.com", "tls"), {"mode": "flexible"}),
     ("ingresses", 0, "host"), "SSL mode flexible", Severity.ERROR),
    ("TLS 1.0 is a warning", _set(("zones", "acme.com", "tls"), {"min_version": "1.0"}),
     ("zones", "acme.com", "tls", "min_version"), "deprecated", Severity.WARNING),
    ("gateway TLS 1.1 is a warning", _set(("gateways", "public", "tls", "min_version"), 1.1),
     ("gateways", "public", "tls", "min_version"), "deprecated", Severity.WARNING),
    ("NLB termination needs ACM", _set(("gateways", "public", "tls", "terminate"), "nlb"),
     ("gateways", "public", "tls", "certificate"), "only with ACM certificates", Severity.ERROR),
    ("Envoy cannot serve ACM", _set(("gateways", "public", "tls", "certificate"), "nlb"),
     ("gateways", "public", "tls", "certificate"), "cannot be exported", Severity.ERROR),
    ("origin pulls on private gateway", _set(("gateways", "internal", "tls", "client_auth"),
                                             "cloudflare-origin-pull"),
     ("gateways", "internal", "tls", "client_auth"), "public gateway", Severity.ERROR),
    ("WAF on a Route 53 zone", _set(("waf", "corp.internal"), {}),
     ("waf", "corp.internal"), "Cloudflare zones only", Severity.ERROR),
    ("WAF on an undeclared zone", _set(("waf", "acme.co"), {}),
     ("waf", "acme.co"), "did you mean 'acme.com'", Severity.ERROR),
    ("duplicate WAF rule names", lambda d: d["waf"]["acme.com"]["custom"].append(
        {"name": "a", "expression": 'http.host eq "y"', "action": "log"}),
     ("waf", "acme.com", "custom", 1, "name"), "must be unique", Severity.ERROR),
    ("expression over 4096 characters", _set(("waf", "acme.com", "custom", 0, "expression"),
                                             " or ".join(['http.host eq "x"'] * 300)),
     ("waf", "acme.com", "custom", 0, "expression"), "at most 4,096", Severity.ERROR),
    ("rate limit without colo", _set(("waf", "acme.com", "rate_limits", 0, "characteristics"), ["ip.src"]),
     ("waf", "acme.com", "rate_limits", 0, "characteristics"), "cf.colo.id", Severity.ERROR),
    ("proxied MX", _set(("dns", "acme.com", 0), {"name": "@", "type": "MX", "content": "mx.acme.com",
                                                 "priority": 10, "proxied": True}),
     ("dns", "acme.com", 0, "proxied"), "cannot be proxied", Severity.ERROR),
    ("bad A record", _set(("dns", "acme.com", 0), {"name": "x", "type": "A", "content": "1.2.3"}),
     ("dns", "acme.com", 0, "content"), "not an IPv4 address", Severity.ERROR),
    ("record on an ingress host", _set(("dns", "acme.com", 0), {"name": "api", "type": "A",
                                                                "content": "192.0.2.1"}),
     ("dns", "acme.com", 0, "name"), "ingress host", Severity.ERROR),
    ("duplicate CIDR inside a wider one", _set(("gateways", "internal", "allow"),
                                               ["10.0.0.0/8", "10.1.0.0/16", "10.1.0.0/16"]),
     ("gateways", "internal", "allow", 2), "listed twice", Severity.ERROR),
    ("two CNAMEs on one name", lambda d: d["dns"]["acme.com"].append(
        {"name": "www", "type": "CNAME", "content": "other.example.net"}),
     ("dns", "acme.com", 1, "name"), "cannot coexist", Severity.ERROR),
    ("bad record name", lambda d: d["dns"]["acme.com"].append({"name": "Foo Bar", "type": "TXT", "content": "x"}),
     ("dns", "acme.com", 1, "name"), "not a record name", Severity.ERROR),
    ("Cloudflare TTL range", lambda d: d["dns"]["acme.com"].append(
        {"name": "t", "type": "TXT", "content": "x", "ttl": 172800}),
     ("dns", "acme.com", 1, "ttl"), "out of range for cloudflare", Severity.ERROR),
    ("unknown rate-limit characteristic", _set(("waf", "acme.com", "rate_limits", 0, "characteristics"),
                                               ["ip.srcc", "cf.colo.id"]),
     ("waf", "acme.com", "rate_limits", 0, "characteristics", 0), "did you mean 'ip.src'", Severity.WARNING),
    ("TLS version 1.25", _set(("gateways", "public", "tls", "min_version"), 1.25),
     ("gateways", "public", "tls", "min_version"), "1.25", Severity.ERROR),
    ("non-ASCII port digits", _set(("services", "app", "endpoints"), ["app:٨٠"]),
     ("services", "app", "endpoints", 0), "must be 'host:port'", Severity.ERROR),
    ("atomic group is not RE2", _set(("ingresses", 0, "routes", 0), {"regex": "^/a(?>b)c", "service": "app"}),
     ("ingresses", 0, "routes", 0, "regex"), "invalid perl operator", Severity.ERROR),
    ("CAA records that leave out Amazon", lambda d: d["dns"]["acme.com"].append(
        {"name": "@", "type": "CAA", "content": '0 issue "letsencrypt.org"'}),
     ("certificates", "nlb", "domains", 0), "ACM cannot issue", Severity.ERROR),
    ("duration on a challenge rate limit", lambda d: d["waf"]["acme.com"]["rate_limits"][0].update(
        action="managed_challenge", mitigation_timeout=60),
     ("waf", "acme.com", "rate_limits", 0, "mitigation_timeout"), "has no duration", Severity.ERROR),
    ("OWASP rule under another ruleset", _set(("waf", "acme.com", "managed"), [
        {"ruleset": "cloudflare-managed", "rules": [{"id": "6179ae15870a4bb7b2d480d4843b323c", "action": "log"}]}]),
     ("waf", "acme.com", "managed", 0, "rules"), "belongs to owasp-core", Severity.ERROR),
    ("two TTLs in one Route 53 record set", _set(("dns", "corp.internal"), [
        {"name": "@", "type": "TXT", "content": "a", "ttl": 300}, {"name": "@", "type": "TXT", "content": "b",
                                                                     "ttl": 600}]),
     ("dns", "corp.internal", 1, "ttl"), "one TTL per name and type", Severity.ERROR),
    ("POST retried on 5xx", _set(("ingresses", 0, "routes", 0), {
        "path": "/", "methods": ["POST"], "service": "app",
        "retries": {"attempts": 1, "on": ["5xx"], "per_try_timeout": "1s"}}),
     ("ingresses", 0, "routes", 0), "may send a POST twice", Severity.WARNING),
    ("a split inherits its first service's risky retries", lambda d: (
        d["services"]["app"].update(retries={"attempts": 1, "on": ["reset"], "per_try_timeout": "1s"}),
        d["ingresses"][0]["routes"].__setitem__(0, {"path": "/", "methods": ["PATCH"], "split": [
            {"service": "app", "weight": 1}, {"service": "app2", "weight": 1}]})),
     ("ingresses", 0, "routes", 0), "may send a PATCH twice", Severity.WARNING),
    ("per-try timeout as long as the route's", _set(("ingresses", 0, "routes", 0), {
        "path": "/", "service": "app", "timeout": "1s",
        "retries": {"attempts": 1, "on": ["5xx"], "per_try_timeout": "1s"}}),
     ("ingresses", 0, "routes", 0), "no retry can ever happen", Severity.WARNING),
    ("upstream TLS without a CA", _set(("services", "app", "tls"), {"sni": "app.acme.com"}),
     ("services", "app", "tls"), "does not verify", Severity.WARNING),
    ("regex too complex for the gateway", _set(("ingresses", 0, "routes", 0),
                                               {"regex": r"^/(\pL{1,20}/){1,10}$", "service": "app"}),
     ("ingresses", 0, "routes", 0, "regex"), "too complex for the gateway", Severity.ERROR),
    ("RE2-incompatible regex", _set(("ingresses", 0, "routes", 0), {"regex": "^/(?!admin).*", "service": "app"}),
     ("ingresses", 0, "routes", 0, "regex"), "RE2", Severity.ERROR),
    ("gateway without aws", lambda d: d.pop("aws"),
     ("gateways", "public"), "needs the 'aws' section", Severity.ERROR),
    ("route with two actions", _set(("ingresses", 0, "routes", 0), {"service": "app", "redirect": {"path": "/x"}}),
     ("ingresses", 0, "routes", 0), "exactly one of service, split or redirect", Severity.ERROR),
    ("duration without unit", _set(("services", "app", "timeout"), 3),
     ("services", "app", "timeout"), "needs a unit", Severity.ERROR),
    ("upper-case host", _set(("ingresses", 0, "host"), "API.acme.com"),
     ("ingresses", 0, "host"), "must be lower case", Severity.ERROR),
    ("unknown field", _set(("services", "app", "timout"), "3s"),
     ("services", "app", "timout"), "did you mean 'timeout'", Severity.ERROR),
    # what Envoy or AWS would refuse, found by the valid-spec property test (tests/test_valid_specs.py)
    ("query in a path", _set(("ingresses", 0, "routes", 0), {"path": "/search?q", "service": "app"}),
     ("ingresses", 0, "routes", 0, "path"), "match the path part only", Severity.ERROR),
    ("fragment in an exact path", _set(("ingresses", 0, "routes", 0), {"exact": "/a#b", "service": "app"}),
     ("ingresses", 0, "routes", 0, "exact"), "holds '#'", Severity.ERROR),
    ("empty path segment", _set(("ingresses", 0, "routes", 0), {"path": "/v1//x", "service": "app"}),
     ("ingresses", 0, "routes", 0, "path"), "write '/v1/x'", Severity.ERROR),
    ("rate limit under 50ms", _set(("ingresses", 0, "routes", 0),
                                   {"path": "/", "service": "app", "rate_limit": {"requests": 1, "per": "10ms"}}),
     ("ingresses", 0, "routes", 0, "rate_limit", "per"), "at most every 50ms", Severity.ERROR),
    ("rate limit beyond 32 bits", _set(("ingresses", 0, "routes", 0),
                                       {"path": "/", "service": "app", "rate_limit": {"requests": 2**32, "per": "1s"}}),
     ("ingresses", 0, "routes", 0, "rate_limit", "requests"), "less than or equal to 4294967295", Severity.ERROR),
    ("circuit breaker beyond 32 bits", _set(("services", "app", "circuit_breaker"), {"max_requests": 2**32}),
     ("services", "app", "circuit_breaker", "max_requests"), "4294967295", Severity.ERROR),
    ("route sets the host header", _set(("ingresses", 0, "routes", 0),
                                        {"path": "/", "service": "app", "request_headers": {"set": {"Host": "x"}}}),
     ("ingresses", 0, "routes", 0, "request_headers", "set"), "change the 'Host' header", Severity.ERROR),
    ("route removes the host header", _set(("ingresses", 0, "routes", 0),
                                           {"path": "/", "service": "app", "request_headers": {"remove": ["host"]}}),
     ("ingresses", 0, "routes", 0, "request_headers", "remove", 0), "change the 'host' header", Severity.ERROR),
    ("empty header prefix", _set(("ingresses", 0, "routes", 0),
                                 {"path": "/", "service": "app", "headers": [{"name": "x-a", "prefix": ""}]}),
     ("ingresses", 0, "routes", 0, "headers", 0, "prefix"), "at least 1 character", Severity.ERROR),
    ("Route 53 zone without aws", lambda d: (d.pop("aws"), d.pop("gateways"), d.pop("ingresses"),
                                             d["certificates"].pop("nlb")),
     ("zones", "corp.internal", "provider"), "needs the 'aws' section", Severity.ERROR),
    ("ACM certificate without aws", lambda d: (d.pop("aws"), d.pop("gateways"), d.pop("ingresses"),
                                               d["zones"].pop("corp.internal")),
     ("certificates", "nlb", "source"), "needs the 'aws' section", Severity.ERROR),
    ("load balancer named internal-", _set(("name",), "internal"),
     ("name",), "cannot begin with 'internal-'", Severity.ERROR),
    ("SNI certificate serving no host", _set(("gateways", "public", "tls", "sni_certificates"), ["internal"]),
     ("gateways", "public", "tls", "sni_certificates", 0), "never served", Severity.WARNING),
    # what would never match, or arrive otherwise than written (issue 14)
    ("non-ASCII path", _set(("ingresses", 0, "routes", 0), {"path": "/café", "service": "app"}),
     ("ingresses", 0, "routes", 0, "path"), "write '/caf%C3%A9'", Severity.ERROR),
    ("quote in a regex", _set(("ingresses", 0, "routes", 0), {"regex": '^/q/"[a-z]+"$', "service": "app"}),
     ("ingresses", 0, "routes", 0, "regex"), "write '\"' as %22", Severity.ERROR),
    ("encoded unreserved character", _set(("ingresses", 0, "routes", 0), {"exact": "/%7Euser", "service": "app"}),
     ("ingresses", 0, "routes", 0, "exact"), "reaches routes as '~'", Severity.ERROR),
    ("encoded slash", _set(("ingresses", 0, "routes", 0), {"path": "/a%2Fb", "service": "app"}),
     ("ingresses", 0, "routes", 0, "path"), "turns '%2F' into '/'", Severity.ERROR),
    ("lower-case percent-encoding", _set(("ingresses", 0, "routes", 0), {"exact": "/caf%c3%a9", "service": "app"}),
     ("ingresses", 0, "routes", 0, "exact"), "clients send '%C3'", Severity.WARNING),
    ("header value with a line break", _set(("ingresses", 0, "routes", 0),
                                            {"path": "/", "service": "app",
                                             "response_headers": {"set": {"x-a": "one\ntwo"}}}),
     ("ingresses", 0, "routes", 0, "response_headers", "set", "x-a"), "control characters", Severity.ERROR),
    ("header value with trailing space", _set(("ingresses", 0, "routes", 0),
                                              {"path": "/", "service": "app",
                                               "request_headers": {"add": {"x-a": "v "}}}),
     ("ingresses", 0, "routes", 0, "request_headers", "add", "x-a"), "would arrive as 'v'", Severity.ERROR),
    ("TXT record at a proxied host", lambda d: d["dns"]["acme.com"].append(
        {"name": "api", "type": "TXT", "content": "v=verify"}),
     ("dns", "acme.com", 1, "name"), "cannot share its name with this TXT record", Severity.ERROR),
    ("the host side of that clash", lambda d: d["dns"]["acme.com"].append(
        {"name": "api", "type": "TXT", "content": "v=verify"}),
     ("ingresses", 0, "host"), "is a TXT record at this host", Severity.ERROR),
    ("OWASP category against its paranoia level", _set(("waf", "acme.com", "managed"), [
        {"ruleset": "owasp-core", "paranoia_level": "PL2",
         "categories": [{"category": "paranoia-level-3", "enabled": True}]}]),
     ("waf", "acme.com", "managed", 0, "categories", 0, "category"), "switched off by paranoia_level PL2",
     Severity.ERROR),
    ("internationalised host", _set(("ingresses", 0, "host"), "bücher.acme.com"),
     ("ingresses", 0, "host"), "'xn--bcher-kva.acme.com'", Severity.ERROR),
    ("record in a parent zone", lambda d: (d["zones"].update({"shop.acme.com": {"provider": "cloudflare"}}),
                                           d["dns"]["acme.com"].append({"name": "x.shop", "type": "TXT",
                                                                        "content": "hi"})),
     ("dns", "acme.com", 1, "name"), "delegated from 'acme.com'", Severity.WARNING),
]


@pytest.mark.parametrize("mutate, path, fragment, severity", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_check_reports_at_the_right_path(tmp_path, mutate, path, fragment, severity):
    result = run(tmp_path, mutate)
    found = [d for d in result.diagnostics if d.path == path and fragment in d.message]
    assert found, [str(d) for d in result.diagnostics]
    assert found[0].severity is severity
    assert result.ok == (severity is Severity.WARNING and not any(
        d.severity is Severity.ERROR for d in result.diagnostics))
    assert found[0].location.line > 1 or path == ()


def test_more_specific_routes_first_are_not_shadowed(tmp_path):
    routes = [{"path": "/v1/users", "methods": ["GET"], "service": "app2"},
              {"path": "/v1/users", "headers": [{"name": "x-canary", "present": True}], "service": "app2"},
              {"regex": "^/v1/[0-9]+$", "service": "app2"},
              {"path": "/v1", "service": "app"},
              {"path": "/v10", "service": "app2"},
              {"regex": "^/v1x.*$", "service": "app2"},
              {"regex": "(?i)^/v1/admin$", "service": "app2"}]
    result = run(tmp_path, _set(("ingresses", 0, "routes"), routes))
    assert not result.diagnostics, result.diagnostics  # /v10 and /v1x... are not under /v1; (?i) is not judged


def test_records_may_share_the_apex_with_its_proxied_host(tmp_path):
    """Cloudflare flattens an apex CNAME, so MX, TXT and CAA may stand beside it (a subdomain's may not)."""
    def mutate(data):
        data["ingresses"].append({"host": "acme.com", "gateway": "public", "routes": [{"service": "app"}]})
        data["dns"]["acme.com"] += [{"name": "@", "type": "MX", "content": "mx.acme.com", "priority": 10},
                                    {"name": "@", "type": "TXT", "content": "v=spf1 -all"}]
    result = run(tmp_path, mutate)
    assert result.ok and not result.diagnostics, [str(d) for d in result.diagnostics]


def test_a_huge_value_is_not_echoed_whole(tmp_path):
    result = run(tmp_path, _set(("ingresses", 0, "host"), "x" * 2_000_000))
    (diagnostic,) = [d for d in result.diagnostics if d.path == ("ingresses", 0, "host")]
    assert len(diagnostic.message) < 1100 and "characters left out" in diagnostic.message


def test_a_regex_under_an_earlier_prefix_is_shadowed(tmp_path):
    routes = [{"path": "/v1/transfers", "methods": ["POST"], "service": "app"},
              {"regex": "^/v1/transfers/[0-9]{6,12}/status$", "methods": ["POST"], "service": "app2"}]
    result = run(tmp_path, _set(("ingresses", 0, "routes"), routes))
    assert [(d.path, d.severity) for d in result.diagnostics] == [(("ingresses", 0, "routes", 1), Severity.WARNING)]
    assert "routes[0] (path /v1/transfers) comes first" in result.diagnostics[0].message


def test_broken_entry_does_not_cascade_into_false_unknown_references(tmp_path):
    result = run(tmp_path, _set(("gateways", "public", "allow"), ["not-a-cidr"]))
    assert [d.path for d in result.diagnostics] == [("gateways", "public", "allow", 0)]


def test_valid_dns_and_re2_forms_pass(tmp_path):
    def mutate(data):
        data["dns"]["acme.com"] += [{"name": "@", "type": "MX", "content": ".", "priority": 0}]  # null MX
        data["ingresses"][0]["routes"].insert(0, {"regex": r"^/\pL+/\z", "service": "app2"})  # RE2-only syntax
        data["zones"]["corp.internal"] = {"provider": "route53", "private": True}
        data["dns"]["corp.internal"] = [{"name": "@", "type": "TXT", "content": "x", "ttl": 172800}]
        data["waf"]["acme.com"]["custom"].append({"name": "all", "expression": "true", "action": "log"})
    result = run(tmp_path, mutate)
    assert result.ok and not result.diagnostics, [str(d) for d in result.diagnostics]


def test_messages_name_the_users_own_indexes(tmp_path):
    def mutate(data):
        data["waf"]["acme.com"]["custom"] = [
            {"name": "a", "expression": 'http.host eq "a"'},  # broken: no action; set aside
            {"name": "b", "expression": 'http.host eq "a"', "action": "block"},
            {"name": "b", "expression": 'http.host eq "a"', "action": "block"}]
    result = run(tmp_path, mutate)
    duplicate = [d for d in result.diagnostics if "already used" in d.message]
    assert duplicate[0].path == ("waf", "acme.com", "custom", 2, "name")
    assert 'waf["acme.com"].custom[1]' in duplicate[0].message


def test_a_broken_zone_hides_only_its_own_hosts(tmp_path):
    def mutate(data):
        data["zones"]["other.org"] = {"provider": "cloudfare"}
        data["ingresses"][0]["host"] = "api.acme.co"
    result = run(tmp_path, mutate)
    assert any(d.path == ("ingresses", 0, "host") and "no declared zone" in d.message for d in result.diagnostics)


CLIENT_PEM = (pathlib.Path(__file__).parent / "testdata" / "origin-pull.pem").read_text()


def _pulling(data, tmp_path, **cert):
    """The public gateway takes the zone's own client certificate 'pull' (written beside the spec)."""
    (tmp_path / "certs").mkdir(exist_ok=True)
    (tmp_path / "certs" / "pull.pem").write_text(CLIENT_PEM)
    data["certificates"]["pull"] = {"source": "origin-pull", "certificate_file": "certs/pull.pem",
                                    "key_secret": "edge/pull", "ca_file": "/etc/envoy/pull-ca.pem", **cert}
    data["gateways"]["public"]["tls"].update(client_auth="cloudflare-origin-pull", origin_pull_certificate="pull")


ORIGIN_PULL_MISTAKES = [
    ("own certificate not named", lambda d, t: d["gateways"]["public"]["tls"].update(client_auth="cloudflare-origin-pull"),
     ("gateways", "public", "tls", "client_auth"), "needs origin_pull_certificate"),
    ("a certificate without own origin pulls", lambda d, t: (_pulling(d, t), d["gateways"]["public"]["tls"].update(
        client_auth="cloudflare-origin-pull-shared")),
     ("gateways", "public", "tls", "origin_pull_certificate"), "used only with client_auth: cloudflare-origin-pull"),
    ("a served certificate as the client one", lambda d, t: (_pulling(d, t), d["gateways"]["public"]["tls"].update(
        origin_pull_certificate="origin")),
     ("gateways", "public", "tls", "origin_pull_certificate"), "comes from cloudflare-origin-ca"),
    ("the client certificate served", lambda d, t: (_pulling(d, t), d["gateways"]["public"]["tls"].update(
        certificate="pull")),
     ("gateways", "public", "tls", "certificate"), "is a client certificate"),
    ("no such file", lambda d, t: _pulling(d, t, certificate_file="certs/nope.pem"),
     ("certificates", "pull", "certificate_file"), "certs/nope.pem: No such file or directory"),
    ("a folder", lambda d, t: _pulling(d, t, certificate_file="certs"),
     ("certificates", "pull", "certificate_file"), "certs: Is a directory"),
    ("a private key beside it", lambda d, t: (_pulling(d, t), (t / "certs" / "pull.pem").write_text(
        CLIENT_PEM + "-----BEGIN PRIVATE KEY-----\nMC4CAQA=\n-----END PRIVATE KEY-----\n")),
     ("certificates", "pull", "certificate_file"), "holds a private key"),
    ("not PEM", lambda d, t: (_pulling(d, t), (t / "certs" / "pull.pem").write_text("hello")),
     ("certificates", "pull", "certificate_file"), "holds no '-----BEGIN CERTIFICATE-----' block"),
    ("a relative key file", lambda d, t: _pulling(d, t, key_secret=None, key_file="pull.key"),
     ("certificates", "pull", "key_file"), "absolute path of the key where Terraform runs"),
    ("two key sources", lambda d, t: _pulling(d, t, key_file="/run/pull.key"),
     ("certificates", "pull"), "exactly one of key_file or key_secret"),
    ("a relative CA file", lambda d, t: _pulling(d, t, ca_file="pull-ca.pem"),
     ("certificates", "pull", "ca_file"), "absolute path of the CA file on the gateway"),
    ("origin pulls on a private gateway", lambda d, t: d["gateways"]["internal"]["tls"].update(
        client_auth="cloudflare-origin-pull-shared"),
     ("gateways", "internal", "tls", "client_auth"), "only make sense on a public gateway"),
]


@pytest.mark.parametrize("mutate,path,fragment", [m[1:] for m in ORIGIN_PULL_MISTAKES],
                         ids=[m[0] for m in ORIGIN_PULL_MISTAKES])
def test_origin_pull_mistakes_are_errors_where_they_are_made(tmp_path, mutate, path, fragment):
    result = run(tmp_path, lambda data: mutate(data, tmp_path))
    assert not result.ok
    found = [d for d in result.diagnostics if d.path == path and fragment in d.message]
    assert found and found[0].severity == Severity.ERROR, [(d.path, d.message) for d in result.diagnostics]
    assert found[0].location.line > 1


def test_gateways_of_one_zone_must_expect_the_same_client_certificate(tmp_path):
    def two_gateways(data):
        _pulling(data, tmp_path)
        data["gateways"]["second"] = {"exposure": "public", "tls": {"certificate": "origin",
                                                                    "client_auth": "cloudflare-origin-pull-shared"}}
        data["ingresses"].append({"host": "b.acme.com", "gateway": "second", "routes": [{"path": "/", "service": "app"}]})
    result = run(tmp_path, two_gateways)
    errors = {d.path: d.message for d in result.diagnostics if "presents one client certificate" in d.message}
    assert set(errors) == {("gateways", "public", "tls", "client_auth"), ("gateways", "second", "tls", "client_auth")}
    assert "this one expects certificate 'pull' while 'second' expects Cloudflare's shared certificate" in \
        errors[("gateways", "public", "tls", "client_auth")]


def test_a_client_certificate_file_is_found_beside_the_file_that_names_it(tmp_path):
    (tmp_path / "teams" / "certs").mkdir(parents=True)
    (tmp_path / "teams" / "certs" / "pull.pem").write_text(CLIENT_PEM)
    (tmp_path / "teams" / "edge-tls.yaml").write_text(yaml.safe_dump({"certificates": {"pull": {
        "source": "origin-pull", "certificate_file": "certs/pull.pem", "key_file": "/run/pull.key",
        "ca_file": "/etc/envoy/pull-ca.pem"}}}))

    def included(data):
        data["include"] = ["teams/edge-tls.yaml"]
        data["gateways"]["public"]["tls"].update(client_auth="cloudflare-origin-pull", origin_pull_certificate="pull")
    result = run(tmp_path, included)
    assert result.ok, [str(d) for d in result.diagnostics]


def test_an_unused_client_certificate_is_a_warning(tmp_path):
    def unused(data):
        _pulling(data, tmp_path)
        data["gateways"]["public"]["tls"] = {"certificate": "origin"}
    result = run(tmp_path, unused)
    assert result.ok
    assert [(d.path, d.severity) for d in result.diagnostics] == [(("certificates", "pull"), Severity.WARNING)]


TRAILING_NEWLINE = [  # every constrained text, with a newline after an otherwise valid value
    ("name",), ("services", "app", "timeout"), ("ingresses", 0, "host"), ("dns", "acme.com", 0, "name"),
    ("dns", "acme.com", 0, "content"), ("ingresses", 0, "routes", 0, "headers", 0, "name"), ("aws", "region"),
    ("gateways", "public", "tls", "certificate"),
    ("waf", "acme.com", "rate_limits", 0, "characteristics", 1),  # an unknown one is a warning
]


@pytest.mark.parametrize("path", TRAILING_NEWLINE, ids=lambda p: ".".join(map(str, p)))
def test_a_trailing_newline_is_never_part_of_a_valid_value(tmp_path, path):
    def add_newline(data):
        data["services"]["app"]["timeout"] = "5s"
        data["ingresses"][0]["routes"][0]["headers"] = [{"name": "x-tenant", "exact": "a"}]
        data["waf"]["acme.com"]["rate_limits"][0]["characteristics"] = ["cf.colo.id", 'http.request.headers["x-key"]']
        node = data
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] += "\n"
    result = run(tmp_path, add_newline)
    assert [d for d in result.diagnostics if d.path[:len(path)] == path], \
        [(d.path, d.message) for d in result.diagnostics]
    assert not result.ok or path[0] == "waf"


@pytest.mark.parametrize("where, typo", [(("zones", "acme.com"), ("provider", "provder")),
                                         (("services", "app"), ("endpoints", "endpionts"))])
def test_a_misspelt_required_field_is_one_error(tmp_path, where, typo):
    """Not also 'missing required field' for the name the 'did you mean' already suggests."""
    meant, written = typo

    def misspell(data):
        node = data[where[0]][where[1]]
        node[written] = node.pop(meant)

    result = run(tmp_path, misspell)
    assert [d.message for d in result.diagnostics] == [f"unknown field '{written}' (did you mean '{meant}'?)"]
