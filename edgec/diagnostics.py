"""Located diagnostics: what is wrong, where, and how bad.

Every problem edgec finds in a spec becomes one `Diagnostic`. They are collected, never raised,
so a user sees all of them at once.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from enum import Enum
from typing import Iterable

Path = tuple[str | int, ...]


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Location:
    file: str
    line: int  # 1-based
    column: int  # 1-based

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


MAX_MESSAGE = 1000  # characters: a message quoting a huge value shows its start and end


@dataclass(frozen=True)
class Diagnostic:
    location: Location
    path: Path
    message: str
    severity: Severity = Severity.ERROR
    code: str = field(default="spec")

    def __post_init__(self) -> None:
        if len(self.message) > MAX_MESSAGE:
            cut = len(self.message) - MAX_MESSAGE
            shortened = f"{self.message[:700]} [... {cut:,} characters left out ...] {self.message[-300:]}"
            object.__setattr__(self, "message", shortened)

    @property
    def field_path(self) -> str:
        return format_path(self.path)

    def __str__(self) -> str:
        return one_line(f"{self.location}: {self.severity.value}: {self.field_path}: {self.message}")

    def to_json(self) -> dict:
        return {
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "path": self.field_path,
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
        }


def one_line(text: str) -> str:
    """Escape line breaks and control characters a user's values may carry: one diagnostic, one line."""
    return "".join(ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode() for ch in text)


def format_path(path: Path) -> str:
    """`('zones', 'acme.com', 'tls')` -> `zones["acme.com"].tls`; `(.., 3, ..)` -> `[3]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier():
            out += f".{part}" if out else part
        else:
            out += f'["{part}"]'
    return out or "(root)"


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A ` (did you mean 'x'?)` suffix, or '' when nothing is close."""
    close = difflib.get_close_matches(str(word), sorted(set(candidates)), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def sort_key(d: Diagnostic) -> tuple:
    return (d.location.file, d.location.line, d.location.column, d.message)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)
