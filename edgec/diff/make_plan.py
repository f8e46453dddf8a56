"""Make a plan: compile the desired IR, read each layer that can be read, diff, collect the budget."""

from __future__ import annotations

from dataclasses import dataclass

from edgec.diff.cloudflare import diff_cloudflare
from edgec.diff.plan import Plan
from edgec.ir.build import build_ir
from edgec.read.budget import DEFAULT_CLOUDFLARE_RATE, ApiCalls, ReadError
from edgec.read.cloudflare import cloudflare_client, read_cloudflare
from edgec.spec.model import Spec

NOT_YET = "edgec cannot read this layer yet"


@dataclass
class PlanOptions:
    cloudflare_rate: float = DEFAULT_CLOUDFLARE_RATE
    max_retries: int = 4


def make_plan(spec: Spec, options: PlanOptions, progress=lambda message: None) -> Plan:
    """Reads only; never changes anything. A failed read is an error in the plan, not an empty layer."""
    plan = Plan(spec.name)
    calls = ApiCalls()
    desired = build_ir(spec)
    if any(zone.provider == "cloudflare" for zone in spec.zones.values()):
        progress("reading Cloudflare")
        try:
            live = read_cloudflare(spec, cloudflare_client(calls, options.cloudflare_rate, options.max_retries))
            plan.changes += diff_cloudflare(spec, desired, live)
            plan.layers_read.append("cloudflare")
        except ReadError as exc:
            plan.errors.append(str(exc))
    if spec.gateways or any(zone.provider == "route53" for zone in spec.zones.values()):
        plan.layers_not_read["aws"] = NOT_YET
    if spec.gateways:
        plan.layers_not_read["envoy"] = NOT_YET
    plan.calls = calls.as_dict()
    return plan
