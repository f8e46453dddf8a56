"""The AWS layer's IR -> Terraform: NLBs, target groups, listeners, security groups, Route 53 and ACM."""

from __future__ import annotations

from edgec.emit.hcl import Block, Expr
from edgec.emit.terraform import Files, data_ref, ref, terraform_block
from edgec.ir.model import IR, Estate
from edgec.ir.names import slug
from edgec.ir.ownership import marker
from edgec.layers.aws.model import (
    AwsAcmCertificate,
    AwsListener,
    AwsLoadBalancer,
    AwsRoute53Record,
    AwsRoute53Zone,
    AwsSecurityGroup,
    AwsSecurityGroupRule,
    AwsTargetGroup,
)
from edgec.layers.aws.txt import txt_strings

AWS_PROVIDER = {"source": "hashicorp/aws", "version": "5.100.0"}
# Route 53 allows 5 requests/s per account and answers more with `Throttling`: in adaptive mode the SDK
# also slows itself down when throttled (a client-side rate limit), and retries up to 25 times.
AWS_RETRIES = {"retry_mode": "adaptive", "max_retries": 25}


def aws_provider(region: str) -> Block:
    block = Block("provider", ("aws",)).attr("region", region)
    for name, value in AWS_RETRIES.items():
        block.attr(name, value)
    return block
VPC = data_ref("aws_vpc", "gateways")
ACM_VALIDATION_TTL = 60
DEREGISTRATION_DELAY = 60  # seconds; AWS's default of 300 makes every rollout slow


OWNERSHIP_TAG_KEYS = ("managed-by", "edgec:spec")  # the ownership tags (the reader checks both)


def ownership_tags(estate: Estate) -> dict[str, str]:
    """Tags on every AWS resource (through the provider's default_tags): who owns it."""
    tags = dict(estate.aws.tags) if estate.aws else {}
    return {**tags, "managed-by": "edgec", "edgec:spec": estate.name}


def emit_aws(ir: IR) -> Files:
    aws = ir.estate.aws
    if aws is None or not ir.in_layer("aws"):
        return {}
    files: Files = {"versions.tf": _versions(ir.estate, bool(ir.of(AwsSecurityGroupRule)))}
    files["security_groups.tf"] = ([_security_group(aws.vpc_id, r) for r in ir.of(AwsSecurityGroup)]
                                   + [_rule(r) for r in ir.of(AwsSecurityGroupRule)])
    files["load_balancers.tf"] = ([_load_balancer(r) for r in ir.of(AwsLoadBalancer)]
                                  + [_target_group(aws.vpc_id, r) for r in ir.of(AwsTargetGroup)]
                                  + [b for r in ir.of(AwsListener) for b in _listener(r)])
    files["route53.tf"] = ([_zone(ir.estate, r) for r in ir.of(AwsRoute53Zone)]
                           + [_record(r) for r in ir.of(AwsRoute53Record)])
    files["acm.tf"] = [b for r in ir.of(AwsAcmCertificate) for b in _acm(r)]
    files["outputs.tf"] = _outputs(ir)
    return {name: blocks for name, blocks in files.items() if blocks}


def _versions(estate: Estate, needs_vpc: bool) -> list[Block]:
    assert estate.aws is not None
    tags = Block("default_tags").attr("tags", ownership_tags(estate))
    blocks = [terraform_block({"aws": AWS_PROVIDER}, estate.backends.get("aws")),
              aws_provider(estate.aws.region).block(tags)]
    if needs_vpc:  # egress rules reach the targets anywhere in the VPC
        blocks.append(Block("data", ("aws_vpc", "gateways")).attr("id", estate.aws.vpc_id))
    return blocks


def _security_group(vpc_id: str, r: AwsSecurityGroup) -> Block:
    return (Block("resource", ("aws_security_group", r.name))
            .attr("name", r.group_name).attr("description", r.description).attr("vpc_id", vpc_id)
            .attr("tags", {"Name": r.group_name}))


def _rule(r: AwsSecurityGroupRule) -> Block:
    block = (Block("resource", tuple(r.address.split(".", 1)))
             .attr("security_group_id", ref("aws_security_group", slug(r.gateway), "id"))
             .attr("description", r.description)
             .attr("ip_protocol", r.protocol).attr("from_port", r.port).attr("to_port", r.port))
    if r.cidr == "vpc":
        return block.attr("cidr_ipv4", VPC.attr("cidr_block"))
    return block.attr("cidr_ipv6" if ":" in r.cidr else "cidr_ipv4", r.cidr)


def _load_balancer(r: AwsLoadBalancer) -> Block:
    return (Block("resource", ("aws_lb", r.name))
            .attr("name", r.lb_name).attr("load_balancer_type", "network").attr("internal", r.internal)
            .attr("subnets", list(r.subnets))
            # Security groups can only be attached when an NLB is created: attach them always.
            .attr("security_groups", [ref("aws_security_group", slug(r.gateway), "id")])
            .attr("enable_cross_zone_load_balancing", r.cross_zone)
            .attr("enable_deletion_protection", r.deletion_protection)
            .attr("tags", {"Name": r.lb_name}))


def _target_group(vpc_id: str, r: AwsTargetGroup) -> Block:
    health = (Block("health_check").attr("enabled", True).attr("protocol", "HTTP")
              .attr("port", str(r.health_port)).attr("path", r.health_path)
              .attr("healthy_threshold", 3).attr("unhealthy_threshold", 3).attr("interval", 10))
    return (Block("resource", ("aws_lb_target_group", r.name))
            .attr("name", r.group_name).attr("port", r.port).attr("protocol", r.protocol)
            .attr("target_type", "ip").attr("vpc_id", vpc_id)
            # Envoy sees the real peer (Cloudflare's edge, or the private client), not the NLB's address.
            .attr("preserve_client_ip", "true")
            # drain a deregistered Envoy for 60s (start Envoy with --drain-time-s 45 to close first)
            .attr("deregistration_delay", str(DEREGISTRATION_DELAY))
            .attr("tags", {"Name": r.group_name}).block(health))


def _listener(r: AwsListener) -> list[Block]:
    block = (Block("resource", ("aws_lb_listener", r.name))
             .attr("load_balancer_arn", ref("aws_lb", slug(r.gateway), "arn"))
             .attr("port", r.port).attr("protocol", r.protocol))
    if r.certificate:  # the validated certificate, so the listener waits for validation
        block.attr("certificate_arn", ref("aws_acm_certificate_validation", r.certificate, "certificate_arn"))
        block.attr("ssl_policy", r.ssl_policy).attr("alpn_policy", r.alpn_policy)
    action = (Block("default_action").attr("type", "forward")
              .attr("target_group_arn", ref("aws_lb_target_group", r.target_group, "arn")))
    extra = [Block("resource", ("aws_lb_listener_certificate", f"{r.name}_{cert}"))
             .attr("listener_arn", ref("aws_lb_listener", r.name, "arn"))
             .attr("certificate_arn", ref("aws_acm_certificate_validation", cert, "certificate_arn"))
             for cert in r.sni_certificates]
    return [block.block(action), *extra]


def _zone(estate: Estate, r: AwsRoute53Zone) -> Block:
    block = (Block("resource", ("aws_route53_zone", r.name))
             .attr("name", r.zone).attr("comment", marker(estate.name)))
    for vpc in r.vpc_ids:
        block.block(Block("vpc").attr("vpc_id", vpc))
    return block


def _record(r: AwsRoute53Record) -> Block:
    block = (Block("resource", ("aws_route53_record", r.name))
             .attr("zone_id", ref("aws_route53_zone", slug(r.zone), "zone_id"))
             .attr("name", r.fqdn).attr("type", r.type))
    if r.alias_gateway:
        lb = slug(r.alias_gateway)
        return block.block(Block("alias").attr("name", ref("aws_lb", lb, "dns_name"))
                           .attr("zone_id", ref("aws_lb", lb, "zone_id")).attr("evaluate_target_health", True))
    # The provider wraps each TXT value in quotes itself: write it without the outer quotes of Route 53's
    # form (or Route 53 stores them twice), and strings of a long value joined by "" (as its docs say).
    records = ['""'.join(txt_strings(value)) for value in r.records] if r.type == "TXT" else list(r.records)
    return block.attr("ttl", r.ttl).attr("records", records)


def _acm(r: AwsAcmCertificate) -> list[Block]:
    """The certificate; its DNS validation records where the zone is in Route 53; the validation wait."""
    cert = (Block("resource", ("aws_acm_certificate", r.name))
            .attr("domain_name", r.domains[0]).attr("subject_alternative_names", list(r.domains[1:]) or None)
            .attr("validation_method", "DNS").attr("tags", {"Name": r.certificate})
            .block(Block("lifecycle").attr("create_before_destroy", True)))
    route53 = {domain: zone for domain, zone, provider in r.validation_zones if provider == "route53"}
    blocks = [cert]
    validation = (Block("resource", ("aws_acm_certificate_validation", r.name))
                  .attr("certificate_arn", ref("aws_acm_certificate", r.name, "arn")))
    if route53:
        zone_ids = {d: ref("aws_route53_zone", slug(z), "zone_id") for d, z in sorted(route53.items())}
        domains = ", ".join(f'"{d}"' for d in sorted(route53))
        records = (Block("resource", ("aws_route53_record", f"{r.name}_validation"))
                   .attr("for_each", Expr(
                       f"{{ for o in aws_acm_certificate.{r.name}.domain_validation_options : o.domain_name => o"
                       f" if contains([{domains}], o.domain_name) }}"))
                   .attr("zone_id", Expr(f"local.{r.name}_validation_zones[each.key]"))
                   .attr("name", Expr("each.value.resource_record_name"))
                   .attr("type", Expr("each.value.resource_record_type"))
                   .attr("records", [Expr("each.value.resource_record_value")])
                   .attr("ttl", ACM_VALIDATION_TTL).attr("allow_overwrite", True))
        blocks += [Block("locals").attr(f"{r.name}_validation_zones", zone_ids), records]
    if len(route53) == len(r.domains):
        validation.attr("validation_record_fqdns", Expr(f"[for record in aws_route53_record.{r.name}_validation"
                                                        " : record.fqdn]"))
    return blocks + [validation]


def _outputs(ir: IR) -> list[Block]:
    blocks = []
    for lb in ir.of(AwsLoadBalancer):
        blocks.append(Block("output", (f"{lb.name}_nlb_dns_name",))
                      .attr("description", f"DNS name of gateway {lb.gateway}'s NLB")
                      .attr("value", ref("aws_lb", lb.name, "dns_name")))
        blocks.append(Block("output", (f"{lb.name}_nlb_zone_id",))
                      .attr("description", f"Route 53 zone ID of gateway {lb.gateway}'s NLB (for alias records)")
                      .attr("value", ref("aws_lb", lb.name, "zone_id")))
    for zone in ir.of(AwsRoute53Zone):
        blocks.append(Block("output", (f"{zone.name}_zone_id",))
                      .attr("description", f"Route 53 zone ID of {zone.zone}")
                      .attr("value", ref("aws_route53_zone", zone.name, "zone_id")))
    certs = ir.of(AwsAcmCertificate)
    if certs:
        records = {c.certificate: Expr(
            f"[for o in aws_acm_certificate.{c.name}.domain_validation_options : "
            "{ domain = o.domain_name, name = o.resource_record_name, type = o.resource_record_type,"
            " value = o.resource_record_value }]")
            for c in certs}
        blocks.append(Block("output", ("acm_validation_records",))
                      .attr("description", "DNS records that prove control of each ACM certificate's names; "
                                           "the Cloudflare layer creates those in Cloudflare zones")
                      .attr("value", records))
    return blocks
