"""Make a plan: compile the desired IR, read each layer (concurrently), diff, collect the budget."""

from __future__ import annotations

import datetime
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from edgec.diff.aws import diff_aws
from edgec.diff.cloudflare import diff_cloudflare
from edgec.diff.ignore import apply_ignores
from edgec.diff.plan import Plan
from edgec.ir.build import build_ir
from edgec.read.aws import AwsLive, aws_session, read_aws
from edgec.read.budget import DEFAULT_CLOUDFLARE_RATE, ApiCalls, ReadError
from edgec.read.cloudflare import cloudflare_client, read_cloudflare
from edgec.spec.model import Spec

NOT_YET = "edgec cannot read this layer yet"


@dataclass
class PlanOptions:
    cloudflare_rate: float = DEFAULT_CLOUDFLARE_RATE
    max_retries: int = 4
    today: datetime.date | None = None  # for ignore-rule expiry; None: the real date


def make_plan(spec: Spec, options: PlanOptions, progress=lambda message: None) -> Plan:
    """Reads only; never changes anything. A failed read is an error in the plan, not an empty layer."""
    plan = Plan(spec.name)
    calls = ApiCalls()
    desired = build_ir(spec)
    uses_cloudflare = any(zone.provider == "cloudflare" for zone in spec.zones.values())
    uses_aws = spec.aws is not None and bool(spec.gateways or any(z.provider == "route53" for z in spec.zones.values()))
    progress("reading " + " and ".join(n for n, used in (("AWS", uses_aws), ("Cloudflare", uses_cloudflare)) if used))
    with ThreadPoolExecutor(max_workers=2) as pool:
        aws = pool.submit(_read, lambda: read_aws(spec, aws_session(calls, spec.aws.region))) if uses_aws else None
        cloudflare = pool.submit(_read, lambda: read_cloudflare(spec, cloudflare_client(
            calls, options.cloudflare_rate, options.max_retries))) if uses_cloudflare else None
    aws_live: AwsLive | None = None
    if aws is not None:
        aws_live, error = aws.result()
        if error:
            plan.errors.append(error)
        else:
            plan.changes += diff_aws(desired, aws_live)
            plan.layers_read.append("aws")
    if cloudflare is not None:
        live, error = cloudflare.result()
        if error:
            plan.errors.append(error)
        else:
            names = aws_live.nlb_dns_names if aws_live else None
            plan.changes += diff_cloudflare(spec, desired, live, names)
            plan.layers_read.append("cloudflare")
    plan.changes, plan.notes = apply_ignores(plan.changes, spec.ignore, options.today or datetime.date.today())
    if spec.gateways:
        plan.layers_not_read["envoy"] = NOT_YET
    plan.calls = calls.as_dict()
    return plan


def _read(reader):
    try:
        return reader(), None
    except ReadError as exc:
        return None, str(exc)
