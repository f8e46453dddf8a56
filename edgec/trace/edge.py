"""Cloudflare's edge (SSL mode, Always Use HTTPS) and the WAF, in Cloudflare's order of phases."""

from __future__ import annotations

from dataclasses import dataclass, field

from edgec.layers.cloudflare.model import CfRuleset, CfZoneSetting, WafRule
from edgec.trace.walk import DEFAULT_PORTS, WAF_PHASES, Request, Status, Walk, find
from edgec.waf_eval import Tri, evaluate_expression, unknowns

# --- Cloudflare's edge -------------------------------------------------------------------------

def walk_cloudflare_edge(walk: Walk) -> None:
    """SSL mode and Always Use HTTPS: a proxied http:// request may never leave Cloudflare."""
    if not walk.proxied or walk.zone is None:
        return
    settings = {s.setting_id: s.value for s in find(walk.ir, CfZoneSetting, zone=walk.zone)}
    request = walk.request
    details = [f"SSL mode {settings.get('ssl')}, TLS {settings.get('min_tls_version')} or later from visitors"]
    if request.scheme == "http" and settings.get("always_use_https") == "on":
        walk.redirect("cloudflare", "pass", details + ["Always Use HTTPS is on"], 301,
                      f"https://{request.host}{request.target}")
        return
    port = request.port or DEFAULT_PORTS[request.scheme]
    walk.hop("cloudflare", "pass", details + [f"connects to the origin over {request.scheme} on port {port}"])


# --- WAF ---------------------------------------------------------------------------------------

@dataclass
class _WafWalk:
    """Cloudflare's phases in order; a skip rule that matches, or may match, skips what comes after."""

    status: Status = "pass"
    details: list[str] = field(default_factory=list)
    skipped: set[str] = field(default_factory=set)  # phases certainly skipped ("custom": the rest of it)
    maybe_skipped: set[str] = field(default_factory=set)
    blocked_by: WafRule | None = None

    def may(self, line: str) -> None:
        self.status = "may"
        self.details.append(line)


def walk_waf(walk: Walk) -> None:
    """Only proxied requests meet the WAF: custom rules, then rate limits, then managed rulesets."""
    if not walk.proxied or walk.zone is None:
        return
    rulesets = {r.phase: r.rules for r in find(walk.ir, CfRuleset, zone=walk.zone)}
    if not rulesets:
        walk.hop("waf", "pass", [f"zone {walk.zone} has no WAF rules"])
        return
    state = _WafWalk()
    fields = waf_fields(walk.request)
    for phase in WAF_PHASES:
        for rule in rulesets.get(phase, ()):
            if state.blocked_by is None and rule.enabled:
                _waf_rule(state, phase, rule, fields)
    if state.blocked_by is not None:
        walk.die("waf", f"custom rule '{state.blocked_by.description}' matches and blocks it: "
                        f"{_one_line(state.blocked_by.expression)}", state.details)
        return
    walk.hop("waf", state.status, state.details or ["no rule can match"])


def _waf_rule(state: _WafWalk, phase: str, rule: WafRule, fields: dict[str, object]) -> None:
    key = "custom" if phase == WAF_PHASES[0] else phase
    if key in state.skipped:
        return
    if rule.action == "execute":
        state.may(f"managed ruleset {rule.description.removeprefix('managed ruleset ')}: may match "
                  "(it inspects what a trace cannot know)")
        return
    matched = evaluate_expression(rule.expression, fields)
    if matched is False:
        return
    if matched is None:
        why = f"may match ({unknowns(rule.expression, fields)})"
    elif key in state.maybe_skipped:
        matched, why = None, "matches, unless a skip rule before it applied"
    else:
        why = "matches"
    if phase == "http_ratelimit":
        limit = rule.ratelimit or {}
        state.may(f"rate limit {rule.description}: {why}; over {limit.get('requests_per_period')} requests per "
                  f"{limit.get('period')}s -> {rule.action}")
    else:
        _custom_rule(state, rule, matched, why)


def _custom_rule(state: _WafWalk, rule: WafRule, matched: Tri, why: str) -> None:
    line = f"custom rule {rule.description} ({rule.action}): {why}"
    if rule.action == "skip":
        params = rule.action_parameters or {}
        skips = {"custom"} if params.get("ruleset") == "current" else set()
        skips |= set(params.get("phases", ()))
        (state.skipped if matched else state.maybe_skipped).update(skips)
        skipped = ["the rest of the custom rules"] * ("custom" in skips) + sorted(skips - {"custom"})
        state.details.append(f"{line}; skips {', '.join(skipped) or 'nothing'}")
    elif rule.action == "block" and matched:
        state.blocked_by = rule
    elif rule.action == "log":
        state.details.append(line)
    else:  # a block that may match, or a challenge: browsers pass challenges, API clients do not
        state.may(line)


def waf_fields(request: Request) -> dict[str, object]:
    """The Rules-language fields a URL decides; every other field is unknown to a trace."""
    scheme_port = "" if request.port in (None, DEFAULT_PORTS[request.scheme]) else f":{request.port}"
    return {
        "http.host": request.host,
        "http.request.method": request.method,
        "http.request.uri.path": request.path,
        "http.request.uri.query": request.query,
        "http.request.uri": request.target,
        "http.request.full_uri": f"{request.scheme}://{request.host}{scheme_port}{request.target}",
        "ssl": request.scheme == "https",
    }


def _one_line(text: str) -> str:
    return " ".join(text.split())
