"""Read the live AWS side of a spec with boto3: NLBs, listeners, target groups, security groups and
their rules, Route 53 zones and records.

List calls at their largest page sizes (ELBv2 400, DescribeTags 20 ARNs, security group rules 1,000,
Route 53 300); boto3's standard retry mode handles throttling. Every HTTP request is counted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import boto3
import botocore.config
import botocore.exceptions

from edgec.ir.model import (
    IR,
    AwsAcmCertificate,
    AwsListener,
    AwsLoadBalancer,
    AwsRoute53Record,
    AwsRoute53Zone,
    AwsSecurityGroup,
    AwsSecurityGroupRule,
    AwsTargetGroup,
)
from edgec.ir.names import slug
from edgec.read.budget import ApiCalls, ReadError
from edgec.spec.model import Spec

ELB_PAGE_SIZE = 400
TAGS_PER_CALL = 20
RULES_PAGE_SIZE = 1000
ROUTE53_PAGE_SIZE = "300"


@dataclass
class AwsLive:
    resources: IR = field(default_factory=list)
    nlb_dns_names: dict[str, str] = field(default_factory=dict)  # gateway -> DNS name
    owned: set[tuple[str, str]] = field(default_factory=set)  # (kind, name) carrying edgec's tags
    vpc_cidr: str | None = None


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


def read_aws(spec: Spec, session: boto3.Session) -> AwsLive:
    live = AwsLive()
    ec2, elb, route53 = (_client(session, s) for s in ("ec2", "elbv2", "route53"))
    vpcs = _pages(f"VPC {spec.aws.vpc_id}", ec2, "describe_vpcs", "Vpcs", VpcIds=[spec.aws.vpc_id])
    live.vpc_cidr = vpcs[0]["CidrBlock"] if vpcs else None
    _read_security_groups(spec, ec2, live)
    _read_load_balancers(spec, elb, live)
    _read_route53(spec, route53, live)
    if any(cert.source == "acm" for cert in spec.certificates.values()):
        _read_certificates(_client(session, "acm"), live)
    return live


def _read_certificates(acm, live: AwsLive) -> None:
    """ACM certificates, identified by the names they cover (the list call carries them)."""
    for cert in _pages("ACM certificates", acm, "list_certificates", "CertificateSummaryList"):
        domains = tuple(sorted({cert["DomainName"], *cert.get("SubjectAlternativeNameSummaries", [])}))
        live.resources.append(AwsAcmCertificate(slug("live", *domains), "live", cert["CertificateArn"], domains))


def _tag(tags: list[dict], key: str) -> str | None:
    return next((t["Value"] for t in tags or [] if t["Key"] == key), None)


def _is_owned(spec: Spec, tags: list[dict]) -> bool:
    return _tag(tags, "managed-by") == "edgec" and _tag(tags, "edgec:spec") == spec.name


def _gateway_of(name: str, spec: Spec) -> str:
    """'acme-prod-public' -> 'public' (edgec names AWS resources <spec>-<gateway>[-purpose])."""
    rest = name.removeprefix(f"{spec.name}-")
    return next((g for g in sorted(spec.gateways, key=len, reverse=True) if rest == g or rest.startswith(g + "-")),
                rest)


def _read_security_groups(spec: Spec, ec2, live: AwsLive) -> None:
    groups = _pages("security groups", ec2, "describe_security_groups", "SecurityGroups",
                    Filters=[{"Name": "vpc-id", "Values": [spec.aws.vpc_id]}], PaginationConfig={"PageSize": 1000})
    by_id = {}
    for group in groups:
        if group["GroupName"] == "default":
            continue
        gateway = _gateway_of(group["GroupName"], spec)
        by_id[group["GroupId"]] = gateway
        live.resources.append(AwsSecurityGroup(slug(gateway), "live", gateway, group["GroupName"],
                                               group.get("Description", "")))
        if _is_owned(spec, group.get("Tags")):
            live.owned.add(("security_group", group["GroupName"]))
    if not by_id:
        return
    rules = _pages("security group rules", ec2, "describe_security_group_rules", "SecurityGroupRules",
                   Filters=[{"Name": "group-id", "Values": sorted(by_id)}],
                   PaginationConfig={"PageSize": RULES_PAGE_SIZE})
    for rule in rules:
        gateway = by_id[rule["GroupId"]]
        cidr = rule.get("CidrIpv4") or rule.get("CidrIpv6") or rule.get("ReferencedGroupInfo", {}).get("GroupId", "?")
        if cidr == live.vpc_cidr and rule["IsEgress"]:
            cidr = "vpc"
        direction = "egress" if rule["IsEgress"] else "ingress"
        live.resources.append(AwsSecurityGroupRule(slug(gateway, direction, cidr, str(rule.get("FromPort"))), "live",
                                                   gateway, direction, cidr, rule.get("FromPort", -1),
                                                   rule.get("IpProtocol", "-1"), rule.get("Description", "")))


def _read_load_balancers(spec: Spec, elb, live: AwsLive) -> None:
    wanted_vpc = spec.aws.vpc_id
    lbs = [lb for lb in _pages("load balancers", elb, "describe_load_balancers", "LoadBalancers",
                               PaginationConfig={"PageSize": ELB_PAGE_SIZE})
           if lb.get("VpcId") == wanted_vpc and lb.get("Type") == "network"]
    tags = _tags(elb, [lb["LoadBalancerArn"] for lb in lbs])
    for lb in lbs:
        gateway = _gateway_of(lb["LoadBalancerName"], spec)
        live.nlb_dns_names[gateway] = lb["DNSName"]
        subnets = tuple(sorted(az["SubnetId"] for az in lb.get("AvailabilityZones", [])))
        # cross-zone and deletion protection need one more call per NLB; they are not read (nor compared)
        live.resources.append(AwsLoadBalancer(slug(gateway), "live", gateway, lb["LoadBalancerName"],
                                              lb["Scheme"] == "internal", subnets, cross_zone=None,
                                              deletion_protection=None))
        if _is_owned(spec, tags.get(lb["LoadBalancerArn"])):
            live.owned.add(("load_balancer", lb["LoadBalancerName"]))
        listeners = _pages(f"listeners of {lb['LoadBalancerName']}", elb, "describe_listeners", "Listeners",
                           LoadBalancerArn=lb["LoadBalancerArn"])
        groups = {g["TargetGroupArn"]: g for g in _pages(
            f"target groups of {lb['LoadBalancerName']}", elb, "describe_target_groups", "TargetGroups",
            LoadBalancerArn=lb["LoadBalancerArn"])}
        for group in groups.values():
            purpose = group["TargetGroupName"].rsplit("-", 1)[-1]
            live.resources.append(AwsTargetGroup(slug(gateway, purpose), "live", gateway, group["TargetGroupName"],
                                                 group["Port"], group["Protocol"], int(group.get("HealthCheckPort", 0)),
                                                 group.get("HealthCheckPath", "")))
        for listener in listeners:
            target = groups.get(listener["DefaultActions"][0].get("TargetGroupArn", ""), {})
            purpose = target.get("TargetGroupName", "?").rsplit("-", 1)[-1]
            live.resources.append(AwsListener(slug(gateway, purpose), "live", gateway, listener["Port"],
                                              listener["Protocol"], slug(gateway, purpose),
                                              ssl_policy=listener.get("SslPolicy")))


def _tags(elb, arns: list[str]) -> dict[str, list[dict]]:
    out = {}
    for i in range(0, len(arns), TAGS_PER_CALL):  # DescribeTags takes at most 20 ARNs
        try:
            found = elb.describe_tags(ResourceArns=arns[i:i + TAGS_PER_CALL])["TagDescriptions"]
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise ReadError("load balancer tags", str(exc)) from None
        out.update({d["ResourceArn"]: d.get("Tags", []) for d in found})
    return out


def _read_route53(spec: Spec, route53, live: AwsLive) -> None:
    names = {name for name, zone in spec.zones.items() if zone.provider == "route53"}
    if not names:
        return
    zones = [z for z in _pages("Route 53 zones", route53, "list_hosted_zones", "HostedZones")
             if z["Name"].rstrip(".") in names]
    for zone in zones:
        name = zone["Name"].rstrip(".")
        live.resources.append(AwsRoute53Zone(slug(name), "live", name, zone["Config"].get("PrivateZone", False)))
        records = _pages(f"Route 53 records of {name}", route53, "list_resource_record_sets", "ResourceRecordSets",
                         HostedZoneId=zone["Id"], PaginationConfig={"PageSize": ROUTE53_PAGE_SIZE})
        for record in records:
            fqdn = record["Name"].rstrip(".").replace("\\052", "*")
            if record["Type"] in ("NS", "SOA") and fqdn == name:
                continue  # the zone's own records, created by Route 53
            # live alias records carry the target's DNS name where the IR has the gateway's name
            alias = record.get("AliasTarget", {}).get("DNSName", "").rstrip(".").lower() or None
            values = tuple(sorted(r["Value"] for r in record.get("ResourceRecords", [])))
            live.resources.append(AwsRoute53Record(slug("live", fqdn, record["Type"]), "live", name, fqdn,
                                                   record["Type"], record.get("TTL"), values, alias_gateway=alias))
