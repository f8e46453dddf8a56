"""Drift reports for scheduled jobs: what differs from the spec, grouped by the team that owns it."""

from __future__ import annotations

import datetime
import json
import pathlib
from dataclasses import dataclass, field

import jinja2
import markupsafe

from edgec.diff.plan import CHANGING, LIVE_SHOWN, Change, Plan
from edgec.render.inert import code, visible
from edgec.render.plan_markdown import LABELS, render_plan_markdown
from edgec.render.summary import summary
from edgec.spec.lookup import zone_of
from edgec.spec.model import Spec

DRIFTING = CHANGING + ("unmanaged",)
SEVERITIES = ("critical", "high", "medium", "low")
WORLD = ("0.0.0.0/0", "::/0")
CHART_WIDTH, CHART_HEIGHT = 160, 32  # pixels of each owner's drift-over-time chart


def owner_of(spec: Spec, change: Change) -> str:
    """The team to tell: the hostname's owner, else its zone's, else the gateway's, else the estate's."""
    default = spec.metadata.owner or "unassigned"
    if change.host:
        ingress = next((i for i in spec.ingresses if i.host == change.host), None)
        if ingress and ingress.owner:
            return ingress.owner
        zone = zone_of(spec, change.host)
        if zone and spec.zones[zone].owner:
            return spec.zones[zone].owner
    gateway = spec.gateways.get(change.gateway or "")
    if gateway is not None and gateway.owner:
        return gateway.owner
    return default


def drift_json(spec: Spec, plan: Plan) -> dict:
    report = plan.to_json()
    report["kind"] = "drift"
    report["by_owner"] = {}
    for change in plan.changes:
        if change.action in DRIFTING:
            report["by_owner"].setdefault(owner_of(spec, change), []).append(change.to_json())
    report["by_owner"] = dict(sorted(report["by_owner"].items()))
    return report


def severity(change: Change) -> str:
    """How urgent a finding is: a security group rule open to the whole internet that the spec does not
    have, first; then what differs so that an apply would delete or replace; then other differences; what
    edgec never touches (live only) last."""
    if change.kind == "security_group_rule" and change.action == "delete" and change.key.endswith(WORLD):
        return "critical"
    if change.action in ("delete", "replace"):
        return "high"
    return "medium" if change.action in ("create", "update") else "low"


def findings(spec: Spec, plan: Plan) -> list[tuple[str, str, Change]]:
    """(severity, owner, change) of every difference, the most urgent first."""
    found = [(severity(c), owner_of(spec, c), c) for c in plan.changes if c.action in DRIFTING]
    return sorted(found, key=lambda f: (SEVERITIES.index(f[0]), f[1], f[2].layer, f[2].key))


def counts_by_owner(spec: Spec, plan: Plan) -> dict[str, dict[str, int]]:
    """owner -> action -> how many differences."""
    counts: dict[str, dict[str, int]] = {}
    for _, owner, change in findings(spec, plan):
        row = counts.setdefault(owner, dict.fromkeys(DRIFTING, 0))
        row[change.action] += 1
    return dict(sorted(counts.items()))


@dataclass
class History:
    """Earlier drift reports (`edgec drift --format json` files in a folder), oldest first, each dated by
    its file's modification time: how many differences each owner had."""

    points: list[tuple[str, dict[str, int]]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # files in the folder that are not drift reports

    def charts(self, now: dict[str, int]) -> dict[str, dict]:
        """owner -> an SVG polyline's points (earlier reports, then this one) and the latest count."""
        series = [counts for _, counts in self.points] + [now]
        owners = sorted({owner for counts in series for owner in counts})
        top = max([1] + [n for counts in series for n in counts.values()])
        step = CHART_WIDTH / max(1, len(series) - 1)
        def y(n: int) -> float:  # the most differences at the top, none at the bottom
            return CHART_HEIGHT - 1 - n / top * (CHART_HEIGHT - 2)

        return {owner: {"points": " ".join(f"{i * step:.1f},{y(counts.get(owner, 0)):.1f}"
                                           for i, counts in enumerate(series)),
                        "latest": now.get(owner, 0), "reports": len(series)} for owner in owners}


def read_history(folder: str) -> History:
    history = History()
    dated = []
    for path in sorted(pathlib.Path(folder).glob("*.json")):
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
            owners = {owner: len(changes) for owner, changes in report["by_owner"].items()}
            if report.get("kind") != "drift":
                raise ValueError
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            history.skipped.append(path.name)
            continue
        dated.append((path.stat().st_mtime, path.name, owners))
    history.points = [(datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"), owners)
                      for t, _, owners in sorted(dated)]
    return history


def drift_markdown(spec: Spec, plan: Plan) -> str:
    owners = drift_json(spec, plan)["by_owner"]
    lines = [f"- {code(owner)}: {len(changes)} difference(s)" for owner, changes in owners.items()]
    text = render_plan_markdown(plan, drift=True)
    return text + ("\n**By owner**\n\n" + "\n".join(lines) + "\n" if lines else "")


def _shown(value):
    """What a page shows of a value: escaped HTML (autoescape), and no control or bidi character (a
    U+202E would reverse the hostname after it on screen)."""
    return visible(value) if isinstance(value, str) and not isinstance(value, markupsafe.Markup) else value


_HTML = jinja2.Environment(autoescape=True, finalize=_shown).from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>edgec drift: {{ plan.spec }}</title>
<style>
body{font:14px/1.5 system-ui,sans-serif;margin:2em;color:#1b1f24}
h1{font-size:1.4em} table{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}
th,td{border:1px solid #d0d7de;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f6f8fa} code{font-family:ui-monospace,monospace;font-size:.95em}
.create{color:#1a7f37}.update{color:#9a6700}.replace{color:#8250df}.delete{color:#cf222e}
.critical{color:#fff;background:#cf222e;font-weight:bold}.high{color:#cf222e;font-weight:bold}.medium{color:#9a6700}.low{color:#6e7781}
.summary{font-weight:bold}.unmanaged{color:#0969da}.adopt{color:#0550ae}.ignored{color:#6e7781}.error{color:#cf222e;font-weight:bold}
</style></head><body>
<h1>edgec drift: <code>{{ plan.spec }}</code></h1>
<p>{{ generated }} · layers read: {{ plan.layers_read | join(", ") or "none" }} ·
API calls: {% for p, n in plan.calls.items() %}{{ p }} {{ n }}{% if not loop.last %}, {% endif %}{% endfor %}</p>
{% for error in plan.errors %}<p class="error">✗ {{ error }}</p>{% endfor %}
{% for layer, why in plan.layers_not_read.items() %}<p>Not compared: {{ layer }} ({{ why }})</p>{% endfor %}
{% for running in plan.running %}<p>{{ running.describe() }}</p>{% endfor %}
{% for note in plan.notes %}<p>Note: {{ note }}</p>{% endfor %}
{% if not plan.errors %}<p class="{{ "summary" if plan.has_changes else "create" }}">{{ summary }}</p>{% endif %}
{% if counts %}<h2>Summary</h2>
<table><tr><th>owner</th>{% for a in actions %}<th>{{ labels.get(a, a) }}</th>{% endfor %}</tr>
{% for owner, row in counts.items() %}<tr><td>{{ owner }}</td>{% for a in actions %}<td class="{{ a if row[a] else "" }}">{{ row[a] }}</td>{% endfor %}</tr>
{% endfor %}</table>
<h2>Findings, most urgent first</h2>
<table><tr><th>severity</th><th>owner</th><th>action</th><th>layer</th><th>key</th></tr>
{% for level, owner, c in findings %}<tr><td class="{{ level }}">{{ level }}</td><td>{{ owner }}</td><td class="{{ c.action }}">{{ labels.get(c.action, c.action) }}</td><td>{{ c.layer }}</td><td><code>{{ c.key }}</code></td></tr>
{% endfor %}</table>{% endif %}
{% if charts %}<h2>Drift over time</h2>
<p>{{ history.points | length }} earlier report(s){% if history.points %}, from {{ history.points[0][0] }} UTC{% endif %}, and this one.{% if history.skipped %} Not drift reports, left out: {{ history.skipped | join(", ") }}.{% endif %}</p>
<table><tr><th>owner</th><th>differences per report</th><th>now</th></tr>
{% for owner, chart in charts.items() %}<tr><td>{{ owner }}</td><td><svg width="{{ width }}" height="{{ height }}" role="img" aria-label="differences of {{ owner }} over {{ chart.reports }} reports"><polyline fill="none" stroke="#cf222e" stroke-width="2" points="{{ chart.points }}"/></svg></td><td>{{ chart.latest }}</td></tr>
{% endfor %}</table>{% endif %}
{% for owner, changes in by_owner.items() %}
<h2>{{ owner }} ({{ changes | length }})</h2>
<table><tr><th>action</th><th>layer</th><th>kind</th><th>key</th><th>details</th></tr>
{% for c in changes %}<tr><td class="{{ c.action }}">{{ labels.get(c.action, c.action) }}</td><td>{{ c.layer }}</td><td>{{ c.kind }}</td>
<td><code>{{ c.key }}</code></td><td>{% for a in c.attributes %}<code>{{ a.name }}</code>: {{ a.live | tojson }}{% if c.action not in live_shown %} → {{ a.desired | tojson }}{% endif %}<br>{% endfor %}{{ c.note or "" }}</td></tr>
{% endfor %}</table>
{% endfor %}
</body></html>
""")


def drift_html(spec: Spec, plan: Plan, now: datetime.datetime | None = None,
               history: History | None = None) -> str:
    """A self-contained page: the summary by owner and action, the findings most urgent first, drift per
    owner over time (given earlier reports), then every difference by owner."""
    generated = (now or datetime.datetime.now(datetime.timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    by_owner = drift_json(spec, plan)["by_owner"]
    charts = history.charts({owner: len(changes) for owner, changes in by_owner.items()}) if history else {}
    return _HTML.render(plan=plan, by_owner=by_owner, generated=generated, summary=summary(plan, drift=True),
                        labels=LABELS, live_shown=LIVE_SHOWN, counts=counts_by_owner(spec, plan),
                        actions=DRIFTING, findings=findings(spec, plan), charts=charts, history=history,
                        width=CHART_WIDTH, height=CHART_HEIGHT)


def drift_text_lines(spec: Spec, plan: Plan) -> list[str]:
    """Differences per owner, under the report's summary."""
    owners = drift_json(spec, plan)["by_owner"]
    return ["By owner:"] * bool(owners) + [f"  {owner}: {len(changes)} difference(s)" for owner, changes in owners.items()]

