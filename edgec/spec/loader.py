"""Load a spec from a file, a directory of files, or a file with `include:`, into one document.

A large estate is split one file per team. The files are merged into one document whose source
map still points every value at the file and line it came from:
- `zones`, `gateways`, `services`, `certificates`, `waf`: merged by key; the same key in two files is
  an error (one team owns each entry);
- `dns`: merged by zone, and the record lists of one zone are concatenated (teams add records);
- `ingresses`: concatenated in file order;
- `apiVersion` may repeat (it must agree); any other top-level field may be set by one file only;
- a certificate's `certificate_file` is relative to the file that declares it (as an include is);
- top-level keys starting with `x-` are ignored: they hold YAML anchors to reuse (`x-defaults: &d`).
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from typing import Any

from edgec.diagnostics import Diagnostic, Location, Path
from edgec.spec.yaml_source import MAX_FILE_BYTES, SourceMap, decode, parse_yaml

KEYED_SECTIONS = ("zones", "gateways", "services", "certificates", "waf", "dns")
LIST_SECTIONS = ("ingresses", "ignore")
CONCAT_WITHIN = ("dns",)  # sections whose entries are lists that concatenate across files
YAML_SUFFIXES = (".yaml", ".yml")
LOCAL_FILE_FIELD = "certificate_file"  # the one spec field naming a file edgec itself reads
EXTENSION_PREFIX = "x-"  # top-level keys for the user's own anchors, as in Compose files


@dataclass
class LoadedSpec:
    data: dict[str, Any]
    source: SourceMap
    files: list[str]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    complete: bool = True  # False when some file could not be read or parsed at all


def spec_files_in(directory: str) -> list[str]:
    """Every YAML file under `directory`, in a stable order, skipping hidden folders.

    Symbolic links to folders are followed (each real folder once, so loops end)."""
    found, visited = [], set()
    for root, dirs, files in os.walk(directory, followlinks=True):
        real = os.path.realpath(root)
        if real in visited:
            dirs[:] = []
            continue
        visited.add(real)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [os.path.join(root, f) for f in sorted(files) if f.endswith(YAML_SUFFIXES)]
    return found


class _Merger:
    def __init__(self) -> None:
        self.spec = LoadedSpec({}, SourceMap(), [])
        self.seen: set[str] = set()

    def error(self, loc: Location, path: Path, message: str) -> None:
        self.spec.diagnostics.append(Diagnostic(loc, path, message))

    def load(self, file: str, included_from: tuple[Location, Path] | None = None,
             only: tuple[str, ...] | None = None) -> None:
        real = os.path.realpath(file)
        if real in self.seen:
            return
        self.seen.add(real)
        data, source = self.read(file, included_from)
        if data is None:
            self.spec.complete = False
            return
        self.spec.files.append(file)
        if only is not None:
            for key in [k for k in data if k not in only]:
                self.error(source.key((key,)), (key,), f"an ignore file holds only 'ignore:' rules, not '{key}'")
                del data[key]
        includes = data.pop("include", None)
        self.merge(data, source, file)
        if includes is not None:
            self.follow_includes(includes, source, file)

    def read(self, file: str, included_from) -> tuple[dict | None, SourceMap]:
        where, path = included_from or (Location(file, 1, 1), ())
        if os.path.exists(file) and not os.path.isfile(file):  # a FIFO or device would block or never end
            self.error(where, path, f"{file} is not a regular file")
            return None, SourceMap()
        try:
            with open(file, "rb") as fh:
                raw = fh.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            self.error(where, path, f"cannot read {file}: {exc.strerror or exc}")
            return None, SourceMap()
        if len(raw) > MAX_FILE_BYTES:
            self.error(Location(file, 1, 1), (), f"file is larger than {MAX_FILE_BYTES // 2**20} MiB; split it")
            return None, SourceMap()
        text, problem = decode(raw, file)
        if problem:
            self.spec.diagnostics.append(problem)
            return None, SourceMap()
        parsed = parse_yaml(text, file)
        self.spec.diagnostics += parsed.diagnostics
        if parsed.diagnostics and parsed.data is None:
            return None, parsed.source
        if parsed.data is None:
            self.error(Location(file, 1, 1), (), "file is empty; a spec file is a mapping such as "
                       "'apiVersion: edgec/v1' with zones, gateways, services and ingresses")
            return None, parsed.source
        if not isinstance(parsed.data, dict):
            kind = type(parsed.data).__name__
            self.error(parsed.source.value(()), (), f"a spec file must be a mapping of fields, not a {kind}")
            return None, parsed.source
        return parsed.data, parsed.source

    def follow_includes(self, includes: Any, source: SourceMap, file: str) -> None:
        if isinstance(includes, str):
            includes = [includes]
        if not isinstance(includes, list):
            self.error(source.value(("include",)), ("include",), "include takes a list of file paths or globs")
            return
        base = os.path.dirname(file)
        for i, pattern in enumerate(includes):
            path: Path = ("include", i)
            loc = source.value(path)
            if not isinstance(pattern, str) or not pattern or "\x00" in pattern:
                self.error(loc, path, "an include entry is a file path or glob, relative to this file")
                continue
            full = os.path.normpath(os.path.join(base, pattern))
            matches = sorted(glob.glob(full)) if glob.has_magic(full) else [full]
            if glob.has_magic(full) and not matches:
                self.error(loc, path, f"include pattern '{pattern}' matches no file")
            for match in matches:
                targets = spec_files_in(match) if os.path.isdir(match) else [match]
                if not targets:
                    self.error(loc, path, f"included folder '{pattern}' holds no .yaml or .yml files")
                for target in targets:
                    self.load(target, (loc, path))

    def merge(self, data: dict, source: SourceMap, file: str) -> None:
        merged, merged_source = self.spec.data, self.spec.source
        merged_source.start_document(file)
        for key, value in data.items():
            path: Path = (key,)
            if key.startswith(EXTENSION_PREFIX):
                continue  # x-... keys hold YAML anchors for reuse; edgec ignores them
            if value is None and key in KEYED_SECTIONS + LIST_SECTIONS:
                value = {} if key in KEYED_SECTIONS else []  # `services:` with every entry commented out
            if key == "certificates" and isinstance(value, dict):
                value = _files_relative_to(value, os.path.dirname(file))
            if key not in merged:
                merged[key] = value
                merged_source.adopt(path, source, path)
            elif key in LIST_SECTIONS and isinstance(value, list) and isinstance(merged[key], list):
                self.append_items(merged[key], value, source, path, path)
            elif key in KEYED_SECTIONS and isinstance(value, dict) and isinstance(merged[key], dict):
                self.merge_entries(key, merged[key], value, source)
            elif key == "apiVersion":
                if value != merged[key]:
                    first = merged_source.value(path)
                    self.error(source.value(path), path, f"apiVersion {value!r} disagrees with {merged[key]!r} "
                                                         f"at {first.file}:{first.line}; all files must agree")
            else:
                first = merged_source.key(path)
                self.error(source.key(path), path,
                           f"'{key}' is already set in {first.file}:{first.line}; only one file may set it")

    def append_items(self, target: list, items: list, source: SourceMap, src: Path, dst: Path) -> None:
        for i, item in enumerate(items):
            self.spec.source.append(dst, len(target), source, src + (i,))
            target.append(item)

    def merge_entries(self, section: str, target: dict, entries: dict, source: SourceMap) -> None:
        for name, value in entries.items():
            path: Path = (section, name)
            if name not in target:
                target[name] = value
                self.spec.source.adopt(path, source, path)
            elif section in CONCAT_WITHIN and isinstance(value, list) and isinstance(target[name], list):
                self.append_items(target[name], value, source, path, path)
            else:
                first = self.spec.source.key(path)
                self.error(source.key(path), path,
                           f"{section} entry '{name}' is already defined at {first}; "
                           "each entry is owned by one file")


def _files_relative_to(certificates: dict, base: str) -> dict:
    """Certificates with a local file (an origin-pull certificate's `certificate_file`) name it relative to
    the file that declares them, as includes do; the path is made relative to the working directory."""
    out = {}
    for name, entry in certificates.items():
        path = entry.get(LOCAL_FILE_FIELD) if isinstance(entry, dict) else None
        if isinstance(path, str) and path and not os.path.isabs(path):
            entry = {**entry, LOCAL_FILE_FIELD: os.path.normpath(os.path.join(base, path))}
        out[name] = entry
    return out


def local_files(data: dict) -> list[str]:
    """The local files a loaded spec names (resolved as `_files_relative_to` left them)."""
    certificates = data.get("certificates")
    entries = certificates.values() if isinstance(certificates, dict) else []
    return [path for entry in entries if isinstance(entry, dict)
            and isinstance(path := entry.get(LOCAL_FILE_FIELD), str) and path]


def load_spec(target: str, ignore_files: tuple[str, ...] = ()) -> LoadedSpec:
    """Load SPEC (a file or a directory) and everything it includes, merged into one document.

    `ignore_files` hold only `ignore:` rules (kept apart from the spec, e.g. per environment)."""
    merger = _Merger()
    if os.path.isdir(target):
        files = spec_files_in(target)
        if not files:
            merger.error(Location(target, 1, 1), (), "directory holds no .yaml or .yml spec files")
            merger.spec.complete = False
        for file in files:
            merger.load(file)
    else:
        merger.load(target)
    for file in ignore_files:
        merger.load(file, only=("ignore", "apiVersion"))
    return merger.spec
