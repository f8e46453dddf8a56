"""Resuming a layer whose `terraform apply` edgec interrupted.

Terraform's graceful stop cancels the provider calls in flight: an object whose create request went
through but whose wait was cancelled (a Route 53 zone or record waiting to be in sync, a load balancer
waiting to be active) is recorded in the state as *tainted*, and the next plan would replace it. Replacing
a record or a zone that is already live as the spec wants is a needless outage, and the safety rails
rightly refuse it (a zone's NS delegation, a third of a zone's records). So the next `edgec apply` of that
layer untaints, through Terraform, exactly the tainted resources its live read found as the spec wants
them; any other tainted resource is replaced as Terraform plans. Only after an interruption: a taint from
a failed apply means the provider found something wrong, and is left to Terraform.
"""

from __future__ import annotations

import os

from edgec.diff.plan import Plan
from edgec.ir.model import IR

MARKER = ".edgec.interrupted"  # in a layer's folder while its interrupted apply is not yet resumed


def mark_interrupted(layer_dir: str) -> None:
    with open(os.path.join(layer_dir, MARKER), "w", encoding="utf-8") as fh:
        fh.write("edgec interrupted terraform apply here; the next edgec apply resumes it (docs/apply.md)\n")


def was_interrupted(layer_dir: str) -> bool:
    return os.path.exists(os.path.join(layer_dir, MARKER))


def resumed(layer_dir: str) -> None:
    os.remove(os.path.join(layer_dir, MARKER))


def tainted(shown: dict) -> set[str]:
    """The addresses Terraform's saved plan (`show -json`) replaces only because they are tainted."""
    return {entry["address"] for entry in shown.get("resource_changes", [])
            if entry.get("action_reason") == "replace_because_tainted"}


def live_as_desired(ir: IR, live: Plan, layer: str) -> set[str]:
    """The addresses of the layer that edgec's live read found exactly as the spec wants them."""
    if layer not in live.layers_read:
        return set()
    differing = {change.address for change in live.changes}
    return {r.address for r in ir.in_layer(layer)} - differing
