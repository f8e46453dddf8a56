"""Plan by version: the versions a gateway reports are compared with those the spec compiles to for the
config dir its Envoy uses (the digests cover every path in the files), given by --envoy-config-dir.

A small stand-in admin answers every call with the versions it is given, so that the config dir's part is
seen on its own; the real Envoy's answers are tested in tests/test_envoy_delivery.py and test_plan_envoy.py.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler

import pytest
from conftest import ROOT, run_cli

from edgec.diff.plan import PlanOptions
from edgec.layers.envoy.versions import compiled_versions, config_dir
from edgec.loopback import LoopbackServer
from edgec.spec.validate import validate

SPEC = ROOT / "tests" / "testdata" / "spec-to-ir" / "envoy-routes.in.yaml"  # TLS through SDS: paths in lds
TYPES = {"lds": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
         "cds": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump"}


@pytest.fixture(scope="module")
def ir():
    result = validate(str(SPEC))
    assert result.ok
    return result.ir


def test_the_versions_hang_on_the_config_dir(ir):
    here, there = compiled_versions(ir, "edge", "/etc/envoy"), compiled_versions(ir, "edge", "/srv/envoy")
    assert here["lds"] != there["lds"]  # the SDS paths of the listeners' certificates
    assert here["cds"] == there["cds"]


def test_which_config_dir_a_gateway_is_read_for():
    options = PlanOptions(envoy_config_dirs={"edge": "/mnt/edge"}, envoy_config_dir="/srv/envoy")
    assert config_dir(options, "edge") == "/mnt/edge"
    assert config_dir(options, "other") == "/srv/envoy"
    assert config_dir(PlanOptions(), "edge") == "/etc/envoy"


@pytest.fixture()
def admin_reporting():
    """An admin answering every call with a config dump holding only the versions set in `reported`."""
    reported: dict[str, str] = {}
    calls: list[str] = []

    class Admin(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            calls.append(self.path)
            body = json.dumps({"configs": [{"@type": TYPES[k], "version_info": v} for k, v in reported.items()]})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, format, *args) -> None:
            """Silent."""

    server = LoopbackServer(Admin)
    server.serve_in_background("envoy-admin")
    yield f"http://127.0.0.1:{server.port}", reported, calls
    server.stop()


def test_plan_compares_for_the_config_dir_given(ir, admin_reporting):
    url, reported, calls = admin_reporting
    reported.update(compiled_versions(ir, "edge", "/srv/envoy"))
    plan = ["plan", "--format", "json", "--layer", "envoy", "--envoy-admin", f"edge={url}", str(SPEC)]

    result = run_cli(*plan, "--envoy-config-dir", "/srv/envoy")
    report = json.loads(result.output)
    assert result.exit_code == 0, report
    assert report["running"][0]["compared_by"] == "version" and calls == ["/config_dump?mask=version_info"]

    calls.clear()
    report = json.loads(run_cli(*plan).output)  # compiled for /etc/envoy: other versions, read whole
    assert report["running"][0]["compared_by"] == "content"
    assert calls == ["/config_dump?mask=version_info", "/config_dump"]
