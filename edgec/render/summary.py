"""The one-line summary of a plan or a drift report, in words every format shares. A live-only resource
(not managed by edgec) is never counted as, or worded like, a deletion."""

from __future__ import annotations

from edgec.diff.plan import Plan

PLAN_WORDS = (("create", "to create"), ("update", "to update"), ("replace", "to replace"), ("delete", "to delete"))
# the same actions seen from the estate: what changed out of band
DRIFT_WORDS = (("create", "missing"), ("update", "changed out of band"),
               ("replace", "changed out of band (to be replaced)"), ("delete", "stray (edgec's, not in the spec)"))


def summary(plan: Plan, drift: bool = False) -> str:
    """'Plan: 1 to create, ...; 1 live only (never deleted).', 'Drift: 1 changed out of band.', 'No drift.'"""
    counts = plan.counts()
    extra = [f"{counts[action]} {words}" for action, words in (("adopt", "to adopt"),
                                                                ("unmanaged", "live only (never deleted)"))
             if counts.get(action)]
    if not plan.has_changes:
        head = "No drift." if drift else "No changes."
        return " ".join([head, *(f"{part}." for part in extra)])
    if drift:  # only what drifted: a report of one changed record should not list four zeros
        parts = [f"{counts[action]} {words}" for action, words in DRIFT_WORDS if counts.get(action)]
    else:
        parts = [f"{counts.get(action, 0)} {words}" for action, words in PLAN_WORDS]
    return f"{'Drift' if drift else 'Plan'}: {', '.join(parts)}" + "".join(f"; {part}" for part in extra) + "."
