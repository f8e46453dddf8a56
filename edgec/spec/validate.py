"""The validation pipeline: load files -> structural model -> semantic checks -> sorted diagnostics."""

from __future__ import annotations

from dataclasses import dataclass

from edgec.diagnostics import Diagnostic, has_errors, sort_key
from edgec.memory import cyclic_gc_paused
from edgec.spec.checks import run_checks
from edgec.spec.loader import load_spec
from edgec.spec.model import Spec
from edgec.spec.structure import validate_structure
from edgec.spec.yaml_source import SourceMap


@dataclass
class Validation:
    target: str
    files: list[str]
    diagnostics: list[Diagnostic]
    spec: Spec | None  # set only when there is no error
    source: SourceMap  # where each value was written, for later stages' diagnostics

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


def validate(target: str, ignore_files: tuple[str, ...] = ()) -> Validation:
    """Validate the spec at `target` (a file or a directory), with extra ignore-rule files. Never raises
    on bad input."""
    with cyclic_gc_paused():
        loaded = load_spec(target, ignore_files)
        diagnostics = list(loaded.diagnostics)
        spec = None
        if loaded.complete:
            structured = validate_structure(loaded.data, loaded.source)
            diagnostics += structured.diagnostics + run_checks(structured, loaded.source)
            spec = structured.spec
    diagnostics.sort(key=sort_key)
    return Validation(target, loaded.files, diagnostics, spec if not has_errors(diagnostics) else None,
                      loaded.source)
