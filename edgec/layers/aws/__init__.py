"""The AWS layer: NLBs, listeners, target groups and security groups per gateway; Route 53 zones and
records; ACM certificates. Applied first: the Cloudflare layer looks the NLBs up by name."""

from __future__ import annotations

from edgec.diff.plan import Change, PlanOptions
from edgec.emit.terraform import render_layer
from edgec.ir.model import IR, Resource
from edgec.layers.aws.build import build_aws
from edgec.layers.aws.compare import compare_aws
from edgec.layers.aws.emit import emit_aws
from edgec.layers.aws.state_values import differences
from edgec.layers.base import EmitOptions, Layer, LiveLayer, ReadContext
from edgec.read.budget import ApiCalls
from edgec.spec.model import Spec


class AwsLayer(Layer):
    name, title, terraform = "aws", "AWS", True
    # Load balancers, target groups, listeners, groups and zones have attributes the plan does not read
    # (cross-zone, health check timings, tags): apply checks their state against live (state_differences).
    compared_types = frozenset({"aws_route53_record", "aws_vpc_security_group_ingress_rule",
                                "aws_vpc_security_group_egress_rule"})

    def build(self, spec: Spec) -> list[Resource]:
        return build_aws(spec)

    def emit(self, ir: IR, options: EmitOptions = EmitOptions()) -> dict[str, str]:
        return render_layer("terraform/aws", emit_aws(ir), ir.estate.name)

    def used(self, ir: IR) -> bool:
        return ir.estate.aws is not None and bool(ir.in_layer(self.name))

    def read(self, ir: IR, context: ReadContext) -> LiveLayer:
        from edgec.layers.aws.read import (  # brings boto3: only when a plan reads
            aws_session,
            read_aws,
        )

        assert ir.estate.aws is not None
        options = context.options
        return read_aws(ir, aws_session(context.calls, ir.estate.aws.region, options.timeout, options.max_retries + 1))

    def compare(self, ir: IR, live: dict[str, LiveLayer]) -> list[Change]:
        return compare_aws(ir, live)

    def import_ids(self, live: LiveLayer) -> dict[str, str]:
        """The AWS provider imports what edgec reads by the ID its state holds (the reader's `id` fact):
        sg-..., sgr-..., an ARN, a bare zone ID, ZONEID_name_TYPE for a record set."""
        return {address: facts["id"] for address, facts in live.facts.items() if facts.get("id")}

    def state_import_id(self, resource_type: str, values: dict) -> str | None:
        return values.get("id")

    def state_differences(self, ir: IR, resources: list[dict], live: LiveLayer,
                          options: PlanOptions) -> dict[str, list[str]]:
        """Gateway resources, security groups and rules, zones (edgec/layers/aws/state_values.py)."""
        from edgec.layers.aws.read import aws_session, read_state_values

        assert ir.estate.aws is not None
        session = aws_session(ApiCalls(), ir.estate.aws.region, options.timeout, options.max_retries + 1)
        states = {r["address"]: r.get("values") or {} for r in resources}
        found = read_state_values(live, session, set(states))
        return {address: differences(states[address], values) for address, values in found.items()}


LAYER = AwsLayer()
