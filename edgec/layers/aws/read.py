"""Read the live AWS side of an estate with boto3 into the AWS layer's IR: NLBs, listeners, target
groups, security groups and their rules, Route 53 zones and records, ACM certificates.

List calls at their largest page sizes (ELBv2 400, DescribeTags 20 ARNs, security group rules 1,000,
Route 53 300); boto3's standard retry mode handles throttling. Every HTTP request is counted. Resources
are named as the builder names them (gateway from `<spec>-<gateway>[-purpose]`); where the builder's
name needs what only the spec knows (a record set's or rule's purpose), the desired resource that is
the same object lends its address (`adopt_addresses`). IDs, ARNs and DNS names go in the facts: each
resource's `id` is the one Terraform's state holds (ARNs for load balancers, target groups, listeners
and certificates).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import boto3
import botocore.config
import botocore.exceptions

from edgec.ir.model import IR, Estate, Resource
from edgec.ir.names import AWS_NAME_LIMIT, SECURITY_GROUP_NAME_LIMIT, aws_name, slug
from edgec.ir.ownership import carries_marker
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
from edgec.layers.aws.txt import canonical_txt
from edgec.layers.base import LiveLayer, adopt_addresses
from edgec.read.budget import ApiCalls, ReadError

ELB_PAGE_SIZE = 400
TAGS_PER_CALL = 20
RULES_PAGE_SIZE = 1000
ROUTE53_PAGE_SIZE = "300"
TARGET_GROUP_PURPOSES = ("https", "http")  # edgec's target groups: <spec>-<gateway>-<purpose>


@dataclass
class _Reading:
    estate: Estate
    live: LiveLayer = field(default_factory=LiveLayer)
    vpc_cidr: str | None = None

    def add(self, resource: Resource, owned: bool = False, **facts) -> None:
        self.live.resources.append(resource)
        if facts:
            self.live.facts[resource.address] = facts
        if owned:
            self.live.owned.add(resource.address)


def aws_session(calls: ApiCalls, region: str) -> boto3.Session:
    """A session from the standard credential chain; AWS_ENDPOINT_URL points it elsewhere (a sandbox)."""
    session = boto3.Session(region_name=region)
    session.events.register("before-send", lambda **_: calls.count("aws"))
    return session


def _client(session: boto3.Session, service: str):
    config = botocore.config.Config(retries={"mode": "standard", "max_attempts": 5})
    return session.client(service, config=config, endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)


def _pages(what: str, client, operation: str, key: str, **kwargs) -> list:
    try:
        return [item for page in client.get_paginator(operation).paginate(**kwargs) for item in page[key]]
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        raise ReadError(what, str(exc)) from None


def read_aws(ir: IR, session: boto3.Session, everything: bool = False) -> LiveLayer:
    """The spec's part of the estate; with `everything` (for `edgec import`), every Route 53 zone the
    account has (private ones only if associated with the VPC) and every ACM certificate."""
    assert ir.estate.aws is not None
    reading = _Reading(ir.estate)
    ec2, elb, route53 = (_client(session, s) for s in ("ec2", "elbv2", "route53"))
    vpc_id = ir.estate.aws.vpc_id
    vpcs = _pages(f"VPC {vpc_id}", ec2, "describe_vpcs", "Vpcs", VpcIds=[vpc_id])
    reading.vpc_cidr = vpcs[0]["CidrBlock"] if vpcs else None
    gateways = sorted({r.gateway for r in ir.of(AwsLoadBalancer)}, key=len, reverse=True)
    _read_security_groups(reading, ec2, gateways)
    _read_load_balancers(reading, elb, gateways)
    if everything:
        _read_listener_certificates(reading, elb)
    _read_route53(reading, route53, everything)
    if ir.of(AwsAcmCertificate) or everything:
        _read_certificates(reading, _client(session, "acm"))
    adopt_addresses(ir.in_layer("aws"), reading.live)
    _rules_belong_to_their_group(ir, reading.live)
    reading.live.claimed = claimed_addresses(reading.live)
    return reading.live


def claimed_addresses(live: LiveLayer) -> set[str]:
    """What carries edgec's marker (security groups, NLBs, Route 53 zones), and what belongs to it: a
    group's rules, an NLB's listeners and target groups (by gateway), a zone's record sets."""
    marked = [r for r in live.resources if r.address in live.owned
              and isinstance(r, (AwsSecurityGroup, AwsLoadBalancer, AwsRoute53Zone))]
    groups = {r.gateway for r in marked if isinstance(r, AwsSecurityGroup)}
    balancers = {r.gateway for r in marked if isinstance(r, AwsLoadBalancer)}
    zones = {r.zone for r in marked if isinstance(r, AwsRoute53Zone)}

    def belongs(r: Resource) -> bool:
        if isinstance(r, AwsSecurityGroupRule):
            return r.gateway in groups
        if isinstance(r, (AwsListener, AwsTargetGroup)):
            return r.gateway in balancers
        return isinstance(r, AwsRoute53Record) and r.zone in zones

    return {r.address for r in marked} | {r.address for r in live.resources if belongs(r)}


def _rules_belong_to_their_group(ir: IR, live: LiveLayer) -> None:
    """A rule is edgec's when its security group is: tagged as edgec's, or the spec's own."""
    groups = {r.gateway for r in ir.of(AwsSecurityGroup)} | {
        r.gateway for r in live.resources if isinstance(r, AwsSecurityGroup) and r.address in live.owned}
    live.owned |= {r.address for r in live.resources if isinstance(r, AwsSecurityGroupRule) and r.gateway in groups}


def _read_certificates(reading: _Reading, acm) -> None:
    """ACM certificates, identified by the names they cover (the list call carries them)."""
    for cert in _pages("ACM certificates", acm, "list_certificates", "CertificateSummaryList"):
        domains = tuple(sorted({cert["DomainName"], *cert.get("SubjectAlternativeNameSummaries", [])}))
        reading.add(AwsAcmCertificate(slug(domains[0]), (), domains[0], domains), arn=cert["CertificateArn"],
                    id=cert["CertificateArn"])


def _tag(tags: list[dict], key: str) -> str | None:
    return next((t["Value"] for t in tags or [] if t["Key"] == key), None)


def _is_owned(estate: Estate, tags: list[dict]) -> bool:
    return _tag(tags, "managed-by") == "edgec" and _tag(tags, "edgec:spec") == estate.name


def _gateway_of(name: str, estate: Estate, gateways: list[str], limit: int = AWS_NAME_LIMIT) -> str:
    """The spec's gateway whose AWS name (`aws_name`: 'acme-prod-public' for gateway public, with '_' as
    '-') `name` is or starts; another one's is what follows '<spec>-'."""
    for gateway in gateways:
        own = aws_name(estate.name, gateway, limit=limit)
        if name == own or name.startswith(own + "-"):
            return gateway
    return name.removeprefix(f"{estate.name}-")


def _purpose_of(group_name: str, estate: Estate, gateway: str) -> str:
    """'https' or 'http' for a target group edgec named; else the last part of its name."""
    return next((purpose for purpose in TARGET_GROUP_PURPOSES if aws_name(estate.name, gateway, purpose) == group_name),
                group_name.rsplit("-", 1)[-1])


def _read_security_groups(reading: _Reading, ec2, gateways: list[str]) -> None:
    assert reading.estate.aws is not None
    groups = _pages("security groups", ec2, "describe_security_groups", "SecurityGroups",
                    Filters=[{"Name": "vpc-id", "Values": [reading.estate.aws.vpc_id]}],
                    PaginationConfig={"PageSize": 1000})
    by_id = {}
    for group in groups:
        if group["GroupName"] == "default":
            continue
        gateway = _gateway_of(group["GroupName"], reading.estate, gateways, SECURITY_GROUP_NAME_LIMIT)
        by_id[group["GroupId"]] = gateway
        reading.add(AwsSecurityGroup(slug(gateway), (), gateway, group["GroupName"], group.get("Description", "")),
                    owned=_is_owned(reading.estate, group.get("Tags")), id=group["GroupId"])
    if not by_id:
        return
    rules = _pages("security group rules", ec2, "describe_security_group_rules", "SecurityGroupRules",
                   Filters=[{"Name": "group-id", "Values": sorted(by_id)}],
                   PaginationConfig={"PageSize": RULES_PAGE_SIZE})
    for rule in rules:
        gateway = by_id[rule["GroupId"]]
        cidr = rule.get("CidrIpv4") or rule.get("CidrIpv6") or rule.get("ReferencedGroupInfo", {}).get("GroupId", "?")
        if cidr == reading.vpc_cidr and rule["IsEgress"]:
            cidr = "vpc"
        direction = "egress" if rule["IsEgress"] else "ingress"
        port = rule.get("FromPort", -1)
        reading.add(AwsSecurityGroupRule(slug(gateway, direction, cidr, str(port)), (), gateway, direction, cidr,
                                         port, rule.get("IpProtocol", "-1"), rule.get("Description", "")),
                    id=rule.get("SecurityGroupRuleId"))


def _read_load_balancers(reading: _Reading, elb, gateways: list[str]) -> None:
    assert reading.estate.aws is not None
    wanted_vpc = reading.estate.aws.vpc_id
    lbs = [lb for lb in _pages("load balancers", elb, "describe_load_balancers", "LoadBalancers",
                               PaginationConfig={"PageSize": ELB_PAGE_SIZE})
           if lb.get("VpcId") == wanted_vpc and lb.get("Type") == "network"]
    tags = _tags(elb, [lb["LoadBalancerArn"] for lb in lbs])
    for lb in lbs:
        gateway = _gateway_of(lb["LoadBalancerName"], reading.estate, gateways)
        subnets = tuple(sorted(az["SubnetId"] for az in lb.get("AvailabilityZones", [])))
        # cross-zone and deletion protection need one more call per NLB; they are not read (nor compared)
        reading.add(AwsLoadBalancer(slug(gateway), (), gateway, lb["LoadBalancerName"],
                                    lb.get("Scheme") == "internal", subnets, cross_zone=None, deletion_protection=None),
                    owned=_is_owned(reading.estate, tags.get(lb["LoadBalancerArn"])),
                    arn=lb["LoadBalancerArn"], id=lb["LoadBalancerArn"], dns_name=lb["DNSName"],
                    tags=tags.get(lb["LoadBalancerArn"]) or [])
        listeners = _pages(f"listeners of {lb['LoadBalancerName']}", elb, "describe_listeners", "Listeners",
                           LoadBalancerArn=lb["LoadBalancerArn"])
        groups = {g["TargetGroupArn"]: g for g in _pages(
            f"target groups of {lb['LoadBalancerName']}", elb, "describe_target_groups", "TargetGroups",
            LoadBalancerArn=lb["LoadBalancerArn"])}
        for group in groups.values():
            purpose = _purpose_of(group["TargetGroupName"], reading.estate, gateway)
            reading.add(AwsTargetGroup(slug(gateway, purpose), (), gateway, group["TargetGroupName"],
                                       group["Port"], group["Protocol"], int(group.get("HealthCheckPort", 0)),
                                       group.get("HealthCheckPath", "")),
                        arn=group["TargetGroupArn"], id=group["TargetGroupArn"])
        for listener in listeners:
            target = groups.get(listener["DefaultActions"][0].get("TargetGroupArn", ""), {})
            purpose = _purpose_of(target.get("TargetGroupName", "?"), reading.estate, gateway)
            reading.add(AwsListener(slug(gateway, purpose), (), gateway, listener["Port"], listener["Protocol"],
                                    slug(gateway, purpose), ssl_policy=listener.get("SslPolicy")),
                        arn=listener["ListenerArn"], id=listener["ListenerArn"], certificate_arns=[
                            c["CertificateArn"] for c in listener.get("Certificates", []) if "CertificateArn" in c])


def _read_listener_certificates(reading: _Reading, elb) -> None:
    """The certificates a TLS listener picks by SNI besides its default (one call per TLS listener, made
    for `edgec import` only: plans do not compare them)."""
    for listener in [r for r in reading.live.resources if isinstance(r, AwsListener) and r.protocol == "TLS"]:
        facts = reading.live.facts[listener.address]
        found = _pages(f"certificates of listener {listener.label}", elb, "describe_listener_certificates",
                       "Certificates", ListenerArn=facts["arn"])
        facts["certificate_arns"] = facts.get("certificate_arns", []) + sorted(
            c["CertificateArn"] for c in found if not c.get("IsDefault") and c["CertificateArn"]
            not in facts.get("certificate_arns", []))


def _tags(elb, arns: list[str]) -> dict[str, list[dict]]:
    out = {}
    for i in range(0, len(arns), TAGS_PER_CALL):  # DescribeTags takes at most 20 ARNs
        try:
            found = elb.describe_tags(ResourceArns=arns[i:i + TAGS_PER_CALL])["TagDescriptions"]
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise ReadError("load balancer tags", str(exc)) from None
        out.update({d["ResourceArn"]: d.get("Tags", []) for d in found})
    return out


def _read_route53(reading: _Reading, route53, everything: bool) -> None:
    names = set(reading.estate.zones_of("route53"))
    if not names and not everything:
        return
    zones = [z for z in _pages("Route 53 zones", route53, "list_hosted_zones", "HostedZones")
             if z["Name"].rstrip(".") in names or everything]
    if everything and any(z["Config"].get("PrivateZone") for z in zones):
        zones = _public_or_in_vpc(reading, route53, zones)
    nlbs = {reading.live.facts[lb.address]["dns_name"].rstrip(".").lower(): lb.gateway
            for lb in reading.live.resources if isinstance(lb, AwsLoadBalancer)}
    for zone in zones:
        name = zone["Name"].rstrip(".")
        zone_id = zone["Id"].removeprefix("/hostedzone/")  # as Terraform's state holds it
        reading.add(AwsRoute53Zone(slug(name), (), name, zone["Config"].get("PrivateZone", False)),
                    owned=carries_marker(reading.estate.name, zone["Config"].get("Comment")), id=zone_id)
        records = _pages(f"Route 53 records of {name}", route53, "list_resource_record_sets", "ResourceRecordSets",
                         HostedZoneId=zone["Id"], PaginationConfig={"PageSize": ROUTE53_PAGE_SIZE})
        for record in records:
            fqdn = record["Name"].rstrip(".").replace("\\052", "*")
            if record["Type"] in ("NS", "SOA") and fqdn == name:
                continue  # the zone's own records, created by Route 53
            # the AWS provider's ID of a record set (and what `terraform import` takes)
            reading.add(_record(name, fqdn, record, nlbs), id=f"{zone_id}_{fqdn}_{record['Type']}")


def _public_or_in_vpc(reading: _Reading, route53, zones: list[dict]) -> list[dict]:
    """Public zones, and the private zones associated with the estate's VPC (one more call)."""
    assert reading.estate.aws is not None
    aws = reading.estate.aws
    try:
        found = route53.list_hosted_zones_by_vpc(VPCId=aws.vpc_id, VPCRegion=aws.region, MaxItems="100")
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        raise ReadError(f"Route 53 zones of {aws.vpc_id}", str(exc)) from None
    if found.get("NextToken"):
        raise ReadError(f"Route 53 zones of {aws.vpc_id}", "more than 100 private zones: not supported")
    in_vpc = {z["HostedZoneId"].rsplit("/", 1)[-1] for z in found.get("HostedZoneSummaries", [])}
    return [z for z in zones if not z["Config"].get("PrivateZone") or z["Id"].rsplit("/", 1)[-1] in in_vpc]


def _record(zone: str, fqdn: str, record: dict, nlbs: dict[str, str]) -> AwsRoute53Record:
    """An alias to a gateway's NLB names the gateway, as the desired record does; another alias keeps
    its target's DNS name."""
    target = record.get("AliasTarget", {}).get("DNSName", "").rstrip(".").lower().removeprefix("dualstack.") or None
    values = [r["Value"] for r in record.get("ResourceRecords", [])]
    if record["Type"] == "TXT":  # '"a""b"' (as the AWS provider writes a long value) is '"a" "b"'
        values = [canonical_txt(value) for value in values]
    return AwsRoute53Record(slug(fqdn, record["Type"].lower()), (), zone, fqdn, record["Type"], record.get("TTL"),
                            tuple(sorted(values)), alias_gateway=nlbs.get(target or ""),
                            alias_target=None if target in nlbs else target)
