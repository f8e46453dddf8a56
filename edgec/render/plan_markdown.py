"""A plan as a pull-request comment: a summary line, details collapsed per layer, never over GitHub's
65,536-character limit (rows that do not fit are counted in a truncation note)."""

from __future__ import annotations

import json
from itertools import groupby

from edgec.diff.plan import Change, Plan
from edgec.render.inert import code
from edgec.render.summary import summary

GITHUB_COMMENT_LIMIT = 65536
BUDGET = GITHUB_COMMENT_LIMIT - 2048  # room for the closing tags and the truncation note
SYMBOLS = {"create": "➕", "update": "✏️", "replace": "♻️", "delete": "➖", "unmanaged": "❔", "adopt": "📥",
           "ignored": "🙈"}
LABELS = {"unmanaged": "live only"}  # an action as a table cell says it, where its name would mislead


MAX_VALUE = 160  # characters of one value in a table cell


def _value(value) -> str:
    return code(json.dumps(value, sort_keys=True, ensure_ascii=False), MAX_VALUE)


def _details(change: Change) -> str:
    """Each attribute `live → desired` (or only its live value, where nothing is desired), every value a
    code span (data never becomes HTML, a link or a mention), at most a few per row."""
    parts = [f"{code(a.name)}: {_value(a.live)}" + ("" if change.shows_live_only else f" → {_value(a.desired)}")
             for a in change.attributes[:6]]
    if len(change.attributes) > 6:
        parts.append(f"and {len(change.attributes) - 6} more")
    if change.note:
        parts.append(code(change.note, MAX_VALUE))
    return "<br>".join(parts)


def _summary(plan: Plan, drift: bool) -> str:
    calls = ", ".join(f"{p} {n}" for p, n in plan.calls.items()) or "none"
    layers = ", ".join(plan.layers_read) or "none"
    if plan.errors:
        head = (f"❌ **{'Drift report' if drift else 'Plan'} failed**: {len(plan.errors)} read(s) failed; nothing "
                "is assumed about what was not read.")
    else:
        head = ("" if plan.has_changes else "✅ ") + f"**{summary(plan, drift)}**"
    lines = [f"### edgec {'drift' if drift else 'plan'}: {code(plan.spec)}", "", head, "", f"Layers read: {layers} · API calls: {calls}"]
    lines += [f"- ❌ {code(error, 1000)}" for error in plan.errors]
    lines += [f"- ⚠️ not compared: {layer} ({code(why, 1000)})" for layer, why in plan.layers_not_read.items()]
    lines += [f"- {code(running.describe(), 1000)}" for running in plan.running]
    lines += [f"- ⚠️ {code(note, 1000)}" for note in plan.notes]
    return "\n".join(lines) + "\n"


def render_plan_markdown(plan: Plan, drift: bool = False) -> str:
    out = _summary(plan, drift)
    changes = sorted(plan.changes, key=lambda c: (c.layer, c.host or "", c.kind, c.key))
    shown = 0
    for layer, group in groupby(changes, key=lambda c: c.layer):
        group = list(group)
        block = [f"\n<details><summary>{layer}: {len(group)} change(s)</summary>\n",
                 "| | kind | key | host | details |", "|---|---|---|---|---|"]
        out += "\n".join(block) + "\n"
        for change in group:
            host = code(change.host, MAX_VALUE) if change.host else ""
            row = (f"| {SYMBOLS[change.action]} {LABELS.get(change.action, change.action)} | {change.kind} | {code(change.key, MAX_VALUE)} | "
                   f"{host} | {_details(change)} |\n")
            if len(out) + len(row) > BUDGET:
                break
            out += row
            shown += 1
        out += "\n</details>\n"
        if shown < len(changes) and len(out) > BUDGET - 1000:
            break
    if shown < len(changes):
        out += (f"\n> ✂️ {len(changes) - shown} more change(s) not shown: this comment stays under GitHub's "
                f"{GITHUB_COMMENT_LIMIT:,}-character limit. Run `edgec plan --format json` for all of them.\n")
    return out
