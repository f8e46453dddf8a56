"""Terraform (or OpenTofu) driven as a subprocess: init, plan -out, show -json, apply of the saved plan.

edgec never edits Terraform state itself: Terraform keeps its state, backends and locking. The user's
CLI configuration (provider mirrors, credentials helpers) is honoured because edgec passes the
environment through unchanged.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Callable

PLAN_FILE = ".edgec.tfplan"  # in each layer's folder; removed once applied (it may hold secrets)


class TerraformError(Exception):
    """A Terraform command failed; the message names the layer and command, with Terraform's output."""


@dataclass
class Terraform:
    binary: str = "terraform"
    plugin_dir: str | None = None  # `terraform init -plugin-dir`, for air-gapped machines

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

    def plan(self, layer_dir: str, variables: dict | None = None) -> str:
        """Save a plan in the layer's folder; returns its path. `variables` are passed as -var (JSON values)."""
        args = [f"-var={name}={json.dumps(value)}" for name, value in sorted((variables or {}).items())]
        self._run(layer_dir, ["plan", "-input=false", f"-out={PLAN_FILE}", *args])
        return os.path.join(layer_dir, PLAN_FILE)

    def outputs(self, layer_dir: str) -> dict:
        """The layer's outputs from its state: name -> value."""
        return {name: output["value"] for name, output in json.loads(self._run(layer_dir, ["output", "-json"])).items()}

    def show(self, layer_dir: str) -> dict:
        return json.loads(self._run(layer_dir, ["show", "-json", PLAN_FILE]))

    def apply(self, layer_dir: str, echo: Callable[[str], None]) -> None:
        """Apply exactly the saved plan (Terraform refuses a stale one), streaming Terraform's progress."""
        try:
            self._run(layer_dir, ["apply", "-input=false", PLAN_FILE], echo=echo)
        finally:
            discard_plan(layer_dir)

    def _run(self, layer_dir: str, args: list[str], echo: Callable[[str], None] | None = None) -> str:
        command = [self.binary, *args, "-no-color"]
        env = {**os.environ, "TF_IN_AUTOMATION": "1"}
        if echo is None:
            done = subprocess.run(command, cwd=layer_dir, env=env, capture_output=True, text=True)
            code, output, errors = done.returncode, done.stdout, done.stderr
        else:
            process = subprocess.Popen(command, cwd=layer_dir, env=env, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True)
            lines = []
            for line in process.stdout:
                lines.append(line)
                echo(line.rstrip("\n"))
            code, output, errors = process.wait(), "".join(lines), ""
        if code != 0:
            tail = "\n".join((errors.strip() or output.strip()).splitlines()[-40:])
            raise TerraformError(f"`{self.binary} {' '.join(args)}` failed in {layer_dir}:\n{tail}")
        return output


def discard_plan(layer_dir: str) -> None:
    try:
        os.remove(os.path.join(layer_dir, PLAN_FILE))
    except FileNotFoundError:
        pass
