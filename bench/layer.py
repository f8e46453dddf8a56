"""Validate a spec and compile one layer of it, for bench/run.py: run in its own process, so that the
process's peak RSS is that layer's. Prints the phases' wall times as JSON.

Run: .venv/bin/python bench/layer.py terraform|envoy SPEC OUT_DIR (terraform: every Terraform layer)
"""

from __future__ import annotations

import json
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from edgec.layers import LAYERS  # noqa: E402
from edgec.memory import cyclic_gc_paused  # noqa: E402
from edgec.spec.validate import validate  # noqa: E402


def main() -> None:
    layer, spec_path, out = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
    phases = {}
    started = time.perf_counter()
    result = validate(spec_path)
    if not result.ok:
        raise SystemExit(f"{spec_path} does not validate")
    phases["validate_s"] = time.perf_counter() - started
    mark = time.perf_counter()
    with cyclic_gc_paused():  # as `edgec compile` does
        files = {path: text for each in LAYERS if each.terraform == (layer == "terraform")
                 for path, text in each.emit(result.ir).items()}
    phases["emit_s"] = time.perf_counter() - mark
    mark = time.perf_counter()
    for path, content in files.items():
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        (out / path).write_text(content)
    phases["write_s"] = time.perf_counter() - mark
    phases["files"] = len(files)
    phases["bytes"] = sum(len(content) for content in files.values())
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in phases.items()}))


if __name__ == "__main__":
    main()
