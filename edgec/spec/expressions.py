"""Cloudflare Rules-language expressions, checked with Cloudflare's own parser (wirefilter)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import octorules_wirefilter

MAX_EXPRESSION_LENGTH = 4096  # Cloudflare's limit per rule expression
ALWAYS = "true"  # Cloudflare's expression for "every request"; wirefilter's scheme has no boolean literal
_POSITION = re.compile(r"\((\d+):(\d+)\):\s*\n")
_CARET_LINE = re.compile(r"^\s*\^+\s*(.*)$")


@dataclass(frozen=True)
class ExpressionError:
    offset: int  # 0-based character offset into the expression as written
    message: str


def check_expression(expression: str) -> ExpressionError | None:
    """None when wirefilter accepts the expression, else where and why it does not."""
    if len(expression) > MAX_EXPRESSION_LENGTH:
        return ExpressionError(0, f"expression is {len(expression):,} characters; Cloudflare allows at most "
                                     f"{MAX_EXPRESSION_LENGTH:,}: split it into several rules")
    if expression.strip() == ALWAYS:
        return None
    result = octorules_wirefilter.parse_expression(expression)
    error = result.get("error")
    if not error:
        return None
    return _parse_error(expression, error)


def _parse_error(expression: str, text: str) -> ExpressionError:
    """wirefilter says 'Filter parsing error (L:C):\\n<expr line>\\n   ^^^ reason'."""
    position = _POSITION.search(text)
    line, column = (int(position.group(1)), int(position.group(2))) if position else (1, 1)
    reason = text.strip().splitlines()[-1] if text.strip() else "invalid expression"
    caret = _CARET_LINE.match(reason)
    if caret:
        reason = caret.group(1) or "invalid expression"
    offset = _offset(expression, line, column)
    line = expression.count("\n", 0, offset) + 1
    column = offset - (expression.rfind("\n", 0, offset) + 1) + 1
    return ExpressionError(offset, f"invalid WAF expression: {reason} (at line {line}, column {column})")


def _offset(expression: str, line: int, byte_column: int) -> int:
    """wirefilter counts lines and UTF-8 bytes after trimming leading whitespace: back to characters."""
    trimmed = expression.lstrip()
    lines = trimmed.split("\n")
    index = min(max(line, 1), len(lines)) - 1
    start = sum(len(text) + 1 for text in lines[:index])
    text_before = lines[index].encode()[: max(byte_column - 1, 0)].decode("utf-8", errors="ignore")
    return len(expression) - len(trimmed) + start + len(text_before)
