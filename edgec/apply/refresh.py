"""Refresh by list: which of a layer's resources Terraform must refresh before it plans.

Terraform's own refresh reads every resource in its state, one API call (or two) each: 10,000 records
take 10,000+ calls, hours at Cloudflare's 1,200 per 5 minutes. edgec has just read the same estate with
list calls, so it can tell which resources Terraform's state already describes as they are live, and
refresh only the others (`terraform apply -refresh-only -target=...`, so Terraform stays the only writer
of its state); then Terraform plans from its state (`plan -refresh=false`).

A resource in Terraform's state (`terraform show -json`, which calls no API) needs no refresh only when
all of these hold:
  1. edgec compares everything the configuration sets on a resource of its type (`compared_types`), or
     1'. the layer reads live every attribute of it that can make Terraform plan a change, and Terraform's
     state holds the same values (`Layer.state_differences`: more reads, made at apply only);
  2. edgec's live read found it at the same address, as the same object (the ID the provider imports it
     by, derived from the state, equals the one the live read gives): not deleted, not recreated;
  3. for 1, edgec's plan has no difference for it (ignored ones included): live is as the spec says;
  4. for 1, Terraform's refresh-less plan has no change for it: its state is as the spec says. This one
     is known only after that plan: what fails it (`stale_in_plan`) is refreshed, and planned again.
Then state and live agree on every attribute the configuration sets (both equal the spec's, or 1' found
them equal), which is all Terraform's plan looks at. Everything else is refreshed: drift, what is gone or
was recreated, what the state has but the spec dropped, what edgec does not read in full, what was
changed by hand to match.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from edgec.diff.plan import Plan
from edgec.layers.base import Layer, LiveLayer

# Past this share of the state, a targeted refresh saves little and its command line grows: Terraform
# refreshes everything itself.
FULL_REFRESH_SHARE = 0.5


@dataclass
class Refresh:
    """What a layer's refresh-less plan needs refreshed first, and why."""

    layer: str
    state_size: int
    addresses: dict[str, str] = field(default_factory=dict)  # address -> reason
    # found in the state as they are live (test 1'): the plan may change them, as the spec asks
    checked: set[str] = field(default_factory=set)

    @property
    def full(self) -> bool:
        """Refresh everything, as Terraform does by itself."""
        return len(self.addresses) > FULL_REFRESH_SHARE * self.state_size

    def summary(self) -> str:
        if not self.addresses:
            return (f"{self.layer} layer: all {self.state_size} resource(s) in Terraform's state match edgec's live "
                    "read; Terraform plans from its state without refreshing")
        reasons = ", ".join(f"{count} {reason}" for reason, count in sorted(Counter(self.addresses.values()).items()))
        how = ("Terraform refreshes all of them itself" if self.full
               else "the rest match edgec's live read")
        return (f"{self.layer} layer: {len(self.addresses)} of {self.state_size} resource(s) in Terraform's state "
                f"are refreshed ({reasons}); {how}")


def state_resources(state: dict) -> list[dict]:
    """The managed resources of a state as `terraform show -json` gives it (a plan's `prior_state`)."""
    return _managed((state.get("values") or {}).get("root_module") or {})


def _managed(module: dict) -> list[dict]:
    found = [r for r in module.get("resources", []) if r.get("mode") == "managed"]
    return found + [r for child in module.get("child_modules", []) for r in _managed(child)]


def to_refresh(layer: Layer, state: dict, live_plan: Plan, live: LiveLayer,
               checked: dict[str, list[str]] | None = None) -> Refresh:
    """The resources of the layer's state that Terraform must refresh (tests 1 to 3); `checked`: the
    attributes whose state differs from live, for the resources the layer checks so (test 1'), which
    needs no test 3 or 4: their state holds what is live, whatever the spec now says."""
    checked = checked or {}
    differing = {c.address for c in live_plan.changes if c.layer == layer.name and c.address}
    live_ids = layer.import_ids(live)
    resources = state_resources(state)
    refresh = Refresh(layer.name, len(resources))
    for resource in resources:
        reason = _reason(layer, resource, live_ids, differing, checked)
        if reason:
            refresh.addresses[resource["address"]] = reason
        elif resource["address"] in checked:
            refresh.checked.add(resource["address"])
    return refresh


def stale_in_plan(shown: dict, refresh: Refresh) -> list[str]:
    """Test 4: what the refresh-less plan (`show -json`) changes although its state was trusted (found live
    as the spec says): the state is out of date (someone made the change by hand, or an apply was cut
    short), and Terraform would plan from it."""
    trusted = ({r["address"] for r in state_resources(shown.get("prior_state") or {})} - set(refresh.addresses)
               - refresh.checked)
    return sorted(entry["address"] for entry in shown.get("resource_changes", [])
                  if entry["address"] in trusted and tuple(entry["change"]["actions"]) != ("no-op",))


def _reason(layer: Layer, resource: dict, live_ids: dict[str, str], differing: set[str],
            checked: dict[str, list[str]]) -> str | None:
    address = resource["address"]
    compared = resource["type"] in layer.compared_types
    if not compared and address not in checked:
        return "not read in full by edgec"
    if address not in live_ids:
        return "not found live"
    if layer.state_import_id(resource["type"], resource.get("values") or {}) != live_ids[address]:
        return "another object live"
    if address in checked:
        return "differ live from Terraform's state" if checked[address] else None
    if address in differing:
        return "differ live from the spec"
    return None
