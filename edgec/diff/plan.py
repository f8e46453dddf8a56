"""Plan: what would change, classified, with attribute-level detail.

Actions: create (desired, not live), update (both, attributes differ), replace (both, an attribute
that cannot change in place differs), delete (live, owned by edgec, no longer desired), unmanaged
(live in a zone or VPC the spec covers, not owned by edgec: reported, never deleted), ignored (a
difference an ignore rule hides).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from edgec.read.budget import DEFAULT_CLOUDFLARE_RATE

CHANGING = ("create", "update", "replace", "delete")
UNMANAGED_NOTE = "not created by edgec: reported, never deleted"
PLAN_SCHEMA_VERSION = 1
LAYERS = frozenset({"aws", "cloudflare", "envoy"})


@dataclass
class PlanOptions:
    cloudflare_rate: float = DEFAULT_CLOUDFLARE_RATE
    max_retries: int = 4
    timeout: float = 30.0  # seconds per HTTP request
    today: datetime.date | None = None  # for ignore-rule expiry; None: the real date
    layers: frozenset[str] = LAYERS  # which layers to compare
    envoy_admins: dict[str, str] = field(default_factory=dict)  # gateway -> admin URL


@dataclass(frozen=True)
class AttributeChange:
    name: str
    desired: Any
    live: Any


@dataclass(frozen=True)
class Change:
    action: str
    layer: str  # cloudflare | aws | envoy
    kind: str  # dns_record, zone_setting, ruleset, origin_pulls, ...
    key: str  # stable identity, as people read it: "api.acme.com CNAME"
    host: str | None = None  # the hostname it affects, for grouping
    attributes: tuple[AttributeChange, ...] = ()
    note: str | None = None
    gateway: str | None = None  # the gateway it belongs to, if any (for owners in drift reports)

    def to_json(self) -> dict:
        return {"action": self.action, "layer": self.layer, "kind": self.kind, "key": self.key,
                "host": self.host, "gateway": self.gateway, "note": self.note,
                "attributes": [{"name": a.name, "desired": a.desired, "live": a.live} for a in self.attributes]}


@dataclass
class Plan:
    spec: str
    changes: list[Change] = field(default_factory=list)
    layers_read: list[str] = field(default_factory=list)
    layers_not_read: dict[str, str] = field(default_factory=dict)  # layer -> why
    calls: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # reads that failed: the plan is not usable
    notes: list[str] = field(default_factory=list)  # things people should know (expired ignore rules)

    @property
    def has_changes(self) -> bool:
        return any(c.action in CHANGING for c in self.changes)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for change in self.changes:
            counts[change.action] = counts.get(change.action, 0) + 1
        return counts

    def to_json(self) -> dict:
        return {"schema_version": PLAN_SCHEMA_VERSION, "spec": self.spec, "has_changes": self.has_changes,
                "counts": self.counts(), "layers_read": self.layers_read, "layers_not_read": self.layers_not_read,
                "api_calls": self.calls, "errors": self.errors, "notes": self.notes,
                "changes": [c.to_json() for c in self.changes]}


def attribute_changes(desired: dict, live: dict, only: dict | None = None) -> tuple[AttributeChange, ...]:
    """The attributes whose values differ (all of both sides', or only those of `only`)."""
    names = sorted(set(only) if only is not None else set(desired) | set(live))
    return tuple(AttributeChange(n, desired.get(n), live.get(n)) for n in names if desired.get(n) != live.get(n))


def compare_keyed(layer: str, kind: str, wanted: dict[str, Any], found: dict[str, Any], view, is_owned,
                  replace_on: frozenset[str] = frozenset(), gateway=lambda resource: None) -> list[Change]:
    """Resources paired by key: create, delete (owned) or unmanaged (not), update or replace (when an
    attribute in `replace_on` differs: the provider cannot change it in place)."""
    changes = []
    for key in sorted(set(wanted) | set(found)):
        if key not in found:
            changes.append(Change("create", layer, kind, key, None, attribute_changes(view(wanted[key]), {}),
                                  gateway=gateway(wanted[key])))
        elif key not in wanted:
            owned = is_owned(found[key])
            changes.append(Change("delete" if owned else "unmanaged", layer, kind, key, None,
                                  attribute_changes({}, view(found[key])), None if owned else UNMANAGED_NOTE,
                                  gateway=gateway(found[key])))
        else:
            diff = attribute_changes(view(wanted[key]), view(found[key]))
            if diff:
                action = "replace" if {a.name for a in diff} & replace_on else "update"
                changes.append(Change(action, layer, kind, key, None, diff, gateway=gateway(wanted[key])))
    return changes
