"""Run every policy on a valid spec, locate each finding in the spec files, and honour inline
suppressions: a comment `# edgec:allow EDGE008 <reason>` on the finding's line, on the line above it,
or on (or above) the line of any element containing it (above an ingress, it covers all its routes).
A suppression without a reason is itself a finding (EDGE000) and suppresses nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass

from edgec.diagnostics import Location, Path, format_path
from edgec.layers.aws.emit import emit_aws
from edgec.policy.rules import POLICIES, SEVERITIES, Policy, Subject
from edgec.spec.validate import Validation
from edgec.spec.yaml_source import SourceMap

SUPPRESSION = re.compile(r"#\s*edgec:allow\s+(EDGE\d{3})\b[\s:,-]*(.*?)\s*$")
UNREASONED = Policy("EDGE000", "error", "Suppression without a reason",
                    "A suppression that does not say why cannot be reviewed, so it would hide risk silently.",
                    "Write the reason after the ID: # edgec:allow EDGE011 admin UI is behind Cloudflare Access",
                    lambda subject: iter(()))


@dataclass(frozen=True)
class Result:
    policy: Policy
    location: Location
    path: Path
    message: str
    suppressed: str | None = None  # the reason given, when suppressed

    @property
    def field_path(self) -> str:
        return format_path(self.path)

    def fails(self, fail_on: str) -> bool:
        return self.suppressed is None and fail_on != "never" and (
            SEVERITIES.index(self.policy.severity) >= SEVERITIES.index(fail_on))


def check_policies(validation: Validation) -> list[Result]:
    spec, ir = validation.spec, validation.ir
    assert spec is not None and ir is not None
    subject = Subject(spec, ir, emit_aws(ir))
    results = []
    for policy in POLICIES:
        for path, message in policy.check(subject):
            results.extend(_suppress(validation.source, policy, path, message))
    return sorted(set(results), key=lambda r: (r.location, r.policy.id, r.message))


def _suppress(source: SourceMap, policy: Policy, path: Path, message: str) -> list[Result]:
    location = source.value(path)
    for comment_at in _comment_lines(source, path):
        match = _suppression(source, comment_at, policy.id)
        if match is None:
            continue
        if not match:
            return [Result(policy, location, path, message),
                    Result(UNREASONED, comment_at, path, f"the suppression of {policy.id} gives no reason")]
        return [Result(policy, location, path, message, suppressed=match)]
    return [Result(policy, location, path, message)]


def _comment_lines(source: SourceMap, path: Path):
    """The finding's own line, then each containing element's, each with the line above it."""
    for cut in range(len(path), 0, -1):
        for where in (source.value_at(path[:cut]), source.key_at(path[:cut])):
            if where is not None:
                yield where
                yield Location(where.file, where.line - 1, 1)


def _suppression(source: SourceMap, at: Location, policy_id: str) -> str | None:
    """The reason ('' if none) of a suppression of `policy_id` on that line, else None."""
    lines = source.lines.get(at.file, [])
    if not 1 <= at.line <= len(lines):
        return None
    for found in SUPPRESSION.finditer(lines[at.line - 1]):
        if found.group(1) == policy_id:
            return found.group(2)
    return None
