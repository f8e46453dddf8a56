"""Progress of live reads, for a person. On a terminal, the spinner says which layers are being read and
their calls so far. Elsewhere (a CI log), or under NO_COLOR, a line per layer on stderr once its read has
run for QUIET_FOR seconds (when it started, calls so far), again every INTERVAL seconds, and when it is
done: a log then shows that a long read is alive, and which layer is slow; a quick read prints nothing."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

from rich.console import Console

from edgec.read.progress import Progress
from edgec.render import inert

QUIET_FOR = 2.0  # seconds: a read done sooner needs no progress line
INTERVAL = 5.0  # seconds between a layer's lines in a log
TICK = 0.25


@dataclass
class _Read:
    calls: Callable[[], int]
    started: float
    said: float | None = None  # when its last line was printed


class ReadProgress(Progress):
    def __init__(self, console: Console, status=None, quiet_for: float = QUIET_FOR, interval: float = INTERVAL):
        self.console, self.status = console, status  # status: a terminal's spinner, else lines to `console`
        self.quiet_for, self.interval, self.clock = quiet_for, interval, time.monotonic
        self.reads: dict[str, _Read] = {}
        self.lock = threading.Lock()

    def started(self, layer: str, calls: Callable[[], int]) -> None:
        with self.lock:
            self.reads[layer] = _Read(calls, self.clock())

    def finished(self, layer: str, failed: bool) -> None:
        with self.lock:
            read = self.reads.pop(layer)
        if read.said is not None:  # a layer that printed progress says it is over
            outcome = "failed" if failed else "done"
            self._line(f"reading {layer}: {outcome} after {self.clock() - read.started:.0f} s, "
                       f"{_calls(read.calls())}")
        self.tick()

    def tick(self) -> None:
        now = self.clock()
        with self.lock:
            reads = list(self.reads.items())
        if self.status is not None:
            self.status.update("reading " + ", ".join(f"{layer} ({_calls(read.calls())})" for layer, read in reads))
            return
        for layer, read in reads:
            due = read.started + self.quiet_for if read.said is None else read.said + self.interval
            if now >= due:
                since = "" if read.said is not None else f"started {now - read.started:.0f} s ago, "
                self._line(f"reading {layer}: {since}{_calls(read.calls())} so far")
                read.said = now

    def _line(self, text: str) -> None:
        if self.status is None:
            self.console.print(f"edgec: {text}")


def _calls(n: int) -> str:
    return f"{n} call{'' if n == 1 else 's'}"


@contextmanager
def read_progress(console: Console, what: str = "reading live state...") -> Iterator[ReadProgress]:
    """A ReadProgress for the reads inside: on `console`'s terminal, as its spinner; else lines on stderr."""
    spinning = console.is_terminal and not getattr(console, "plain", False)
    log = inert.console(plain=True, stderr=True)
    with console.status(what) if spinning else _nothing() as status:
        progress = ReadProgress(console if spinning else log, status if spinning else None, QUIET_FOR, INTERVAL)
        done = threading.Event()
        ticker = threading.Thread(target=lambda: _every(TICK, done, progress.tick), daemon=True)
        ticker.start()
        try:
            yield progress
        finally:
            done.set()
            ticker.join()


def _every(seconds: float, done: threading.Event, action: Callable[[], None]) -> None:
    while not done.wait(seconds):
        action()


@contextmanager
def _nothing() -> Iterator[None]:
    yield None
