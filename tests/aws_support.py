"""An AWS emulator for tests: moto in server mode on loopback, and an example spec 'applied' to it."""

from __future__ import annotations

import copy
import urllib.request

import boto3
import yaml
from moto.server import ThreadedMotoServer

from conftest import ROOT
from edgec.ir.build import build_ir
from edgec.sandbox.seed_aws import seed_aws
from edgec.spec.loader import load_spec
from edgec.spec.validate import validate

VPC_CIDR = "10.40.0.0/16"


def start_moto() -> tuple[ThreadedMotoServer, str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def applied_example(example: str, tmp_path, monkeypatch, url: str):
    """Empty moto, create the example's VPC and subnets, write the spec with their IDs, seed it as applied.

    Returns (spec path, boto3 session, spec)."""
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=10).read()
    data = copy.deepcopy(load_spec(str(ROOT / "examples" / example / "edge.yaml")).data)
    region = data["aws"]["region"]
    for key, value in {"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": region}.items():
        monkeypatch.setenv(key, value)
    session = boto3.Session(region_name=region)
    ec2 = session.client("ec2", endpoint_url=url)
    vpc = ec2.create_vpc(CidrBlock=VPC_CIDR)["Vpc"]["VpcId"]
    subnets = {}
    for kind, names in data["aws"].get("subnets", {}).items():
        subnets[kind] = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.40.{len(subnets) * 10 + i}.0/24",
                                           AvailabilityZone=f"{region}{'abc'[i % 3]}")["Subnet"]["SubnetId"]
                         for i, _ in enumerate(names)]
    data["aws"].update(vpc_id=vpc, subnets=subnets)
    for zone in data.get("zones", {}).values():
        zone.pop("vpc_ids", None)
    path = tmp_path / "edge.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    spec = validate(str(path)).spec
    assert spec is not None
    seed_aws(session, spec, build_ir(spec), VPC_CIDR, url)
    return path, session, spec


def nlb_dns_names(session, url: str) -> dict[str, str]:
    elb = session.client("elbv2", endpoint_url=url)
    return {lb["LoadBalancerName"]: lb["DNSName"] for lb in elb.describe_load_balancers()["LoadBalancers"]}
