"""Terraform's saved plan (`terraform show -json`), read into the few facts edgec's rails and summary need:
for each managed resource, its address, actions and values before and after."""

from __future__ import annotations

from dataclasses import dataclass, field

DNS_TYPES = frozenset({"aws_route53_record", "cloudflare_dns_record"})
SYMBOLS = {"create": "+", "update": "~", "replace": "-/+", "delete": "-"}


@dataclass(frozen=True)
class ResourceChange:
    address: str
    type: str
    name: str
    actions: tuple[str, ...]
    before: dict | None
    after: dict | None

    @property
    def action(self) -> str:
        """create, update, delete, replace (either order) or no-op."""
        if "delete" in self.actions and "create" in self.actions:
            return "replace"
        return self.actions[0] if len(self.actions) == 1 else "+".join(self.actions)

    @property
    def existed(self) -> bool:
        return self.before is not None

    @property
    def destroys_first(self) -> bool:
        """Deleted, or replaced with the old one destroyed before the new one exists."""
        return self.actions == ("delete",) or self.actions == ("delete", "create")

    @property
    def values(self) -> dict:
        return self.before or self.after or {}

    @property
    def fqdn(self) -> str | None:
        """The name a DNS record or zone is for, normalised."""
        name = self.values.get("name")
        return name.rstrip(".").lower() if isinstance(name, str) else None


@dataclass
class LayerPlan:
    layer: str  # aws | cloudflare
    directory: str
    resources: list[ResourceChange] = field(default_factory=list)  # managed resources, no-ops included

    @property
    def changing(self) -> list[ResourceChange]:
        return [r for r in self.resources if r.action in SYMBOLS]

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(SYMBOLS, 0)
        for r in self.changing:
            counts[r.action] += 1
        return counts


def read_plan(layer: str, directory: str, shown: dict) -> LayerPlan:
    plan = LayerPlan(layer, directory)
    for entry in shown.get("resource_changes", []):
        if entry.get("mode") != "managed":
            continue
        change = entry["change"]
        plan.resources.append(ResourceChange(entry["address"], entry["type"], entry["name"],
                                             tuple(change["actions"]), change.get("before"), change.get("after")))
    return plan
