"""Drift reports for scheduled jobs: what differs from the spec, grouped by the team that owns it."""

from __future__ import annotations

import datetime

import jinja2
import markupsafe

from edgec.diff.plan import CHANGING, LIVE_SHOWN, Change, Plan
from edgec.render.inert import code, visible
from edgec.render.plan_markdown import LABELS, render_plan_markdown
from edgec.render.summary import summary
from edgec.spec.lookup import zone_of
from edgec.spec.model import Spec

DRIFTING = CHANGING + ("unmanaged",)


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
{% for owner, changes in by_owner.items() %}
<h2>{{ owner }} ({{ changes | length }})</h2>
<table><tr><th>action</th><th>layer</th><th>kind</th><th>key</th><th>details</th></tr>
{% for c in changes %}<tr><td class="{{ c.action }}">{{ labels.get(c.action, c.action) }}</td><td>{{ c.layer }}</td><td>{{ c.kind }}</td>
<td><code>{{ c.key }}</code></td><td>{% for a in c.attributes %}<code>{{ a.name }}</code>: {{ a.live | tojson }}{% if c.action not in live_shown %} → {{ a.desired | tojson }}{% endif %}<br>{% endfor %}{{ c.note or "" }}</td></tr>
{% endfor %}</table>
{% endfor %}
</body></html>
""")


def drift_html(spec: Spec, plan: Plan, now: datetime.datetime | None = None) -> str:
    generated = (now or datetime.datetime.now(datetime.timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    return _HTML.render(plan=plan, by_owner=drift_json(spec, plan)["by_owner"], generated=generated,
                        summary=summary(plan, drift=True), labels=LABELS, live_shown=LIVE_SHOWN)


def drift_text_lines(spec: Spec, plan: Plan) -> list[str]:
    """Differences per owner, under the report's summary."""
    owners = drift_json(spec, plan)["by_owner"]
    return ["By owner:"] * bool(owners) + [f"  {owner}: {len(changes)} difference(s)" for owner, changes in owners.items()]

