"""What `edgec apply` of a one-record change costs after a full apply: refresh by list against Terraform's
own refresh (docs/apply.md, "Refresh by list"; bench/run.py's `apply` step).

AWS layer, measured: moto (in this process, with its request recorder) holds only the network; `edgec apply
--layer aws` applies the estate's AWS layer through Terraform and the AWS provider; then one Route 53
record of the spec changes and is applied by list (the default), then another with `--full-refresh`
(Terraform's own refresh), from the same state. Every request moto receives is counted: reads (Describe,
List, Get) and writes. `edgec plan --layer aws` is counted the same way, for the baseline.

Cloudflare layer, counted from the compiled configuration: no Cloudflare provider binary runs here.
Terraform's refresh reads each resource in its state with one GET at least; refresh by list reads the
changed record and the resources of types edgec does not read in full (edgec's read is plan's).
"""

from __future__ import annotations

import base64
import collections
import json
import os
import pathlib
import shutil
import urllib.parse
import urllib.request

import yaml

from edgec.layers.cloudflare import LAYER as CLOUDFLARE
from edgec.spec.validate import validate

# moto's request recorder writes here (read when moto is first imported, by the sandbox)
os.environ.setdefault("MOTO_RECORDER_FILEPATH", str(pathlib.Path(os.environ.get("TMPDIR", "/tmp"))
                                                    / f"edgec-bench-moto-{os.getpid()}.jsonl"))

# The documented budgets reads are paced to: Route 53 5 requests/s per account; Cloudflare 1,200 per 5 min.
ROUTE53_PER_S = 5.0
CLOUDFLARE_PER_S = 1200 / 300
READS = ("Describe", "List", "Get")
SETUP_PARALLELISM = 200


def one_record_change(spec_dir: pathlib.Path, work: pathlib.Path, measure, env: dict, edgec: str,
                      plugin_dir: str, plan_calls: dict) -> dict:
    """The figures of the `apply` step; `measure` runs a command (bench/run.py's), `plan_calls` are the
    sandbox plan's API calls by provider."""
    from edgec.sandbox.run import moto_provider_override, spec_for_moto, start_moto

    server, url = start_moto()
    try:
        import boto3

        estate = work / "apply-estate"
        shutil.copytree(spec_dir, estate, dirs_exist_ok=True)
        root = estate / "edge.yaml"
        data = yaml.safe_load(root.read_text())
        for entry in data.get("certificates", {}).values():  # spec_for_moto takes them from the working directory
            if "certificate_file" in entry:
                entry["certificate_file"] = str(estate / entry["certificate_file"])
        session = boto3.Session(region_name=data["aws"]["region"], aws_access_key_id="bench",
                                aws_secret_access_key="bench")
        spec_for_moto(session, url, data, root)
        out = work / "apply-out"
        (out / "terraform" / "aws").mkdir(parents=True, exist_ok=True)
        (out / "terraform" / "aws" / "moto_override.tf").write_text(moto_provider_override(url))
        env = {**env, "AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
               "AWS_DEFAULT_REGION": data["aws"]["region"], "EDGEC_PLUGIN_DIR": plugin_dir, "CHECKPOINT_DISABLE": "1"}
        apply = [edgec, "apply", "--auto-approve", "--layer", "aws", "-o", str(out), str(root)]

        # Set-up: the AWS provider waits 10 to 30 s after each Route 53 change before it asks whether the
        # change is in sync, so at Terraform's parallelism of 10 the first apply takes about 2 s a record
        # (100 min for the 3,000 records of 10,000 hostnames); the set-up runs 200 at once.
        setup = {**env, "TF_CLI_ARGS_apply": f"-parallelism={SETUP_PARALLELISM}"}
        first = _counted(url, lambda: measure(apply, env=setup))
        failed_first = None
        if first["rc"] != 0:  # as a user would: run it again, to converge (what was created is adopted)
            failed_first = (first["stderr"] or first["stdout"])[-400:]
            first = _counted(url, lambda: measure(apply, env=setup))
        plan = _counted(url, lambda: measure([edgec, "plan", "--layer", "aws", str(root)], env=env))
        _change_a_record(root, "10.20.0.11")
        by_list = _counted(url, lambda: measure(apply, env=env))
        _change_a_record(root, "10.20.0.12")
        full = _counted(url, lambda: measure([*apply, "--full-refresh"], env=env))
    finally:
        server.stop()
    return {"aws": {**_aws_figures(first, plan, by_list, full), "full_apply_first_attempt_failed": failed_first},
            "cloudflare": _cloudflare_figures(validate(str(root)).ir, plan_calls.get("cloudflare", 0))}


def _change_a_record(root: pathlib.Path, address: str) -> None:
    """The `ldap` A record of the first Route 53 zone gets another address."""
    data = yaml.safe_load(root.read_text())
    zone = next(name for name, z in data["zones"].items() if z["provider"] == "route53")
    next(r for r in data["dns"][zone] if r["name"] == "ldap")["content"] = address
    root.write_text(yaml.safe_dump(data, sort_keys=False))


def _counted(url: str, run) -> dict:
    """`run()`'s result, with the requests moto received meanwhile, by operation."""
    _recorder(url, "reset-recording")
    _recorder(url, "start-recording")
    result = run()
    _recorder(url, "stop-recording")
    lines = _recorder(url, "download-recording").splitlines()
    result["calls"] = collections.Counter(_operation(json.loads(line)) for line in lines if line.strip())
    return result


def _recorder(url: str, action: str) -> str:
    method = "GET" if action == "download-recording" else "POST"
    request = urllib.request.Request(f"{url}/moto-api/recorder/{action}", method=method)
    with urllib.request.urlopen(request, timeout=60) as answer:
        return answer.read().decode()


def _operation(entry: dict) -> str:
    """Query APIs (EC2, ELBv2) name the action in the body; Route 53 is REST (GET reads, POST writes)."""
    body = entry.get("body") or ""
    if entry.get("body_encoded"):
        body = base64.b64decode(body).decode(errors="replace")
    action = urllib.parse.parse_qs(body).get("Action")
    if action:
        return action[0]
    target = (entry.get("headers") or {}).get("X-Amz-Target")
    if target:
        return target.split(".")[-1]
    path = urllib.parse.urlparse(entry["url"]).path
    return f"route53 {entry['method']} {path.rsplit('/', 1)[-1] if 'rrset' in path else path.split('/')[2]}"


def _is_read(operation: str) -> bool:
    # Route 53's ListTagsForResources is a POST (of the IDs to list)
    return operation.startswith(READS) or operation.startswith("route53 GET") or operation == "route53 POST tags"


def _reads(calls: collections.Counter) -> int:
    return sum(n for op, n in calls.items() if _is_read(op))


def _aws_figures(first: dict, plan: dict, by_list: dict, full: dict) -> dict:
    def run(result: dict) -> dict:
        reads = _reads(result["calls"])
        return {"ok": result["rc"] == 0, "wall_s": result["wall_s"], "reads": reads,
                "writes": sum(result["calls"].values()) - reads,
                "reads_at_route53_limit_s": round(reads / ROUTE53_PER_S, 1),
                "reads_by_operation": dict(sorted((op, n) for op, n in result["calls"].items() if _is_read(op)))}

    figures = {"full_apply": run(first), "plan": run(plan), "by_list": run(by_list), "full_refresh": run(full)}
    # what refresh by list decided, as edgec said it ("aws layer: all 42 resource(s) ... match ...")
    figures["by_list"]["refresh"] = next((line for line in (by_list["stdout"] or "").splitlines()
                                          if line.startswith("aws layer:")), None)
    figures["by_list_within_plan_plus_20"] = figures["by_list"]["reads"] <= figures["plan"]["reads"] + 20
    figures["errors"] = [r["stderr"][-400:] or r["stdout"][-400:] for r in (first, plan, by_list, full)
                         if r["rc"] != 0]
    return figures


def _cloudflare_figures(ir, plan_calls: int) -> dict:
    """Terraform's reads counted from the configuration (one GET per resource at least), beside edgec's."""
    types = collections.Counter(r.resource_type for r in ir.in_layer("cloudflare"))
    not_compared = sum(n for t, n in types.items() if t not in CLOUDFLARE.compared_types)
    by_list = plan_calls + 1 + not_compared  # edgec's read, the changed record, what edgec cannot vouch for
    full = sum(types.values())
    return {"resources": full, "plan_calls": plan_calls, "by_list_reads": by_list, "full_refresh_reads": full,
            "by_list_at_limit_s": round(by_list / CLOUDFLARE_PER_S, 1),
            "full_refresh_at_limit_s": round(full / CLOUDFLARE_PER_S, 1),
            "not_read_in_full": not_compared}


def describe(figures: dict) -> str:
    aws, cf = figures["aws"], figures["cloudflare"]
    return (f"AWS reads: plan {aws['plan']['reads']}, apply by list {aws['by_list']['reads']} "
            f"({aws['by_list']['wall_s']}s), full refresh {aws['full_refresh']['reads']} "
            f"({aws['full_refresh']['wall_s']}s); Cloudflare reads (counted): by list {cf['by_list_reads']}, "
            f"full refresh {cf['full_refresh_reads']} ({cf['full_refresh_at_limit_s']}s at 1,200/5 min)")

