"""The Cloudflare layer's IR -> Terraform (provider v5): DNS records, WAF rulesets, zone settings,
origin pulls and each zone's client certificate, Origin CA certificates.

v5 writes nested attributes as `name = { ... }` and `rules = [{ ... }]`, never as blocks; the HCL
writer does exactly that for dicts and lists. Public hostnames point at their gateway's NLB, found by
name through the AWS provider's `aws_lb` data source, and a client certificate's key may come from AWS
Secrets Manager, so this layer needs only read access to AWS.
"""

from __future__ import annotations

from edgec.emit.hcl import Block, Expr, quote, render_attributes
from edgec.emit.terraform import Files, data_ref, ref, render_layer, terraform_block
from edgec.ir.model import IR
from edgec.ir.names import slug
from edgec.layers.aws.emit import AWS_PROVIDER, aws_provider
from edgec.layers.aws.model import AwsAcmCertificate, AwsLoadBalancer
from edgec.layers.cloudflare.model import (
    CfDnsRecord,
    CfOriginCaCertificate,
    CfOriginPullCertificate,
    CfOriginPulls,
    CfRuleset,
    CfZoneSetting,
    WafRule,
)

CLOUDFLARE_PROVIDER = {"source": "cloudflare/cloudflare", "version": "5.22.0"}


def zone_id(zone: str) -> Expr:
    return Expr(f'var.zone_ids["{zone}"]')


def cloudflare_files(ir: IR) -> dict[str, str]:
    """terraform/cloudflare/*.tf, and an example of the zone IDs it needs."""
    files = render_layer("terraform/cloudflare", emit_cloudflare(ir), ir.estate.name)
    if files:
        zones = ir.estate.zones_of("cloudflare")
        example = [("zone_ids", {zone: "0123456789abcdef0123456789abcdef" for zone in zones})]
        files["terraform/cloudflare/terraform.tfvars.example"] = render_attributes(
            example, "# Copy to terraform.tfvars and fill in each zone's ID (Cloudflare dashboard > zone > Overview).")
    return files


def emit_cloudflare(ir: IR) -> Files:
    acm = [c for c in ir.of(AwsAcmCertificate) if c.validated_in_cloudflare]
    if not ir.in_layer("cloudflare") and not acm:
        return {}
    records = ir.of(CfDnsRecord)
    gateways = sorted({r.gateway for r in records if r.gateway})
    client_certs = {c.zone: c for c in ir.of(CfOriginPullCertificate)}
    lbs = {lb.gateway: lb for lb in ir.of(AwsLoadBalancer)}
    files: Files = {
        "versions.tf": _versions(ir, bool(gateways) or any(c.key_secret for c in client_certs.values())),
        "variables.tf": _variables(ir, acm),
        "gateways.tf": [Block("data", ("aws_lb", slug(g))).attr("name", lbs[g].lb_name) for g in gateways],
        "dns.tf": [_record(r) for r in records] + _acm_records(acm),
        "rulesets.tf": [_ruleset(r) for r in ir.of(CfRuleset)],
        "zone_settings.tf": ([_setting(r) for r in ir.of(CfZoneSetting)]
                             + [_origin_pulls(r, client_certs) for r in ir.of(CfOriginPulls)]),
        "certificates.tf": ([_origin_ca(r) for r in ir.of(CfOriginCaCertificate)]
                            + _origin_pull_certificates(ir.of(CfOriginPullCertificate))),
        "outputs.tf": _outputs(ir),
    }
    return {name: blocks for name, blocks in files.items() if blocks}


def _versions(ir: IR, needs_aws: bool) -> list[Block]:
    providers = {"cloudflare": CLOUDFLARE_PROVIDER} | ({"aws": AWS_PROVIDER} if needs_aws else {})
    blocks = [terraform_block(providers, ir.estate.backends.get("cloudflare")),
              Block("provider", ("cloudflare",))]  # the API token comes from CLOUDFLARE_API_TOKEN
    if needs_aws:
        assert ir.estate.aws is not None
        blocks.append(aws_provider(ir.estate.aws.region))
    return blocks


def _variables(ir: IR, acm: list[AwsAcmCertificate]) -> list[Block]:
    zones = ir.estate.zones_of("cloudflare")
    listed = ", ".join(f'"{z}"' for z in zones)
    zone_check = (Block("validation")
                  .attr("condition", Expr(f"alltrue([for z in [{listed}] : contains(keys(var.zone_ids), z)])"))
                  .attr("error_message", f"zone_ids needs the Cloudflare zone ID of each of: {', '.join(zones)}."))
    blocks = [Block("variable", ("zone_ids",))
              .attr("description", "Cloudflare zone ID of each zone in the spec, by zone name")
              .attr("type", Expr("map(string)")).block(zone_check)]
    if ir.of(CfOriginCaCertificate):
        blocks.append(Block("variable", ("origin_ca_csrs",))
                      .attr("description", "PEM certificate signing request of each Cloudflare Origin CA "
                                           "certificate, by certificate name. The private key stays with you "
                                           "and never enters Terraform state.")
                      .attr("type", Expr("map(string)")))
    if acm:
        blocks.append(Block("variable", ("acm_validation_records",))
                      .attr("description", "The AWS layer's output of the same name: ACM validation records, "
                                           "by certificate name")
                      .attr("type", Expr("map(list(object({ domain = string, name = string, type = string, value = string })))"))
                      .attr("default", {}))
    return blocks


def _record(r: CfDnsRecord) -> Block:
    content = data_ref("aws_lb", slug(r.gateway)).attr("dns_name") if r.gateway else r.content
    return (Block("resource", ("cloudflare_dns_record", r.name))
            .attr("zone_id", zone_id(r.zone)).attr("name", r.fqdn).attr("type", r.type)
            .attr("content", content).attr("data", dict(r.data) if r.data else None)
            .attr("priority", r.priority).attr("proxied", r.proxied).attr("ttl", r.ttl)
            .attr("comment", r.comment))


def _acm_records(certs: list[AwsAcmCertificate]) -> list[Block]:
    """ACM validation records for names in Cloudflare zones, from the AWS layer's output.

    A name and its wildcard share one validation record, so records are grouped by name."""
    zones = {domain: zone for c in certs for domain, zone, provider in sorted(c.validation_zones)
             if provider == "cloudflare"}
    if not zones:
        return []
    first = "each.value[0]"
    return [
        Block("locals").attr("acm_validation_zones", zones),
        Block("resource", ("cloudflare_dns_record", "acm_validation"))
        .attr("for_each", Expr("{ for r in flatten(values(var.acm_validation_records)) : r.name => r..."
                               " if contains(keys(local.acm_validation_zones), r.domain) }"))
        .attr("zone_id", Expr(f"var.zone_ids[local.acm_validation_zones[{first}.domain]]"))
        .attr("name", Expr(f'trimsuffix({first}.name, ".")')).attr("type", Expr(f"{first}.type"))
        .attr("content", Expr(f'trimsuffix({first}.value, ".")')).attr("proxied", False).attr("ttl", 60)
        .attr("comment", "edgec ACM validation"),
    ]


def _rule(rule: WafRule) -> dict:
    return {"ref": rule.ref, "description": rule.description, "expression": rule.expression,
            "action": rule.action, "action_parameters": rule.action_parameters, "ratelimit": rule.ratelimit,
            "enabled": rule.enabled}


def _ruleset(r: CfRuleset) -> Block:
    return (Block("resource", ("cloudflare_ruleset", r.name))
            .attr("zone_id", zone_id(r.zone)).attr("name", f"{r.phase} entry point ruleset")
            .attr("description", r.description).attr("kind", "zone").attr("phase", r.phase)
            .attr("rules", [_rule(rule) for rule in r.rules]))


def _setting(r: CfZoneSetting) -> Block:
    return (Block("resource", ("cloudflare_zone_setting", r.name))
            .attr("zone_id", zone_id(r.zone)).attr("setting_id", r.setting_id).attr("value", r.value))


def _origin_pulls(r: CfOriginPulls, client_certs: dict[str, CfOriginPullCertificate]) -> Block:
    cert = client_certs.get(r.zone)
    # On before the zone's own certificate is uploaded, the zone would present the shared one, which
    # the gateways refuse.
    after = [Expr(f"{cert.resource_type}.{cert.name}")] if cert else None
    return (Block("resource", ("cloudflare_authenticated_origin_pulls_settings", r.name))
            .attr("zone_id", zone_id(r.zone)).attr("enabled", r.enabled).attr("depends_on", after))


def _origin_pull_certificates(certs: list[CfOriginPullCertificate]) -> list[Block]:
    """Each zone's client certificate; the key is read by Terraform from a file or AWS Secrets Manager,
    never written here (it does reach Terraform's state, as the provider stores it)."""
    secrets = {c.key_secret: f"origin_pull_{slug(c.certificate)}" for c in certs if c.key_secret}
    blocks = [Block("data", ("aws_secretsmanager_secret_version", name)).attr("secret_id", secret)
              for secret, name in sorted(secrets.items(), key=lambda item: item[1])]
    for c in certs:
        key = (Expr(f"data.aws_secretsmanager_secret_version.{secrets[c.key_secret]}.secret_string")
               if c.key_secret else Expr(f"file({quote(c.key_file or '')})"))
        blocks.append(Block("resource", (c.resource_type, c.name))
                      .attr("zone_id", zone_id(c.zone)).attr("certificate", c.pem).attr("private_key", key)
                      # the new certificate is up before the old one goes: a zone without one presents
                      # the shared certificate, which the gateways refuse
                      .block(Block("lifecycle").attr("create_before_destroy", True)))
    return blocks


def _origin_ca(r: CfOriginCaCertificate) -> Block:
    return (Block("resource", ("cloudflare_origin_ca_certificate", r.name))
            .attr("csr", Expr(f'var.origin_ca_csrs["{r.certificate}"]'))
            .attr("hostnames", list(r.hostnames)).attr("request_type", r.request_type)
            .attr("requested_validity", r.validity_days)
            # a new certificate before the old one is revoked: gateways may still serve the old one
            .block(Block("lifecycle").attr("create_before_destroy", True)))


def _outputs(ir: IR) -> list[Block]:
    certs = ir.of(CfOriginCaCertificate)
    if not certs:
        return []
    value = {c.certificate: ref("cloudflare_origin_ca_certificate", c.name, "certificate") for c in certs}
    return [Block("output", ("origin_ca_certificates",))
            .attr("description", "PEM of each Cloudflare Origin CA certificate, for the gateways' cert_file")
            .attr("value", value)]
