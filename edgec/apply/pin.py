"""Reviewed-plan pinning: `edgec plan --out PLANFILE` records what was reviewed (the spec, the compiled
output and the live state it was compared with) as digests; `edgec apply PLANFILE` refuses when any of
them changed since, because then the change being applied is not the change that was reviewed."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from dataclasses import dataclass

from edgec import __version__
from edgec.diff.plan import Plan

PLANFILE_FORMAT = "edgec-plan"
PLANFILE_VERSION = 1


def _digest(parts) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part if isinstance(part, bytes) else part.encode("utf-8")
        h.update(len(data).to_bytes(8, "big") + data)
    return "sha256:" + h.hexdigest()


def spec_digest(files: list[str]) -> str:
    """Every file the spec was read from (includes and ignore files too), by content."""
    parts = []
    for path in sorted(os.path.abspath(f) for f in files):
        with open(path, "rb") as fh:
            parts += [path, fh.read()]
    return _digest(parts)


def compiled_digest(files: dict[str, str]) -> str:
    """The compiled output (Terraform and Envoy), as edgec renders it: changes with the spec or edgec."""
    return _digest(part for path, content in sorted(files.items()) for part in (path, content))


def live_digest(plan: Plan) -> str:
    """What edgec read that bears on the spec: which layers were read and every difference found. With the
    spec pinned, the differences are a function of the live state, so any live change that matters to
    this spec (an edit, a deletion, a stray record in an owned zone) changes the digest."""
    changes = sorted(json.dumps(c.to_json(), sort_keys=True) for c in plan.changes)
    return _digest([json.dumps(sorted(plan.layers_read)), json.dumps(sorted(plan.layers_not_read)), *changes])


@dataclass
class PlanFile:
    spec: str  # absolute path of the spec (file or folder)
    ignore_files: list[str]
    layers: list[str]
    digests: dict[str, str]  # spec, compiled, live
    plan: dict  # the reviewed plan (edgec plan --format json), for people and tools
    created: str = ""
    edgec_version: str = __version__

    def to_json(self) -> dict:
        return {"format": PLANFILE_FORMAT, "version": PLANFILE_VERSION, "created": self.created,
                "edgec_version": self.edgec_version, "spec": self.spec, "ignore_files": self.ignore_files,
                "layers": self.layers, "digests": self.digests, "plan": self.plan}

    def write(self, path: str) -> None:
        self.created = self.created or datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(self.to_json(), fh, indent=2)
            fh.write("\n")

    def mismatches(self, current: dict[str, str]) -> list[str]:
        """What changed since review, one sentence each."""
        what = {"spec": "the spec changed since the plan was made (a file was edited, added or removed)",
                "compiled": "the compiled output changed since the plan was made (another edgec version?)",
                "live": "the live state changed since the plan was made (an apply, or a change out of band)"}
        return [what[key] for key in ("spec", "compiled", "live") if self.digests.get(key) != current.get(key)]


def read_plan_file(path: str) -> PlanFile | None:
    """The plan file at `path`, or None when `path` is not one (it is then taken as a spec)."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != PLANFILE_FORMAT:
        return None
    if data.get("version") != PLANFILE_VERSION:
        raise ValueError(f"{path}: plan file version {data.get('version')} is not {PLANFILE_VERSION}; "
                         "make it again with this edgec")
    return PlanFile(data["spec"], data.get("ignore_files", []), data.get("layers", []), data["digests"],
                    data.get("plan", {}), data.get("created", ""), data.get("edgec_version", ""))
