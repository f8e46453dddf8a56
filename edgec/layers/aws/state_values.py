"""Refresh by list, AWS side: the live values of the Terraform state attributes of the gateway resources
(NLBs, target groups, listeners, security groups and their rules, Route 53 zones), so that `edgec apply`
can tell whether Terraform's state of each still holds what is live (edgec/apply/refresh.py).

Values are keyed as `terraform show -json` keys a resource's state: an attribute (`internal`), or a path
into a block (`stickiness.0.enabled`). The plan's read gives most of them (`values` in each resource's
facts); what a plan does not need — NLB and target group attributes, NLB capacity reservations, the
zones' tags, a private zone's VPCs — `read_state_values` reads at apply, with batched calls where the
API has them. What is covered, per type, is every attribute the configuration sets, and every one the
provider does not compute itself when the configuration leaves it out (those would make Terraform plan
a change when they change live); the others (Optional+Computed in the provider's schema, or ALB-only)
cannot. Types not covered here (ACM certificates and their validation,
SNI certificates of listeners) are always refreshed.
"""

from __future__ import annotations

from edgec.read.answers import answer_of, items, required, required_text

TAGS_PER_CALL = 20  # ELBv2 DescribeTags
ZONE_TAGS_PER_CALL = 10  # Route 53 ListTagsForResources

# NLB and target group attributes (Describe*Attributes keys) -> the state path they are stored at. Keys not
# here are Optional+Computed in the provider (load_balancing.algorithm.type, tcp.idle_timeout.seconds ...)
# or for ALBs only.
LOAD_BALANCER_ATTRIBUTES = {
    "deletion_protection.enabled": "enable_deletion_protection",
    "load_balancing.cross_zone.enabled": "enable_cross_zone_load_balancing",
    "dns_record.client_routing_policy": "dns_record_client_routing_policy",
    "zonal_shift.config.enabled": "enable_zonal_shift",
    "access_logs.s3.enabled": "access_logs.0.enabled",
    "access_logs.s3.bucket": "access_logs.0.bucket",
    "access_logs.s3.prefix": "access_logs.0.prefix",
}
TARGET_GROUP_ATTRIBUTES = {
    "deregistration_delay.timeout_seconds": "deregistration_delay",
    "preserve_client_ip.enabled": "preserve_client_ip",
    "proxy_protocol_v2.enabled": "proxy_protocol_v2",
    "stickiness.enabled": "stickiness.0.enabled",
    "stickiness.type": "stickiness.0.type",
    "slow_start.duration_seconds": "slow_start",
    "target_health_state.unhealthy.connection_termination.enabled":
        "target_health_state.0.enable_unhealthy_connection_termination",
    "target_group_health.dns_failover.minimum_healthy_targets.count":
        "target_group_health.0.dns_failover.0.minimum_healthy_targets_count",
    "target_group_health.dns_failover.minimum_healthy_targets.percentage":
        "target_group_health.0.dns_failover.0.minimum_healthy_targets_percentage",
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count":
        "target_group_health.0.unhealthy_state_routing.0.minimum_healthy_targets_count",
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage":
        "target_group_health.0.unhealthy_state_routing.0.minimum_healthy_targets_percentage",
}


def tag_map(tags: list[dict] | None) -> dict[str, str]:
    """AWS's [{Key, Value}] as the state's `tags_all`."""
    with answer_of("tags"):
        return {required_text(t, "Key"): required(t, "Value") for t in items(tags or [], "Tags")}


def security_group_values(group: dict) -> dict:
    return {"name": group["GroupName"], "description": group.get("Description", ""), "vpc_id": group.get("VpcId"),
            "tags_all": tag_map(group.get("Tags"))}


def load_balancer_values(lb: dict, subnets: tuple[str, ...], internal: bool, tags: list[dict] | None) -> dict:
    return {"name": lb["LoadBalancerName"], "load_balancer_type": lb.get("Type"), "internal": internal,
            "subnets": list(subnets), "security_groups": list(lb.get("SecurityGroups") or []),
            "tags_all": tag_map(tags)}


def target_group_values(group: dict, tags: list[dict] | None) -> dict:
    health = {"enabled": group.get("HealthCheckEnabled"), "healthy_threshold": group.get("HealthyThresholdCount"),
              "interval": group.get("HealthCheckIntervalSeconds"),
              "matcher": (group.get("Matcher") or {}).get("HttpCode"),
              "path": group.get("HealthCheckPath"), "port": group.get("HealthCheckPort"),
              "protocol": group.get("HealthCheckProtocol"), "timeout": group.get("HealthCheckTimeoutSeconds"),
              "unhealthy_threshold": group.get("UnhealthyThresholdCount")}
    return {"name": group["TargetGroupName"], "port": group.get("Port"), "protocol": group.get("Protocol"),
            "target_type": group.get("TargetType"), "vpc_id": group.get("VpcId"), "tags_all": tag_map(tags),
            **{f"health_check.0.{key}": value for key, value in health.items()}}


def listener_values(listener: dict, certificate_arns: list[str], tags: list[dict] | None) -> dict:
    actions = [a for a in items(listener.get("DefaultActions", []), "DefaultActions") if isinstance(a, dict)]
    values = {"port": listener.get("Port"), "protocol": listener.get("Protocol"),
              "ssl_policy": listener.get("SslPolicy"),
              "alpn_policy": next(iter(listener.get("AlpnPolicy") or []), None),
              "certificate_arn": certificate_arns[0] if certificate_arns else None, "tags_all": tag_map(tags),
              f"default_action.{len(actions)}.type": None}  # no more actions than live
    for index, action in enumerate(actions):
        values[f"default_action.{index}.type"] = action.get("Type")
        values[f"default_action.{index}.target_group_arn"] = action.get("TargetGroupArn")
    return values


def rule_values(rule: dict) -> dict:
    every_port = rule.get("IpProtocol") == "-1"  # the provider holds no ports then
    return {"security_group_id": rule.get("GroupId"), "ip_protocol": rule.get("IpProtocol"),
            "from_port": None if every_port else rule.get("FromPort"),
            "to_port": None if every_port else rule.get("ToPort"),
            "cidr_ipv4": rule.get("CidrIpv4"), "cidr_ipv6": rule.get("CidrIpv6"),
            "prefix_list_id": rule.get("PrefixListId"),
            "referenced_security_group_id": (rule.get("ReferencedGroupInfo") or {}).get("GroupId"),
            "description": rule.get("Description"), "tags_all": tag_map(rule.get("Tags"))}


def record_values(fqdn: str, record: dict, values: list[str]) -> dict | None:
    """A record set's values as the provider holds them; None for TXT and SPF, whose values the provider
    unquotes and splits its own way (those are compared with the spec instead)."""
    if record["Type"] in ("TXT", "SPF"):
        return None
    alias = record.get("AliasTarget")
    alias = alias if isinstance(alias, dict) else {}
    return {"name": fqdn, "type": record["Type"], "ttl": record.get("TTL", 0),  # 0: an alias has no TTL
            "records": sorted(values) or None, "set_identifier": record.get("SetIdentifier", ""),
            "health_check_id": record.get("HealthCheckId", ""),
            # as the provider normalises an alias target: lower case, no "dualstack." nor final dot
            "alias.0.name": (str(alias["DNSName"]).lower().removeprefix("dualstack.").rstrip(".")
                             if "DNSName" in alias else None),
            "alias.0.zone_id": alias.get("HostedZoneId"),
            "alias.0.evaluate_target_health": alias.get("EvaluateTargetHealth")}


def zone_values(name: str, comment: str | None) -> dict:
    return {"name": name, "comment": comment}


def differences(state: dict, live: dict) -> list[str]:
    """The state paths whose value differs from live (values compared as the API writes them: "true" is
    true, "60" is 60, lists in any order, nothing as none)."""
    return sorted(path for path, value in live.items() if _canonical(_at(state, path)) != _canonical(value))


def _at(values, path: str):
    for part in path.split("."):
        if isinstance(values, list):
            values = values[int(part)] if part.isdigit() and int(part) < len(values) else None
        elif isinstance(values, dict):
            values = values.get(part)
        else:
            return None
    return values


def _canonical(value):
    if value is None or value == [] or value == {}:  # an imported record holds `records = []`, a created one null
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(int(value)) if float(value).is_integer() else str(value)
    if isinstance(value, list):
        return tuple(sorted(map(str, map(_canonical, value))))
    if isinstance(value, dict):
        return tuple(sorted((key, _canonical(item)) for key, item in value.items()))
    return value
