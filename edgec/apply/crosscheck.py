"""The rail that holds Terraform's plan against edgec's: Terraform plans from its state, edgec from the
live APIs, and where they disagree about what exists, one of them is wrong about the estate.

Refused (unless --force), with both views:
- Terraform would create a resource edgec's live read found (under the same address) and that is not
  being imported: a duplicate (a second private zone with the same name) or a failed apply;
- Terraform would replace a resource the spec keeps, where edgec's plan does not replace it (an
  attribute edgec does not compare forces it, or the state points at another object), unless only
  because what it refers to is replaced (a listener of a replaced NLB);
- Terraform would destroy an object edgec's plan keeps under another address (the state names it
  differently from the spec).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from edgec.apply.tfplan import ResourceChange
from edgec.diff.plan import Action, Plan
from edgec.ir.model import IR
from edgec.layers import LAYERS
from edgec.layers.base import LiveLayer

# what edgec's plan says of a resource Terraform replaces, for Terraform to be right
EXPECTS_NEW = frozenset({Action.CREATE, Action.REPLACE})
SAW = {Action.UPDATE: "an update in place", Action.ADOPT: "an object to adopt as it is",
       Action.IGNORED: "a difference an ignore rule hides", Action.UNMANAGED: "an object that is not edgec's"}


@dataclass(frozen=True)
class EdgecView:
    """What edgec's own plan saw of the Terraform layers, by Terraform address."""

    live: dict[str, str] = field(default_factory=dict)  # address -> label of each live resource read
    objects: dict[str, str] = field(default_factory=dict)  # a live object's ID in Terraform's state -> address
    desired: frozenset[str] = frozenset()  # the addresses the spec wants
    actions: dict[str, Action] = field(default_factory=dict)  # address -> edgec's action; none: no difference

    def saw(self, address: str) -> str:
        action = self.actions.get(address)
        if action is None:
            return "no difference from the spec" if address in self.live else "nothing live"
        return SAW.get(action, f"a {action}")


def edgec_view(ir: IR, plan: Plan, live: dict[str, LiveLayer]) -> EdgecView:
    layers = {layer.name for layer in LAYERS if layer.terraform}
    states = [state for name, state in live.items() if name in layers]
    return EdgecView(
        live={r.address: r.label for state in states for r in state.resources},
        objects={facts["id"]: address for state in states for address, facts in state.facts.items()
                 if facts.get("id")},
        desired=frozenset(r.address for r in ir.resources if r.layer in layers),
        actions={c.address: c.action for c in plan.changes if c.address})


def plan_mismatches(view: EdgecView, resources: list[ResourceChange]) -> list[str]:
    """What Terraform and edgec disagree about, one sentence with both views each."""
    found = []
    for r in resources:
        if r.action == "create" and r.address in view.live:
            found.append(f"Terraform would create {r.address}, but edgec's live read found it ({view.live[r.address]}) "
                         "and it is not being imported: creating it again duplicates it or fails")
        elif (r.action == "replace" and not r.cascaded and r.address in view.desired
              and view.actions.get(r.address) not in EXPECTS_NEW):
            found.append(f"Terraform would replace {r.address} (destroy and create it), where edgec's plan saw "
                         f"{view.saw(r.address)}: an attribute edgec does not compare, or a state that points at "
                         "another object")
        elif r.action == "delete" and (kept := _kept_elsewhere(view, r)) is not None:
            found.append(f"Terraform would destroy {r.address}, which is the object edgec's plan keeps as {kept} "
                         f"({view.live.get(kept, '')}): Terraform's state names it differently from the spec")
    return [message + "; use --force only if Terraform is right" for message in found]


def _kept_elsewhere(view: EdgecView, r: ResourceChange) -> str | None:
    """The desired address edgec found the object Terraform destroys under, if edgec keeps it."""
    address = view.objects.get(str((r.before or {}).get("id")))
    if address is None or address == r.address or address not in view.desired:
        return None
    return address if view.actions.get(address) not in (Action.DELETE, Action.REPLACE) else None
