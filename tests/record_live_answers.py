"""Record the API answers the live-to-IR golden tests replay (tests/testdata/live-to-ir/).

    .venv/bin/python tests/record_live_answers.py        # then: make golden, and review the diff

- envoy: a real Envoy runs the compiled spec-to-ir/envoy-routes case; its /config_dump is kept with
  the staging folder and the free ports it ran on put back as the spec has them;
- aws: moto in server mode holds the route53-private case as applied, plus drift (a port opened by
  hand, a record made by hand); the AWS reader's requests go through a recorder;
- cloudflare: the fake Cloudflare API holds the cloudflare-public case as applied, plus drift (an
  edited record, a record made by hand, a deleted one, a client certificate uploaded by hand); the
  Cloudflare reader's requests are recorded.
Answers hold no credential: requests are kept by method, path and body digest only.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys
import tempfile
import urllib.request
from urllib.parse import urlsplit

HERE = pathlib.Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import yaml  # noqa: E402

from edgec.diff.plan import PlanOptions  # noqa: E402
from edgec.emit import yaml_text  # noqa: E402
from edgec.emit.compile import compile_ir  # noqa: E402
from edgec.layers import layer_named  # noqa: E402
from edgec.layers.base import ReadContext  # noqa: E402
from edgec.read.budget import ApiCalls  # noqa: E402
from edgec.spec.loader import load_spec  # noqa: E402
from edgec.spec.validate import validate  # noqa: E402
from replay import ApiReplay  # noqa: E402

CASES = HERE / "testdata" / "spec-to-ir"
OUT = HERE / "testdata" / "live-to-ir"
TOKEN = "record-token"


def record_envoy(tmp: pathlib.Path) -> None:
    from envoy_support import relocate, running_envoy
    from test_envoy_behaviour import free_port

    validation = validate(str(CASES / "envoy-routes.in.yaml"))
    compile_ir(validation.ir, str(tmp / "out"))
    root = tmp / "gateway"
    bootstrap = relocate(tmp / "out" / "envoy", root, validation.spec)["edge"]
    config = yaml.safe_load(bootstrap.read_text())
    ports = {}
    for address in [config["admin"]["address"]] + [x["address"] for x in config["static_resources"]["listeners"]]:
        spec_port = address["socket_address"]["port_value"]
        ports[spec_port] = address["socket_address"]["port_value"] = free_port()
    bootstrap.write_text(yaml_text.dump(config))
    with running_envoy(bootstrap, ports[8081], tmp / "envoy.log"):
        with urllib.request.urlopen(f"http://127.0.0.1:{ports[9901]}/config_dump", timeout=10) as response:
            dump = json.load(response)
    text = json.dumps(dump, indent=1, sort_keys=True).replace(str(root), "")
    for spec_port, port in ports.items():
        text = text.replace(f'"port_value": {port}', f'"port_value": {spec_port}')
    text = text.replace('"address": "127.0.0.1"', '"address": "0.0.0.0"')
    _write(OUT / "envoy" / "envoy-routes.in.json", text + "\n")


def record_aws(tmp: pathlib.Path) -> None:
    import boto3

    from edgec.sandbox.run import apply_to_moto, start_moto

    server, url = start_moto()
    try:
        data = load_spec(str(CASES / "route53-private.in.yaml")).data
        os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                           "AWS_DEFAULT_REGION": data["aws"]["region"]})
        session = boto3.Session(region_name=data["aws"]["region"])
        spec_path = OUT / "aws" / "route53-private.spec.yaml"
        spec_path.parent.mkdir(parents=True, exist_ok=True)
        applied = apply_to_moto(session, url, data, spec_path)
        ec2, route53 = session.client("ec2", endpoint_url=url), session.client("route53", endpoint_url=url)
        group = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["corp-partners"]}])
        ec2.authorize_security_group_ingress(GroupId=group["SecurityGroups"][0]["GroupId"], IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        zone = next(z["Id"] for z in route53.list_hosted_zones()["HostedZones"] if z["Name"] == "corp.internal.")
        route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{
            "Action": "CREATE", "ResourceRecordSet": {"Name": "legacy.corp.internal", "Type": "A", "TTL": 60,
                                                      "ResourceRecords": [{"Value": "10.9.9.9"}]}}]})
        with ApiReplay(upstream=url) as recorder:
            os.environ["AWS_ENDPOINT_URL"] = recorder.url
            _read("aws", applied.desired)
            recorder.save(OUT / "aws" / "route53-private.in.json")
    finally:
        server.stop()


def record_cloudflare() -> None:
    from edgec.sandbox.fake_cloudflare import FakeCloudflare
    from edgec.sandbox.seed import seed_cloudflare

    validation = validate(str(CASES / "cloudflare-public.in.yaml"))
    nlb = {"public": "shop-public-0123456789.elb.eu-west-1.amazonaws.com"}
    with FakeCloudflare(token=TOKEN) as fake:
        zones = seed_cloudflare(fake, validation.spec, validation.ir, nlb)
        zone = zones["shop.example"]
        fake.edit_dns_record(zone, "sip.shop.example", "A", content="192.0.2.99")
        fake.add_dns_record(zone, name="legacy.shop.example", type="A", content="192.0.2.10", ttl=300)
        fake.delete_dns_record(zone, "a.b.shop.example", "TXT")
        fake.add_client_certificate(zone, (HERE / "testdata" / "origin-pull-old.pem").read_text())  # by hand
        parts = urlsplit(fake.base_url)
        with ApiReplay(upstream=f"{parts.scheme}://{parts.netloc}") as recorder:
            os.environ.update({"CLOUDFLARE_API_TOKEN": TOKEN, "CLOUDFLARE_BASE_URL": recorder.url + parts.path})
            _read("cloudflare", validation.ir)
            recorder.save(OUT / "cloudflare" / "cloudflare-public.in.json")


def _read(layer: str, ir) -> None:
    layer_named(layer).read(ir, ReadContext(PlanOptions(), ApiCalls()))


def _write(path: pathlib.Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        record_envoy(pathlib.Path(tmp))
        record_aws(pathlib.Path(tmp))
    record_cloudflare()
    print(f"recorded into {OUT}; now run `make golden` and review the diff")
