"""Diff a running Envoy gateway against the config edgec generates for it now."""

from __future__ import annotations

from edgec.diff.plan import AttributeChange, Change

LAYER = "envoy"


def diff_envoy(gateway: str, desired: dict[tuple, dict], live: dict[tuple, dict]) -> list[Change]:
    changes = []
    for key in sorted(set(desired) | set(live), key=str):
        kind, *rest = key
        label = f"{gateway}: " + " ".join(rest)
        host = rest[0] if kind == "route" else (rest[1] if kind == "virtual_host" else None)
        if key not in live:
            changes.append(Change("create", LAYER, kind, label, host, note="the gateway runs an older config",
                                  gateway=gateway))
        elif key not in desired:
            changes.append(Change("delete", LAYER, kind, label, host, note="gone from the generated config",
                                  gateway=gateway))
        else:
            diff = tuple(AttributeChange(name, desired[key][name], live[key].get(name))
                         for name in sorted(desired[key]) if desired[key][name] != live[key].get(name))
            if diff:
                changes.append(Change("update", LAYER, kind, label, host, diff, gateway=gateway))
    return changes
