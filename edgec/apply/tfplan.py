"""Terraform's saved plan (`terraform show -json`), read into the few facts edgec's rails and summary need:
for each managed resource, its address, actions, values before and after, and the ID it is imported by
(an `import` block, Terraform >= 1.5)."""

from __future__ import annotations

from dataclasses import dataclass, field

DNS_TYPES = frozenset({"aws_route53_record", "cloudflare_dns_record"})
SYMBOLS = {"create": "+", "update": "~", "replace": "-/+", "delete": "-", "import": "<="}


@dataclass(frozen=True)
class ResourceChange:
    address: str
    type: str
    name: str
    actions: tuple[str, ...]
    before: dict | None
    after: dict | None
    importing: str | None = None  # the ID an import block brings it into the state by
    cascaded: bool = False  # replaced only because what it refers to is replaced (e.g. a listener's NLB)

    @property
    def action(self) -> str:
        """create, update, delete, replace (either order), import (imported, nothing else changes) or no-op."""
        if "delete" in self.actions and "create" in self.actions:
            return "replace"
        if self.importing is not None and self.actions == ("no-op",):
            return "import"
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
        """What an apply of the plan does something to: changes and imports."""
        return [r for r in self.resources if r.action in SYMBOLS]

    @property
    def imports(self) -> int:
        """How many resources it imports (some are also changed)."""
        return sum(r.importing is not None for r in self.resources)

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
        importing = (change.get("importing") or {}).get("id")
        plan.resources.append(ResourceChange(entry["address"], entry["type"], entry["name"],
                                             tuple(change["actions"]), change.get("before"), change.get("after"),
                                             importing, _cascaded(change)))
    return plan


def _cascaded(change: dict) -> bool:
    """Every attribute that forces the replacement is unknown until apply: it comes from another resource
    being replaced, not from a difference of this one's."""
    paths = change.get("replace_paths") or []
    return bool(paths) and all(_unknown(change.get("after_unknown"), path) for path in paths)


def _unknown(unknown, path: list) -> bool:
    for step in path:
        if unknown is True:
            return True
        if isinstance(unknown, dict) and isinstance(step, str):
            unknown = unknown.get(step)
        elif isinstance(unknown, list) and isinstance(step, int) and step < len(unknown):
            unknown = unknown[step]
        else:
            return False
    return unknown is True
