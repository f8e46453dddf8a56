"""Names that cannot collide: two distinct spec names never become one Terraform label, and a clash
that naming cannot avoid (two AWS names) is a located error on both elements, never a crash."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import run_cli, write
from edgec.ir.names import slug

TERRAFORM_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
LABEL = st.from_regex(r"\A(_?[a-z0-9]([a-z0-9_-]{0,6}[a-z0-9])?|star|\*)\Z")
NAMES = st.lists(LABEL, min_size=2, max_size=4).map(".".join)


@settings(max_examples=500)
@given(NAMES, NAMES, st.sampled_from(["", "txt", "cname"]))
def test_distinct_names_get_distinct_labels(a, b, suffix):
    assert TERRAFORM_LABEL.match(slug(a, suffix)) and TERRAFORM_LABEL.match(slug(b, suffix))
    if a != b:
        assert slug(a, suffix) != slug(b, suffix), (a, b)


def test_common_names_stay_readable():
    assert slug("api.acme.com", "cname") == "api_acme_com_cname"
    assert slug("*.acme.com") == "star_acme_com"
    assert slug("_sip._tcp.acme.com", "srv") == "_sip__tcp_acme_com_srv"
    assert slug("public", "https", "10.0.0.0/8") == "public_https_10_0_0_0_8"
    assert slug("host", "star.shops.example.com").startswith("host_star_shops_example_com_")  # not '*.shops...'
    assert slug("a_b.acme.com", "txt") != slug("a.b.acme.com", "txt")


SHOPS = """
apiVersion: edgec/v1
name: shops
aws: {region: eu-west-1, vpc_id: vpc-0abc, subnets: {public: [subnet-a1]}}
zones:
  shops.example.com: {provider: cloudflare}
certificates:
  origin: {source: cloudflare-origin-ca, domains: [shops.example.com, "*.shops.example.com"]}
gateways:
  public: {exposure: public, tls: {certificate: origin}}
services:
  web: {endpoints: ["web.default.svc:8080"]}
ingresses:
  - {host: "*.shops.example.com", gateway: public, routes: [{service: web}]}
  - {host: star.shops.example.com, gateway: public, routes: [{service: web}]}
dns:
  shops.example.com:
    - {name: a_b, type: TXT, content: one}
    - {name: a.b, type: TXT, content: two}
"""


def test_wildcard_and_star_hosts_and_underscored_records_compile_to_distinct_addresses(tmp_path):
    result = run_cli("compile", str(write(tmp_path, SHOPS)), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    dns = (tmp_path / "out" / "terraform" / "cloudflare" / "dns.tf").read_text()
    labels = re.findall(r'resource "cloudflare_dns_record" "([^"]+)"', dns)
    assert len(labels) == len(set(labels)) == 4, labels
    for name in ('"*.shops.example.com"', '"star.shops.example.com"', '"a_b.shops.example.com"',
                 '"a.b.shops.example.com"'):
        assert f"name    = {name}" in dns


GATEWAYS = """
apiVersion: edgec/v1
name: shops
aws: {region: eu-west-1, vpc_id: vpc-0abc, subnets: {private: [subnet-a1]}}
zones:
  corp.internal: {provider: route53, private: true}
certificates:
  corp: {source: files, domains: ["*.corp.internal"], cert_file: /c.pem, key_file: /k.pem}
gateways:
  a_b: {exposure: private, allow: [10.0.0.0/8], tls: {certificate: corp}}
  a-b: {exposure: private, allow: [10.0.0.0/8], tls: {certificate: corp}}
services:
  web: {endpoints: ["web.default.svc:8080"]}
ingresses:
  - {host: x.corp.internal, gateway: a_b, routes: [{service: web}]}
  - {host: y.corp.internal, gateway: a-b, routes: [{service: web}]}
"""


def test_two_gateways_with_one_aws_name_are_a_located_error_on_both(tmp_path):
    path = write(tmp_path, GATEWAYS)
    for command in ("validate", "compile"):
        result = run_cli(command, str(path))
        assert result.exit_code == 1, result.output
        errors = [line for line in result.output.splitlines() if ": error: " in line]
        assert [e.split(": error: ")[0] for e in errors] == [f"{path}:9:8", f"{path}:10:8"]
        assert all("the same load balancer (shops-a-b)" in e and "rename one of them" in e for e in errors)


def test_aws_names_keep_the_rules_of_aws():
    """Load balancer and target group names: at most 32 characters, letters, digits and '-' only, not
    ending with '-' (a name cannot begin with 'internal-' either: validation says so, test_checks.py)."""
    from edgec.ir.names import aws_name

    assert aws_name("acme-prod", "public") == "acme-prod-public"
    assert aws_name("acme_prod", "edge_") == "acme-prod-edge"
    long = aws_name("a-very-long-estate-name", "and-a-long-gateway-name", "https")
    assert len(long) == 32 and re.fullmatch(r"[a-z0-9-]+[a-z0-9]", long)
    assert long != aws_name("a-very-long-estate-name", "and-a-long-gateway-name", "http")


AWS_NAME = re.compile(r"(?!.*--)(?!-)(?!.*-$)[A-Za-z0-9-]{1,32}")  # the target group rule, strictest of all


@given(st.lists(st.from_regex(r"[a-z][a-z0-9_-]{0,62}", fullmatch=True), min_size=2, max_size=3))
def test_every_aws_name_of_spec_names_is_one_aws_accepts(parts):
    """Any estate, gateway and purpose names the spec accepts give a name AWS accepts: '_' and '-' at the
    ends of a part never make a double or a trailing hyphen (moto refused 'edge-gw--https')."""
    from edgec.ir.names import aws_name

    assert AWS_NAME.fullmatch(aws_name(*parts))
