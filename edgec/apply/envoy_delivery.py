"""`edgec apply --layer envoy`: deliver each gateway's dynamic config (edgec/layers/envoy/dynamic.py) to its
folder, and confirm through its admin API that Envoy runs it; what Envoy rejects, or does not take in
time, is swapped back and confirmed running again.

A gateway takes at most three swaps, each confirmed before the next, so that no listener ever routes to
a cluster Envoy does not have: the new clusters beside the old ones, then the listeners, then the
clusters without the ones no listener uses any more. Between any two swaps Envoy runs a complete,
consistent version of each resource set, which is also all an interrupted apply can leave.
Gateways are delivered in batches (one at a time unless told otherwise, canary style): the gateways of a
batch at once, each confirmed (or rolled back) before the next batch starts; none after a batch in which
one failed.
"""

from __future__ import annotations

import pathlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import yaml
from rich.console import Console
from rich.text import Text

from edgec.ir.model import IR
from edgec.layers.base import EmitOptions
from edgec.layers.envoy import admin
from edgec.layers.envoy.dynamic import GatewayConfig, gateway_config, set_text, with_clusters_kept
from edgec.layers.envoy.emit import Index, dump, emit_envoy, gateways
from edgec.layers.envoy.target import GatewayFolder, write_atomically
from edgec.read.budget import ReadError

NAMES = {"lds": "listeners", "cds": "clusters"}
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class EnvoyTarget:
    gateway: str
    directory: pathlib.Path  # the config dir as edgec writes it (a host's folder, a mounted volume)
    admin_url: str
    config_dir: str  # the same folder as the gateway's Envoy finds it: every path in the files hangs from it


@dataclass(frozen=True)
class Timing:
    timeout: float = 30.0  # for Envoy to report a version it was given
    poll: float = 0.05
    call_timeout: float = 5.0  # each admin call


class DeliveryFailed(Exception):
    """A gateway did not take its new config; the message says what Envoy said and what runs now."""


class _NotTaken(Exception):
    """Envoy rejected a swap, or did not report its version in time."""


Versions = dict[str, str]  # lds | cds -> version


class EnvoyDelivery:
    def __init__(self, console: Console, ir: IR, timing: Timing = Timing()):
        self.console, self.ir, self.timing = console, ir, timing

    def deliver_all(self, targets: list[EnvoyTarget], batch: int = 1) -> None:
        """`batch` gateways at a time, in the order given; after a batch in which one failed, raises
        DeliveryFailed naming every failure and which gateways run the new config. An interrupted batch
        finishes first (each of its gateways confirmed or rolled back)."""
        delivered: list[str] = []
        for start in range(0, len(targets), batch):
            group = targets[start:start + batch]
            with ThreadPoolExecutor(max_workers=len(group)) as pool:
                failures = [str(f) for f in pool.map(self._failure, group) if f is not None]
            if failures:
                left = [t.gateway for t in targets[start + batch:]]
                raise DeliveryFailed("; ".join(failures) + _progress(delivered, left))
            delivered += [t.gateway for t in group]

    def _failure(self, target: EnvoyTarget) -> Exception | None:
        try:
            self.deliver(target)
        except (DeliveryFailed, RuntimeError, OSError) as exc:
            return exc
        return None

    def deliver(self, target: EnvoyTarget) -> None:
        index = Index(self.ir, target.config_dir)
        gateway = next(g for g in gateways(self.ir) if g.gateway == target.gateway)
        config = gateway_config(index, gateway)
        folder = GatewayFolder(target.directory, target.gateway)
        with folder.locked():
            folder.remove_leftovers()
            current = {kind: folder.current(kind) for kind in ("lds", "cds")}
            self._write_shared(target, folder, index, config, running=any(current.values()))
            if not any(current.values()):
                return self._install(target, folder, config)
            previous: Versions = {}
            for kind, found in current.items():
                if found:  # kept, to swap back to
                    previous[kind] = found[0]
                    folder.keep(kind, *found)
            steps = self._steps(current, config)
            if not steps:
                return self._say(f"gateway {target.gateway}: runs this config already ({_describe(previous)})")
            started = time.monotonic()
            self._run(target, folder, steps, previous)
            folder.prune({(kind, config.sets[kind]["version_info"]) for kind in config.sets}
                         | set(previous.items()))
            versions = {kind: content["version_info"] for kind, content in config.sets.items()}
            self._say(f"gateway {target.gateway}: Envoy runs {_describe(versions)} "
                      f"(confirmed in {time.monotonic() - started:.2f}s)", "green")

    # --- files ------------------------------------------------------------------------------------

    def _write_shared(self, target: EnvoyTarget, folder: GatewayFolder, index: Index, config: GatewayConfig,
                      running: bool) -> None:
        """The SDS secrets and the bootstrap (Envoy reads a changed bootstrap only when it restarts)."""
        options = EmitOptions("dynamic", target.config_dir)
        for path, text in emit_envoy(self.ir, options).items():
            if path.startswith("envoy/sds/"):
                write_atomically(target.directory / path.removeprefix("envoy/"), text)
        bootstrap = dump(config.bootstrap, self.ir, target.gateway)
        if write_atomically(folder.path / "bootstrap.yaml", bootstrap) and running:
            self._say(f"gateway {target.gateway}: its bootstrap changed (node, admin port or runtime); Envoy "
                      "reads it when it restarts", "yellow")

    def _install(self, target: EnvoyTarget, folder: GatewayFolder, config: GatewayConfig) -> None:
        """A folder with no config yet: write it whole; there is no running Envoy to confirm it with."""
        for kind in ("cds", "lds"):
            content = config.sets[kind]
            folder.keep(kind, content["version_info"], set_text(self.ir, target.gateway, kind, content))
            folder.swap(kind, content["version_info"])
        self._say(f"gateway {target.gateway}: installed in {folder.path}; start Envoy with "
                  f"envoy -c {target.config_dir.rstrip('/')}/{target.gateway}/bootstrap.yaml")

    # --- swaps --------------------------------------------------------------------------------------

    @staticmethod
    def _steps(current: dict[str, tuple[str, str] | None], config: GatewayConfig) -> list[tuple[str, dict]]:
        """(kind, content) to swap in, in order: the clusters beside the old ones, the listeners, the clusters."""
        desired = config.sets
        running = {kind: found[0] if found else None for kind, found in current.items()}
        old_cds = current["cds"]
        bridge = desired["cds"]
        if old_cds:
            bridge = with_clusters_kept(bridge, yaml.load(old_cds[1], Loader=_Loader))
        steps = []
        if bridge["version_info"] != running["cds"]:
            steps.append(("cds", bridge))
        if desired["lds"]["version_info"] != running["lds"]:
            steps.append(("lds", desired["lds"]))
        if desired["cds"]["version_info"] != bridge["version_info"]:
            steps.append(("cds", desired["cds"]))
        return steps

    def _run(self, target: EnvoyTarget, folder: GatewayFolder, steps: list[tuple[str, dict]],
             previous: Versions) -> None:
        swapped: list[str] = []
        for kind, content in steps:
            version = content["version_info"]
            folder.keep(kind, version, set_text(self.ir, target.gateway, kind, content))
            before = self._counters(target)
            folder.swap(kind, version)
            if kind not in swapped:
                swapped.append(kind)
            try:
                self._confirm(target, kind, version, before)
            except _NotTaken as exc:
                raise DeliveryFailed(f"gateway {target.gateway}: {exc}; "
                                     + self._roll_back(target, folder, swapped, previous)) from None

    def _roll_back(self, target: EnvoyTarget, folder: GatewayFolder, swapped: list[str], previous: Versions) -> str:
        """Swap back what was swapped, the last first, and confirm Envoy runs it; says how that went."""
        try:
            for kind in reversed(swapped):
                if kind not in previous:
                    continue
                before = self._counters(target)
                folder.swap(kind, previous[kind])
                self._confirm(target, kind, previous[kind], before)
        except _NotTaken as exc:
            return f"rolling back failed too: {exc}; its folder holds {_describe(previous)} again"
        return f"rolled back: Envoy runs {_describe(previous)} again"

    def _counters(self, target: EnvoyTarget) -> dict[str, dict[str, int]]:
        try:
            return admin.counters(target.gateway, target.admin_url, self.timing.call_timeout)
        except ReadError as exc:
            raise DeliveryFailed(f"gateway {target.gateway}: {exc}; nothing was swapped") from None

    def _confirm(self, target: EnvoyTarget, kind: str, version: str, before: dict[str, dict[str, int]]) -> None:
        """Wait until Envoy has read the swapped file and reports `version`; _NotTaken if it rejects it or
        the timeout passes first."""
        deadline = time.monotonic() + self.timing.timeout
        problem = "it did not answer"
        while time.monotonic() < deadline:
            try:
                now = admin.counters(target.gateway, target.admin_url, self.timing.call_timeout)[kind]
                if any(now[c] > before[kind][c] for c in ("update_rejected", "update_failure")):
                    reason = admin.rejection(target.gateway, target.admin_url, kind, self.timing.call_timeout)
                    raise _NotTaken(f"Envoy rejected the {NAMES[kind]} ({kind} version {version}): {reason}")
                running = admin.versions(target.gateway, target.admin_url, self.timing.call_timeout).get(kind)
                if now["update_attempt"] > before[kind]["update_attempt"] and running == version:
                    return
                problem = f"it reports {kind} version {running or 'none'}"
            except ReadError as exc:
                problem = str(exc)
            time.sleep(self.timing.poll)
        raise _NotTaken(f"Envoy did not report {kind} version {version} within {self.timing.timeout:g}s ({problem})")

    def _say(self, message: str, style: str = "") -> None:
        self.console.print(Text(message, style=style), highlight=False)


def _progress(delivered: list[str], left: list[str]) -> str:
    """What the other gateways run after a failed batch (its other gateways say so themselves)."""
    out = f". Delivered before it: {', '.join(delivered)}" if delivered else ""
    return out + (f". Not delivered (stopped at the failure): {', '.join(left)}" if left else "")


def _describe(versions: Versions) -> str:
    return ", ".join(f"{kind} {versions[kind]}" for kind in ("lds", "cds") if kind in versions)
