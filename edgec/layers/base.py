"""What a layer is: the part of the pipeline specific to one provider or product.

A layer builds its part of the IR from the spec, writes its files from the IR, reads its live state
back into IR resources (named by the addresses the desired resources have, with the live-only facts
such as IDs and ARNs beside them), and says how its resources compare, which live ones edgec owns, and
(for Terraform layers) the IDs Terraform imports them by.
`edgec.layers.LAYERS` lists them in the order they are applied.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from edgec.diff.plan import Change, PlanOptions, Running
from edgec.ir.model import IR, Resource
from edgec.ir.names import short_hash
from edgec.read.budget import ApiCalls
from edgec.spec.model import Spec


@dataclass
class LiveLayer:
    """One layer's live state, in the IR's shape."""

    resources: list[Resource] = field(default_factory=list)
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)  # address -> IDs, ARNs, DNS names, ...
    owned: set[str] = field(default_factory=set)  # addresses carrying edgec's ownership marker
    # what `edgec apply` may import into Terraform's state without --adopt: it carries the marker, belongs
    # to what does (a rule to its group, a listener to its NLB, a record set to its zone), or is a
    # setting every zone has
    claimed: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)  # reads that failed (the rest was read)
    not_read: str | None = None  # what was left out on purpose, and why
    running: list[Running] = field(default_factory=list)  # the versions its versioned parts report


class OutputRefused(Exception):
    """The chosen form of output cannot hold this spec; the message says why and what to do instead."""


@dataclass(frozen=True)
class EmitOptions:
    """Choices in how files are written (only the Envoy layer offers any: docs/envoy.md)."""

    # static: one bootstrap per gateway; dynamic: listeners and clusters from watched files; kubernetes: the
    # dynamic form's files as ConfigMap manifests
    envoy_form: str = "static"
    envoy_config_dir: str = "/etc/envoy"  # where the gateway finds the files; every path in them hangs from it


@dataclass
class ReadContext:
    options: PlanOptions
    calls: ApiCalls


class Layer:
    name: str = ""
    title: str = ""  # as people write it: AWS, Cloudflare, Envoy
    terraform: bool = False  # applied through Terraform, from terraform/<name>/ in the output folder
    looks_up: frozenset[str] = frozenset()  # Terraform types its data sources read (made by earlier layers)
    # Terraform types of which edgec's read and comparison cover every attribute the configuration sets:
    # `edgec apply` refreshes those only where they differ (edgec/apply/refresh.py), the others always
    compared_types: frozenset[str] = frozenset()

    def build(self, spec: Spec) -> list[Resource]:
        raise NotImplementedError

    def emit(self, ir: IR, options: EmitOptions = EmitOptions()) -> dict[str, str]:
        """Its files, by path relative to the output folder."""
        raise NotImplementedError

    def used(self, ir: IR) -> bool:
        return bool(ir.in_layer(self.name))

    def read(self, ir: IR, context: ReadContext) -> LiveLayer:
        """Live state, or a ReadError. Never changes anything."""
        raise NotImplementedError

    def compare(self, ir: IR, live: dict[str, LiveLayer]) -> list[Change]:
        """Its changes; `live` holds this layer's live state and that of the layers before it."""
        raise NotImplementedError

    def terraform_inputs(self, ir: IR) -> dict[str, tuple[str, str]]:
        """Terraform variables it takes from an earlier layer: variable -> (layer, output)."""
        return {}

    def import_ids(self, live: LiveLayer) -> dict[str, str]:
        """The ID `terraform import` takes for each live resource it knows one for, by address."""
        return {}

    def state_import_id(self, resource_type: str, values: dict[str, Any]) -> str | None:
        """The ID `import_ids` gives for the object a resource of Terraform's state (its values) is."""
        return None

    def state_differences(self, ir: IR, resources: list[dict[str, Any]], live: LiveLayer,
                          options: PlanOptions) -> dict[str, list[str]]:
        """For the resources of Terraform's state (`terraform show -json`) whose every attribute that can make
        Terraform plan a change it reads live (more reads, at apply), the attributes whose state differs
        from live, by address; those it does not read in full are left out."""
        return {}

    def existing(self, resource_type: str, values: dict[str, Any], live: LiveLayer) -> str | None:
        """The live resource a Terraform create of `values` would duplicate, where the configuration names
        it otherwise than edgec's read (records written with for_each): its address, or None."""
        return None


def adopt_addresses(desired: list[Resource], live: LiveLayer) -> None:
    """Rename live resources after the desired resource that is the same provider object (same type and
    key), so the two pair by address; the others keep the name the reader gave them."""
    names = {(type(r), r.key()): r.name for r in desired}
    rename(live, {id(r): name for r in live.resources if (name := names.get((type(r), r.key()))) is not None},
           taken={r.address for r in desired})


def rename(live: LiveLayer, names: dict[int, str], taken: set[str]) -> None:
    """Give live resources new names (by the resource's id()); facts and ownership follow. A resource
    left with an address in `taken` (a desired one's) that it was not given is made distinct."""
    moved: dict[str, str] = {}
    renamed: list[Resource] = []
    for resource in live.resources:
        name = names.get(id(resource))
        if name is None and resource.address in taken:
            name = f"{resource.name}_live_{short_hash(repr(resource.key()))}"
        if name is not None and name != resource.name:
            new = dataclasses.replace(resource, name=name)
            moved[resource.address] = new.address
            resource = new
        renamed.append(resource)
    live.resources = renamed
    live.facts = {moved.get(address, address): facts for address, facts in live.facts.items()}
    live.owned = {moved.get(address, address) for address in live.owned}
    live.claimed = {moved.get(address, address) for address in live.claimed}
