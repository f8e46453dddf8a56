"""A plan for people: +/~/- like terraform, grouped by layer and hostname."""

from __future__ import annotations

import json
from itertools import groupby

from rich.console import Console
from rich.text import Text

from edgec.diagnostics import one_line
from edgec.diff.plan import LIVE_ONLY, Change, Plan
from edgec.render.summary import summary

SYMBOLS = {"create": ("+", "green"), "update": ("~", "yellow"), "replace": ("-/+", "magenta"),
           "delete": ("-", "red"), "unmanaged": ("?", "cyan"), "adopt": ("<=", "blue"), "ignored": ("=", "dim")}
ZONE_WIDE = "(no single hostname)"


def _value(value) -> str:
    return one_line(json.dumps(value, sort_keys=True, ensure_ascii=False)) if value is not None else "(none)"


def print_plan(console: Console, plan: Plan, drift: bool = False) -> None:
    """The plan; with `drift`, framed as a drift report (its own heading and summary)."""
    if drift:
        console.print(Text(one_line(f"edgec drift: {plan.spec}"), style="bold"))
    ordered = sorted(plan.changes, key=lambda c: (c.layer, c.host or ZONE_WIDE, c.kind, c.key))
    for layer, in_layer in groupby(ordered, key=lambda c: c.layer):
        console.print(Text(layer, style="bold"))
        for host, changes in groupby(in_layer, key=lambda c: c.host or ZONE_WIDE):
            console.print(f"  {host}")
            for change in changes:
                _print_change(console, change)
    for error in plan.errors:
        console.print(Text(one_line(f"✗ {error}"), style="bold red"))
    if plan.errors:
        console.print(Text(f"{'Drift report' if drift else 'Plan'} failed: {len(plan.errors)} read(s) failed; "
                           "nothing is assumed about what could not be read.", style="bold red"))
    else:
        console.print(Text(summary(plan, drift), style="" if plan.has_changes else "green"))
    for running in plan.running:
        console.print(Text(one_line(f"{running.describe()}.")))
    for note in plan.notes:
        console.print(Text(one_line(f"Note: {note}."), style="yellow"))
    for layer, why in plan.layers_not_read.items():
        console.print(Text(f"Not compared: {layer} ({why}).", style="yellow"))
    calls = ", ".join(f"{provider} {n}" for provider, n in plan.calls.items()) or "none"
    console.print(f"API calls: {calls}")


def _print_change(console: Console, change: Change) -> None:
    symbol, style = SYMBOLS[change.action]
    line = Text(f"    {symbol} ", style=style)
    line.append(one_line(f"{change.kind} {change.key}"))
    if change.note:
        line.append(one_line(f"  {change.note}" if change.note == LIVE_ONLY else f"  ({change.note})"), style="dim")
    console.print(line)
    for attribute in change.attributes:
        if change.shows_live_only:  # nothing is desired: show what is live
            console.print(Text(one_line(f"        {attribute.name}: {_value(attribute.live)}"), style="dim"))
        else:
            console.print(Text(one_line(f"        {attribute.name}: {_value(attribute.live)} -> "
                                        f"{_value(attribute.desired)}")))
