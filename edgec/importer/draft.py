"""The spec being written by `edgec import`, and its report: what could not be expressed (gaps) and
which values had to be invented."""

from __future__ import annotations

import glob
import re
from dataclasses import dataclass, field
from typing import Any

from edgec.spec.types import IDENTIFIER

IDENTIFIER_LIMIT = 63


@dataclass(frozen=True)
class Gap:
    """Something live that the spec cannot express: listed in the report and written as an ignore rule,
    so the first plan is quiet and the gap stays visible."""

    layer: str
    kind: str  # the change kind plans use: dns_record, security_group_rule, ruleset, listener, ...
    key: str  # the change key plans show: 'legacy.acme.com PTR'
    reason: str

    def ignore_rule(self) -> dict[str, str]:
        return {"key": glob.escape(self.key), "layer": self.layer, "kind": self.kind,
                "reason": f"not expressible in edgec (edgec import): {self.reason}"}


@dataclass(frozen=True)
class Invented:
    """A value the live estate does not tell, which import had to choose."""

    where: str  # spec path
    value: str
    why: str


@dataclass
class Draft:
    """The spec as documents: the root file's fields, one fragment per zone and per gateway."""

    root: dict[str, Any] = field(default_factory=dict)
    zones: dict[str, dict[str, Any]] = field(default_factory=dict)  # zone -> {dns: .., waf: ..}
    gateways: dict[str, dict[str, Any]] = field(default_factory=dict)  # gateway -> {services: .., ingresses: ..}
    files: dict[str, str] = field(default_factory=dict)  # other files (certificates), by relative path
    gaps: list[Gap] = field(default_factory=list)
    invented: list[Invented] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # differences the first plan will show, and why

    def section(self, name: str) -> dict[str, Any]:
        return self.root.setdefault(name, {})

    def zone_part(self, zone: str, section: str, default: Any) -> Any:
        return self.zones.setdefault(zone, {}).setdefault(section, {}).setdefault(zone, default)

    def gateway_part(self, gateway: str, section: str, default: Any) -> Any:
        return self.gateways.setdefault(gateway, {}).setdefault(section, default)

    def gap(self, layer: str, kind: str, key: str, reason: str) -> None:
        self.gaps.append(Gap(layer, kind, key, reason))

    def invent(self, where: str, value: str, why: str) -> str:
        self.invented.append(Invented(where, value, why))
        return value


def identifier(text: str, taken: set[str] | frozenset[str] = frozenset()) -> str:
    """A spec name (lower-case letters, digits, '-' and '_', starting with a letter) readably derived
    from a live name ('partners.acme.com' -> 'partners-acme-com'), distinct from those `taken`."""
    name = re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-_") or "unnamed"
    if not name[0].isalpha():
        name = f"x-{name}"
    name = name[:IDENTIFIER_LIMIT].rstrip("-_")
    base, n = name, 2
    while name in taken:
        suffix = f"-{n}"
        name, n = base[: IDENTIFIER_LIMIT - len(suffix)] + suffix, n + 1
    return name


def is_identifier(text: str) -> bool:
    """A name the spec accepts as it is (`identifier` also tidies: it drops a trailing '-')."""
    return bool(IDENTIFIER.match(text))
