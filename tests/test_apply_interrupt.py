"""An interrupted `edgec apply` stops Terraform gracefully and converges on the next run.

End to end: edgec runs as a process of its own, with the real terraform and AWS provider against moto in
server mode, applying a private Route 53 zone whose records each take the provider about 15 s (it waits
for the change to be in sync), so an interruption reliably lands while records are being created or
destroyed. It is interrupted as a terminal's Ctrl-C does (SIGINT to edgec's process group, once pressed
twice; test_interrupt.py covers what each further signal does) and as a service manager does (SIGTERM
to edgec alone), during creates and during destroys. Each time: edgec waits for Terraform, exits 130 or
143 saying which layer was interrupted, no process of the run is left, no state lock is left, and one
`edgec apply --auto-approve` then converges with nothing duplicated or lost, after which `edgec plan`
finds nothing to do.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import boto3
import pytest
import yaml
from test_apply_e2e import PLUGINS

from edgec.sandbox.run import moto_provider_override as provider_override
from edgec.sandbox.run import spec_for_moto, start_moto

EDGEC = str(pathlib.Path(sys.executable).with_name("edgec"))
ZONE = "stop.internal"
REGION = "us-east-2"

pytestmark = [
    pytest.mark.real_tool("terraform"),
    pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform binary not found on PATH"),
    pytest.mark.skipif(not os.path.isdir(PLUGINS), reason=f"AWS provider mirror {PLUGINS} not found"),
]


def spec_data(records: range) -> dict:
    return {"apiVersion": "edgec/v1", "name": "interrupted",
            "aws": {"region": REGION, "vpc_id": "vpc-0c4e7a91d2b3f5068",
                    "subnets": {"private": ["subnet-0e1a2b3c4d5e6f701"]}},
            # the records come and go by half the zone at a time: the change-share rail is not what is tested
            "zones": {ZONE: {"provider": "route53", "private": True, "apply_limits": {"max_change_percent": 100}}},
            "dns": {ZONE: [{"name": f"r{n}", "type": "A", "content": f"10.1.0.{n}", "ttl": 300} for n in records]}}


@pytest.fixture(scope="module")
def estate(tmp_path_factory):
    """moto with the network, the spec naming it (twelve records), and the provider override."""
    server, url = start_moto()
    work = tmp_path_factory.mktemp("interrupt")
    session = boto3.Session(region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    spec = work / "edge.yaml"
    spec_for_moto(session, url, spec_data(range(1, 13)), spec)
    layer = work / "out" / "terraform" / "aws"
    layer.mkdir(parents=True)
    (layer / "moto_override.tf").write_text(provider_override(url))
    env = {**os.environ, "AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": REGION, "EDGEC_PLUGIN_DIR": PLUGINS, "CHECKPOINT_DISABLE": "1"}
    yield {"spec": spec, "out": work / "out", "layer": layer, "env": env,
           "route53": session.client("route53", endpoint_url=url)}
    server.stop()


def edgec(estate, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([EDGEC, *args], env=estate["env"], capture_output=True, text=True, timeout=600)


def interrupted_apply(estate, when: str, signals: list[tuple[signal.Signals, bool]]) -> tuple[int, str]:
    """Start `edgec apply`, and once Terraform's output shows `when` send each signal (to edgec's process
    group when the flag says so, as a terminal's Ctrl-C does; else to edgec alone). Returns its exit code
    and everything it printed."""
    process = subprocess.Popen([EDGEC, "apply", "--auto-approve", "-o", str(estate["out"]), str(estate["spec"])],
                               env=estate["env"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)  # its own group, so the signals reach nothing else
    lines = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        if when in line and signals:
            time.sleep(1)  # into the provider's wait for Route 53
            for signum, to_group in signals:
                os.killpg(process.pid, signum) if to_group else os.kill(process.pid, signum)
                time.sleep(0.01)  # a double Ctrl-C: Terraform stops within some 50 ms
            signals = []
    return process.wait(timeout=600), "".join(lines)


def processes_in(folder: pathlib.Path) -> list[str]:
    """Processes working in `folder` (Terraform and its provider plugins run in the layer's folder)."""
    found = []
    for proc in pathlib.Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and pathlib.Path(os.readlink(proc / "cwd")).is_relative_to(folder):
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    return found


def zone_records(route53) -> list[str]:
    zone = next(z for z in route53.list_hosted_zones()["HostedZones"] if z["Name"] == f"{ZONE}.")
    sets = route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
    return sorted(s["Name"].rstrip(".") for s in sets if s["Type"] == "A")


def write_spec(estate, records: range) -> None:
    data = yaml.safe_load(estate["spec"].read_text())
    data["dns"] = spec_data(records)["dns"]
    estate["spec"].write_text(yaml.safe_dump(data, sort_keys=False))


# In order, on one estate: the records the spec then holds, the output of Terraform's to interrupt at, the
# signals (True: to edgec's process group), and edgec's exit code.
CASES = [
    (range(1, 13), "aws_route53_zone.stop_internal: Creating", [(signal.SIGINT, True), (signal.SIGINT, True)], 130),
    (range(1, 19), "aws_route53_record", [(signal.SIGTERM, False)], 143),
    (range(1, 16), "Destroying...", [(signal.SIGINT, True)], 130),
    (range(1, 13), "Destroying...", [(signal.SIGTERM, False)], 143),
]


@pytest.mark.parametrize("records, when, signals, code", CASES,
                         ids=["create-zone-sigint-twice", "create-records-sigterm", "destroy-sigint",
                              "destroy-sigterm"])
def test_an_interrupted_apply_stops_terraform_cleanly_and_one_rerun_converges(estate, records, when, signals, code):
    write_spec(estate, records)
    exit_code, output = interrupted_apply(estate, when, signals)

    assert exit_code == code, output
    assert f"interrupted ({signals[0][0].name}) while Terraform applied the aws layer" in output
    assert "Run `edgec apply` again to converge." in output
    assert "Interrupt received." in output  # Terraform's own graceful stop, exactly once
    assert "Two interrupts received" not in output  # a double Ctrl-C did not make it stop at once
    assert processes_in(estate["out"]) == []  # neither terraform nor its provider plugin outlives edgec
    assert not (estate["layer"] / ".terraform.tfstate.lock.info").exists()

    rerun = edgec(estate, "apply", "--auto-approve", "-o", str(estate["out"]), str(estate["spec"]))
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    if "zone" in when:  # its create was cut short in Route 53's wait: Terraform tainted the live zone
        assert "1 resource(s) Terraform marked tainted when it was stopped are live as the spec wants" in rerun.stdout
    assert zone_records(estate["route53"]) == sorted(f"r{n}.{ZONE}" for n in records)  # none lost or doubled
    plan = edgec(estate, "plan", str(estate["spec"]))
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "No changes." in plan.stdout
