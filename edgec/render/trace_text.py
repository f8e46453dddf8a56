"""`edgec trace` for people: one block per layer the request passed, then where it ends."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from edgec.diagnostics import one_line
from edgec.trace import Status, Trace

# Words rather than symbols: they survive every terminal encoding and read the same in CI logs.
MARKS: dict[Status, tuple[str, str]] = {"pass": ("PASS", "green"), "may": ("MAY ", "yellow"),
                                        "dead": ("DEAD", "bold red")}


def print_trace(console: Console, trace: Trace) -> None:
    console.print(Text(one_line(f"{trace.method} {trace.url}"), style="bold"))
    for hop in trace.hops:
        mark, style = MARKS[hop.status]
        console.print(Text(f"{mark} ", style=style) + Text(hop.layer, style="bold"))
        for line in hop.details:
            console.print(Text(one_line(f"       {line}")))  # Text: '[' in a detail is not rich markup
    console.print(Text(one_line(outcome(trace)), style="bold red" if trace.dies_at else "bold"))


def outcome(trace: Trace) -> str:
    """The last line: the cluster(s) reached, the redirect answered, or the layer the request dies at."""
    if trace.dies_at:
        return f"the request dies at {trace.dies_at}: {trace.why}"
    if trace.redirect:
        return f"answered with a redirect: {trace.redirect}"
    reached = "; ".join(f"{name} (endpoints {', '.join(endpoints)})" for name, endpoints in trace.clusters.items())
    return f"reaches cluster{'s' if len(trace.clusters) > 1 else ''} {reached}"
