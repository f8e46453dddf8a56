"""`edgec apply`: compile, read live state (and check a reviewed plan still holds), Terraform init and
plan -out per layer (AWS before Cloudflare; planned again with import blocks where Terraform would create
what exists), the plans joined with edgec's summary, the safety rails, confirmation, then Terraform
applies exactly the saved plans; then the Envoy gateways given a folder (--envoy-dir) get their config
(edgec/apply/envoy_delivery.py); finally live state is read again."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pathlib
from dataclasses import dataclass
from typing import Callable

from rich.console import Console
from rich.text import Text

from edgec.apply.adopt import Import, imports_for, remove_imports, write_imports
from edgec.apply.crosscheck import EdgecView, edgec_view
from edgec.apply.envoy_delivery import DeliveryFailed, EnvoyDelivery, EnvoyTarget, Timing
from edgec.apply.pacing import CLOUDFLARE_API, PacingProxy
from edgec.apply.pin import (
    PlanFile,
    compiled_digest,
    live_digest,
    read_plan_file,
    spec_digest,
)
from edgec.apply.rails import Groups, check_rails
from edgec.apply.refresh import stale_in_plan, state_resources, to_refresh
from edgec.apply.resume import live_as_desired, resumed, tainted, was_interrupted
from edgec.apply.state import layer_states, state_problems, under_ci
from edgec.apply.terraform import Terraform, TerraformError, discard_plan
from edgec.apply.tfplan import LayerPlan, read_plan
from edgec.diff.make_plan import make_plan, plan_and_live
from edgec.diff.plan import Plan, PlanOptions
from edgec.emit.compile import compile_ir, render_files
from edgec.ir.model import IR
from edgec.layers import LAYER_NAMES, TERRAFORM_LAYERS
from edgec.layers.aws.model import AwsAcmCertificate
from edgec.layers.base import Layer, LiveLayer
from edgec.layers.envoy.model import EnvoyGateway
from edgec.read.budget import ReadError
from edgec.render.apply_text import print_layer_plans, print_refusals
from edgec.render.plan_text import print_plan
from edgec.render.progress import read_progress
from edgec.spec.model import Spec
from edgec.spec.validate import Validation, validate


class ApplyFailed(Exception):
    """Stops the apply; the message says why and what to do."""


@dataclass
class ApplyOptions:
    terraform: Terraform
    read: PlanOptions
    out_dir: str | None = None  # default generated/<spec name>
    auto_approve: bool = False
    force: bool = False
    ignore_files: tuple[str, ...] = ()
    adopt: bool = False  # import existing objects that carry no edgec ownership marker
    full_refresh: bool = False  # Terraform refreshes every resource itself, not only what edgec's read says differs
    verify: bool = False  # read live state again after applying
    envoy_dirs: dict[str, str] = dataclasses.field(default_factory=dict)  # gateway -> folder to deliver to
    envoy_config_dir: str | None = None  # the folder as Envoy finds it; default: the --envoy-dir folder itself
    envoy_timing: Timing = Timing()
    envoy_batch: int = 1  # gateways delivered at once, each batch confirmed before the next


def digests(validation: Validation, plan: Plan) -> dict[str, str]:
    """What `edgec plan --out` pins and `edgec apply PLANFILE` checks again."""
    assert validation.ir is not None
    files = render_files(validation.ir)
    return {"spec": spec_digest(validation.files), "compiled": compiled_digest(files),
            "live": live_digest(plan.to_json())}


def plan_file(target: str, ignore_files: tuple[str, ...], validation: Validation, plan: Plan,
              layers: tuple[str, ...]) -> PlanFile:
    """`layers`: those chosen with --layer (none: every layer)."""
    return PlanFile(os.path.abspath(target), [os.path.abspath(f) for f in ignore_files],
                    sorted(layers or LAYER_NAMES), digests(validation, plan), plan.to_json())


class Applier:
    def __init__(self, console: Console, options: ApplyOptions, confirm: Callable[[], bool]):
        self.console, self.options, self.confirm = console, options, confirm

    def run(self, target: str) -> Validation | None:
        """Apply `target` (a spec or a plan file). Raises ApplyFailed; returns the validation when the spec
        has errors (for the caller to print), else None."""
        pinned = read_plan_file(target)
        spec_target, ignore_files = (pinned.spec, tuple(pinned.ignore_files)) if pinned else (
            target, self.options.ignore_files)
        read = dataclasses.replace(self.options.read, layers=frozenset(pinned.layers)) if pinned else self.options.read
        validation = validate(spec_target, ignore_files)
        if not validation.ok:
            return validation
        spec, ir = validation.spec, validation.ir
        assert spec is not None and ir is not None
        self._check_state(ir, read, self.options.out_dir or f"generated/{spec.name}")
        envoy = envoy_targets(ir, self.options) if read.wants("envoy") else []
        # gateways are read for the config dir they are delivered to (the versions they report depend on it)
        read = dataclasses.replace(read, envoy_config_dir=self.options.envoy_config_dir,
                                   envoy_config_dirs={t.gateway: t.config_dir for t in envoy})
        with read_progress(self.console) as progress:
            live, states = plan_and_live(ir, spec.ignore, read, progress)
        if live.errors:
            print_plan(self.console, live)
            raise ApplyFailed("nothing was applied: live state could not be read completely")
        if pinned:
            self._check_pinned(target, pinned, digests(validation, live))
        self.live = live
        self.console.print(Text("What differs from the live state (edgec plan):", style="bold"))
        print_plan(self.console, live)
        compiled = compile_ir(ir, self.options.out_dir or f"generated/{spec.name}")
        layers = [layer for layer in TERRAFORM_LAYERS if read.wants(layer.name)
                  and os.path.isdir(os.path.join(compiled.out_dir, "terraform", layer.name))]
        if not layers and not envoy:
            raise ApplyFailed("the spec compiles to no layer that was selected (--layer); the Envoy layer needs "
                              "--envoy-dir GATEWAY=DIR for each gateway to deliver to")
        if layers:
            with self._paced(layers):
                self._apply_layers(spec, ir, compiled.out_dir, layers, states, edgec_view(ir, live, states))
        if envoy:
            self._deliver_envoy(ir, envoy)
        if self.options.verify:
            self._verify(ir, spec, read)
        else:
            self.console.print("Live state was read once, before applying; `edgec plan` (or `edgec apply --verify`) "
                               "reads it again to confirm.")
        if spec.gateways and not envoy:
            self.console.print(f"Envoy configuration is in {os.path.join(compiled.out_dir, 'envoy')}: roll it out "
                               "with your gateways, or deliver it with edgec apply --layer envoy --envoy-dir "
                               "GATEWAY=DIR (docs/envoy.md).")
        return None

    def _check_state(self, ir: IR, read: PlanOptions, out_dir: str) -> None:
        """Before anything is read or run: each Terraform layer has one backend, and under CI not a local one."""
        files = render_files(ir)
        layers = [layer.name for layer in TERRAFORM_LAYERS if read.wants(layer.name)
                  and any(path.startswith(f"terraform/{layer.name}/") for path in files)]
        problems = state_problems(layer_states(ir, files, out_dir, layers), under_ci())
        if problems:
            raise ApplyFailed("nothing was run or applied:\n" + "\n".join(problems))

    @contextlib.contextmanager
    def _paced(self, layers: list[Layer]):
        """Terraform's Cloudflare provider talks to Cloudflare through a proxy that keeps it within the
        token's budget (edgec/apply/pacing.py)."""
        if not any(layer.name == "cloudflare" for layer in layers):
            yield
            return
        upstream = os.environ.get("CLOUDFLARE_BASE_URL") or CLOUDFLARE_API
        terraform = self.options.terraform
        with PacingProxy(upstream, self.options.read.cloudflare_rate) as proxy:
            terraform.environment["CLOUDFLARE_BASE_URL"] = proxy.base_url
            try:
                yield
            finally:
                del terraform.environment["CLOUDFLARE_BASE_URL"]
                if proxy.forwarded:
                    self.console.print(f"Terraform's Cloudflare provider made {proxy.forwarded} request(s), paced "
                                       f"to {self.options.read.cloudflare_rate:g}/s ({proxy.rate_limited} answered "
                                       "429 and were sent again).")

    def _deliver_envoy(self, ir: IR, targets: list[EnvoyTarget]) -> None:
        names = ", ".join(t.gateway for t in targets)
        if not self.options.auto_approve and not self.confirm():
            raise ApplyFailed(f"cancelled; nothing was delivered to Envoy gateway(s) {names}")
        self.console.print(Text(f"Delivering the Envoy config to gateway(s) {names}...", style="bold"),
                           highlight=False)
        try:
            EnvoyDelivery(self.console, ir, self.options.envoy_timing).deliver_all(targets, self.options.envoy_batch)
        except (DeliveryFailed, RuntimeError, OSError) as exc:
            raise ApplyFailed(str(exc)) from None
        except KeyboardInterrupt:
            self.console.print("Envoy delivery interrupted: each gateway's folder holds, and its Envoy runs, complete "
                               "versions of its config (edgec swaps whole files).")
            raise

    def _check_pinned(self, target: str, pinned: PlanFile, current: dict[str, str]) -> None:
        mismatches = pinned.mismatches(current)
        if mismatches:
            raise ApplyFailed(f"refusing to apply {target}, made {pinned.created or 'earlier'}: "
                              + "; ".join(mismatches)
                              + ". Review again: edgec plan --out PLANFILE, then edgec apply PLANFILE")
        self.console.print(Text(f"{target}: the spec, compiled output and live state are as reviewed.", style="green"))

    def _apply_layers(self, spec: Spec, ir: IR, out_dir: str, layers: list[Layer], states: dict[str, LiveLayer],
                      view: EdgecView) -> None:
        self.options.terraform.check()
        plans: list[LayerPlan] = []
        deferred = []
        for layer in layers:
            created = {r.type for plan in plans for r in plan.changing if r.action in ("create", "replace")}
            if created & layer.looks_up:
                deferred.append(layer)  # its data sources need what an earlier layer's plan creates
                continue
            try:
                plans.append(self._plan(layer, ir, out_dir, states.get(layer.name)))
            except (ApplyFailed, TerraformError):
                self._discard(plans)  # the layers planned before it: nothing is applied
                raise
            self._check_first_validation(plans[-1], ir)
        self._review_and_apply(spec, plans, view)
        for layer in deferred:
            self.console.print(f"The {layer.name} layer is planned now: it looks up what was just created.")
            self._review_and_apply(spec, [self._plan(layer, ir, out_dir, states.get(layer.name))], view)

    def _plan(self, layer: Layer, ir: IR, out_dir: str, live: LiveLayer | None) -> LayerPlan:
        """Terraform's saved plan of the layer; where it would create what edgec's live read found, with
        import blocks, planned again."""
        directory = os.path.join(out_dir, "terraform", layer.name)
        _discard_plan(directory)  # an import file left by an interrupted run
        with self.console.status(f"terraform init and plan: {layer.name} layer..."):
            plan = self._terraform_plan(layer, ir, out_dir, directory, init=True, live=live)
        imports = [] if live is None else imports_for(
            plan, live, layer.import_ids(live), lambda kind, values: layer.existing(kind, values, live))
        if not imports:
            return plan
        self._check_adoption(layer, plan, imports)
        write_imports(directory, imports)
        self.console.print(f"The {layer.name} layer imports {len(imports)} existing resource(s) into Terraform's "
                           f"state instead of creating them (import blocks in {directory}).")
        with self.console.status(f"terraform plan with imports: {layer.name} layer..."):
            return self._terraform_plan(layer, ir, out_dir, directory, init=False)

    def _terraform_plan(self, layer: Layer, ir: IR, out_dir: str, directory: str, init: bool,
                        live: LiveLayer | None = None) -> LayerPlan:
        """Terraform plans from its state, having refreshed what edgec's live read (`live`, on the first plan
        of a layer) says may differ; with --full-refresh, a layer edgec did not read, or one whose apply was
        interrupted (what was cut short may be only partly recorded), it refreshes all."""
        terraform = self.options.terraform
        from_state = (not self.options.full_refresh and layer.name in self.live.layers_read
                      and not was_interrupted(directory))
        try:
            if init:
                terraform.init(directory)
            variables = self._inputs(layer, ir, out_dir) or None
            if from_state and live is not None:
                shown = self._plan_from_state(layer, ir, directory, variables, live)
            else:
                terraform.plan(directory, variables, refresh=not from_state)
                shown = terraform.show(directory)
            if was_interrupted(directory):
                shown = self._resume(layer, directory, ir, variables, shown)
            return read_plan(layer.name, directory, shown)
        except TerraformError:
            _discard_plan(directory)
            raise

    def _plan_from_state(self, layer: Layer, ir: IR, directory: str, variables: dict | None, live: LiveLayer) -> dict:
        """Terraform's saved plan (`show -json`), made from its state after refreshing, through Terraform,
        only what edgec's live read cannot vouch for (edgec/apply/refresh.py)."""
        terraform = self.options.terraform
        state = terraform.state(directory)
        refresh = to_refresh(layer, state, self.live, live, self._state_differences(layer, ir, state, live))
        if refresh.state_size:
            self.console.print(Text(refresh.summary()), highlight=False)
        if refresh.full:
            terraform.plan(directory, variables)
            return terraform.show(directory)
        if refresh.addresses:
            terraform.refresh(directory, sorted(refresh.addresses), variables)
        terraform.plan(directory, variables, refresh=False)
        shown = terraform.show(directory)
        stale = stale_in_plan(shown, refresh)
        if not stale:
            return shown
        self.console.print(Text(f"{layer.name} layer: {len(stale)} more resource(s) are refreshed: Terraform's state "
                                "differs from the spec where edgec found them live as the spec says"), highlight=False)
        terraform.refresh(directory, stale, variables)
        terraform.plan(directory, variables, refresh=False)
        return terraform.show(directory)

    def _state_differences(self, layer: Layer, ir: IR, state: dict, live: LiveLayer) -> dict[str, list[str]]:
        """What of Terraform's state differs from live, for what the layer checks so; a read that fails
        leaves those resources to Terraform's refresh (which would meet the same failure, and say so)."""
        try:
            return layer.state_differences(ir, state_resources(state), live, self.options.read)
        except ReadError as exc:
            self.console.print(Text(f"{layer.name} layer: {exc}; Terraform refreshes those resources itself",
                                    style="yellow"), highlight=False)
            return {}

    def _check_adoption(self, layer: Layer, plan: LayerPlan, imports: list[Import]) -> None:
        """Importing what carries no edgec marker needs --adopt: it may be someone else's."""
        foreign = [i for i in imports if not i.claimed]
        if not foreign or self.options.adopt:
            return
        self._discard([plan])
        for i in foreign:
            self.console.print(Text(f"  exists, not edgec's: {i.address} ({i.label})", style="yellow"),
                               highlight=False)
        raise ApplyFailed(f"the {layer.name} layer would create {len(foreign)} resource(s) that already exist "
                          "without edgec's ownership marker (listed above; they may belong to someone else); "
                          "nothing was applied. Review them, then adopt them with edgec apply --adopt")

    def _resume(self, layer: Layer, directory: str, ir: IR, variables: dict | None, shown: dict) -> dict:
        """After an interrupted apply of this layer: untaint what the live read found as the spec wants it
        (edgec/apply/resume.py says why), then plan again."""
        terraform = self.options.terraform
        untainted = sorted(tainted(shown) & live_as_desired(ir, self.live, layer.name))
        for address in untainted:
            terraform.untaint(directory, address)
        resumed(directory)
        if not untainted:
            return shown
        self.console.print(f"Resuming the interrupted apply of the {layer.name} layer: {len(untainted)} resource(s) "
                           "Terraform marked tainted when it was stopped are live as the spec wants; untainted.")
        terraform.plan(directory, variables)
        return terraform.show(directory)

    def _inputs(self, layer: Layer, ir: IR, out_dir: str) -> dict:
        """The variables a layer takes from earlier layers' outputs (the Cloudflare layer creates the ACM
        validation records the AWS layer outputs; without them it would plan to delete the records that
        keep those certificates renewing)."""
        variables = {}
        for variable, (source, output) in layer.terraform_inputs(ir).items():
            directory = os.path.join(out_dir, "terraform", source)
            self.options.terraform.init(directory)
            value = self.options.terraform.outputs(directory).get(output)
            if value is None:
                raise ApplyFailed(f"the {layer.name} layer needs the {source} layer's {output} output; apply the "
                                  f"{source} layer first (see the three steps in docs/apply.md)")
            variables[variable] = value
        return variables

    def _check_first_validation(self, plan: LayerPlan, ir: IR) -> None:
        """A first apply of an ACM certificate validated in a Cloudflare zone would wait (for an hour) for a
        record only the Cloudflare layer creates: stop and say how to do it in three steps."""
        in_cloudflare = {r.name for r in ir.of(AwsAcmCertificate) if r.validated_in_cloudflare}
        imported = {r.name for r in plan.resources if r.type == "aws_acm_certificate" and r.importing is not None}
        waiting = sorted(r.name for r in plan.changing if r.type == "aws_acm_certificate_validation"
                         and r.action == "create" and r.name in in_cloudflare - imported)
        if waiting:
            self._discard([plan])
            raise ApplyFailed(
                f"ACM certificate(s) {', '.join(waiting)} are validated by records in Cloudflare zones, which the "
                "Cloudflare layer creates from the AWS layer's output; their first apply takes three steps "
                "(docs/apply.md): terraform apply -target=aws_acm_certificate.NAME -target=aws_lb.GATEWAY in the AWS "
                "layer's folder, then edgec apply --layer cloudflare, then edgec apply")

    def _review_and_apply(self, spec, plans: list[LayerPlan], view: EdgecView) -> None:
        print_layer_plans(self.console, Groups(spec, plans), plans)
        refusals = check_rails(spec, plans, view)
        print_refusals(self.console, refusals, self.options.force)
        changing = [plan for plan in plans if plan.changing]
        if refusals and not self.options.force:
            self._discard(plans)
            raise ApplyFailed(f"refused by {len(refusals)} safety rail(s); nothing in this step was applied")
        if not changing:
            self._discard(plans)
            self.console.print(Text("Terraform: no changes to apply.", style="green"))
            return
        if not self.options.auto_approve and not self.confirm():
            self._discard(plans)
            raise ApplyFailed("cancelled; nothing in this step was applied")
        for plan in plans:
            if plan.changing:
                self.console.print(Text(f"Applying the {plan.layer} layer...", style="bold"))
                try:
                    self.options.terraform.apply(plan.directory, echo=lambda line, layer=plan.layer: self.console.print(
                        Text(f"  [{layer}] {line}"), highlight=False))
                finally:
                    _discard_plan(plan.directory)
            else:
                _discard_plan(plan.directory)

    @staticmethod
    def _discard(plans: list[LayerPlan]) -> None:
        for plan in plans:
            _discard_plan(plan.directory)

    def _verify(self, ir: IR, spec: Spec, read: PlanOptions) -> None:
        """Read live state again: what Terraform cannot fix (rules added by hand to an owned security group,
        records outside its state) is shown, not hidden."""
        with read_progress(self.console, "reading live state again...") as progress:
            after = make_plan(ir, spec.ignore, read, progress)
        if after.errors or after.has_changes:
            self.console.print(Text("Applied, but live state still differs from the spec (outside Terraform's "
                                    "state, or a read failed):", style="yellow"))
            print_plan(self.console, after)
        else:
            self.console.print(Text("Applied; live state now matches the spec.", style="green"))



def envoy_targets(ir: IR, options: ApplyOptions) -> list[EnvoyTarget]:
    """A target per --envoy-dir, in gateway order; its admin URL is --envoy-admin's, else the spec's admin
    port on this machine's loopback (where a gateway's admin listens)."""
    ports = {g.gateway: g.admin_port for g in ir.of(EnvoyGateway)}
    unknown = sorted(set(options.envoy_dirs) - set(ports))
    if unknown:
        raise ApplyFailed(f"--envoy-dir names gateway(s) {', '.join(unknown)}, which the spec does not have "
                          f"(it has {', '.join(sorted(ports)) or 'none'})")
    targets = []
    for gateway, directory in sorted(options.envoy_dirs.items()):
        url = options.read.envoy_admins.get(gateway, f"http://127.0.0.1:{ports[gateway]}")
        folder = os.path.abspath(directory)
        targets.append(EnvoyTarget(gateway, pathlib.Path(folder), url, options.envoy_config_dir or folder))
    return targets


def _discard_plan(directory: str) -> None:
    """The saved plan and the import blocks it was made with: neither outlives one plan and apply."""
    discard_plan(directory)
    remove_imports(directory)
