"""Parse one YAML file into plain Python data plus a map from data paths to source positions.

edgec builds the data from PyYAML's event stream (libyaml's C parser when present) instead of
`yaml.safe_load` because it needs to:
- remember where every key and value came from, so diagnostics can say FILE:LINE:COL;
- refuse duplicate keys (PyYAML silently keeps the last one);
- survive hostile input: alias bombs, recursive aliases, absurd nesting, binary garbage;
- resolve plain scalars with YAML 1.2's core schema, so `on`, `yes`, `off` and `NO` stay strings
  (YAML 1.1 would turn `retries: {on: [5xx]}` into `{True: [...]}`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from edgec.diagnostics import Diagnostic, Location, Path

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_DEPTH = 64
MAX_FILE_BYTES = 64 * 1024 * 1024
# Aliases may repeat content, but not blow it up: a document may expand to at most this many
# nodes beyond its own size (billion-laughs protection).
ALIAS_EXPANSION_ALLOWANCE = 100_000

_STR_TAG = "tag:yaml.org,2002:str"
_STANDARD_TAGS = {
    _STR_TAG,
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}
_NULL = re.compile(r"^(~|null|Null|NULL|)$")
_TRUE = re.compile(r"^(true|True|TRUE)$")
_FALSE = re.compile(r"^(false|False|FALSE)$")
_INT = re.compile(r"^[-+]?[0-9]+$")
_OCT = re.compile(r"^0o[0-7]+$")
_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(inf|Inf|INF)$")
_NAN = re.compile(r"^\.(nan|NaN|NAN)$")


@dataclass
class ScalarSpan:
    """Where a string scalar's text starts, so a column inside it can be mapped to the file."""

    location: Location
    style: str  # '' plain, '"' or "'" quoted, '|' literal, '>' folded


@dataclass
class SourceMap:
    """Data path -> where it is written. Paths are tuples of mapping keys and list indexes."""

    values: dict[Path, Location] = field(default_factory=dict)
    keys: dict[Path, Location] = field(default_factory=dict)
    scalars: dict[Path, ScalarSpan] = field(default_factory=dict)
    lines: dict[str, list[str]] = field(default_factory=dict)  # file -> its lines, to map inside values

    def value(self, path: Path) -> Location:
        """The position of the value at `path`, or of its nearest written ancestor."""
        for cut in range(len(path), -1, -1):
            found = self.values.get(path[:cut])
            if found:
                return found
        return Location("<unknown>", 1, 1)

    def key(self, path: Path) -> Location:
        return self.keys.get(path) or self.value(path)

    def inside(self, path: Path, value: str, offset: int) -> Location:
        """The file position of character `offset` of the string `value` written at `path`.

        Exact for one-line plain and quoted scalars (escapes included) and for literal blocks (`|`);
        for folded or multi-line flow scalars, whose line breaks YAML rewrites, the scalar's start."""
        span = self.scalars.get(path)
        if span is None:
            return self.value(path)
        start, lines = span.location, self.lines.get(span.location.file, [])
        line_index = value.count("\n", 0, offset)
        column = offset - (value.rfind("\n", 0, offset) + 1)
        if span.style == "|":
            number = start.line + 1 + line_index
            raw = lines[number - 1] if number <= len(lines) else None
            decoded = value.split("\n")[line_index]
            if raw is not None and raw.endswith(decoded):
                return Location(start.file, number, len(raw) - len(decoded) + column + 1)
            return start
        if "\n" in value or span.style == ">" or start.line > len(lines):
            return start
        raw_column = _raw_column(lines[start.line - 1], start.column - 1, span.style, column)
        return Location(start.file, start.line, raw_column + 1) if raw_column is not None else start

    def absorb(self, other: SourceMap, moves: dict[Path, Path]) -> None:
        """Take `other`'s entries, re-rooted: an entry under a key of `moves` moves under its value.

        One pass over `other`, so merging many files (or many list items) stays linear."""
        depths = sorted({len(prefix) for prefix in moves}, reverse=True)
        for mine, theirs in ((self.values, other.values), (self.keys, other.keys), (self.scalars, other.scalars)):
            for path, loc in theirs.items():
                for n in depths:
                    dst = moves.get(path[:n]) if len(path) >= n else None
                    if dst is not None:
                        mine[dst + path[n:]] = loc
                        break
        self.lines.update(other.lines)


_ESCAPE_WIDTH = {"x": 2, "u": 4, "U": 8}


def _raw_column(raw: str, start: int, style: str, offset: int) -> int | None:
    """0-based column in `raw` of decoded character `offset` of a scalar starting at `start`."""
    if style == "":
        return start + offset if start + offset <= len(raw) else None
    i, decoded = start + 1, 0  # skip the opening quote
    while i < len(raw):
        if decoded == offset:
            return i
        if style == "'" and raw.startswith("''", i):
            i += 2
        elif style == "'" and raw[i] == "'":
            return None  # the closing quote before the offset: the scalar continues on later lines
        elif style == '"' and raw[i] == "\\" and i + 1 < len(raw):
            i += 2 + _ESCAPE_WIDTH.get(raw[i + 1], 0)
        elif style == '"' and raw[i] == '"':
            return i if decoded == offset else None
        else:
            i += 1
        decoded += 1
    return i if decoded == offset else None


@dataclass
class ParsedFile:
    data: Any
    source: SourceMap
    diagnostics: list[Diagnostic]


MERGE = object()  # the pending key of a plain `<<` merge key ("<<" quoted is an ordinary key)


class _Abort(Exception):
    """Stop parsing this file; the diagnostic has been recorded."""


def resolve_plain(text: str) -> Any:
    """YAML 1.2 core schema resolution of a plain (unquoted) scalar."""
    if _NULL.match(text):
        return None
    if _TRUE.match(text):
        return True
    if _FALSE.match(text):
        return False
    if _INT.match(text):
        return int(text)
    if _OCT.match(text):
        return int(text[2:], 8)
    if _HEX.match(text):
        return int(text[2:], 16)
    if _FLOAT.match(text):
        return float(text)
    if _INF.match(text):
        return -math.inf if text.startswith("-") else math.inf
    if _NAN.match(text):
        return math.nan
    return text


def decode(raw: bytes, file: str) -> tuple[str | None, Diagnostic | None]:
    """UTF-8 (with or without BOM) text, or a located diagnostic at the first bad byte."""
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        good = raw[: exc.start].decode("utf-8", errors="replace")
        line = good.count("\n") + 1
        column = len(good) - (good.rfind("\n") + 1) + 1
        msg = f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); a spec must be a UTF-8 YAML file"
        return None, Diagnostic(Location(file, line, column), (), msg)


class _Container:
    __slots__ = ("value", "path", "anchor", "pending_key", "key_loc", "size", "merges")

    def __init__(self, value: Any, path: Path, anchor: str | None):
        self.value = value
        self.path = path
        self.anchor = anchor
        self.pending_key: str | None = None
        self.key_loc: Location | None = None
        self.size = 1
        self.merges: list[tuple[Any, Location]] = []


class _Builder:
    """Turns the event stream of one document into data, tracking positions and expansion."""

    def __init__(self, file: str):
        self.file = file
        self.source = SourceMap()
        self.diagnostics: list[Diagnostic] = []
        self.anchors: dict[str, tuple[Any, int]] = {}  # name -> (value, expanded size)
        self.open_anchors: set[str] = set()
        self.stack: list[_Container] = []
        self.distinct_nodes = 0
        self.root: Any = None

    def loc(self, mark) -> Location:
        return Location(self.file, mark.line + 1, mark.column + 1)

    def error(self, loc: Location, path: Path, message: str) -> None:
        self.diagnostics.append(Diagnostic(loc, path, message))

    def child_path(self) -> Path | None:
        """Path of the next value, or None when the next scalar is a mapping key."""
        if not self.stack:
            return ()
        top = self.stack[-1]
        if isinstance(top.value, list):
            return top.path + (len(top.value),)
        if top.pending_key is None:
            return None
        return top.path + ("<<" if top.pending_key is MERGE else top.pending_key,)

    def handle(self, event) -> None:
        if isinstance(event, yaml.ScalarEvent):
            self.scalar(event)
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            self.start(event)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            self.end()
        elif isinstance(event, yaml.AliasEvent):
            self.alias(event)

    def check_tag(self, event, path: Path) -> None:
        if event.tag and event.tag not in _STANDARD_TAGS and event.tag not in ("!", "?"):
            self.error(self.loc(event.start_mark), path, f"unsupported YAML tag {event.tag!r}; remove it")

    def scalar(self, event) -> None:
        path = self.child_path()
        loc = self.loc(event.start_mark)
        if path is None:  # a mapping key
            self.check_tag(event, self.stack[-1].path + (event.value,))
            plain_merge = event.value == "<<" and event.style in (None, "")
            self.key(MERGE if plain_merge else event.value, loc)
            return
        self.check_tag(event, path)
        plain = event.style in (None, "") and event.tag != _STR_TAG
        value = resolve_plain(event.value) if plain else event.value
        if isinstance(value, str):
            self.source.scalars[path] = ScalarSpan(loc, event.style or "")
        if event.anchor:
            self.anchors[event.anchor] = (value, 1)
        self.distinct_nodes += 1
        self.add(value, path, loc, 1)

    def key(self, text, loc: Location) -> None:
        top = self.stack[-1]
        top.key_loc = loc
        if text is not MERGE and text in top.value:
            first = self.source.keys.get(top.path + (text,))
            where = f" (first defined at {first.line}:{first.column})" if first else ""
            self.error(loc, top.path + (text,), f"duplicate key '{text}'{where}; keep only one")
        top.pending_key = text
        if text is not MERGE:
            self.source.keys[top.path + (text,)] = loc

    def value_slot(self, event, what: str) -> tuple[Path, Location]:
        """Path and position of a collection or alias; those cannot be mapping keys."""
        path = self.child_path()
        loc = self.loc(event.start_mark)
        if path is None:
            self.error(loc, self.stack[-1].path, f"{what} cannot be a mapping key; keys are plain strings")
            raise _Abort
        return path, loc

    def start(self, event) -> None:
        path, loc = self.value_slot(event, "a mapping or list")
        if len(self.stack) >= MAX_DEPTH:
            self.error(loc, path, f"nesting is deeper than {MAX_DEPTH} levels; a spec never needs that")
            raise _Abort
        self.check_tag(event, path)
        value: Any = {} if isinstance(event, yaml.MappingStartEvent) else []
        self.source.values[path] = loc
        if event.anchor:
            self.open_anchors.add(event.anchor)
        self.distinct_nodes += 1
        self.stack.append(_Container(value, path, event.anchor))

    def end(self) -> None:
        done = self.stack.pop()
        if done.merges:
            self.apply_merges(done)
        if done.anchor:
            self.open_anchors.discard(done.anchor)
            self.anchors[done.anchor] = (done.value, done.size)
        self.add(done.value, done.path, None, done.size)

    def apply_merges(self, mapping: _Container) -> None:
        """YAML merge keys (`<<: *defaults`): explicit keys win, earlier merges win over later."""
        for value, loc in mapping.merges:
            sources = value if isinstance(value, list) else [value]
            for source in sources:
                if not isinstance(source, dict):
                    self.error(loc, mapping.path, "a merge key (<<) takes a mapping or a list of mappings")
                    continue
                for k, v in source.items():
                    if k not in mapping.value:
                        mapping.value[k] = v
                        self.source.keys.setdefault(mapping.path + (k,), loc)
                        self.source.values.setdefault(mapping.path + (k,), loc)

    def alias(self, event) -> None:
        path, loc = self.value_slot(event, "an alias")
        if event.anchor in self.open_anchors:
            self.error(loc, path, f"alias *{event.anchor} refers to itself (recursive structure)")
            raise _Abort
        if event.anchor not in self.anchors:
            self.error(loc, path, f"alias *{event.anchor} has no anchor &{event.anchor} before it")
            raise _Abort
        value, size = self.anchors[event.anchor]
        self.source.values.setdefault(path, loc)
        self.add(value, path, loc, size)

    def add(self, value: Any, path: Path, loc: Location | None, size: int) -> None:
        if loc is not None:
            self.source.values.setdefault(path, loc)
        if not self.stack:
            self.root = value
            return
        top = self.stack[-1]
        top.size += size
        if top.size > self.distinct_nodes + ALIAS_EXPANSION_ALLOWANCE:
            self.error(loc or self.source.value(path), path,
                       "aliases expand this document beyond "
                       f"{ALIAS_EXPANSION_ALLOWANCE:,} extra nodes (a YAML alias bomb?); write it out instead")
            raise _Abort
        if isinstance(top.value, list):
            top.value.append(value)
        elif top.pending_key is MERGE:
            top.merges.append((value, top.key_loc))
            top.pending_key = None
        else:
            top.value[top.pending_key] = value
            top.pending_key = None


def parse_yaml(text: str, file: str) -> ParsedFile:
    """Parse one YAML document. Problems come back as diagnostics; data is None if unusable."""
    lines = [line.rstrip("\r") for line in text.split("\n")]
    builder = _Builder(file)
    builder.source.lines[file] = lines
    documents = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    builder.error(builder.loc(event.start_mark), (),
                                  "more than one YAML document (---) in a file; split it into files")
                    raise _Abort
            else:
                builder.handle(event)
    except _Abort:
        return ParsedFile(None, builder.source, builder.diagnostics)
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        loc = Location(file, before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1)
        builder.error(loc, (), f"invalid YAML: {exc.reason} (character 0x{exc.character:x}); remove it")
        return ParsedFile(None, builder.source, builder.diagnostics)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = builder.loc(mark) if mark else Location(file, 1, 1)
        problem = " ".join(filter(None, [exc.context, exc.problem]))
        builder.error(loc, (), f"invalid YAML: {problem}")
        return ParsedFile(None, builder.source, builder.diagnostics)
    except yaml.YAMLError as exc:
        builder.error(Location(file, 1, 1), (), f"invalid YAML: {exc}")
        return ParsedFile(None, builder.source, builder.diagnostics)
    builder.source.values.setdefault((), Location(file, 1, 1))
    return ParsedFile(builder.root, builder.source, builder.diagnostics)
