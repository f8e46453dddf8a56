"""`edgec trace`: the static walk of one URL through DNS, Cloudflare, the WAF, the NLB, Envoy and the cluster.

Every route of every example is traced with a request built to match it; which route should win is
worked out here from the spec with an oracle of Envoy's first-match rule written independently of
edgec/trace.py, so a wrong matcher there (or a changed example) fails a test.
"""

from __future__ import annotations

import io
import re
import shutil
from functools import cache

import pytest
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from rich.console import Console

from edgec.render.trace_text import print_trace
from edgec.spec.model import HeaderMatch, Ingress, Route, Spec
from edgec.spec.validate import validate
from edgec.trace import Trace, normalise_path, trace_url
from edgec.waf_eval import evaluate_expression
from conftest import EXAMPLES, write

URL_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/:,*")
HEADER_SAFE = frozenset(chr(c) for c in range(0x20, 0x7f))
# The first string a regex generates, without shrinking: deterministic and fast.
FIRST_EXAMPLE = settings(derandomize=True, database=None, max_examples=1000, phases=[Phase.generate],
                         suppress_health_check=list(HealthCheck))


@cache
def example_spec(name: str) -> Spec:
    validation = validate(str(next(p for p in EXAMPLES if p.name == name)))
    assert validation.spec is not None, validation.diagnostics
    return validation.spec


def _example_from(regex: str, alphabet: frozenset[str] = URL_SAFE) -> str:
    return find(st.from_regex(regex, fullmatch=True), lambda s: set(s) <= alphabet, settings=FIRST_EXAMPLE)


def _path_for(route: Route, below: bool) -> str:
    """A path the route matches; `below`: one segment under a prefix (which other routes may take first)."""
    kind, value = route.match
    if kind == "regex":
        return _example_from(value)
    return value.rstrip("/") + "/zz-probe" if below and kind == "path" else value


def _headers_for(route: Route) -> dict[str, str]:
    """Header values that satisfy every header match of the route (none of the examples inverts one)."""
    headers = {}
    for header in route.headers:
        assert not header.invert, "teach _headers_for inverted matches"
        value = (header.exact if header.exact is not None else
                 f"{header.prefix}trace" if header.prefix is not None else
                 _example_from(header.regex, HEADER_SAFE) if header.regex is not None else
                 "1" if header.present else None)
        if value is not None:
            headers[header.name] = value
    return headers


def _oracle_header(header: HeaderMatch, value: str | None) -> bool:
    if value is None:  # Envoy: only a presence match can match a missing header
        return header.present is not None and header.present is header.invert
    checks = {"present": lambda: bool(header.present), "exact": lambda: value == header.exact,
              "prefix": lambda: value.startswith(header.prefix or ""),
              "regex": lambda: re.fullmatch(header.regex or "", value) is not None}
    kind = next(k for k in checks if getattr(header, k) is not None)
    return checks[kind]() is not header.invert


def _oracle_route(ingress: Ingress, path: str, method: str, headers: dict[str, str]) -> int | None:
    """Index of the first route Envoy takes for this request, from the spec alone (Python's re for RE2)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    for index, route in enumerate(ingress.routes):
        kind, value = route.match
        prefix = value.rstrip("/")
        path_ok = {"exact": lambda: path == value,
                   "regex": lambda: re.fullmatch(value, path) is not None,
                   "path": lambda: value == "/" or path == prefix or path.startswith(prefix + "/")}[kind]()
        if (path_ok and (not route.methods or method in route.methods)
                and all(_oracle_header(h, lowered.get(h.name.lower())) for h in route.headers)):
            return index
    return None


def _name(ingress: Ingress, index: int) -> str:
    return ingress.routes[index].name or f"{ingress.host}#{index}"


def _services(route: Route) -> set[str]:
    return {route.service} if route.service else {t.service for t in route.split or [] if t.weight > 0}


def _assert_ends_at(trace: Trace, ingress: Ingress, expected: int) -> None:
    route = ingress.routes[expected]
    assert trace.dies_at is None, (trace.dies_at, trace.why)
    assert trace.route == _name(ingress, expected)
    if route.redirect is not None:
        assert trace.redirect and not trace.clusters
    else:
        assert set(trace.clusters) == _services(route)
        assert trace.hops[-1].layer == "cluster"


def _route_cases() -> list:
    return [pytest.param(example.name, ingress.host, index, below,
                         id=f"{example.name}-{ingress.host}-{index}{'-below' if below else ''}")
            for example in EXAMPLES for ingress in example_spec(example.name).ingresses
            for index, route in enumerate(ingress.routes) for below in (False, True)
            if not below or route.match[0] == "path"]


@pytest.mark.parametrize(("example", "host", "index", "below"), _route_cases())
def test_every_route_of_every_example_is_reached(example: str, host: str, index: int, below: bool) -> None:
    spec = example_spec(example)
    ingress = next(i for i in spec.ingresses if i.host == host)
    route = ingress.routes[index]
    path, method, headers = _path_for(route, below), (route.methods or ["GET"])[0], _headers_for(route)
    expected = _oracle_route(ingress, path, method, headers)
    assert expected is not None and expected <= index  # the oracle itself agrees the request matches the route

    trace = trace_url(spec, f"https://{host}{path}", method, headers)

    _assert_ends_at(trace, ingress, expected)
    assert [h.layer for h in trace.hops][:1] == ["dns"]


@pytest.mark.parametrize("example", [p.name for p in EXAMPLES])
def test_a_path_no_route_takes_dies_at_envoy_route_or_reaches_the_catch_all(example: str) -> None:
    spec = example_spec(example)
    for ingress in spec.ingresses:
        trace = trace_url(spec, f"https://{ingress.host}/zz-no-such-page", "GET")
        expected = _oracle_route(ingress, "/zz-no-such-page", "GET", {})
        if expected is None:
            assert trace.dies_at == "envoy route", (ingress.host, trace.dies_at, trace.why)
            assert trace.route is None and not trace.clusters
        else:
            _assert_ends_at(trace, ingress, expected)


def test_a_path_no_route_matches_names_envoy_route() -> None:
    trace = trace_url(example_spec("public-api"), "https://api.acme.com/v2/nothing-here")
    assert trace.dies_at == "envoy route"
    assert "404" in (trace.why or "")
    assert [h.status for h in trace.hops][-1] == "dead"


def test_a_missing_header_makes_envoy_skip_the_route() -> None:
    spec = example_spec("private-internal")
    without = trace_url(spec, "https://hr.initech.internal/payroll", "POST")
    with_dept = trace_url(spec, "https://hr.initech.internal/payroll", "POST", {"X-Initech-Dept": "finance"})
    wrong_dept = trace_url(spec, "https://hr.initech.internal/payroll", "POST", {"x-initech-dept": "sales"})
    assert (without.route, with_dept.route, wrong_dept.route) == ("portal", "payroll", "portal")
    accounts = trace_url(example_spec("public-api"), "https://api.acme.com/v1/accounts/42")
    assert accounts.dies_at == "envoy route"  # only route for /v1/accounts needs x-tenant


def test_an_unknown_host_dies_at_dns() -> None:
    spec = example_spec("public-api")
    outside = trace_url(spec, "https://shop.example.org/")
    no_record = trace_url(spec, "https://nothing.acme.com/")
    assert (outside.dies_at, no_record.dies_at) == ("dns", "dns")
    assert "no declared zone" in (outside.why or "") and "NXDOMAIN" in (no_record.why or "")
    assert len(outside.hops) == 1


def test_a_record_outside_the_gateways_ends_the_walk_at_dns() -> None:
    trace = trace_url(example_spec("private-internal"), "https://ldap.initech.internal/")
    assert trace.dies_at == "dns"
    assert "10.8.1.11" in (trace.why or "")  # through the CNAME to dc1


def test_a_cname_to_an_ingress_host_reaches_the_gateway_but_has_no_virtual_host(tmp_path) -> None:
    # A proxied CNAME to docs.acme.com: Cloudflare sends Host alias.acme.com, which Envoy does not serve
    # (policy EDGE015 reports it; the examples use a redirect ingress instead).
    example = next(p for p in EXAMPLES if p.name == "public-api")
    text = (example / "edge.yaml").read_text()
    anchor = "dns:\n  acme.com:\n"
    assert anchor in text
    shutil.copytree(example / "certs", tmp_path / "certs")  # the client certificate it names
    path = tmp_path / "edge.yaml"
    path.write_text(text.replace(anchor, anchor + "    - {name: alias, type: CNAME, content: docs.acme.com, proxied: true}\n"))
    validation = validate(str(path))
    assert validation.spec is not None, validation.diagnostics
    trace = trace_url(validation.spec, "https://alias.acme.com/")
    assert trace.dies_at == "envoy listener"
    assert [h.layer for h in trace.hops] == ["dns", "cloudflare", "waf", "nlb", "envoy listener"]


def test_plain_http_is_redirected_by_cloudflare_or_by_the_gateway() -> None:
    public = trace_url(example_spec("public-api"), "http://api.acme.com/v1/payments?x=1")
    private = trace_url(example_spec("private-internal"), "http://hr.initech.internal/payroll")
    assert public.redirect == "301 to https://api.acme.com/v1/payments?x=1"
    assert public.hops[-1].layer == "cloudflare"
    assert private.redirect == "301 to https://hr.initech.internal/payroll"
    assert private.hops[-1].layer == "envoy listener"


def test_the_listener_port_comes_from_the_gateway() -> None:
    spec = example_spec("private-internal")  # the data gateway listens on 8443
    implicit = trace_url(spec, "https://trino.data.initech.internal/v1/info")
    explicit = trace_url(spec, "https://trino.data.initech.internal:8443/v1/info")
    wrong = trace_url(spec, "https://trino.data.initech.internal:443/v1/info")
    assert next(h for h in implicit.hops if h.layer == "nlb").status == "may"
    assert next(h for h in explicit.hops if h.layer == "nlb").status == "pass"
    assert (implicit.route, explicit.route) == ("info", "info")
    assert wrong.dies_at == "nlb"


def test_the_route_timeout_overrides_the_service_timeout() -> None:
    spec = example_spec("public-api")
    health = trace_url(spec, "https://api.acme.com/healthz")
    accounts = trace_url(spec, "https://api.acme.com/v1/accounts", headers={"x-tenant": "t1"})
    assert "timeout 1s (the route's)" in health.hops[-1].details
    assert "no retries" in health.hops[-1].details
    assert "timeout 5s (the service's)" in accounts.hops[-1].details


def test_paths_are_normalised_as_envoy_does() -> None:
    assert normalise_path("//v1/./payments/../accounts//x") == "/v1/accounts/x"
    assert normalise_path("/a/b/..") == "/a/"
    trace = trace_url(example_spec("public-api"), "https://api.acme.com//v1/x/../payments", "POST")
    assert trace.route == "payments"


# --- the WAF -----------------------------------------------------------------------------------

WAF_SPEC = """
    apiVersion: edgec/v1
    name: waf-test
    aws: {{region: eu-west-1, vpc_id: vpc-0abc, subnets: {{public: [subnet-0a, subnet-0b]}}}}
    zones:
      example.com: {{provider: cloudflare, tls: {{mode: strict}}}}
    certificates:
      origin: {{source: cloudflare-origin-ca, domains: [example.com, "*.example.com"]}}
    gateways:
      public: {{exposure: public, tls: {{certificate: origin, client_auth: cloudflare-origin-pull-shared}}}}
    services:
      app: {{endpoints: ["app.app.svc.cluster.local:8080"]}}
    ingresses:
      - host: api.example.com
        gateway: public
        routes: [{{path: /, service: app}}]
    waf:
      example.com:
        custom:
          - name: the-rule
            expression: '{expression}'
            action: block
"""


def _waf_trace(tmp_path, expression: str, url: str) -> Trace:
    validation = validate(str(write(tmp_path, WAF_SPEC.format(expression=expression))))
    assert validation.spec is not None, validation.diagnostics
    return trace_url(validation.spec, url)


def _waf_hop(trace: Trace):
    return next(h for h in trace.hops if h.layer == "waf")


def test_a_waf_rule_that_blocks_the_path_kills_the_request_at_the_waf(tmp_path) -> None:
    rule = 'starts_with(http.request.uri.path, "/admin") and http.host eq "api.example.com"'
    blocked = _waf_trace(tmp_path, rule, "https://api.example.com/admin/users")
    allowed = _waf_trace(tmp_path, rule, "https://api.example.com/public")
    assert blocked.dies_at == "waf" and "the-rule" in (blocked.why or "")
    assert blocked.hops[-1].layer == "waf" and not blocked.clusters
    assert _waf_hop(allowed).status == "pass"
    assert allowed.dies_at is None and set(allowed.clusters) == {"app"}


def test_a_waf_rule_on_the_client_address_may_match(tmp_path) -> None:
    rule = 'ip.src in {198.51.100.0/24} and starts_with(http.request.uri.path, "/internal")'
    maybe = _waf_trace(tmp_path, rule, "https://api.example.com/internal/x")
    never = _waf_trace(tmp_path, rule, "https://api.example.com/public")
    assert _waf_hop(maybe).status == "may"
    assert any("ip.src" in line for line in _waf_hop(maybe).details)
    assert maybe.dies_at is None and set(maybe.clusters) == {"app"}
    assert _waf_hop(never).status == "pass"  # the path decides: it can never match


def test_a_skip_rule_that_may_apply_turns_a_later_block_into_may() -> None:
    spec = example_spec("multi-team")  # allow-psp-webhooks skips the rest for some addresses on hooks.globex.com
    hooks = trace_url(spec, "https://hooks.globex.com/admin")
    shop = trace_url(spec, "https://shop.globex.com/admin")
    assert _waf_hop(hooks).status == "may" and hooks.dies_at != "waf"
    assert shop.dies_at == "waf" and "block-internal-paths" in (shop.why or "")


KNOWN = {"http.host": "api.example.com", "http.request.uri.path": "/Admin/x.PHP", "http.request.method": "POST"}


@pytest.mark.parametrize(("expression", "expected"), [
    ('http.host eq "api.example.com"', True),
    ('http.host == "other.example.com"', False),
    ('http.request.method ne "GET"', True),
    ('http.request.method in {"GET" "HEAD"}', False),
    ('http.request.method in {"GET" "POST"}', True),
    ('starts_with(http.request.uri.path, "/Admin")', True),
    ('ends_with(lower(http.request.uri.path), ".php")', True),
    ('ends_with(http.request.uri.path, ".php")', False),
    ('http.request.uri.path contains "/x."', True),
    ('http.request.uri.path matches "^/[A-Z][a-z]+/"', True),
    ('http.request.uri.path ~ "^/admin"', False),
    ('http.request.uri.path wildcard "/admin/*"', True),
    ('http.request.uri.path strict wildcard "/admin/*"', False),
    ('not http.host eq "api.example.com"', False),
    ('(http.host eq "a" or http.host eq "api.example.com") and http.request.method eq "POST"', True),
    ('ip.src in {198.51.100.0/24}', None),
    ('ip.src in {198.51.100.0/24} and http.host eq "nope"', False),
    ('ip.src in {198.51.100.0/24} or http.host eq "api.example.com"', True),
    ('ip.src in {198.51.100.0/24} or http.host eq "nope"', None),
    ('not cf.bot_management.verified_bot', None),
    ('cf.bot_management.score lt 30 and http.request.method eq "POST"', None),
    ('any(http.request.headers.names[*] eq "x-debug")', None),
    ('http.request.headers["x-a"][0] eq "1" and http.host eq "nope"', False),
    ('len(http.request.uri.path) gt 3', None),
    ('ip.geoip.country in $embargoed', None),
])
def test_the_waf_evaluator_knows_what_the_url_decides(expression: str, expected: bool | None) -> None:
    assert evaluate_expression(expression, KNOWN) is expected


# --- the text --------------------------------------------------------------------------------------

def _printed(trace: Trace) -> str:
    out = io.StringIO()
    print_trace(Console(file=out, width=400, color_system=None), trace)
    return out.getvalue()


def test_the_text_has_a_block_per_layer_and_says_where_the_request_ends() -> None:
    spec = example_spec("public-api")
    reached = _printed(trace_url(spec, "https://api.acme.com/healthz"))
    dead = _printed(trace_url(spec, "https://api.acme.com/admin"))
    lines = reached.splitlines()
    assert [line.split()[1] for line in lines if line[:4] in ("PASS", "MAY ", "DEAD")] == [
        "dns", "cloudflare", "waf", "nlb", "envoy", "envoy", "cluster"]
    assert lines[-1] == "reaches cluster payments (endpoints payments.payments.svc.cluster.local:8080)"
    assert "DEAD waf" in dead
    assert dead.splitlines()[-1].startswith("the request dies at waf: custom rule 'block-admin'")
    printed = _printed(trace_url(spec, "https://docs.acme.com/guides/intro"))
    assert printed.splitlines()[-1] == "answered with a redirect: 308 to https://docs.acme.com/docs"


@pytest.mark.parametrize("url", ["ftp://api.acme.com/", "/v1/payments", "https:///nohost"])
def test_a_url_that_is_not_absolute_http_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="not an absolute"):
        trace_url(example_spec("public-api"), url)


def test_the_cli_names_the_failing_layer_and_exits_1():
    from conftest import ROOT, run_cli

    spec = str(ROOT / "examples" / "public-api" / "edge.yaml")
    reached = run_cli("trace", "https://api.acme.com/v1/payments", spec, "-X", "POST")
    assert reached.exit_code == 0 and "reaches clusters payments" in reached.output
    dead = run_cli("trace", "https://api.acme.com/nothing-here", spec)
    assert dead.exit_code == 1
    assert dead.output.splitlines()[-1].startswith("the request dies at envoy route")
    assert run_cli("trace", "not a url", spec).exit_code == 64
