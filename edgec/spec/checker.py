"""The Checker: what every semantic check reports through, with the data path of the offending value
(the source map turns paths into FILE:LINE:COL, and list indexes back into those of the user's file)."""

from __future__ import annotations

from dataclasses import dataclass, field

from edgec.diagnostics import (
    Diagnostic,
    Location,
    Path,
    Severity,
    did_you_mean,
    format_path,
)
from edgec.spec.model import Spec
from edgec.spec.structure import ALL, Structured
from edgec.spec.yaml_source import SourceMap


@dataclass
class Checker:
    spec: Spec  # may lack entries that failed structural validation (see Structured)
    source: SourceMap
    structured: Structured
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def loc(self, path: Path) -> Location:
        return self.source.value(self.structured.original(path))

    def key_loc(self, path: Path) -> Location:
        return self.source.key(self.structured.original(path))

    def inside_loc(self, path: Path, value: str, offset: int) -> Location:
        return self.source.inside(self.structured.original(path), value, offset)

    def report(self, severity: Severity, path: Path, message: str, at: Location | None, code: str) -> None:
        original = self.structured.original(path)
        self.diagnostics.append(Diagnostic(at or self.source.value(original), original, message, severity, code))

    def error(self, path: Path, message: str, at: Location | None = None, code: str = "spec") -> None:
        self.report(Severity.ERROR, path, message, at, code)

    def warn(self, path: Path, message: str, at: Location | None = None, code: str = "spec") -> None:
        self.report(Severity.WARNING, path, message, at, code)

    def field(self, path: Path) -> str:
        """How the user would write `path` (list indexes as in their file, not as set aside)."""
        return format_path(self.structured.original(path))

    def where(self, path: Path) -> str:
        loc = self.loc(path)
        return f"{loc.file}:{loc.line}"

    def is_broken(self, section: str, name: str) -> bool:
        names = self.structured.broken.get(section, set())
        return name in names or ALL in names

    def under_broken_zone(self, host: str) -> bool:
        """A name whose zone failed structural validation: that zone's error is the one to report."""
        broken = self.structured.broken.get("zones", set())
        return ALL in broken or any(host.removeprefix("*.") == z or host.endswith("." + z) for z in broken)

    def reference(self, path: Path, section: str, name: str, what: str) -> bool:
        """True when `name` exists in `section`; reports an unknown reference otherwise."""
        known = getattr(self.spec, section)
        if name in known or self.is_broken(section, name):
            return name in known
        self.error(path, f"unknown {what} '{name}'{did_you_mean(name, known)}; "
                         f"declare it under '{section}' or fix the name", code="spec.reference")
        return False

    def ingresses(self):
        return ((("ingresses", i), ingress) for i, ingress in enumerate(self.spec.ingresses))

