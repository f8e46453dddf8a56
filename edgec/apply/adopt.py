"""Adoption: a resource Terraform would create that edgec's live read found (under the same address) is
imported instead, with Terraform `import {}` blocks (Terraform >= 1.5) written beside the layer's files
for one plan and apply, then removed (Terraform skips import blocks for what its state already holds,
but a block left behind would break the next plan once the spec drops its resource).

Importing what carries no edgec ownership marker takes over something that may be someone else's: it
needs `edgec apply --adopt`. What carries the marker (or belongs to what does) but is missing from
Terraform's state (a lost or new state) is imported without it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

from edgec.apply.tfplan import LayerPlan
from edgec.emit.hcl import Block, Expr, render
from edgec.layers.base import LiveLayer

IMPORTS_FILE = "edgec_imports.tf"
HEADER = ("# Written by edgec apply for one plan and apply: existing objects Terraform imports instead of "
          "creating. Removed afterwards.")


@dataclass(frozen=True)
class Import:
    address: str
    id: str  # what the provider imports it by
    label: str  # how edgec's plan shows it
    claimed: bool  # carries edgec's marker, or belongs to what does: no --adopt needed


def imports_for(plan: LayerPlan, live: LiveLayer, ids: dict[str, str],
                existing: Callable[[str, dict], str | None]) -> list[Import]:
    """The resources Terraform would create that exist live (under the same address, or as `existing` finds
    them by their planned values) and have an ID to import them by."""
    found = {r.address: r for r in live.resources}
    configured = {r.address for r in plan.resources}
    imports = []
    for r in plan.resources:
        if r.action != "create" or r.importing is not None:
            continue
        # found under another address only if no other resource of the configuration is that object
        address = r.address if r.address in found else existing(r.type, r.after or {})
        if address in found and address in ids and (address == r.address or address not in configured):
            imports.append(Import(r.address, ids[address], found[address].label, address in live.claimed))
    return imports


def write_imports(directory: str, imports: list[Import]) -> None:
    blocks = [Block("import").attr("to", Expr(i.address)).attr("id", i.id) for i in imports]
    with open(os.path.join(directory, IMPORTS_FILE), "w", encoding="utf-8", newline="\n") as fh:
        fh.write(render(blocks, HEADER))


def remove_imports(directory: str) -> None:
    try:
        os.remove(os.path.join(directory, IMPORTS_FILE))
    except FileNotFoundError:
        pass
