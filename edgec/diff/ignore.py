"""Ignore rules: differences a team accepts, each with a reason and an optional expiry date."""

from __future__ import annotations

import dataclasses
import datetime
from fnmatch import fnmatchcase

from edgec.diff.plan import Action, Change
from edgec.spec.model import IgnoreRule


def _matches(rule: IgnoreRule, change: Change) -> bool:
    return (fnmatchcase(change.key, rule.key) and rule.layer in (None, change.layer)
            and rule.kind in (None, change.kind))


def apply_ignores(changes: list[Change], rules: list[IgnoreRule], today: datetime.date) -> tuple[list[Change], list[str]]:
    """Changes with ignored ones marked `ignored` (or ignored attributes removed), and notes about expired rules."""
    active = [r for r in rules if r.expires is None or r.expires >= today]
    notes = [f"ignore rule '{r.key}' expired on {r.expires.isoformat()} and no longer hides anything ({r.reason})"
             for r in rules if r.expires is not None and r.expires < today]
    out = []
    for change in changes:
        for rule in (r for r in active if _matches(r, change)):
            if rule.attribute is None:
                change = dataclasses.replace(change, action=Action.IGNORED, note=f"ignored: {rule.reason}")
                break
            kept = tuple(a for a in change.attributes if a.name != rule.attribute)
            if change.action == Action.UPDATE and not kept:
                change = dataclasses.replace(change, action=Action.IGNORED, attributes=(), note=f"ignored: {rule.reason}")
                break
            change = dataclasses.replace(change, attributes=kept)
        out.append(change)
    return out, notes
