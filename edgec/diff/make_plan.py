"""Make a plan: read every layer the spec uses (concurrently), compare each with the IR in the
layers' order, then apply the ignore rules to every change; collect the API budget."""

from __future__ import annotations

import datetime
from concurrent.futures import ThreadPoolExecutor

from edgec.diff.ignore import apply_ignores
from edgec.diff.plan import Plan, PlanOptions
from edgec.ir.model import IR
from edgec.layers import LAYERS
from edgec.layers.base import Layer, LiveLayer, ReadContext
from edgec.read.budget import ApiCalls, ReadError
from edgec.read.guard import guarded
from edgec.read.progress import SILENT, Progress
from edgec.spec.model import IgnoreRule

NOT_REQUESTED = "not requested (--layer)"


def make_plan(ir: IR, ignore: list[IgnoreRule], options: PlanOptions, progress: Progress = SILENT) -> Plan:
    """Reads only; never changes anything. A failed read is an error in the plan, not an empty layer."""
    return plan_and_live(ir, ignore, options, progress)[0]


def plan_and_live(ir: IR, ignore: list[IgnoreRule], options: PlanOptions,
                  progress: Progress = SILENT) -> tuple[Plan, dict[str, LiveLayer]]:
    """The plan, and each layer's live state it was made from (apply imports from it)."""
    plan = Plan(ir.estate.name)
    context = ReadContext(options, ApiCalls())
    used = [layer for layer in LAYERS if layer.used(ir)]
    for layer in used:
        if not options.wants(layer.name):
            plan.layers_not_read[layer.name] = NOT_REQUESTED
    chosen = [layer for layer in used if options.wants(layer.name)]
    with ThreadPoolExecutor(max_workers=max(1, len(chosen))) as pool:
        reads = [(layer, pool.submit(_read, layer, ir, context, progress)) for layer in chosen]
    live: dict[str, LiveLayer] = {}
    for layer, future in reads:  # in the layers' order: a layer may compare with what those before it read
        state, error = future.result()
        if error is not None:
            plan.errors.append(error)
            continue
        plan.errors += state.errors
        if state.not_read:
            plan.layers_not_read[layer.name] = state.not_read
        plan.running += state.running
        if state.resources or not state.errors and not state.not_read:
            live[layer.name] = state
            plan.layers_read.append(layer.name)
            plan.changes += layer.compare(ir, live)
    plan.changes, plan.notes = apply_ignores(plan.changes, ignore, options.today or datetime.date.today())
    plan.calls = context.calls.as_dict()
    return plan, live


def _read(layer: Layer, ir: IR, context: ReadContext,
          progress: Progress) -> tuple[LiveLayer, None] | tuple[None, str]:
    """The layer's live state, or why it could not be read: a failed read leaves the layer out of the
    comparison (nothing is created, deleted or replaced for it)."""
    progress.started(layer.title, lambda: context.calls.counts[layer.name])
    try:
        state = guarded(layer.title, lambda: layer.read(ir, context))
    except ReadError as exc:
        progress.finished(layer.title, failed=True)
        return None, str(exc)
    progress.finished(layer.title, failed=bool(state.errors))
    return state, None
