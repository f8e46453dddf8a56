"""Where each Terraform layer keeps its state, decided before any Terraform command runs.

A layer's backend comes from the spec (`terraform.backend`, written by compile into the layer's
`versions.tf`) or from a `*.tf` file of the user's in the layer's folder (a `backend.tf`, an
`*_override.tf`) with a `backend "TYPE"` or `cloud` block; Terraform accepts only one. Without either,
the state is a local `terraform.tfstate` in the folder. Under CI (`CI=true`, as GitHub Actions, GitLab CI
and most CI systems set it) a local state is lost with the runner (every run would start from an empty
state) and nothing locks two runs against each other, so `edgec apply` refuses such a layer.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from edgec.ir.model import IR

# a backend or HCP Terraform `cloud` block, at the start of a line (a commented-out one does not count)
_BACKEND = re.compile(r'^[ \t]*(?:backend[ \t]+"([A-Za-z0-9_-]+)"|(cloud))[ \t]*\{', re.MULTILINE)


@dataclass(frozen=True)
class LayerState:
    layer: str
    folder: str
    backend: str | None  # s3, gcs, cloud, local, ...; None: no backend at all (local state)
    declared_in: str | None  # the spec, or the user's file that declares it
    conflict: str | None = None  # a user's file declaring a backend although the spec names one


def under_ci(environ=os.environ) -> bool:
    return environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def user_backends(folder: str, owned: set[str]) -> list[tuple[str, str]]:
    """(file, backend type) of each backend declared in `*.tf` files of `folder` edgec does not write."""
    found = []
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    for name in names:
        if not name.endswith(".tf") or name in owned:
            continue
        try:
            with open(os.path.join(folder, name), encoding="utf-8") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError):
            continue
        found += [(os.path.join(folder, name), m.group(1) or m.group(2)) for m in _BACKEND.finditer(text)]
    return found


def layer_states(ir: IR, files: dict[str, str], out_dir: str, layers: list[str]) -> list[LayerState]:
    """Each of `layers` (Terraform layers the spec compiles to), with where its state would be.
    `files`: the compiled files by path relative to `out_dir` (what edgec owns)."""
    states = []
    for layer in layers:
        prefix = f"terraform/{layer}/"
        owned = {path.removeprefix(prefix) for path in files if path.startswith(prefix)}
        folder = os.path.join(out_dir, "terraform", layer)
        user = user_backends(folder, owned)
        spec_backend = ir.estate.backends.get(layer)
        if spec_backend is not None:
            conflict = user[0][0] if user else None
            states.append(LayerState(layer, folder, spec_backend.type, "the spec", conflict))
        elif user:
            states.append(LayerState(layer, folder, user[0][1], user[0][0]))
        else:
            states.append(LayerState(layer, folder, None, None))
    return states


def state_problems(states: list[LayerState], ci: bool) -> list[str]:
    """Why these layers must not be applied: two backends for one layer; under CI, a local state."""
    problems = [f"layer {s.layer}: the spec names its state backend ({s.backend}, written into versions.tf) and "
                f"{s.conflict} declares one too, which Terraform refuses. Fix: remove the backend from "
                f"{s.conflict}, or terraform.backend (or terraform.layers.{s.layer}) from the spec"
                for s in states if s.conflict]
    local = [s for s in states if ci and not s.conflict and s.backend in (None, "local")]
    if local:
        where = "; ".join(f"layer {s.layer}: terraform.tfstate in {s.folder}"
                          + (f" ('local' backend in {s.declared_in})" if s.backend else "") for s in local)
        problems.append(
            f"under CI (CI=true) a local Terraform state is lost with the runner: every run would start from an "
            f"empty state (importing, or creating again, every object) and nothing would lock two runs against "
            f"each other; the state would be local for {where}. Fix: name a backend in the spec, e.g.\n"
            f"  terraform:\n"
            f"    backend:\n"
            f"      s3: {{bucket: BUCKET, region: REGION, use_lockfile: true}}   # key: edgec/<name>/<layer>.tfstate\n"
            f"or add your own backend.tf to the layer's folder (docs/apply.md, 'State'). To apply with a local "
            f"state anyway (a throwaway estate), run without CI=true.")
    return problems
