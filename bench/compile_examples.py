"""Benchmark: wall time of validate + compile for each example, and for a synthetic estate.

Run: .venv/bin/python bench/compile_examples.py [--hosts N] [--repeat R]
Prints a table and writes bench/results/compile.json.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import sys
import tempfile
import time

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from edgec.emit.compile import compile_spec  # noqa: E402
from edgec.spec.validate import validate  # noqa: E402


def synthetic_spec(hosts: int) -> dict:
    """An estate with `hosts` public hostnames, each with three routes, on one gateway."""
    return {
        "apiVersion": "edgec/v1", "name": "synthetic",
        "aws": {"region": "eu-west-1", "vpc_id": "vpc-0abc", "subnets": {"public": ["subnet-0a", "subnet-0b"]}},
        "zones": {"example.com": {"provider": "cloudflare"}},
        "certificates": {"origin": {"source": "cloudflare-origin-ca", "domains": ["*.example.com"]}},
        "gateways": {"public": {"exposure": "public", "tls": {"certificate": "origin"}}},
        "services": {f"svc{i}": {"endpoints": [f"svc{i}.ns.svc.cluster.local:8080"]} for i in range(100)},
        "ingresses": [{"host": f"h{i}.example.com", "gateway": "public", "routes": [
            {"path": "/v1", "service": f"svc{i % 100}"}, {"exact": "/healthz", "service": f"svc{i % 100}"},
            {"path": "/", "service": f"svc{(i + 1) % 100}"}]} for i in range(hosts)],
    }


def measure(spec_path: str, repeat: int) -> dict:
    times = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as out:
            started = time.perf_counter()
            result = validate(spec_path)
            compiled = compile_spec(result.spec, out)
            times.append(time.perf_counter() - started)
    return {"median_s": round(statistics.median(times), 4), "max_s": round(max(times), 4),
            "files": len(compiled.files), "resources": dict(compiled.resources), "repeat": repeat}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000, help="hostnames in the synthetic estate")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    results = {}
    for example in sorted((ROOT / "examples").iterdir()):
        results[example.name] = measure(str(example / "edge.yaml"), args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "synthetic.yaml"
        path.write_text(yaml.safe_dump(synthetic_spec(args.hosts)))
        results[f"synthetic-{args.hosts}-hosts"] = measure(str(path), max(1, args.repeat // 2))
    print(f"{'spec':32} {'median':>9} {'max':>9} {'files':>6}  resources")
    for name, r in results.items():
        print(f"{name:32} {r['median_s']:8.3f}s {r['max_s']:8.3f}s {r['files']:6}  {r['resources']}")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "compile.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out / 'compile.json'}")


if __name__ == "__main__":
    main()
