"""Plan: what would change, classified, with attribute-level detail; and the one comparison of desired
and live resources every layer uses.

Actions: create (desired, not live), update (both, attributes differ), replace (both, an attribute
that cannot change in place differs), delete (live, owned by edgec, no longer desired), unmanaged
(live in a zone or VPC the spec covers, not owned by edgec: reported, never deleted), adopt (both, the
same, but the live one lacks edgec's ownership marker: `edgec apply --adopt` imports it and sets the
marker), ignored (a difference an ignore rule hides).
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from edgec.ir.model import Resource
from edgec.read.budget import DEFAULT_CLOUDFLARE_RATE

LIVE_ONLY = "live only (not managed by edgec, never deleted)"  # what an unmanaged change is, in every format
ADOPT_NOTE = "exists without edgec's ownership marker: edgec apply --adopt imports it"
ADOPTED_TOO_NOTE = "exists without edgec's ownership marker: edgec apply --adopt imports it, then changes it"
PLAN_SCHEMA_VERSION = 1  # additions (a change's address) keep the version; a removal or new meaning bumps it


class Action(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    UNMANAGED = "unmanaged"
    ADOPT = "adopt"
    IGNORED = "ignored"


# Adopt is not a change: the live object already is what the spec says (an apply imports it into
# Terraform's state and sets the marker, changing nothing else), so a plan of adoptions exits 0.
CHANGING = (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.DELETE)
# Nothing is desired: shown as what is live, never as `live → null`.
LIVE_SHOWN = (Action.DELETE, Action.UNMANAGED)


@dataclass
class PlanOptions:
    cloudflare_rate: float = DEFAULT_CLOUDFLARE_RATE
    max_retries: int = 4  # per Cloudflare and AWS call, after the first attempt
    timeout: float = 30.0  # seconds to connect and to wait for each answer, for every API (--read-timeout)
    today: datetime.date | None = None  # for ignore-rule expiry; None: the real date
    layers: frozenset[str] | None = None  # which layers to compare; None: every layer
    envoy_admins: dict[str, str] = field(default_factory=dict)  # gateway -> admin URL
    # where each gateway's Envoy finds its config files (the versions it reports are digests of files whose
    # paths hang from it): per gateway, else envoy_config_dir, else the compiled default
    envoy_config_dirs: dict[str, str] = field(default_factory=dict)
    envoy_config_dir: str | None = None

    def wants(self, layer: str) -> bool:
        return self.layers is None or layer in self.layers


@dataclass(frozen=True)
class AttributeChange:
    name: str
    desired: Any
    live: Any


@dataclass(frozen=True)
class Change:
    action: Action
    layer: str  # cloudflare | aws | envoy
    kind: str  # dns_record, zone_setting, ruleset, origin_pulls, ...
    key: str  # stable identity, as people read it: "api.acme.com CNAME"
    host: str | None = None  # the hostname it affects, for grouping
    attributes: tuple[AttributeChange, ...] = ()
    note: str | None = None
    gateway: str | None = None  # the gateway it belongs to, if any (for owners in drift reports)
    address: str | None = None  # the resource's address (a Terraform address for Terraform layers)

    @property
    def shows_live_only(self) -> bool:
        return self.action in LIVE_SHOWN

    def to_json(self) -> dict:
        return {"action": str(self.action), "live_only": self.action == Action.UNMANAGED,
                "layer": self.layer, "kind": self.kind, "key": self.key,
                "address": self.address, "host": self.host, "gateway": self.gateway, "note": self.note,
                "attributes": [{"name": a.name, "desired": a.desired, "live": a.live} for a in self.attributes]}


@dataclass(frozen=True)
class Running:
    """What a live part of the estate says it runs (an Envoy gateway's config versions), and how it was
    compared: by version (it runs exactly what the spec compiles to: one call) or by content."""

    layer: str
    part: str  # as people name it: "Envoy gateway public"
    versions: dict[str, str]  # what it reports running ({}: none, as a static config)
    desired: dict[str, str]  # the versions the spec compiles to
    compared_by: str  # version | content

    def describe(self) -> str:
        def listed(versions: dict[str, str]) -> str:
            return ", ".join(f"{kind} {version}" for kind, version in versions.items())

        if self.compared_by == "version":
            return f"{self.part} runs {listed(self.versions)}: the versions the spec compiles to (compared by version)"
        if not self.versions:
            return f"{self.part} runs a static config, which has no versions (compared by content)"
        return (f"{self.part} runs {listed(self.versions)}; the spec compiles to {listed(self.desired)} "
                "(compared by content)")

    def to_json(self) -> dict:
        return {"layer": self.layer, "part": self.part, "versions": self.versions, "desired": self.desired,
                "compared_by": self.compared_by}


@dataclass
class Plan:
    spec: str
    changes: list[Change] = field(default_factory=list)
    layers_read: list[str] = field(default_factory=list)
    layers_not_read: dict[str, str] = field(default_factory=dict)  # layer -> why
    calls: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # reads that failed: the plan is not usable
    notes: list[str] = field(default_factory=list)  # things people should know (expired ignore rules)
    running: list[Running] = field(default_factory=list)  # what versioned parts (Envoy gateways) run

    @property
    def has_changes(self) -> bool:
        return any(c.action in CHANGING for c in self.changes)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for change in self.changes:
            counts[str(change.action)] = counts.get(str(change.action), 0) + 1
        return counts

    def to_json(self) -> dict:
        return {"schema_version": PLAN_SCHEMA_VERSION, "spec": self.spec, "has_changes": self.has_changes,
                "counts": self.counts(), "layers_read": self.layers_read, "layers_not_read": self.layers_not_read,
                "api_calls": self.calls, "errors": self.errors, "notes": self.notes,
                "running": [r.to_json() for r in self.running],
                "changes": [c.to_json() for c in self.changes]}


def attribute_changes(desired: dict, live: dict, only: Iterable[str] | None = None) -> tuple[AttributeChange, ...]:
    """The attributes whose values differ (all of both sides', or only those named in `only`)."""
    names = sorted(set(only) if only is not None else set(desired) | set(live))
    return tuple(AttributeChange(n, desired.get(n), live.get(n)) for n in names if desired.get(n) != live.get(n))


@dataclass(frozen=True)
class Comparison:
    """How a layer compares one type of resource."""

    view: Callable[[Resource], dict[str, Any]]  # the attributes compared, normalised
    replace_on: frozenset[str] = frozenset()  # attributes the provider cannot change in place
    marked: bool = False  # the type carries edgec's ownership marker: a live one without it is adopted
    create_note: str | None = None
    delete_note: str | None = None


def compare(desired: list[Resource], live: list[Resource], owned: set[str],
            how: Callable[[Resource], Comparison]) -> list[Change]:
    """Pair desired and live resources by address: create, delete (owned: its address is in `owned`) or
    unmanaged (not), update, or replace (an attribute in `replace_on` differs). An update compares the
    attributes the desired view has (a value the desired side cannot know, such as an NLB's DNS name
    before it exists, is left out). A pair of a type that carries the ownership marker whose live side
    lacks it is adopted: an adopt action, or a note on its update or replace. The views leave the
    marker out: ownership, not an attribute, says whether it is there."""
    wanted = {r.address: r for r in desired}
    found = {r.address: r for r in live}
    changes = []
    for address in sorted(set(wanted) | set(found)):
        want, have = wanted.get(address), found.get(address)
        resource = want or have
        assert resource is not None
        rules = how(resource)
        if have is None:
            action, attributes, note = Action.CREATE, attribute_changes(rules.view(resource), {}), rules.create_note
        elif want is None:
            ours = address in owned
            action = Action.DELETE if ours else Action.UNMANAGED
            attributes = attribute_changes({}, rules.view(have))
            note = rules.delete_note if ours else LIVE_ONLY
        else:
            wanted_view = rules.view(want)
            attributes = attribute_changes(wanted_view, rules.view(have), only=wanted_view)
            adopted = rules.marked and address not in owned
            if not attributes and not adopted:
                continue
            if not attributes:
                action, note = Action.ADOPT, ADOPT_NOTE
            else:
                action = Action.REPLACE if {a.name for a in attributes} & rules.replace_on else Action.UPDATE
                note = ADOPTED_TOO_NOTE if adopted else None
        changes.append(Change(action, resource.layer, resource.kind, resource.label, resource.hostname, attributes,
                              note, resource.gateway_name, address))
    return sorted(changes, key=lambda c: (c.kind, c.key, c.address or ""))
