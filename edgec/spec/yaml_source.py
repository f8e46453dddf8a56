"""Parse one YAML file into plain Python data plus a map from data paths to source positions.

edgec builds the data from PyYAML's event stream (libyaml's C parser when present) instead of
`yaml.safe_load` because it needs to:
- remember where every key and value came from, so diagnostics can say FILE:LINE:COL;
- refuse duplicate keys (PyYAML silently keeps the last one);
- survive hostile input: alias bombs, recursive aliases, absurd nesting, binary garbage;
- resolve plain scalars with YAML 1.2's core schema, so `on`, `yes`, `off` and `NO` stay strings
  (YAML 1.1 would turn `retries: {on: [5xx]}` into `{True: [...]}`).

It is longer than edgec's other modules on purpose: the event builder, the source map it fills and
the limits on hostile input are one mechanism, tuned together for speed (10,000 hosts), and split
they would have to share their internals.
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
_NULL = re.compile(r"^(~|null|Null|NULL|)\Z")
_TRUE = re.compile(r"^(true|True|TRUE)\Z")
_FALSE = re.compile(r"^(false|False|FALSE)\Z")
_INT = re.compile(r"^[-+]?[0-9]+\Z")
_OCT = re.compile(r"^0o[0-7]+\Z")
_HEX = re.compile(r"^0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_INF = re.compile(r"^[-+]?\.(inf|Inf|INF)\Z")
_NAN = re.compile(r"^\.(nan|NaN|NAN)\Z")


# Where a scalar, an alias or a merged key was written: (file, line, column, style), 0-based, with
# style '' plain, '"' or "'" quoted, '|' literal, '>' folded, or None when the value is not a string.
# Plain tuples, not objects: a 10,000-host estate has hundreds of thousands of them.
Position = tuple[str, int, int, str | None]


@dataclass(slots=True)
class Written:
    """Where one mapping or list was written, and where each of its entries and keys were: a tree that
    shadows the data, so merging files moves whole subtrees (as the data moves) instead of re-rooting
    every path, and a lookup walks the path."""

    file: str
    line: int  # 0-based, like the parser's marks
    column: int
    children: dict | list  # key or index -> Written (a collection) or Position
    keys: dict = field(default_factory=dict)  # mapping key -> Position of the key


def _location(entry: Written | Position) -> Location:
    if isinstance(entry, Written):
        return Location(entry.file, entry.line + 1, entry.column + 1)
    return Location(entry[0], entry[1] + 1, entry[2] + 1)


class SourceMap:
    """Data path -> where it is written. Paths are tuples of mapping keys and list indexes."""

    def __init__(self, root: Written | Position | None = None, lines: dict[str, list[str]] | None = None):
        self.root = root
        self.lines = lines or {}  # file -> its lines, to map inside values and find comments

    def _trail(self, path: Path) -> list[Written | Position]:
        """The entries along `path`, from the root, as far as they are written."""
        if self.root is None:
            return []
        trail, node = [self.root], self.root
        for step in path:
            children = node.children if isinstance(node, Written) else None
            if isinstance(children, dict):
                node = children.get(step) if isinstance(step, (str, int)) else None
            elif isinstance(children, list) and type(step) is int and 0 <= step < len(children):
                node = children[step]
            else:
                break
            if node is None:
                break
            trail.append(node)
        return trail

    def value(self, path: Path) -> Location:
        """The position of the value at `path`, or of its nearest written ancestor."""
        trail = self._trail(path)
        return _location(trail[-1]) if trail else Location("<unknown>", 1, 1)

    def value_at(self, path: Path) -> Location | None:
        """The position of the value at exactly `path`, if it is written."""
        trail = self._trail(path)
        return _location(trail[-1]) if len(trail) == len(path) + 1 else None

    def key_at(self, path: Path) -> Location | None:
        """The position of the mapping key that ends `path`, if it is written."""
        if not path:
            return None
        trail = self._trail(path[:-1])
        parent = trail[-1] if len(trail) == len(path) else None
        found = parent.keys.get(path[-1]) if isinstance(parent, Written) else None
        return _location(found) if found else None

    def key(self, path: Path) -> Location:
        return self.key_at(path) or self.value(path)

    def inside(self, path: Path, value: str, offset: int) -> Location:
        """The file position of character `offset` of the string `value` written at `path`.

        Exact for one-line plain and quoted scalars (escapes included) and for literal blocks (`|`);
        for folded or multi-line flow scalars, whose line breaks YAML rewrites, the scalar's start."""
        trail = self._trail(path)
        entry = trail[-1] if len(trail) == len(path) + 1 else None
        if not isinstance(entry, tuple) or entry[3] is None:
            return self.value(path)
        start, style, lines = _location(entry), entry[3], self.lines.get(entry[0], [])
        line_index = value.count("\n", 0, offset)
        column = offset - (value.rfind("\n", 0, offset) + 1)
        if style == "|":
            number = start.line + 1 + line_index
            raw = lines[number - 1] if number <= len(lines) else None
            decoded = value.split("\n")[line_index]
            if raw is not None and raw.endswith(decoded):
                return Location(start.file, number, len(raw) - len(decoded) + column + 1)
            return start
        if "\n" in value or style == ">" or start.line > len(lines):
            return start
        raw_column = _raw_column(lines[start.line - 1], start.column - 1, style, column)
        return Location(start.file, start.line, raw_column + 1) if raw_column is not None else start

    # --- merging documents (the loader) -----------------------------------------------------------

    def start_document(self, file: str) -> None:
        """An empty document at the start of `file`, for files to be merged into."""
        if self.root is None:
            self.root = Written(file, 0, 0, {})

    def adopt(self, dst: Path, other: SourceMap, src: Path) -> None:
        """`dst` (a key of a mapping here) is now the value `other` holds at `src`, key included."""
        parent = self._writable(dst[:-1], {})
        trail = other._trail(src)
        filler = (parent.file, parent.line, parent.column, None)
        parent.children[dst[-1]] = trail[-1] if len(trail) == len(src) + 1 else filler
        key = trail[-2].keys.get(src[-1]) if len(trail) >= len(src) and isinstance(trail[-2], Written) else None
        if key:
            parent.keys[dst[-1]] = key
        self.lines.update(other.lines)

    def append(self, dst: Path, index: int, other: SourceMap, src: Path) -> None:
        """Item `index` of the list at `dst` is now the value `other` holds at `src`."""
        target = self._writable(dst, [])
        trail = other._trail(src)
        filler = (target.file, target.line, target.column, None)
        target.children += [filler] * (index - len(target.children))
        target.children[index:] = [trail[-1] if len(trail) == len(src) + 1 else filler]
        self.lines.update(other.lines)

    def _writable(self, path: Path, empty: dict | list) -> Written:
        """The collection written at `path`; a scalar or alias there (`services:` left empty, say)
        becomes an empty collection at its position, so merged entries can hang below it."""
        trail = self._trail(path)
        entry = trail[-1]
        if isinstance(entry, Written) and type(entry.children) is type(empty):
            return entry
        written = _location(entry)
        node = Written(written.file, written.line - 1, written.column - 1, empty)
        parent = trail[-2]
        parent.children[path[-1]] = node
        return node


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


# A plain scalar that starts with none of these and is none of the keywords is a string: most of a
# spec (names, hosts, paths) takes this fast way past the regular expressions below.
_NON_STRING_START = frozenset("0123456789+-.~")
_KEYWORDS = frozenset({"null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE"})


def resolve_plain(text: str) -> Any:
    """YAML 1.2 core schema resolution of a plain (unquoted) scalar."""
    if text and text[0] not in _NON_STRING_START and text not in _KEYWORDS:
        return text
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
    """A mapping or list being built, and where its parts were written."""

    __slots__ = ("value", "is_list", "written", "path", "anchor", "pending_key", "key_position", "size", "merges")

    def __init__(self, value: Any, written: Written, path: Path, anchor: str | None):
        self.value = value
        self.is_list = isinstance(value, list)
        self.written = written
        self.path = path
        self.anchor = anchor
        self.pending_key: str | None = None
        self.key_position: Position | None = None
        self.size = 1
        self.merges: list[tuple[Any, Position]] = []


class _Builder:
    """Turns the event stream of one document into data, tracking positions and expansion.

    Per event it does as little as it can (a 10,000-host estate is half a million events): positions
    are kept as the parser's line and column, and data paths are only worked out for diagnostics."""

    def __init__(self, file: str):
        self.file = file
        self.diagnostics: list[Diagnostic] = []
        self.anchors: dict[str, tuple[Any, int]] = {}  # name -> (value, expanded size)
        self.open_anchors: set[str] = set()
        self.stack: list[_Container] = []
        self.distinct_nodes = 0
        self.root: Any = None
        self.root_written: Written | Position | None = None
        self.documents = 0
        self.handlers = {yaml.DocumentStartEvent: self.document, yaml.ScalarEvent: self.scalar,
                         yaml.MappingStartEvent: self.start, yaml.SequenceStartEvent: self.start,
                         yaml.MappingEndEvent: self.end, yaml.SequenceEndEvent: self.end, yaml.AliasEvent: self.alias}

    def loc(self, mark) -> Location:
        return Location(self.file, mark.line + 1, mark.column + 1)

    def error(self, loc: Location, path: Path, message: str) -> None:
        self.diagnostics.append(Diagnostic(loc, path, message))

    def child_path(self) -> Path | None:
        """Path of the next value, or None when the next scalar is a mapping key."""
        if not self.stack:
            return ()
        top = self.stack[-1]
        if top.is_list:
            return top.path + (len(top.value),)
        if top.pending_key is None:
            return None
        return top.path + ("<<" if top.pending_key is MERGE else top.pending_key,)

    def run(self, parser) -> None:
        """Build from every event of `parser` (pulled one by one: the C parser's own loop, not a generator)."""
        handlers, get_event = self.handlers, parser.get_event
        try:
            event = get_event()
            while event is not None and type(event) is not yaml.StreamEndEvent:
                handler = handlers.get(type(event))
                if handler is not None:
                    handler(event)
                event = get_event()
        finally:
            parser.dispose()

    def document(self, event) -> None:
        self.documents += 1
        if self.documents > 1:
            self.error(self.loc(event.start_mark), (),
                       "more than one YAML document (---) in a file; split it into files")
            raise _Abort

    def check_tag(self, event, path: Path | None) -> None:
        if event.tag and event.tag not in _STANDARD_TAGS and event.tag not in ("!", "?"):
            self.error(self.loc(event.start_mark), path, f"unsupported YAML tag {event.tag!r}; remove it")

    def scalar(self, event) -> None:
        # The hot path of parsing (most events are scalars), so `add` and `key` are written out here.
        mark, top = event.start_mark, self.stack[-1] if self.stack else None
        if top is not None and top.pending_key is None and not top.is_list:  # a mapping key
            if event.tag:
                self.check_tag(event, top.path + (event.value,))
            text = MERGE if event.value == "<<" and not event.style else event.value
            position = (self.file, mark.line, mark.column, None)
            top.key_position = position
            if text is not MERGE:
                if text in top.value:
                    self.duplicate_key(top, text, position)
                top.written.keys[text] = position
            top.pending_key = text
            return
        if event.tag:
            self.check_tag(event, self.child_path())
        value = event.value
        if not event.style and event.tag != _STR_TAG:
            value = resolve_plain(value)
        position = (self.file, mark.line, mark.column, (event.style or "") if type(value) is str else None)
        if event.anchor:
            self.anchors[event.anchor] = (value, 1)
        self.distinct_nodes += 1
        if top is None:
            self.root, self.root_written = value, position
        elif top.is_list:
            top.size += 1  # a scalar grows the document as much as the container: no alias-bomb check
            top.value.append(value)
            top.written.children.append(position)
        elif top.pending_key is MERGE:
            self.add(value, position, 1)
        else:
            top.size += 1
            top.value[top.pending_key] = value
            top.written.children.setdefault(top.pending_key, position)
            top.pending_key = None

    def duplicate_key(self, top: _Container, text: str, position: Position) -> None:
        first = top.written.keys.get(text)
        where = f" (first defined at {first[1] + 1}:{first[2] + 1})" if first else ""
        self.error(_location(position), top.path + (text,), f"duplicate key '{text}'{where}; keep only one")

    def value_slot(self, event, what: str) -> Path:
        """Path of a collection or alias; those cannot be mapping keys."""
        path = self.child_path()
        if path is None:
            self.error(self.loc(event.start_mark), self.stack[-1].path,
                       f"{what} cannot be a mapping key; keys are plain strings")
            raise _Abort
        return path

    def start(self, event) -> None:
        path = self.value_slot(event, "a mapping or list")
        if len(self.stack) >= MAX_DEPTH:
            self.error(self.loc(event.start_mark), path,
                       f"nesting is deeper than {MAX_DEPTH} levels; a spec never needs that")
            raise _Abort
        if event.tag:
            self.check_tag(event, path)
        mapping = type(event) is yaml.MappingStartEvent
        value: Any = {} if mapping else []
        written = Written(self.file, event.start_mark.line, event.start_mark.column, {} if mapping else [])
        if event.anchor:
            self.open_anchors.add(event.anchor)
        self.distinct_nodes += 1
        self.stack.append(_Container(value, written, path, event.anchor))

    def end(self, _event) -> None:
        done = self.stack.pop()
        if done.merges:
            self.apply_merges(done)
        if done.anchor:
            self.open_anchors.discard(done.anchor)
            self.anchors[done.anchor] = (done.value, done.size)
        self.add(done.value, done.written, done.size)

    def apply_merges(self, mapping: _Container) -> None:
        """YAML merge keys (`<<: *defaults`): explicit keys win, earlier merges win over later."""
        for value, position in mapping.merges:
            sources = value if isinstance(value, list) else [value]
            for source in sources:
                if not isinstance(source, dict):
                    self.error(_location(position), mapping.path,
                               "a merge key (<<) takes a mapping or a list of mappings")
                    continue
                for k, v in source.items():
                    if k not in mapping.value:
                        mapping.value[k] = v
                        mapping.written.keys.setdefault(k, position)
                        mapping.written.children.setdefault(k, position)

    def alias(self, event) -> None:
        path = self.value_slot(event, "an alias")
        loc = self.loc(event.start_mark)
        if event.anchor in self.open_anchors:
            self.error(loc, path, f"alias *{event.anchor} refers to itself (recursive structure)")
            raise _Abort
        if event.anchor not in self.anchors:
            self.error(loc, path, f"alias *{event.anchor} has no anchor &{event.anchor} before it")
            raise _Abort
        value, size = self.anchors[event.anchor]
        self.add(value, (self.file, event.start_mark.line, event.start_mark.column, None), size)

    def add(self, value: Any, written: Written | Position, size: int) -> None:
        if not self.stack:
            self.root, self.root_written = value, written
            return
        top = self.stack[-1]
        top.size += size
        if top.size > self.distinct_nodes + ALIAS_EXPANSION_ALLOWANCE:
            self.error(_location(written), self.child_path() or top.path,
                       "aliases expand this document beyond "
                       f"{ALIAS_EXPANSION_ALLOWANCE:,} extra nodes (a YAML alias bomb?); write it out instead")
            raise _Abort
        if top.is_list:
            top.value.append(value)
            top.written.children.append(written)
        elif top.pending_key is MERGE:
            top.merges.append((value, top.key_position))
            top.pending_key = None
        else:
            top.value[top.pending_key] = value
            top.written.children.setdefault(top.pending_key, written)
            top.pending_key = None

    def source(self, lines: list[str]) -> SourceMap:
        """Where everything was written; after an aborted parse, as much as was built."""
        root = self.root_written or (self.stack[0].written if self.stack else (self.file, 0, 0, None))
        return SourceMap(root, {self.file: lines})


def parse_yaml(text: str, file: str) -> ParsedFile:
    """Parse one YAML document. Problems come back as diagnostics; data is None if unusable."""
    lines = [line.rstrip("\r") for line in text.split("\n")]
    builder = _Builder(file)
    try:
        builder.run(_Loader(text))
    except _Abort:
        return ParsedFile(None, builder.source(lines), builder.diagnostics)
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        loc = Location(file, before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1)
        builder.error(loc, (), f"invalid YAML: {exc.reason} (character 0x{exc.character:x}); remove it")
        return ParsedFile(None, builder.source(lines), builder.diagnostics)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = builder.loc(mark) if mark else Location(file, 1, 1)
        problem = " ".join(filter(None, [exc.context, exc.problem]))
        builder.error(loc, (), f"invalid YAML: {problem}")
        return ParsedFile(None, builder.source(lines), builder.diagnostics)
    except yaml.YAMLError as exc:
        builder.error(Location(file, 1, 1), (), f"invalid YAML: {exc}")
        return ParsedFile(None, builder.source(lines), builder.diagnostics)
    return ParsedFile(builder.root, builder.source(lines), builder.diagnostics)
