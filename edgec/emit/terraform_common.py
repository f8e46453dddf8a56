"""What both Terraform layers share: file maps, references, the `terraform` block."""

from __future__ import annotations

from collections import defaultdict

from edgec.emit.hcl import Block, Expr
from edgec.ir.model import IR, Resource

Files = dict[str, list[Block]]  # file name -> blocks, in order
REQUIRED_TERRAFORM = ">= 1.6"


class Ref(Expr):
    """A reference to a resource or data source; `.attr('x')` reads one of its attributes."""

    def attr(self, name: str) -> Expr:
        return Expr(f"{self}.{name}")


def ref(resource_type: str, name: str, attribute: str) -> Expr:
    return Expr(f"{resource_type}.{name}.{attribute}")


def data_ref(data_type: str, name: str) -> Ref:
    return Ref(f"data.{data_type}.{name}")


def by_type(ir: IR, provider: str) -> dict[type, list[Resource]]:
    grouped: dict[type, list[Resource]] = defaultdict(list)
    for resource in ir:
        if resource.provider == provider:
            grouped[type(resource)].append(resource)
    return grouped


def terraform_block(providers: dict[str, dict]) -> Block:
    required = Block("required_providers")
    for name, settings in sorted(providers.items()):
        required.attr(name, settings)
    return Block("terraform").attr("required_version", REQUIRED_TERRAFORM).block(required)
