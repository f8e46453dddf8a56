"""Make a plan: compile the desired IR, read each layer (concurrently), diff, collect the budget."""

from __future__ import annotations

import datetime
from concurrent.futures import ThreadPoolExecutor

from edgec.diff.aws import diff_aws
from edgec.diff.cloudflare import diff_cloudflare
from edgec.diff.envoy import diff_envoy
from edgec.emit.envoy import bootstrap
from edgec.read.envoy import desired_view, live_view, read_config_dump
from edgec.diff.ignore import apply_ignores
from edgec.diff.plan import LAYERS, Plan, PlanOptions
from edgec.ir.build import build_ir
from edgec.read.aws import AwsLive, aws_session, read_aws
from edgec.read.budget import ApiCalls, ReadError
from edgec.read.cloudflare import cloudflare_client, read_cloudflare
from edgec.spec.model import Spec

NOT_REQUESTED = "not requested (--layer)"


def make_plan(spec: Spec, options: PlanOptions, progress=lambda message: None) -> Plan:
    """Reads only; never changes anything. A failed read is an error in the plan, not an empty layer."""
    plan = Plan(spec.name)
    calls = ApiCalls()
    desired = build_ir(spec)
    uses_cloudflare = any(zone.provider == "cloudflare" for zone in spec.zones.values())
    uses_aws = spec.aws is not None and bool(spec.gateways or any(z.provider == "route53" for z in spec.zones.values()))
    for layer, used in (("aws", uses_aws), ("cloudflare", uses_cloudflare)):
        if used and layer not in options.layers:
            plan.layers_not_read[layer] = NOT_REQUESTED
    uses_aws, uses_cloudflare = uses_aws and "aws" in options.layers, uses_cloudflare and "cloudflare" in options.layers
    progress("reading " + " and ".join(n for n, used in (("AWS", uses_aws), ("Cloudflare", uses_cloudflare)) if used))
    with ThreadPoolExecutor(max_workers=2) as pool:
        aws = pool.submit(_read, lambda: read_aws(spec, aws_session(calls, spec.aws.region))) if uses_aws else None
        cloudflare = pool.submit(_read, lambda: read_cloudflare(spec, cloudflare_client(
            calls, options.cloudflare_rate, options.max_retries, timeout=options.timeout))) if uses_cloudflare else None
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
        _envoy(spec, options, plan, calls)
    plan.calls = calls.as_dict()
    return plan


def _envoy(spec: Spec, options: PlanOptions, plan: Plan, calls: ApiCalls) -> None:
    if "envoy" not in options.layers:
        plan.layers_not_read["envoy"] = NOT_REQUESTED
        return
    missing = sorted(set(spec.gateways) - set(options.envoy_admins))
    if missing:
        plan.layers_not_read["envoy"] = (f"no admin URL for gateway(s) {', '.join(missing)} "
                                         "(--envoy-admin GATEWAY=URL)")
    for gateway, url in sorted(options.envoy_admins.items()):
        if gateway not in spec.gateways:
            plan.errors.append(f"--envoy-admin names gateway '{gateway}', which the spec does not have")
            continue
        try:
            live = live_view(read_config_dump(gateway, url, calls))
        except ReadError as exc:
            plan.errors.append(str(exc))
            continue
        plan.changes += diff_envoy(gateway, desired_view(bootstrap(spec, gateway, spec.gateways[gateway])), live)
        if "envoy" not in plan.layers_read:
            plan.layers_read.append("envoy")


def _read(reader):
    try:
        return reader(), None
    except ReadError as exc:
        return None, str(exc)
