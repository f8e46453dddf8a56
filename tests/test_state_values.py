"""Refresh by list, AWS side: Terraform's state of a gateway resource against the values AWS answers.
(End to end, with terraform and moto: tests/test_apply_e2e.py.)"""

from __future__ import annotations

from edgec.layers.aws.state_values import differences, listener_values, load_balancer_values, tag_map

STATE_LB = {  # as `terraform show -json` holds an NLB the AWS provider created
    "name": "acme-public", "load_balancer_type": "network", "internal": False,
    "subnets": ["subnet-b", "subnet-a"], "security_groups": ["sg-1"], "enable_deletion_protection": True,
    "access_logs": [{"bucket": "", "enabled": False, "prefix": ""}], "minimum_load_balancer_capacity": [],
    "tags_all": {"Name": "acme-public", "managed-by": "edgec"},
}
LIVE_LB = {"LoadBalancerName": "acme-public", "Type": "network", "SecurityGroups": ["sg-1"]}
TAGS = [{"Key": "managed-by", "Value": "edgec"}, {"Key": "Name", "Value": "acme-public"}]


def live_lb(**changed) -> dict:
    values = load_balancer_values(LIVE_LB, ("subnet-a", "subnet-b"), False, TAGS)
    return {**values, "enable_deletion_protection": "true", "access_logs.0.enabled": "false",
            "access_logs.0.bucket": "", "minimum_load_balancer_capacity.0.capacity_units": None, **changed}


def test_a_state_as_the_provider_writes_it_matches_the_api_answer_it_came_from():
    # "true" is true, sets in any order, a block the state holds as [] is an absent one
    assert differences(STATE_LB, live_lb()) == []


def test_no_values_is_the_same_whichever_way_the_state_holds_it():
    # Terraform's import writes an alias record's `records` as [], its create as null
    live = {"records": None, "ttl": 0}
    assert differences({"records": [], "ttl": 0}, live) == differences({"records": None, "ttl": 0}, live) == []
    assert differences({"records": ["10.0.0.1"], "ttl": 0}, live) == ["records"]


def test_each_attribute_changed_live_is_named():
    assert differences(STATE_LB, live_lb(enable_deletion_protection="false")) == ["enable_deletion_protection"]
    assert differences(STATE_LB, live_lb(**{"access_logs.0.enabled": "true"})) == ["access_logs.0.enabled"]
    assert differences(STATE_LB, live_lb(**{"minimum_load_balancer_capacity.0.capacity_units": 100})) == [
        "minimum_load_balancer_capacity.0.capacity_units"]
    assert differences(STATE_LB, live_lb(tags_all=tag_map(TAGS[:1]))) == ["tags_all"]  # a tag removed by hand
    assert differences(STATE_LB, live_lb(tags_all=tag_map([*TAGS, {"Key": "x", "Value": "y"}]))) == ["tags_all"]
    assert differences(STATE_LB, live_lb(subnets=["subnet-a"])) == ["subnets"]


def test_a_default_action_added_live_is_a_difference():
    state = {"port": 443, "protocol": "TCP", "ssl_policy": None, "alpn_policy": None, "certificate_arn": None,
             "default_action": [{"type": "forward", "target_group_arn": "arn:tg", "order": 1}]}
    one = {"Port": 443, "Protocol": "TCP", "DefaultActions": [{"Type": "forward", "TargetGroupArn": "arn:tg"}]}
    assert differences(state, listener_values(one, [], None)) == []
    two = {**one, "DefaultActions": [*one["DefaultActions"], {"Type": "forward", "TargetGroupArn": "arn:other"}]}
    assert differences(state, listener_values(two, [], None)) == ["default_action.1.target_group_arn",
                                                             "default_action.1.type"]
    assert differences(state, listener_values({**one, "AlpnPolicy": ["HTTP2Preferred"]}, [], None)) == ["alpn_policy"]
