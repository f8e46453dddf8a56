"""Data made inert for the medium it is shown in.

Anything from a spec (a pull request) or a live API (a record's name, a TXT value, a WAF description,
an API's error body) may hold terminal escapes, bidi controls, HTML, Markdown, links or @mentions.
Renderers pass every such value through here: it reaches a terminal, a page or a PR comment as the
text it is, never as instructions.
"""

from __future__ import annotations

import re

from rich.console import Console, ConsoleRenderable, RenderableType, RenderHook
from rich.text import Text

# Control characters (C0 but newline and tab, DEL, C1) and the characters that reorder or hide text:
# bidi embeddings, overrides and isolates, marks, zero-width joiners, the BOM, line/paragraph separators.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def visible(text: str) -> str:
    """Every unsafe character as its escape (ESC -> \\x1b, U+202E -> \\u202e), the rest as it is."""
    return _UNSAFE.sub(lambda m: m.group(0).encode("unicode_escape").decode(), text)


def code(text: str, limit: int | None = None) -> str:
    """`text` as a Markdown code span GitHub shows literally: no HTML, link, emphasis or mention inside
    is interpreted. Fenced with more backticks than any run in it; line breaks become spaces; `|` is
    escaped so that it cannot end a table cell; cut to `limit` characters (with '...')."""
    if limit is not None and len(text) > limit:
        text = text[:limit - 3] + "..."
    text = visible(text).replace("\r", " ").replace("\n", " ").replace("|", "\\|")
    if not text:
        return "` `"
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or text.startswith(" ") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


class InertData(RenderHook):
    """A console hook that shows what it prints with unsafe characters escaped (styles kept)."""

    def __init__(self, console: Console):
        self.console = console

    def process_renderables(self, renderables: list[ConsoleRenderable]) -> list[ConsoleRenderable]:
        return [self._inert(r) for r in renderables]

    def _inert(self, renderable: RenderableType) -> ConsoleRenderable:
        if isinstance(renderable, Text) and _UNSAFE.search(renderable.plain):
            pieces = Text.assemble(*((visible(s.text), s.style) for s in renderable.render(self.console)),
                                   end=renderable.end)
            return pieces
        return renderable  # type: ignore[return-value]


class PlainConsole(Console):
    """With `plain` (NO_COLOR, --no-color), no escape sequence at all: no colour, no bold, and no spinner
    (rich's moves the cursor, even when it has nothing to show)."""

    def __init__(self, plain: bool = False, **options):
        super().__init__(**({"color_system": None} if plain else {}), **options)
        self.plain = plain

    def status(self, *args, **kwargs):
        return _NoStatus() if self.plain else super().status(*args, **kwargs)


class _NoStatus:
    def __enter__(self) -> _NoStatus:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def update(self, *args, **kwargs) -> None:
        return None


def console(plain: bool = False, **options) -> PlainConsole:
    """The console every command prints through: no markup or emoji codes are read from what it prints
    (data is never markup), no highlighting, unsafe characters escaped, one line per line."""
    made = PlainConsole(plain, soft_wrap=True, highlight=False, markup=False, emoji=False, **options)
    made.push_render_hook(InertData(made))
    return made
