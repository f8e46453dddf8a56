"""What `edgec apply` shows before it asks: each layer's Terraform plan with the hostnames every change
affects (destroys and replacements in red), then any safety rail that refuses it."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from edgec.apply.rails import Groups, Refusal, shown
from edgec.apply.tfplan import SYMBOLS, LayerPlan
from edgec.diagnostics import one_line

STYLES = {"create": "green", "update": "yellow", "replace": "bold red", "delete": "bold red", "import": "cyan"}
ORDER = {"delete": 0, "replace": 1, "update": 2, "create": 3, "import": 4}  # the dangerous ones first


def print_layer_plans(console: Console, groups: Groups, plans: list[LayerPlan]) -> None:
    for plan in plans:
        counts = plan.counts()
        console.print(Text(f"Terraform plan, {plan.layer} layer ({plan.directory}): ", style="bold")
                      + Text(f"{counts['create']} to add, {counts['update']} to change, {counts['replace']} to "
                             f"replace, {counts['delete']} to destroy"
                             + (f", {plan.imports} to import" if plan.imports else "")))
        for r in sorted(plan.changing, key=lambda r: (ORDER[r.action], r.address)):
            line = Text(f"  {SYMBOLS[r.action]:>3} {r.action:<8} ", style=STYLES[r.action])
            line.append(r.address)
            if r.importing is not None and r.action != "import":
                line.append(" (imported first)", style="cyan")
            hosts = groups.hosts_of(r)
            if hosts:
                line.append(one_line(f"  {shown(hosts)}"), style="bold" if r.action in ("delete", "replace") else "dim")
            console.print(line)


def print_refusals(console: Console, refusals: list[Refusal], forced: bool) -> None:
    for refusal in refusals:
        console.print(Text(f"{'forced' if forced else 'refused'} [{refusal.rail}]: ", style="bold red")
                      + Text(one_line(refusal.message)))
