"""The validation pipeline: load files -> structural model -> semantic checks -> the IR -> sorted
diagnostics. A spec that validates has its IR built, so every later stage starts from it."""

from __future__ import annotations

from dataclasses import dataclass

from edgec.diagnostics import Diagnostic, format_path, has_errors, sort_key
from edgec.ir.build import NameClash, build_ir
from edgec.ir.model import IR
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
    ir: IR | None = None  # the spec resolved, set only when there is no error

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


def validate(target: str, ignore_files: tuple[str, ...] = ()) -> Validation:
    """Validate the spec at `target` (a file or a directory), with extra ignore-rule files. Never raises
    on bad input."""
    ir = None
    with cyclic_gc_paused():
        loaded = load_spec(target, ignore_files)
        diagnostics = list(loaded.diagnostics)
        spec = None
        if loaded.complete:
            structured = validate_structure(loaded.data, loaded.source)
            diagnostics += structured.diagnostics + run_checks(structured, loaded.source)
            spec = structured.spec
        if spec is not None and not has_errors(diagnostics):
            try:
                ir = build_ir(spec)
            except NameClash as clash:
                diagnostics += _clash_diagnostics(clash, loaded.source)
    diagnostics.sort(key=sort_key)
    ok = not has_errors(diagnostics)
    return Validation(target, loaded.files, diagnostics, spec if ok else None, loaded.source, ir if ok else None)


def _clash_diagnostics(clash: NameClash, source: SourceMap) -> list[Diagnostic]:
    """Two spec elements that would become one resource: an error at each, naming the other and what
    they would both become."""
    pairs: dict[tuple, list[str]] = {}
    for c in clash.clashes:
        pairs.setdefault((c.first.origin, c.second.origin), []).append(c.what)
    out = []
    for (first, second), what in pairs.items():
        both = ", ".join(what[:-1]) + " and " + what[-1] if len(what) > 1 else what[0]
        for here, there in ((first, second), (second, first)):
            out.append(Diagnostic(source.value(here), here, f"this and {format_path(there)} would both become "
                                                            f"{both}; rename one of them", code="spec.clash"))
    return out
