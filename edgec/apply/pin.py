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
from edgec.layers import LAYER_NAMES

PLANFILE_FORMAT = "edgec-plan"
PLANFILE_VERSION = 2  # 2: sealed whole
SPEC_SUFFIXES = (".yaml", ".yml")


class PlanFileError(ValueError):
    """A plan file edgec will not act on; the message says why in one line."""


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


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


def live_digest(plan: dict) -> str:
    """What edgec read that bears on the spec, from a plan's JSON form (edgec plan --format json): which
    layers were read and every difference found, with the summary a reviewer reads first. With the spec
    pinned, the differences are a function of the live state, so any live change that matters to this spec
    (an edit, a deletion, a stray record in an owned zone) changes the digest. Taken from the JSON form so
    the plan a file holds can be checked against the digest it records."""
    def unordered(value):  # lists and mappings whose order carries no meaning (a mapping: its keys)
        return sorted(_canonical(item) for item in value) if isinstance(value, (list, dict)) else value

    return _digest([_canonical([unordered(plan.get("layers_read")), unordered(plan.get("layers_not_read")),
                                plan.get("has_changes"), plan.get("counts")]),
                    *unordered(plan.get("changes") or [])])


def seal(content: dict) -> str:
    """The digest of everything a plan file holds but its seal, as canonical JSON: any edit shows."""
    return _digest([_canonical({key: value for key, value in content.items() if key != "seal"})])


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
        content = {"format": PLANFILE_FORMAT, "version": PLANFILE_VERSION, "created": self.created,
                   "edgec_version": self.edgec_version, "spec": self.spec, "ignore_files": self.ignore_files,
                   "layers": self.layers, "digests": self.digests, "plan": self.plan}
        return {**content, "seal": seal(content)}

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


def is_plan_file(path: str) -> bool:
    """How `edgec apply` tells a plan file from a spec, by name alone so that a broken plan file is never read
    as a spec: a spec is a folder or a .yaml/.yml file; any other file is a plan file."""
    return not os.path.isdir(path) and not path.lower().endswith(SPEC_SUFFIXES)


def read_plan_file(path: str) -> PlanFile | None:
    """The plan file at `path`, or None when `path` is a spec. Raises PlanFileError, with one clear line,
    for a plan file edgec will not act on: broken, of another version, not sealed as written, or holding a
    plan its digests were not made from."""
    if not is_plan_file(path):
        return None
    remake = "make it again with `edgec plan SPEC --out PLANFILE` (a spec is a folder or a .yaml/.yml file)"
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as exc:
        raise PlanFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise PlanFileError(f"{path}: not a plan file: it is not UTF-8 text; {remake}") from None
    except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than Python's JSON parser goes
        message = getattr(exc, "msg", str(exc))
        where = f" at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise PlanFileError(f"{path}: not a plan file: its JSON is broken{where} ({message}); {remake}") from None
    if not isinstance(data, dict) or data.get("format") != PLANFILE_FORMAT:
        raise PlanFileError(f'{path}: JSON, but not an edgec plan file (no "format": "{PLANFILE_FORMAT}"; the '
                            f"output of `edgec plan --format json` is not one); {remake}")
    if data.get("version") != PLANFILE_VERSION:
        raise PlanFileError(f"{path}: plan file version {data.get('version')} is not {PLANFILE_VERSION}; "
                            "make it again with this edgec")
    if data.get("seal") != seal(data):
        raise PlanFileError(f"{path}: refusing a plan file changed after edgec wrote it (its seal does not "
                            f"match its content); {remake}")
    _check_fields(path, data)
    if live_digest(data["plan"]) != data["digests"]["live"]:
        raise PlanFileError(f"{path}: refusing a plan file whose plan is not the one its live digest was made "
                            f"from; {remake}")
    return PlanFile(data["spec"], data["ignore_files"], data["layers"], data["digests"], data["plan"],
                    data["created"], data["edgec_version"])


def _check_fields(path: str, data: dict) -> None:
    """Every field edgec acts on is there, of its type (a sealed file may still have been made by hand)."""
    expected = {"spec": str, "ignore_files": list, "layers": list, "digests": dict, "plan": dict, "created": str,
                "edgec_version": str}
    for name, kind in expected.items():
        if not isinstance(data.get(name), kind):
            raise PlanFileError(f"{path}: field '{name}' is missing or not a {kind.__name__}")
    names = data["layers"] + data["ignore_files"]
    if not all(isinstance(name, str) for name in names) or not set(data["layers"]) <= set(LAYER_NAMES):
        raise PlanFileError(f"{path}: field 'layers' or 'ignore_files' holds something other than layer names "
                            "and paths")
    if not all(isinstance(data["digests"].get(key), str) for key in ("spec", "compiled", "live")):
        raise PlanFileError(f"{path}: field 'digests' lacks the spec, compiled or live digest")
