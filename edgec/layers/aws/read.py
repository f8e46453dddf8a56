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
import botocore.parsers
import botocore.session

from edgec.ir.model import IR, Estate, Resource
from edgec.ir.names import AWS_NAME_LIMIT, SECURITY_GROUP_NAME_LIMIT, aws_name, slug
from edgec.ir.ownership import carries_marker
from edgec.layers.aws.credentials import call_failure, credentialed_session
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
from edgec.layers.aws.state_values import (
    LOAD_BALANCER_ATTRIBUTES,
    TAGS_PER_CALL,
    TARGET_GROUP_ATTRIBUTES,
    ZONE_TAGS_PER_CALL,
    listener_values,
    load_balancer_values,
    record_values,
    rule_values,
    security_group_values,
    tag_map,
    target_group_values,
    zone_values,
)
from edgec.layers.aws.txt import canonical_txt
from edgec.layers.base import LiveLayer, adopt_addresses
from edgec.read.answers import (
    Malformed,
    PageCount,
    answer_of,
    flag,
    items,
    malformed,
    number,
    required,
    required_text,
    shown,
    text,
    unparsable,
)
from edgec.read.budget import ApiCalls, ReadError
from edgec.read.shape import check_shapes

ELB_PAGE_SIZE = 400
RULES_PAGE_SIZE = 1000
ROUTE53_PAGE_SIZE = "300"
TARGET_GROUP_PURPOSES = ("https", "http")  # edgec's target groups: <spec>-<gateway>-<purpose>
FAILED_CALL = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)
# what botocore raises on a body it cannot parse (not XML) or convert (a number that is not one)
UNPARSABLE = (botocore.parsers.ResponseParserError, ValueError)


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


def aws_session(calls: ApiCalls, region: str | None, timeout: float, attempts: int) -> boto3.Session:
    """A session from the standard credential chain (a ReadError saying the fix when it gives none);
    AWS_ENDPOINT_URL points it elsewhere (a sandbox).
    Its clients wait `timeout` seconds to connect and for each answer, and make at most `attempts`
    attempts per call (boto3's standard mode backs off between them, at most 1, 2, 4, 8 s), so an API
    that hangs fails the call within timeout x attempts plus that backoff."""
    core = botocore.session.get_session()
    core.set_default_client_config(botocore.config.Config(
        connect_timeout=timeout, read_timeout=timeout, retries={"mode": "standard", "total_max_attempts": attempts}))
    session = credentialed_session(core, region)
    session.events.register("before-send", lambda **_: calls.count("aws"))
    return session


def _client(session: boto3.Session, service: str):
    return session.client(service, endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)


def _pages(what: str, client, operation: str, key: str, **kwargs) -> list:
    """Every item of a paginated listing. botocore stops at a repeated NextToken; a listing that runs
    past MAX_PAGES pages is never-ending too."""
    found: list = []
    pages = PageCount(what)
    try:
        for index, page in enumerate(client.get_paginator(operation).paginate(**kwargs)):
            if index:
                pages.another()
            with answer_of(what):
                found += items(page.get(key, []), key)  # botocore leaves an empty list out
    except FAILED_CALL as exc:
        raise call_failure(what, exc) from None
    except UNPARSABLE as exc:
        raise unparsable(what, exc) from None
    return found


def _call(what: str, client, operation: str, **kwargs) -> dict:
    try:
        answer = getattr(client, operation)(**kwargs)
    except FAILED_CALL as exc:
        raise call_failure(what, exc) from None
    except UNPARSABLE as exc:
        raise unparsable(what, exc) from None
    if not isinstance(answer, dict):
        raise malformed(what, "it is not an object")
    return answer


def read_aws(ir: IR, session: boto3.Session, everything: bool = False) -> LiveLayer:
    """The spec's part of the estate; with `everything` (for `edgec import`), every Route 53 zone the
    account has (private ones only if associated with the VPC) and every ACM certificate."""
    assert ir.estate.aws is not None
    reading = _Reading(ir.estate)
    ec2, elb, route53 = (_client(session, s) for s in ("ec2", "elbv2", "route53"))
    vpc_id = ir.estate.aws.vpc_id
    vpcs = _pages(f"VPC {vpc_id}", ec2, "describe_vpcs", "Vpcs", VpcIds=[vpc_id])
    reading.vpc_cidr = vpcs[0].get("CidrBlock") if vpcs and isinstance(vpcs[0], dict) else None
    gateways = sorted({r.gateway for r in ir.of(AwsLoadBalancer)}, key=len, reverse=True)
    _read_security_groups(reading, ec2, gateways)
    _read_load_balancers(reading, elb, gateways)
    if everything:
        _read_listener_certificates(reading, elb)
    _read_route53(reading, route53, everything)
    if ir.of(AwsAcmCertificate) or everything:
        _read_certificates(reading, _client(session, "acm"))
    check_shapes("AWS", reading.live.resources)
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
    what = "ACM certificates"
    for cert in _pages(what, acm, "list_certificates", "CertificateSummaryList"):
        with answer_of(what):
            names = [required(cert, "DomainName"), *items(cert.get("SubjectAlternativeNameSummaries", []),
                                                       "SubjectAlternativeNameSummaries")]
            domains = tuple(sorted({text(name, "DomainName") for name in names}))
            arn = required_text(cert, "CertificateArn")
        reading.add(AwsAcmCertificate(slug(domains[0]), (), domains[0], domains), arn=arn, id=arn)


def _tag(tags: list[dict], key: str) -> str | None:
    return next((t.get("Value") for t in tags or [] if isinstance(t, dict) and t.get("Key") == key), None)


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
    what = "security groups"
    groups = _pages(what, ec2, "describe_security_groups", "SecurityGroups",
                    Filters=[{"Name": "vpc-id", "Values": [reading.estate.aws.vpc_id]}],
                    PaginationConfig={"PageSize": 1000})
    by_id = {}
    with answer_of(what):
        for group in groups:
            name, group_id = required_text(group, "GroupName"), required_text(group, "GroupId")
            if name == "default":
                continue
            gateway = _gateway_of(name, reading.estate, gateways, SECURITY_GROUP_NAME_LIMIT)
            by_id[group_id] = gateway
            reading.add(AwsSecurityGroup(slug(gateway), (), gateway, name, text(group.get("Description", ""),
                                                                                "Description")),
                        owned=_is_owned(reading.estate, group.get("Tags")), id=group_id,
                        values=security_group_values(group))
    if not by_id:
        return
    what = "security group rules"
    rules = _pages(what, ec2, "describe_security_group_rules", "SecurityGroupRules",
                   Filters=[{"Name": "group-id", "Values": sorted(by_id)}],
                   PaginationConfig={"PageSize": RULES_PAGE_SIZE})
    with answer_of(what):
        for rule in rules:
            gateway = by_id.get(required(rule, "GroupId"))
            if gateway is None:
                raise Malformed(f"it has a rule of group {rule['GroupId']!r}, which was not asked for")
            egress = flag(required(rule, "IsEgress"), "IsEgress")
            cidr = rule.get("CidrIpv4") or rule.get("CidrIpv6") or (rule.get("ReferencedGroupInfo") or {}).get(
                "GroupId", "?")
            if cidr == reading.vpc_cidr and egress:
                cidr = "vpc"
            direction = "egress" if egress else "ingress"
            port = number(rule.get("FromPort", -1), "FromPort")
            reading.add(AwsSecurityGroupRule(slug(gateway, direction, text(cidr, "CidrIpv4"), str(port)), (), gateway,
                                             direction, cidr, port, text(rule.get("IpProtocol", "-1"), "IpProtocol"),
                                             text(rule.get("Description", ""), "Description")),
                        id=rule.get("SecurityGroupRuleId"), values=rule_values(rule))


def _read_load_balancers(reading: _Reading, elb, gateways: list[str]) -> None:
    """The gateways' NLBs, then each one's listeners and target groups, then the tags of all of them in
    one batched DescribeTags (20 ARNs a call): ownership needs the NLBs' tags, and refresh by list
    compares every one's tags with Terraform's state."""
    assert reading.estate.aws is not None
    wanted_vpc = reading.estate.aws.vpc_id
    what = "load balancers"
    found = _pages(what, elb, "describe_load_balancers", "LoadBalancers", PaginationConfig={"PageSize": ELB_PAGE_SIZE})
    with answer_of(what):
        lbs = [lb for lb in found if required_text(lb, "LoadBalancerArn") and required_text(lb, "LoadBalancerName")
               and lb.get("VpcId") == wanted_vpc and lb.get("Type") == "network"]
    parts = {lb["LoadBalancerArn"]: _listeners_and_groups(elb, lb["LoadBalancerName"], lb["LoadBalancerArn"])
             for lb in lbs}
    arns = [arn for lb in lbs for arn in (lb["LoadBalancerArn"], *_arns_of(*parts[lb["LoadBalancerArn"]]))]
    tags = _tags(elb, list(dict.fromkeys(arns)))  # each once, in the order found
    for lb in lbs:
        name, arn = lb["LoadBalancerName"], lb["LoadBalancerArn"]
        gateway = _gateway_of(name, reading.estate, gateways)
        with answer_of(f"load balancer {name}"):
            # AWS always sends the DNS name, and the records pointing at the NLB are compared with it
            balancer = _load_balancer(gateway, lb)
            reading.add(balancer, owned=_is_owned(reading.estate, tags.get(arn)),
                        arn=arn, id=arn, dns_name=required_text(lb, "DNSName"), tags=tags.get(arn) or [],
                        values=load_balancer_values(lb, balancer.subnets, balancer.internal, tags.get(arn)))
        listeners, groups = parts[arn]
        with answer_of(f"target groups of {name}"):
            for group_arn, group in groups.items():
                reading.add(_target_group(reading.estate, gateway, group), arn=group_arn, id=group_arn,
                            values=target_group_values(group, tags.get(group_arn)))
        with answer_of(f"listeners of {name}"):
            for listener in listeners:
                _add_listener(reading, gateway, listener, groups, tags)


def _listeners_and_groups(elb, name: str, arn: str) -> tuple[list[dict], dict[str, dict]]:
    """An NLB's listeners, and its target groups by ARN."""
    listeners = _pages(f"listeners of {name}", elb, "describe_listeners", "Listeners", LoadBalancerArn=arn)
    what = f"target groups of {name}"
    found = _pages(what, elb, "describe_target_groups", "TargetGroups", LoadBalancerArn=arn)
    with answer_of(what):
        groups = {required_text(g, "TargetGroupArn"): g for g in found}
    with answer_of(f"listeners of {name}"):
        for listener in listeners:
            required_text(listener, "ListenerArn")
    return listeners, groups


def _arns_of(listeners: list[dict], groups: dict[str, dict]) -> list[str]:
    return [*groups, *(listener["ListenerArn"] for listener in listeners)]


def _load_balancer(gateway: str, lb: dict) -> AwsLoadBalancer:
    """Without a Scheme (moto leaves it out when the client did not send it), AWS's default: internet-facing."""
    zones = items(lb.get("AvailabilityZones", []), "AvailabilityZones")
    subnets = tuple(sorted(required_text(az, "SubnetId") for az in zones))
    scheme = text(lb.get("Scheme") or "internet-facing", "Scheme")
    # cross-zone and deletion protection need one more call per NLB: a plan does not compare them; apply
    # reads them to check Terraform's state (read_state_values)
    return AwsLoadBalancer(slug(gateway), (), gateway, lb["LoadBalancerName"], scheme == "internal", subnets,
                           cross_zone=None, deletion_protection=None)


def _target_group(estate: Estate, gateway: str, group: dict) -> AwsTargetGroup:
    name = required_text(group, "TargetGroupName")
    port = number(required(group, "Port"), "Port")
    # "traffic-port" (AWS's default) checks the port traffic goes to
    health_port = group.get("HealthCheckPort", 0)
    health_port = port if health_port == "traffic-port" else number(_whole(health_port), "HealthCheckPort")
    return AwsTargetGroup(slug(gateway, _purpose_of(name, estate, gateway)), (), gateway, name, port,
                          required_text(group, "Protocol"), health_port,
                          text(group.get("HealthCheckPath", ""), "HealthCheckPath"))


def _whole(value):
    """A number AWS sends as a string ("8080"), as a number; anything else as it is."""
    return int(value) if isinstance(value, str) and value.isdigit() else value


def _add_listener(reading: _Reading, gateway: str, listener: dict, groups: dict[str, dict],
                  tags: dict[str, list[dict]]) -> None:
    actions = items(required(listener, "DefaultActions"), "DefaultActions")
    target = groups.get(actions[0].get("TargetGroupArn", "") if actions and isinstance(actions[0], dict) else "", {})
    purpose = _purpose_of(target.get("TargetGroupName", "?"), reading.estate, gateway)
    arn = required_text(listener, "ListenerArn")
    certificates = items(listener.get("Certificates", []), "Certificates")
    certificate_arns = [text(c["CertificateArn"], "CertificateArn") for c in certificates
                        if isinstance(c, dict) and "CertificateArn" in c]
    reading.add(AwsListener(slug(gateway, purpose), (), gateway, number(required(listener, "Port"), "Port"),
                            required_text(listener, "Protocol"), slug(gateway, purpose),
                            ssl_policy=listener.get("SslPolicy")),
                arn=arn, id=arn, certificate_arns=certificate_arns,
                values=listener_values(listener, certificate_arns, tags.get(arn)))


def _read_listener_certificates(reading: _Reading, elb) -> None:
    """The certificates a TLS listener picks by SNI besides its default (one call per TLS listener, made
    for `edgec import` only: plans do not compare them)."""
    for listener in [r for r in reading.live.resources if isinstance(r, AwsListener) and r.protocol == "TLS"]:
        facts = reading.live.facts[listener.address]
        what = f"certificates of listener {listener.label}"
        found = _pages(what, elb, "describe_listener_certificates", "Certificates", ListenerArn=facts["arn"])
        with answer_of(what):
            arns = [arn for c in found if (arn := required_text(c, "CertificateArn")) and not c.get("IsDefault")]
        facts["certificate_arns"] = facts.get("certificate_arns", []) + sorted(
            arn for arn in arns if arn not in facts.get("certificate_arns", []))


def _tags(elb, arns: list[str]) -> dict[str, list[dict]]:
    what = "tags of load balancers, listeners and target groups"
    out = {}
    for i in range(0, len(arns), TAGS_PER_CALL):  # DescribeTags takes at most 20 ARNs
        found = _call(what, elb, "describe_tags", ResourceArns=arns[i:i + TAGS_PER_CALL])
        with answer_of(what):
            out.update({required(d, "ResourceArn"): items(d.get("Tags", []), "Tags")
                        for d in items(found.get("TagDescriptions", []), "TagDescriptions")})
    return out


def _read_route53(reading: _Reading, route53, everything: bool) -> None:
    names = set(reading.estate.zones_of("route53"))
    if not names and not everything:
        return
    what = "Route 53 zones"
    with answer_of(what):
        zones = [z for z in _pages(what, route53, "list_hosted_zones", "HostedZones")
                 if required_text(z, "Name").rstrip(".") in names or everything]
        zones = [{**z, "Id": required_text(z, "Id"), "Config": _zone_config(z)} for z in zones]
    if everything and any(z["Config"].get("PrivateZone") for z in zones):
        zones = _public_or_in_vpc(reading, route53, zones)
    nlbs = {reading.live.facts[lb.address]["dns_name"].rstrip(".").lower(): lb.gateway
            for lb in reading.live.resources if isinstance(lb, AwsLoadBalancer)}
    for zone in zones:
        name = zone["Name"].rstrip(".")
        zone_id = zone["Id"].removeprefix("/hostedzone/")  # as Terraform's state holds it
        reading.add(AwsRoute53Zone(slug(name), (), name, zone["Config"]["PrivateZone"]),
                    owned=carries_marker(reading.estate.name, zone["Config"]["Comment"]), id=zone_id,
                    values=zone_values(name, zone["Config"]["Comment"]))
        what = f"Route 53 records of {name}"
        records = _pages(what, route53, "list_resource_record_sets", "ResourceRecordSets",
                         HostedZoneId=zone["Id"], PaginationConfig={"PageSize": ROUTE53_PAGE_SIZE})
        with answer_of(what):
            for record in records:
                fqdn = required_text(record, "Name").rstrip(".").replace("\\052", "*")
                rtype = required_text(record, "Type")
                if rtype in ("NS", "SOA") and fqdn == name:
                    continue  # the zone's own records, created by Route 53
                # the AWS provider's ID of a record set (and what `terraform import` takes)
                found = _record(name, fqdn, record, nlbs)
                values = record_values(fqdn, record, list(found.records))
                reading.add(found, id=f"{zone_id}_{fqdn}_{rtype}", **({"values": values} if values else {}))


def _zone_config(zone: dict) -> dict:
    """A zone's Config: AWS always sends it, and without it whether the zone is private is unknown."""
    config = required(zone, "Config")
    if not isinstance(config, dict):
        raise Malformed(f"Config {shown(config)} is not an object")
    comment = config.get("Comment")
    return {"PrivateZone": flag(config.get("PrivateZone", False), "PrivateZone"),
            "Comment": None if comment is None else text(comment, "Comment")}


def _public_or_in_vpc(reading: _Reading, route53, zones: list[dict]) -> list[dict]:
    """Public zones, and the private zones associated with the estate's VPC (one more call)."""
    assert reading.estate.aws is not None
    aws = reading.estate.aws
    what = f"Route 53 zones of {aws.vpc_id}"
    found = _call(what, route53, "list_hosted_zones_by_vpc", VPCId=aws.vpc_id, VPCRegion=aws.region, MaxItems="100")
    if found.get("NextToken"):
        raise ReadError(what, "more than 100 private zones: not supported")
    with answer_of(what):
        in_vpc = {required_text(z, "HostedZoneId").rsplit("/", 1)[-1]
                  for z in items(found.get("HostedZoneSummaries", []), "HostedZoneSummaries")}
    return [z for z in zones if not z["Config"]["PrivateZone"] or z["Id"].rsplit("/", 1)[-1] in in_vpc]


def _record(zone: str, fqdn: str, record: dict, nlbs: dict[str, str]) -> AwsRoute53Record:
    """An alias to a gateway's NLB names the gateway, as the desired record does; another alias keeps
    its target's DNS name."""
    alias = record.get("AliasTarget") or {}
    target = text(alias.get("DNSName", "") if isinstance(alias, dict) else alias, "AliasTarget.DNSName")
    target = target.rstrip(".").lower().removeprefix("dualstack.") or None
    if target and not (isinstance(alias, dict) and alias.get("EvaluateTargetHealth") is True):
        target += " (not evaluating target health)"  # not the alias edgec writes, whatever it points at
    values = [required_text(r, "Value") for r in items(record.get("ResourceRecords", []), "ResourceRecords")]
    if record["Type"] == "TXT":  # '"a""b"' (as the AWS provider writes a long value) is '"a" "b"'
        values = [canonical_txt(value) for value in values]
    ttl = record.get("TTL")
    return AwsRoute53Record(slug(fqdn, record["Type"].lower()), (), zone, fqdn, record["Type"],
                            None if ttl is None else number(ttl, "TTL"), tuple(sorted(values)),
                            alias_gateway=nlbs.get(target or ""), alias_target=None if target in nlbs else target)


def read_state_values(live: LiveLayer, session: boto3.Session, addresses: set[str]) -> dict[str, dict]:
    """The live values of the state attributes of those of `addresses` the plan's read found (refresh by
    list, at apply: edgec/layers/aws/state_values.py): what the plan's read gave, and what it leaves out —
    NLB attributes and capacity reservations, target group attributes, the zones' tags (batched), the
    VPCs of private zones."""
    found = {r.address: r for r in live.resources
             if r.address in addresses and "values" in live.facts.get(r.address, {})}
    values = {address: dict(live.facts[address]["values"]) for address in found}
    elb = _client(session, "elbv2")
    for address, resource in found.items():
        arn = live.facts[address].get("arn")
        if isinstance(resource, AwsLoadBalancer):
            values[address] |= _attributes(f"attributes of load balancer {resource.label}", elb,
                                           "describe_load_balancer_attributes", LOAD_BALANCER_ATTRIBUTES,
                                           LoadBalancerArn=arn)
            what = f"capacity reservation of load balancer {resource.label}"
            capacity = _call(what, elb, "describe_capacity_reservation", LoadBalancerArn=arn)
            with answer_of(what):
                units = (capacity.get("MinimumLoadBalancerCapacity") or {}).get("CapacityUnits")
            values[address]["minimum_load_balancer_capacity.0.capacity_units"] = units
        elif isinstance(resource, AwsTargetGroup):
            values[address] |= _attributes(f"attributes of target group {resource.label}", elb,
                                           "describe_target_group_attributes", TARGET_GROUP_ATTRIBUTES,
                                           TargetGroupArn=arn)
    zones = {live.facts[a]["id"]: r for a, r in found.items() if isinstance(r, AwsRoute53Zone)}
    for zone in zones.values():
        values[zone.address]["tags_all"] = {}  # what ListTagsForResources leaves out has no tags
    if zones:
        _zone_values(_client(session, "route53"), zones, values)
    return values


def _attributes(what: str, client, operation: str, paths: dict[str, str], **kwargs) -> dict:
    """An NLB's or target group's attributes, at their state paths."""
    answer = _call(what, client, operation, **kwargs)
    with answer_of(what):
        found = {required_text(a, "Key"): a.get("Value") for a in items(answer.get("Attributes", []), "Attributes")}
    return {path: found[key] for key, path in paths.items() if key in found}


def _zone_values(route53, zones: dict[str, AwsRoute53Zone], values: dict[str, dict]) -> None:
    ids = sorted(zones)
    what = "Route 53 zone tags"
    for i in range(0, len(ids), ZONE_TAGS_PER_CALL):
        found = _call(what, route53, "list_tags_for_resources", ResourceType="hostedzone",
                      ResourceIds=ids[i:i + ZONE_TAGS_PER_CALL])
        with answer_of(what):
            for tag_set in items(found.get("ResourceTagSets", []), "ResourceTagSets"):
                zone = zones.get(required_text(tag_set, "ResourceId"))
                if zone is not None:
                    values[zone.address]["tags_all"] = tag_map(tag_set.get("Tags"))
    for zone_id, zone in zones.items():
        if zone.private:  # a public zone has no VPCs
            what = f"VPCs of Route 53 zone {zone.zone}"
            found = _call(what, route53, "get_hosted_zone", Id=zone_id)
            with answer_of(what):
                values[zone.address]["vpc"] = [{"vpc_id": required_text(v, "VPCId"),
                                                "vpc_region": required_text(v, "VPCRegion")}
                                               for v in items(found.get("VPCs", []), "VPCs")]
