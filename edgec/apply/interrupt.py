"""Running a Terraform command so that an interruption stops it gracefully, never half-way.

Terraform runs in its own process group (and session), so a Ctrl-C at the terminal reaches edgec only;
edgec forwards one SIGINT to Terraform's group, keeps reading its output and waits for it to exit.
SIGINT whether edgec got SIGINT or SIGTERM: it is Terraform's graceful stop (it starts nothing more,
cancels the provider's waits, records what it did in its state and releases its lock), and the provider
plugins in its group ignore it, where SIGTERM would kill them in the middle of a request. A second
interruption is only reported (a reflexive double Ctrl-C must not cost the state); a third forwards
Terraform's own "stop at once"; after Terraform has stopped, edgec reports any further one and finishes.
Whatever Terraform leaves in its group when it exits is killed, so no provider plugin outlives it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from typing import Callable

FORCE_AT = 3  # the interruption that makes Terraform stop at once
READ_REST = 10.0  # seconds to read what Terraform wrote before it exited (only a process outside its group,
# holding its output open, makes this wait; then the rest of the output is not shown)


@dataclass
class Finished:
    code: int
    output: str  # stdout (with stderr when the output was streamed)
    errors: str
    signals: list[int] = field(default_factory=list)  # interruptions edgec received while it ran

    @property
    def forced(self) -> bool:
        return len(self.signals) >= FORCE_AT


class _Forwarder:
    """SIGINT and SIGTERM handlers for the time one Terraform command runs."""

    def __init__(self) -> None:
        self.signals: list[int] = []
        self.group: int | None = None
        self.previous: dict[int, object] = {}

    def __enter__(self) -> _Forwarder:
        for signum in (signal.SIGINT, signal.SIGTERM):
            self.previous[signum] = signal.signal(signum, self._received)
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self.previous.items():
            # Once interrupted, edgec only reports and exits: a late signal (the second of a double Ctrl-C
            # when Terraform stopped at once) must not cut the report of what was applied short.
            signal.signal(signum, self._late if self.signals else handler)

    @staticmethod
    def _late(signum: int, _frame) -> None:
        _tell(f"{signal.Signals(signum).name} received again: Terraform has stopped; edgec is finishing.")

    def attach(self, group: int) -> None:
        self.group = group
        if self.signals:  # interrupted before Terraform started: it stops at once, having done nothing
            self._forward()

    def _received(self, signum: int, _frame) -> None:
        self.signals.append(signum)
        count, name = len(self.signals), signal.Signals(signum).name
        if count == 1:
            self._forward()
            _tell(f"{name} received: Terraform was asked to stop gracefully (it starts nothing more and saves "
                  "its state); waiting for it to exit.")
        elif count < FORCE_AT:
            _tell(f"{name} received again: still waiting for Terraform to stop and save its state. A third "
                  "interruption stops it at once, and it may then not record what it was changing.")
        elif count == FORCE_AT:
            self._forward()
            _tell(f"{name} received a third time: Terraform was told to stop at once; waiting for it to exit.")
        else:
            _tell(f"{name} received: Terraform was already told to stop at once; waiting for it to exit.")

    def _forward(self) -> None:
        if self.group is not None:
            _signal_group(self.group, signal.SIGINT)


def run_stoppable(command: list[str], cwd: str, env: dict[str, str],
                  echo: Callable[[str], None] | None = None) -> Finished:
    """Run `command` to its end, even when interrupted. With `echo`, its output (stdout and stderr) is
    streamed line by line; without, stdout and stderr are collected apart."""
    with _Forwarder() as forwarder:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT if echo else subprocess.PIPE,
                                   encoding="utf-8", errors="replace",  # a provider may echo an API's bytes
                                   start_new_session=True)
        forwarder.attach(process.pid)
        output: list[str] = []
        errors: list[str] = []
        # Output is read by threads and the wait is for Terraform itself, not for the end of its output: a
        # process it left behind may hold the pipe open.
        readers = [_reader(process.stdout, output, echo)] + ([] if echo else [_reader(process.stderr, errors, None)])
        process.wait()
        # The group outlives Terraform only if something it started (a provider plugin) is still alive; its
        # number cannot be reused while that is so.
        _signal_group(process.pid, signal.SIGKILL)
        for reader in readers:
            reader.join(READ_REST)
    return Finished(process.returncode, "".join(output), "".join(errors), forwarder.signals)


def _reader(stream, lines: list[str], echo: Callable[[str], None] | None) -> threading.Thread:
    def read() -> None:
        for line in stream:
            lines.append(line)
            if echo:
                echo(line.rstrip("\n"))

    thread = threading.Thread(target=read, name="terraform-output", daemon=True)
    thread.start()
    return thread


def _signal_group(group: int, signum: int) -> None:
    try:
        os.killpg(group, signum)
    except ProcessLookupError:  # the group is empty: everything in it has exited
        pass


def _tell(message: str) -> None:
    sys.stderr.write(f"edgec: {message}\n")
    sys.stderr.flush()
