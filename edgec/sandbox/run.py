"""A local sandbox: moto (AWS) and edgec's fake Cloudflare API on loopback, seeded with a spec's live
estate as if it had been applied, plus some drift, so `edgec plan` has something real to read; or,
foreign, as if the estate had been built without edgec (no ownership markers, no Terraform state), so
adoption can be tried.

moto gives resources IDs of its own, so the sandbox writes a copy of the spec that names its VPC and
subnets; plan that copy. Beside it go the gateways' compiled Envoy bootstraps (DIR/envoy/<gateway>.yaml),
named in EDGEC_ENVOY_CONFIG, as if the gateways ran them.
"""

from __future__ import annotations

import copy
import logging
import os
import pathlib
import shutil
import subprocess
import urllib.request
from dataclasses import dataclass, field

import yaml

from edgec.ir.model import IR
from edgec.layers.aws.model import AwsLoadBalancer, AwsSecurityGroup
from edgec.layers.cloudflare.model import CfDnsRecord
from edgec.layers.envoy import LAYER as ENVOY
from edgec.layers.envoy.model import EnvoyGateway
from edgec.sandbox.fake_cloudflare import FakeCloudflare
from edgec.sandbox.seed import seed_cloudflare
from edgec.sandbox.seed_aws import seed_aws
from edgec.spec.loader import LOCAL_FILE_FIELD, LoadedSpec
from edgec.spec.model import Spec
from edgec.spec.validate import Validation, validate

SANDBOX_TOKEN = "sandbox-token"
VPC_CIDR = "10.40.0.0/16"
ENVOY_CONFIG_ENV = "EDGEC_ENVOY_CONFIG"  # GATEWAY=PATH,GATEWAY=PATH: each gateway's bootstrap file


@dataclass
class Sandbox:
    spec_path: pathlib.Path
    env: dict[str, str]
    drift: list[str] = field(default_factory=list)  # what was changed out of band, for people
    servers: list = field(default_factory=list)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


def start_moto():
    """moto in server mode on a free loopback port, emptied (its state is per process, not per server)."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        raise RuntimeError("the sandbox needs moto: pip install 'edgec[sandbox]'") from exc
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's HTTP server logs every request
    _private_zone_when_vpc_given()
    _certificate_lists_carry_alternative_names()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    reset_moto(url)
    return server, url


def _private_zone_when_vpc_given() -> None:
    """moto 5 makes a Route 53 zone private only when HostedZoneConfig.PrivateZone is sent; AWS makes it
    private whenever a VPC is given, and the AWS Terraform provider sends only the VPC. Without this,
    zones Terraform creates in the sandbox come back public and every plan wants to re-add the VPC."""
    from moto.route53.responses import Route53

    if getattr(Route53.create_hosted_zone, "edgec_fixed", False):
        return
    original = Route53.create_hosted_zone

    def create_hosted_zone(self):
        vpc_id = self._get_param("VPC.VPCId")
        if vpc_id and not self._get_param("HostedZoneConfig.PrivateZone"):
            self.params.setdefault("HostedZoneConfig", {})["PrivateZone"] = "true"
        return original(self)

    create_hosted_zone.edgec_fixed = True
    Route53.create_hosted_zone = create_hosted_zone


def _certificate_lists_carry_alternative_names() -> None:
    """AWS's ListCertificates gives each certificate's other names as SubjectAlternativeNameSummaries;
    moto 5 sends DescribeCertificate's SubjectAlternativeNames instead, which clients drop. Without
    this, a certificate of several names reads back as one of its first name only."""
    from moto.acm.models import CertBundle

    if getattr(CertBundle.describe, "edgec_fixed", False):
        return
    original = CertBundle.describe

    def describe(self):
        result = original(self)
        result["Certificate"]["SubjectAlternativeNameSummaries"] = list(self.sans)
        return result

    describe.edgec_fixed = True
    CertBundle.describe = describe


def moto_provider_override(url: str) -> str:
    """A Terraform override file (`*_override.tf` in the AWS layer's folder) pointing the AWS provider at
    moto; the generated files stay as they are."""
    endpoints = "\n".join(f'    {service} = "{url}"' for service in ("acm", "ec2", "elbv2", "route53", "sts"))
    return (f'provider "aws" {{\n  skip_credentials_validation = true\n  skip_requesting_account_id  = true\n'
            f'  skip_metadata_api_check     = true\n  endpoints {{\n{endpoints}\n  }}\n}}\n')


def reset_moto(url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=10).read()


@dataclass
class AppliedAws:
    spec_path: pathlib.Path
    spec: Spec
    desired: IR
    nlb_dns_names: dict[str, str]  # gateway -> the DNS name moto gave its NLB


def spec_for_moto(session, url: str, loaded_data: dict, spec_path: pathlib.Path) -> Validation:
    """Create the spec's VPC and subnets in moto and write the spec naming them to `spec_path`.
    `loaded_data` is as `load_spec` gives it: local files relative to the working directory, which are
    written as absolute paths (the spec moves to another folder)."""
    data = copy.deepcopy(loaded_data)
    for entry in (data.get("certificates") or {}).values():
        if isinstance(entry, dict) and isinstance(entry.get(LOCAL_FILE_FIELD), str):
            entry[LOCAL_FILE_FIELD] = os.path.abspath(entry[LOCAL_FILE_FIELD])
    if data.get("aws"):
        _make_network(session, url, data)
    spec_path.parent.mkdir(parents=True, exist_ok=True)
    spec_path.write_text("# The spec as the sandbox knows it (its own VPC and subnet IDs).\n"
                         + yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    validation = validate(str(spec_path))
    if validation.ir is None:
        raise RuntimeError("the spec does not validate; run `edgec validate` first")
    return validation


def apply_to_moto(session, url: str, loaded_data: dict, spec_path: pathlib.Path,
                  foreign: bool = False) -> AppliedAws:
    """`spec_for_moto`, then seed moto with the AWS resources the spec implies, as if it had been applied
    (foreign: as if built without edgec)."""
    validation = spec_for_moto(session, url, loaded_data, spec_path)
    spec, desired = validation.spec, validation.ir
    assert spec is not None and desired is not None
    nlb = {}
    if spec.aws is not None:
        seed_aws(session, spec, desired, VPC_CIDR, url, foreign)
        names = {lb["LoadBalancerName"]: lb["DNSName"] for lb in session.client(
            "elbv2", endpoint_url=url).describe_load_balancers()["LoadBalancers"]}
        nlb = {r.gateway: names[r.lb_name] for r in desired.of(AwsLoadBalancer)}
    return AppliedAws(spec_path, spec, desired, nlb)


def start_sandbox(loaded: LoadedSpec, workdir: pathlib.Path, drift: bool = True, foreign: bool = False) -> Sandbox:
    import boto3  # a dependency of edgec; moto (sandbox extra) is checked by start_moto

    moto, aws_url = start_moto()
    cloudflare = FakeCloudflare(token=SANDBOX_TOKEN)
    cloudflare.start()
    region = (loaded.data.get("aws") or {}).get("region", "us-east-1")
    sandbox = Sandbox(workdir / "edge.yaml", {
        "AWS_ENDPOINT_URL": aws_url, "AWS_ACCESS_KEY_ID": "sandbox", "AWS_SECRET_ACCESS_KEY": "sandbox",
        "AWS_DEFAULT_REGION": region,  # for commands that take no spec (edgec import)
        "CLOUDFLARE_BASE_URL": cloudflare.base_url, "CLOUDFLARE_API_TOKEN": SANDBOX_TOKEN}, servers=[cloudflare, moto])
    session = boto3.Session(region_name=region, aws_access_key_id="sandbox", aws_secret_access_key="sandbox")
    try:
        applied = apply_to_moto(session, aws_url, loaded.data, sandbox.spec_path, foreign)
    except RuntimeError:
        sandbox.stop()
        raise
    zones = seed_cloudflare(cloudflare, applied.spec, applied.desired, applied.nlb_dns_names, foreign)
    envoy = write_envoy_configs(applied.desired, workdir)
    if envoy:
        sandbox.env[ENVOY_CONFIG_ENV] = envoy
    if drift:
        sandbox.drift = _add_drift(applied.spec, applied.desired, session, aws_url, cloudflare, zones)
    return sandbox


def write_envoy_configs(desired: IR, workdir: pathlib.Path) -> str:
    """The gateways' compiled Envoy files (as `edgec compile` writes them under envoy/) in `workdir`;
    returns EDGEC_ENVOY_CONFIG's value: GATEWAY=PATH pairs, comma-separated, absolute paths."""
    files = ENVOY.emit(desired)
    for path, content in files.items():
        target = workdir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    gateways = sorted(g.gateway for g in desired.of(EnvoyGateway))
    return ",".join(f"{gateway}={(workdir / 'envoy' / f'{gateway}.yaml').resolve()}" for gateway in gateways)


def _make_network(session, url: str, data: dict) -> None:
    """A VPC and the spec's subnets in moto; `data` is rewritten to name them."""
    ec2 = session.client("ec2", endpoint_url=url)
    data["aws"]["vpc_id"] = ec2.create_vpc(CidrBlock=VPC_CIDR)["Vpc"]["VpcId"]
    subnets, n = {}, 0
    for kind, names in (data["aws"].get("subnets") or {}).items():
        subnets[kind] = []
        for _ in names:
            subnets[kind].append(ec2.create_subnet(VpcId=data["aws"]["vpc_id"], CidrBlock=f"10.40.{n}.0/24")
                                 ["Subnet"]["SubnetId"])
            n += 1
    data["aws"]["subnets"] = subnets
    for zone in (data.get("zones") or {}).values():
        zone.pop("vpc_ids", None)  # other VPCs do not exist in the sandbox


def _add_drift(spec: Spec, desired: IR, session, url: str, cloudflare: FakeCloudflare, zones: dict[str, str]) -> list[str]:
    """Out-of-band changes a platform team meets: a port opened by hand, an edited and a stray record."""
    notes = []
    groups = desired.of(AwsSecurityGroup)
    if groups:
        ec2 = session.client("ec2", endpoint_url=url)
        found = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [groups[0].group_name]}])
        ec2.authorize_security_group_ingress(GroupId=found["SecurityGroups"][0]["GroupId"], IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        notes.append(f"opened tcp/22 to 0.0.0.0/0 on security group {groups[0].group_name}")
    records = [r for r in desired.of(CfDnsRecord) if not r.gateway and r.type in ("A", "CNAME")]
    if zones:
        zone = sorted(zones)[0]
        cloudflare.add_dns_record(zones[zone], name=f"legacy.{zone}", type="A", content="192.0.2.10", ttl=300)
        notes.append(f"added legacy.{zone} A by hand (not edgec's)")
    if records:
        record = records[0]
        cloudflare.edit_dns_record(zones[record.zone], record.fqdn, record.type,
                                   content="192.0.2.99" if record.type == "A" else "elsewhere.example.net")
        notes.append(f"changed the content of {record.fqdn} {record.type}")
    return notes


def command_problem(command: list[str]) -> str | None:
    """Why `command` cannot be run, said before the sandbox starts rather than as a crash after."""
    if shutil.which(command[0]) is None:
        return f"cannot run {command[0]!r}: no such command on PATH, or it is not executable"
    return None


def run_in_sandbox(sandbox: Sandbox, command: list[str]) -> int:
    """Run `command` with the sandbox's environment; `{spec}` in it stands for the sandbox's spec."""
    command = [part.replace("{spec}", str(sandbox.spec_path)) for part in command]
    return subprocess.run(command, env={**os.environ, **sandbox.env}).returncode
