"""A spec diff for people: on a terminal (+/~/- per host, destructive changes marked), as Markdown, and
as one pull-request comment with the live plan, always under GitHub's 65,536-character limit."""

from __future__ import annotations

import json
from typing import Any, Iterator

from rich.console import Console
from rich.text import Text

from edgec.diagnostics import one_line
from edgec.diff.plan import Plan
from edgec.diff.spec_changes import ADD, REMOVE, FieldChange, SpecChange, SpecChanges
from edgec.render import inert
from edgec.render.plan_markdown import (
    BUDGET,
    GITHUB_COMMENT_LIMIT,
    render_plan_markdown,
)

NO_CHANGES = "edgec: no changes."
NO_HOST = "(no single host)"
SYMBOLS = {"add": ("+", "green"), "change": ("~", "yellow"), "remove": ("-", "red")}
MD_SYMBOLS = {"add": "➕", "change": "✏️", "remove": "➖"}
MAX_AFFECTED = 5  # hosts named on a shared change; the rest are counted
MAX_VALUE = 200  # characters of one value in Markdown


def _value(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False) if value is not None else "(none)"


def _sides(change: SpecChange, f: FieldChange) -> list[Any]:
    """The values to show: what comes (added), what goes (removed), or both (changed)."""
    return [f.head] if change.action == ADD else [f.base] if change.action == REMOVE else [f.base, f.head]


def _affected(change: SpecChange) -> str:
    """'a, b, c and 4 more': enough to see the reach without listing a whole zone."""
    names = list(change.affects[:MAX_AFFECTED])
    more = len(change.affects) - len(names)
    return ", ".join(names) + (f" and {more} more" if more else "")


def _summary(changes: SpecChanges) -> str:
    counts = changes.counts()
    return (f"{len(changes.changed_hosts)} host(s) changed; {counts[ADD]} to add, {counts['change']} to change, "
            f"{counts[REMOVE]} to remove; {counts['destructive']} destructive")


# --- terminal ----------------------------------------------------------------------------------

def print_spec_changes(console: Console, changes: SpecChanges) -> None:
    """Per host, then under no single host; each change with its fields (`base -> head`)."""
    if not changes.has_changes:
        console.print(Text(f"No changes between {changes.base} and {changes.head}.", style="green"))
        return
    for host, items in changes.groups():
        console.print(Text(host or NO_HOST, style="bold"))
        for change in items:
            _print_change(console, change)
    console.print(f"Spec: {_summary(changes)}.")


def _print_change(console: Console, change: SpecChange) -> None:
    symbol, style = SYMBOLS[change.action]
    line = Text(f"  {symbol} ", style=style)
    line.append(one_line(change.title))
    if change.affects:
        line.append(one_line(f"  (affects {_affected(change)})"), style="dim")
    if change.reason:
        line.append(one_line(f"  ! destructive: {change.reason}"), style="bold red")
    console.print(line)
    for f in change.fields:
        text = f"      {f.name}: " + " -> ".join(_value(v) for v in _sides(change, f))
        console.print(Text(one_line(text), style="dim" if change.action == REMOVE else ""))


# --- Markdown ----------------------------------------------------------------------------------

def _code(text: str) -> str:
    """Inline code: HTML, Markdown and mentions in users' values stay inert (render/inert.py)."""
    return inert.code(text, MAX_VALUE)


def _md_fields(change: SpecChange) -> str:
    return "; ".join(f"{_code(f.name)} " + " → ".join(_code(_value(v)) for v in _sides(change, f))
                     for f in change.fields)


def _md_change(change: SpecChange) -> str:
    line = f"- {MD_SYMBOLS[change.action]} {change.label} {_code(change.key)}"
    if change.affects:
        line += f" (affects {_code(_affected(change))})"
    if change.fields:
        line += f": {_md_fields(change)}"
    if change.reason:
        line += f" — ⚠️ **destructive**: {change.reason}"  # edgec's words and validated values (enums) only
    return line + "\n"


def _md_blocks(changes: SpecChanges) -> Iterator[tuple[str, int]]:
    """(text, number of changes it shows): destructive ones first, then every change by host."""
    destructive = [(host, c) for host, items in changes.groups() for c in items if c.destructive]
    if destructive:
        yield "\n**⚠️ Destructive:**\n", 0
        for host, change in destructive:
            where = _code(host) if host else NO_HOST
            yield f"- {where}: {change.label} {_code(change.key)}: {change.reason}\n", 0
    for host, items in changes.groups():
        heading = f"\n#### {_code(host) if host else NO_HOST}\n"
        for i, change in enumerate(items):  # a heading goes with its first change: never left alone at a cut
            yield (heading if i == 0 else "") + _md_change(change), 1


def spec_changes_markdown(changes: SpecChanges, budget: int = BUDGET) -> str:
    """The spec diff as Markdown, at most `budget` characters plus a note on what did not fit."""
    out = f"### edgec diff: {_code(changes.base)} → {_code(changes.head)}\n\n"
    if not changes.has_changes:
        return out + "✅ **No spec changes.**\n"
    out += f"**{_summary(changes)}.**\n"
    shown, total = 0, len(changes.all())
    for text, count in _md_blocks(changes):
        if len(out) + len(text) > budget:
            break
        out, shown = out + text, shown + count
    if shown < total:
        out += (f"\n> ✂️ {total - shown} more change(s) not shown: this comment stays under GitHub's "
                f"{GITHUB_COMMENT_LIMIT:,}-character limit. Run `edgec diff` for all of them.\n")
    return out


def _cut_plan(text: str, room: int) -> str:
    """The plan's Markdown within `room` characters: whole lines (table rows), an open <details> closed,
    and a note saying it was cut."""
    note = "\n> ✂️ The plan is cut here to fit this comment; run `edgec plan --format markdown` for all of it.\n"
    close = "\n</details>\n"
    if len(text) <= room:
        return text
    cut = text[:text.rfind("\n", 0, max(room - len(note) - len(close), 0)) + 1]
    return cut + (close if cut.count("<details>") > cut.count("</details>") else "") + note


def pr_comment(changes: SpecChanges, plan: Plan | None) -> str:
    """One pull-request comment: what the spec change means, then what it does to the live estate.
    One line when neither changes anything; a plan whose reads failed is always shown."""
    if not changes.has_changes and (plan is None or not (plan.has_changes or plan.errors)):
        return NO_CHANGES
    plan_md = render_plan_markdown(plan) if plan is not None else ""
    spec_md = spec_changes_markdown(changes, BUDGET - min(len(plan_md), BUDGET // 2))
    return spec_md + (f"\n{_cut_plan(plan_md, BUDGET - len(spec_md))}" if plan_md else "")
