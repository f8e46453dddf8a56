"""YAML text for JSON-shaped data (mappings, lists, strings, numbers, booleans, None), written fast.

PyYAML's representer is pure Python, about 10 µs a node, and a 10,000-host Envoy bootstrap has close
to a million nodes: seconds for one file. This writes the same block layout in one pass. A string is
left plain only when it cannot be read as anything else under YAML 1.1 (PyYAML) or 1.2 (Envoy); other
strings are single-quoted when they are printable ASCII, else double-quoted with JSON's escapes
(which YAML's double-quoted style shares).
"""

from __future__ import annotations

import functools
import json
import math
import re
from typing import Any

import yaml

from edgec.spec.yaml_source import resolve_plain

# No indicator character first; a `:` only between other characters (`a: b` would be a mapping).
_PLAIN = re.compile(r"[A-Za-z0-9_./^][A-Za-z0-9_./+=,^$()|*?%@-]*(?::[A-Za-z0-9_./+=,^$()|*?%@-]+)*")
# Plain words YAML 1.1 or 1.2 reads as booleans or null (in any case: quoting more is harmless).
_RESERVED = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"})
_PRINTABLE_ASCII = re.compile(r"[ -~]*")
# Characters YAML will not take raw in a double-quoted string (JSON escapes only those below U+0020):
# C1 controls (NEL is a line break to YAML 1.1), line and paragraph separators, BOM, non-characters.
_NOT_PRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")
_YAML_1_1 = yaml.resolver.Resolver()


def dump(data: Any) -> str:
    out: list[str] = []
    if isinstance(data, dict) and data:
        _mapping(data, "", "", out)
    elif isinstance(data, list) and data:
        _sequence(data, "", "", out)
    else:
        out.append(_scalar(data) + "\n")
    return "".join(out)


def _mapping(mapping: dict, indent: str, first: str, out: list[str]) -> None:
    """Each entry on its own line at `indent`; the first after `first` (a `- ` of an enclosing list)."""
    prefix = first or indent
    for key, value in mapping.items():
        if isinstance(value, dict) and value:
            out.append(f"{prefix}{_scalar(key)}:\n")
            _mapping(value, indent + "  ", "", out)
        elif isinstance(value, list) and value:
            out.append(f"{prefix}{_scalar(key)}:\n")
            _sequence(value, indent, "", out)  # lists in a mapping are not indented, as PyYAML writes them
        else:
            out.append(f"{prefix}{_scalar(key)}: {_scalar(value)}\n")
        prefix = indent


def _sequence(items: list, indent: str, first: str, out: list[str]) -> None:
    prefix = first or indent
    for item in items:
        if isinstance(item, dict) and item:
            _mapping(item, indent + "  ", prefix + "- ", out)
        elif isinstance(item, list) and item:
            _sequence(item, indent + "  ", prefix + "- ", out)
        else:
            out.append(f"{prefix}- {_scalar(item)}\n")
        prefix = indent


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        if _plain(value):
            return value
        if _PRINTABLE_ASCII.fullmatch(value):
            return "'" + value.replace("'", "''") + "'"
        return _NOT_PRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(value, ensure_ascii=False))
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value).lower()
        return text.replace("e", ".0e", 1) if "." not in text and "e" in text else text  # YAML 1.1 wants the dot
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    raise TypeError(f"cannot write {type(value).__name__} as YAML")


def _plain(text: str) -> bool:
    if not _PLAIN.fullmatch(text) or text.lower() in _RESERVED:
        return False
    return text[0].isalpha() or text[0] in "_/" or _reads_as_text(text)


@functools.lru_cache(maxsize=65536)
def _reads_as_text(text: str) -> bool:
    """Whether plain `text` (starting with a digit or a dot: 10s, 127.0.0.1, .inf) stays a string under
    YAML 1.1's resolvers (ints, floats, sexagesimals, timestamps) and YAML 1.2's core schema."""
    return (_YAML_1_1.resolve(yaml.ScalarNode, text, (True, False)) == "tag:yaml.org,2002:str"
            and isinstance(resolve_plain(text), str))
