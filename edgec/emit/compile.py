"""Compile: the IR -> every layer's files (each layer's emitter, in registry order), written
deterministically into one folder.

Only files whose content changed are rewritten. A manifest (`.edgec-manifest`) lists what edgec wrote,
so files it no longer produces are removed and files it never wrote (a backend.tf, say) are left alone.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field

from edgec.ir.model import IR
from edgec.layers import LAYERS
from edgec.layers.base import EmitOptions
from edgec.memory import cyclic_gc_paused

MANIFEST = ".edgec-manifest"


@dataclass
class CompileResult:
    out_dir: str
    files: dict[str, str]  # relative path -> content
    resources: Counter = field(default_factory=Counter)  # layer -> number of IR resources
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def render_files(ir: IR, options: EmitOptions = EmitOptions()) -> dict[str, str]:
    """Every generated file, by path relative to the output folder."""
    files: dict[str, str] = {}
    for layer in LAYERS:
        files.update(layer.emit(ir, options))
    return dict(sorted(files.items()))


def compile_ir(ir: IR, out_dir: str, options: EmitOptions = EmitOptions()) -> CompileResult:
    with cyclic_gc_paused():
        result = CompileResult(out_dir, render_files(ir, options), Counter(r.layer for r in ir.resources))
    _write(result)
    return result


def _write(result: CompileResult) -> None:
    os.makedirs(result.out_dir, exist_ok=True)
    previous = _read_manifest(result.out_dir)
    for path, content in result.files.items():
        full = os.path.join(result.out_dir, path)
        if _read(full) == content:
            result.unchanged.append(path)
            continue
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(content)
        result.written.append(path)
    for path in sorted(previous - set(result.files)):
        full = os.path.join(result.out_dir, path)
        if os.path.exists(full):
            os.remove(full)
            result.removed.append(path)
    manifest = "".join(f"{path}\n" for path in result.files)
    if _read(os.path.join(result.out_dir, MANIFEST)) != manifest:
        with open(os.path.join(result.out_dir, MANIFEST), "w", encoding="utf-8", newline="\n") as fh:
            fh.write(manifest)


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except OSError:
        return None


def _read_manifest(out_dir: str) -> set[str]:
    text = _read(os.path.join(out_dir, MANIFEST)) or ""
    # only plain relative paths: a tampered manifest must not delete files outside the folder
    return {line for line in text.splitlines() if line and not os.path.isabs(line) and ".." not in line.split("/")}
