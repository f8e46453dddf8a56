"""A small HCL writer whose output is already `terraform fmt` clean and byte-for-byte deterministic.

Documents are built from `Block`s holding attributes and nested blocks. Strings are always escaped
(`${` and `%{` would otherwise be template syntax); raw expressions such as references are `Expr`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

INDENT = "  "
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*\Z")


class Expr(str):
    """A raw HCL expression, written as is: `aws_lb.public.arn`, `var.zone_ids["acme.com"]`."""


@dataclass
class Block:
    type: str
    labels: tuple[str, ...] = ()
    body: list[Any] = field(default_factory=list)  # (name, value) pairs and Blocks, in order

    def attr(self, name: str, value: Any) -> Block:
        """Add an attribute; None means 'leave it out'."""
        if value is not None:
            self.body.append((name, value))
        return self

    def block(self, child: Block) -> Block:
        self.body.append(child)
        return self


def quote(text: str) -> str:
    """An HCL string literal for `text`, escaped so it parses back to exactly `text`."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "{" and out and out[-1] in "$%":
            # `${` / `%{` would start a template; an escaped brace is a literal one. (HCL's own `$${`
            # escape is not used: python-hcl2 and other parsers mishandle it unless a `}` follows.)
            out.append("\\u007b")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F or 0xD800 <= ord(ch) <= 0xDFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _key(name: str) -> str:
    return name if _IDENTIFIER.match(name) else quote(name)


def _value_lines(value: Any, depth: int) -> list[str]:
    """The value as lines; the first line continues after `name = `, the rest are indented."""
    pad = INDENT * depth
    if isinstance(value, Expr):
        return [str(value)]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, int):
        return [str(value)]
    if isinstance(value, float):
        return [repr(value)]
    if isinstance(value, str):
        return [quote(value)]
    if isinstance(value, dict):
        if not value:
            return ["{}"]
        return ["{", *_body_lines([(k, v) for k, v in value.items() if v is not None], depth + 1), pad + "}"]
    if isinstance(value, (list, tuple)):
        if not value:
            return ["[]"]
        if all(not isinstance(v, (dict, list, tuple)) for v in value):
            return ["[" + ", ".join(_value_lines(v, depth)[0] for v in value) + "]"]
        lines = ["["]
        for item in value:
            item_lines = _value_lines(item, depth + 1)
            lines.append(INDENT * (depth + 1) + item_lines[0])
            lines += item_lines[1:-1]
            if len(item_lines) > 1:
                lines.append(item_lines[-1])
            lines[-1] += ","
        return lines + [pad + "]"]
    raise TypeError(f"cannot write {type(value).__name__} as HCL")


def _body_lines(body: list[Any], depth: int) -> list[str]:
    """Attributes and blocks; runs of one-line attributes get their `=` aligned, as terraform fmt does."""
    pad = INDENT * depth
    lines: list[str] = []
    run: list[tuple[str, str]] = []

    def flush() -> None:
        width = max((len(k) for k, _ in run), default=0)
        lines.extend(f"{pad}{k.ljust(width)} = {v}" for k, v in run)
        run.clear()

    for item in body:
        if isinstance(item, Block):
            flush()
            lines += _block_lines(item, depth)
        else:
            name, value = item
            value_lines = _value_lines(value, depth)
            if len(value_lines) == 1:
                run.append((_key(name), value_lines[0]))
            else:
                flush()
                lines.append(f"{pad}{_key(name)} = {value_lines[0]}")
                lines += value_lines[1:]
    flush()
    return lines


def _block_lines(block: Block, depth: int) -> list[str]:
    pad = INDENT * depth
    header = " ".join([block.type, *(quote(label) for label in block.labels)])
    if not block.body:
        return [f"{pad}{header} {{", f"{pad}}}"]
    return [f"{pad}{header} {{", *_body_lines(block.body, depth + 1), f"{pad}}}"]


def render(blocks: list[Block], header: str = "") -> str:
    """A whole .tf file: blocks separated by one blank line, ending with a newline."""
    parts = ["\n".join(_block_lines(block, 0)) for block in blocks]
    text = "\n\n".join(parts) + "\n"
    return (header + "\n" + text) if header else text


def render_attributes(pairs: list[tuple[str, Any]], header: str = "") -> str:
    """A file of top-level attributes, such as a .tfvars file."""
    text = "\n".join(_body_lines(list(pairs), 0)) + "\n"
    return (header + "\n" + text) if header else text
