"""Terraform (or OpenTofu) driven as a subprocess: init, plan -out, show -json, apply of the saved plan.

edgec never edits Terraform state itself: Terraform keeps its state, backends and locking. The user's
CLI configuration (provider mirrors, credentials helpers) is honoured because edgec passes the
environment through unchanged.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from dataclasses import dataclass, field
from typing import Callable

from edgec.apply.interrupt import Finished, run_stoppable
from edgec.apply.resume import mark_interrupted

PLAN_FILE = ".edgec.tfplan"  # in each layer's folder; removed once applied (it may hold secrets)


class TerraformError(Exception):
    """A Terraform command failed; the message names the layer and command, with Terraform's output."""


class TerraformInterrupted(TerraformError):
    """edgec was interrupted (SIGINT, SIGTERM) while a Terraform command ran, and Terraform has stopped. Exits
    128 + the first signal's number, as a shell reports a command its signal ended: 130, or 143."""

    def __init__(self, layer: str, command: str, done: Finished):
        self.exit_code = 128 + done.signals[0]
        stopped = ("was forced to stop at once: what it was changing may be missing from its state"
                   if done.forced else "stopped gracefully and saved its state")
        if command == "apply":
            what = (f"while Terraform applied the {layer} layer; Terraform {stopped}. What it had not "
                    "started in this layer, and every layer after it, was not applied")
        else:
            what = (f"during `terraform {command}` of the {layer} layer; Terraform {stopped}. Nothing more "
                    "was applied (layers applied before this one are complete)")
        super().__init__(f"interrupted ({signal.Signals(done.signals[0]).name}) {what}. "
                         "Run `edgec apply` again to converge.")


@dataclass
class Terraform:
    binary: str = "terraform"
    plugin_dir: str | None = None  # `terraform init -plugin-dir`, for air-gapped machines
    environment: dict[str, str] = field(default_factory=dict)  # set for its commands (the pacing proxy's URL)

    def check(self) -> str:
        """The binary's path; a clear error when it is not installed."""
        found = shutil.which(self.binary)
        if not found:
            raise TerraformError(f"'{self.binary}' not found on PATH; install Terraform (>= 1.6) or OpenTofu, "
                                 "or name it with --terraform-bin")
        return found

    def init(self, layer_dir: str) -> None:
        args = ["init", "-input=false"] + ([f"-plugin-dir={self.plugin_dir}"] if self.plugin_dir else [])
        self._run(layer_dir, args)

    def plan(self, layer_dir: str, variables: dict | None = None, refresh: bool = True) -> str:
        """Save a plan in the layer's folder; returns its path. `variables` are passed as -var (JSON values).
        Without `refresh`, Terraform plans from its state as it is (edgec/apply/refresh.py)."""
        args = ["-input=false", f"-out={PLAN_FILE}", *([] if refresh else ["-refresh=false"]), *_vars(variables)]
        self._run(layer_dir, ["plan", *args])
        return os.path.join(layer_dir, PLAN_FILE)

    def refresh(self, layer_dir: str, addresses: list[str], variables: dict | None = None) -> None:
        """Refresh these resources of the state (and what they depend on) from the live objects, through
        Terraform: `apply -refresh-only`, which changes nothing but the state."""
        targets = [f"-target={address}" for address in addresses]
        self._run(layer_dir, ["apply", "-refresh-only", "-auto-approve", "-input=false", *targets, *_vars(variables)])

    def outputs(self, layer_dir: str) -> dict:
        """The layer's outputs from its state: name -> value."""
        return {name: output["value"] for name, output in json.loads(self._run(layer_dir, ["output", "-json"])).items()}

    def show(self, layer_dir: str) -> dict:
        return json.loads(self._run(layer_dir, ["show", "-json", PLAN_FILE]))

    def state(self, layer_dir: str) -> dict:
        """The layer's state as `show -json` gives it (from its backend; no provider call)."""
        return json.loads(self._run(layer_dir, ["show", "-json"]))

    def apply(self, layer_dir: str, echo: Callable[[str], None]) -> None:
        """Apply exactly the saved plan (Terraform refuses a stale one), streaming Terraform's progress."""
        try:
            self._run(layer_dir, ["apply", "-input=false", PLAN_FILE], echo=echo)
        except TerraformInterrupted:
            mark_interrupted(layer_dir)  # the next edgec apply resumes it
            raise
        finally:
            discard_plan(layer_dir)

    def untaint(self, layer_dir: str, address: str) -> None:
        self._run(layer_dir, ["untaint", address])

    def _run(self, layer_dir: str, args: list[str], echo: Callable[[str], None] | None = None) -> str:
        command = [self.binary, *args, "-no-color"]
        env = {**os.environ, "TF_IN_AUTOMATION": "1", **self.environment}
        done = run_stoppable(command, layer_dir, env, echo)
        if done.signals:
            raise TerraformInterrupted(os.path.basename(layer_dir), args[0], done)
        if done.code != 0:
            tail = "\n".join((done.errors.strip() or done.output.strip()).splitlines()[-40:])
            raise TerraformError(f"`{self.binary} {' '.join(args)}` failed in {layer_dir}:\n{tail}")
        return done.output


def _vars(variables: dict | None) -> list[str]:
    return [f"-var={name}={json.dumps(value)}" for name, value in sorted((variables or {}).items())]


def discard_plan(layer_dir: str) -> None:
    try:
        os.remove(os.path.join(layer_dir, PLAN_FILE))
    except FileNotFoundError:
        pass
