"""Benchmark: wall time of validate + compile for each example (in-process, repeated; for estates of
1k to 20k hostnames, see bench/run.py).

Run: .venv/bin/python bench/compile_examples.py [--repeat R]
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

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from edgec.emit.compile import compile_ir  # noqa: E402
from edgec.spec.validate import validate  # noqa: E402


def measure(spec_path: str, repeat: int) -> dict:
    times = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as out:
            started = time.perf_counter()
            result = validate(spec_path)
            compiled = compile_ir(result.ir, out)
            times.append(time.perf_counter() - started)
    return {"median_s": round(statistics.median(times), 4), "max_s": round(max(times), 4),
            "files": len(compiled.files), "resources": dict(compiled.resources), "repeat": repeat}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    results = {}
    for example in sorted(p for p in (ROOT / "examples").iterdir() if (p / "edge.yaml").exists()):
        results[example.name] = measure(str(example / "edge.yaml"), args.repeat)
    print(f"{'spec':32} {'median':>9} {'max':>9} {'files':>6}  resources")
    for name, r in results.items():
        print(f"{name:32} {r['median_s']:8.3f}s {r['max_s']:8.3f}s {r['files']:6}  {r['resources']}")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "compile.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out / 'compile.json'}")


if __name__ == "__main__":
    main()
