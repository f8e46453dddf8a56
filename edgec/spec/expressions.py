"""Cloudflare Rules-language expressions, checked with Cloudflare's own parser (wirefilter)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import octorules_wirefilter

MAX_EXPRESSION_LENGTH = 4096  # Cloudflare's limit per rule expression
_POSITION = re.compile(r"\((\d+):(\d+)\):\s*\n")
_CARET_LINE = re.compile(r"^\s*\^+\s*(.*)$")


@dataclass(frozen=True)
class ExpressionError:
    line: int  # 1-based, inside the expression
    column: int  # 1-based, inside the expression
    message: str


def check_expression(expression: str) -> ExpressionError | None:
    """None when wirefilter accepts the expression, else where and why it does not."""
    if len(expression) > MAX_EXPRESSION_LENGTH:
        return ExpressionError(1, 1, f"expression is {len(expression):,} characters; Cloudflare allows at most "
                                     f"{MAX_EXPRESSION_LENGTH:,}: split it into several rules")
    result = octorules_wirefilter.parse_expression(expression)
    error = result.get("error")
    if not error:
        return None
    return _parse_error(error)


def _parse_error(text: str) -> ExpressionError:
    """wirefilter says 'Filter parsing error (L:C):\\n<expr line>\\n   ^^^ reason'."""
    position = _POSITION.search(text)
    line, column = (int(position.group(1)), int(position.group(2))) if position else (1, 1)
    reason = text.strip().splitlines()[-1] if text.strip() else "invalid expression"
    caret = _CARET_LINE.match(reason)
    if caret:
        reason = caret.group(1) or "invalid expression"
    return ExpressionError(line, column, f"invalid WAF expression: {reason} (at line {line}, column {column})")
