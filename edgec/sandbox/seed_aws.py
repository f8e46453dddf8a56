"""Seed an AWS emulator (moto) with the live estate a spec implies, as if it had been applied (or, foreign,
as if it had been built without edgec: no ownership tags, no marker in Route 53 zone comments)."""

from __future__ import annotations

from edgec.ir.model import IR
from edgec.ir.ownership import marker
from edgec.layers.aws.emit import OWNERSHIP_TAG_KEYS, ownership_tags
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
from edgec.spec.model import Spec

ROUTE53_BATCH = 1000  # the most records ChangeResourceRecordSets takes in one call


def seed_aws(session, spec: Spec, desired: IR, vpc_cidr: str, endpoint_url: str, foreign: bool = False) -> None:
    ec2, elb, route53, acm = (session.client(s, endpoint_url=endpoint_url) for s in ("ec2", "elbv2", "route53", "acm"))
    tags = [{"Key": k, "Value": v} for k, v in _tags(desired, foreign).items()]
    tagged = {"Tags": tags} if tags else {}
    of = desired.of
    groups = {}
    for sg in of(AwsSecurityGroup):
        groups[sg.gateway] = ec2.create_security_group(
            GroupName=sg.group_name, Description=sg.description, VpcId=spec.aws.vpc_id,
            **({"TagSpecifications": [{"ResourceType": "security-group", "Tags": tags}]} if tags else {}))["GroupId"]
        ec2.revoke_security_group_egress(GroupId=groups[sg.gateway], IpPermissions=[  # as Terraform does
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    for rule in of(AwsSecurityGroupRule):
        cidr = vpc_cidr if rule.cidr == "vpc" else rule.cidr
        ranges = {"Ipv6Ranges": [{"CidrIpv6": cidr, "Description": rule.description}]} if ":" in cidr else {
            "IpRanges": [{"CidrIp": cidr, "Description": rule.description}]}
        permission = [{"IpProtocol": rule.protocol, "FromPort": rule.port, "ToPort": rule.port, **ranges}]
        authorize = ec2.authorize_security_group_egress if rule.direction == "egress" \
            else ec2.authorize_security_group_ingress
        authorize(GroupId=groups[rule.gateway], IpPermissions=permission)
    certificates = {c.name: acm.request_certificate(DomainName=c.domains[0], ValidationMethod="DNS", **(
        {"SubjectAlternativeNames": list(c.domains)} if len(c.domains) > 1 else {}))["CertificateArn"]
                    for c in of(AwsAcmCertificate)}
    balancers, target_groups = {}, {}
    for lb in of(AwsLoadBalancer):
        balancers[lb.gateway] = elb.create_load_balancer(
            Name=lb.lb_name, Subnets=list(lb.subnets), SecurityGroups=[groups[lb.gateway]], Type="network",
            Scheme="internal" if lb.internal else "internet-facing", **tagged)["LoadBalancers"][0]
    for group in of(AwsTargetGroup):
        target_groups[group.name] = elb.create_target_group(
            Name=group.group_name, Protocol=group.protocol, Port=group.port, VpcId=spec.aws.vpc_id,
            TargetType="ip", HealthCheckProtocol="HTTP", HealthCheckPort=str(group.health_port),
            HealthCheckPath=group.health_path, **tagged)["TargetGroups"][0]["TargetGroupArn"]
    for listener in of(AwsListener):
        extra = {"Certificates": [{"CertificateArn": certificates[listener.certificate]}],
                 "SslPolicy": listener.ssl_policy} if listener.certificate else {}
        created = elb.create_listener(LoadBalancerArn=balancers[listener.gateway]["LoadBalancerArn"], Protocol=listener.protocol,
                            Port=listener.port, DefaultActions=[{"Type": "forward",
                                                                 "TargetGroupArn": target_groups[listener.target_group]}],
                            **extra)
        if listener.sni_certificates:
            elb.add_listener_certificates(ListenerArn=created["Listeners"][0]["ListenerArn"], Certificates=[
                {"CertificateArn": certificates[name]} for name in listener.sni_certificates])
    zones = {}
    for zone in of(AwsRoute53Zone):
        comment = {} if foreign else {"Comment": marker(spec.name)}
        config = {"HostedZoneConfig": {**comment, "PrivateZone": zone.private}}
        if zone.private:
            config["VPC"] = {"VPCRegion": spec.aws.region, "VPCId": zone.vpc_ids[0]}
        zones[zone.zone] = route53.create_hosted_zone(Name=zone.zone, CallerReference=zone.zone,
                                                      **config)["HostedZone"]["Id"]
    changes: dict[str, list[dict]] = {}
    for record in of(AwsRoute53Record):
        if record.alias_gateway:
            lb = balancers[record.alias_gateway]
            change = {"Name": record.fqdn, "Type": record.type, "AliasTarget": {
                "HostedZoneId": lb["CanonicalHostedZoneId"], "DNSName": lb["DNSName"], "EvaluateTargetHealth": True}}
        else:
            change = {"Name": record.fqdn, "Type": record.type, "TTL": record.ttl,
                      "ResourceRecords": [{"Value": v} for v in record.records]}
        changes.setdefault(zones[record.zone], []).append({"Action": "CREATE", "ResourceRecordSet": change})
    for zone_id, batch in changes.items():
        for start in range(0, len(batch), ROUTE53_BATCH):  # large estates seed in seconds
            route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={
                "Changes": batch[start:start + ROUTE53_BATCH]})


def _tags(desired: IR, foreign: bool) -> dict[str, str]:
    """edgec's tags (the spec's and its ownership tags); foreign, the spec's alone without edgec's."""
    tags = ownership_tags(desired.estate)
    if foreign:
        for key in OWNERSHIP_TAG_KEYS:
            tags.pop(key)
    return tags
