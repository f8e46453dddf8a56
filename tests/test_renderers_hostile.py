"""Data is inert in every renderer: strings from a spec (a pull request) or a live API, holding terminal
escapes, bidi controls, HTML, Markdown, links and @mentions, go through every format and come out as the
text they are.

- terminal (piped, and on a terminal with colours): no control or bidi character of the data reaches it
  raw, no markup in it is read (`[link=...]`, `zone[/]team`);
- Markdown (rendered by a CommonMark renderer with raw HTML on, as GitHub's is, with GFM tables): no
  tag, link or mention comes from data (mentions and bare URLs only inside code);
- the HTML drift page: no tag from data, no control or bidi character;
- JSON round-trips exactly; SARIF is JSON with messages shown safely; JUnit is well-formed XML.
"""

from __future__ import annotations

import html.parser
import io
import json
import re
import xml.etree.ElementTree as ET

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from edgec.diff.plan import Action, AttributeChange, Change, Plan
from edgec.render.drift import drift_html, drift_json, drift_markdown, drift_text_lines
from edgec.render.inert import console
from edgec.render.plan_markdown import render_plan_markdown
from edgec.render.plan_text import print_plan
from edgec.spec.model import Spec

HOSTILE = ["<img src=x onerror=alert(1)>", "<script>alert(1)</script>", "</details><details open>",
           "[click](https://evil.example/x)", "https://evil.example/y", "@octocat", "`code` ``more``", "| a | b |",
           "\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\", "\x07\x00\x08", "\x1b[2J", "host\u202etxt.exe",
           "\u2066isolate\u2069", "[link=https://evil.example]x[/link]", "zone[/]team", "**bold** _em_", "<!-- c -->",
           "line one\nline two", "\r\ncarriage", "&lt;already&gt;", "\u200bzero\u200dwidth", "${x} %{y} {{z}}"]
STRINGS = st.sampled_from(HOSTILE) | st.text(max_size=30) | st.lists(st.sampled_from(HOSTILE), min_size=2,
                                                                       max_size=3).map("".join)
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable("table")


def plan_with(s: list[str]) -> Plan:
    changes = [
        Change(Action.UPDATE, "cloudflare", "dns_record", s[0], s[1], (AttributeChange(s[2], s[3], s[4]),), s[5],
               address=f"cloudflare_dns_record.{s[6]}"),
        Change(Action.UNMANAGED, "aws", "route53_record", s[7], None, (AttributeChange("records", [s[8]], None),),
               s[9], gateway=s[10]),
    ]
    return Plan(s[11], changes, ["cloudflare", "aws"], {"envoy": s[12]}, {"aws": 3}, [f"could not read {s[13]}"],
                [s[14]])


def spec_with(owner: str) -> Spec:
    return Spec.model_validate({"apiVersion": "edgec/v1", "name": "hostile", "metadata": {"owner": owner}})


def _terminal(plan: Plan, spec: Spec, terminal: bool) -> str:
    out = io.StringIO()
    screen = console(file=out, force_terminal=terminal, color_system="truecolor" if terminal else None, width=100)
    print_plan(screen, plan)
    for line in drift_text_lines(spec, plan):
        screen.print(line)
    return out.getvalue()


def _tags(html_text: str) -> list[str]:
    found = []

    class Tags(html.parser.HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append(tag)

    Tags().feed(html_text)
    return sorted(found)


# The tags edgec writes itself (or that its Markdown renders to): data adds none, and the blocks it opens
# (<details>) are the blocks edgec opened.
MARKDOWN_TAGS = {"h3", "h4", "p", "strong", "ul", "li", "code", "details", "summary", "table", "thead", "tbody", "tr",
                 "th", "td", "br", "blockquote"}
PAGE_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "code", "table", "tr", "th", "td",
             "br"}


def _same_structure(page: str, benign: str, allowed: set[str]) -> None:
    tags = _tags(page)
    assert set(tags) <= allowed, set(tags) - allowed
    for block in ("details", "summary", "table", "h2"):
        assert tags.count(block) == _tags(benign).count(block), block


def _outside_code(html_text: str) -> str:
    return re.sub(r"<code>.*?</code>", "", html_text, flags=re.S)


HYPOTHESIS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@HYPOTHESIS
@given(st.lists(STRINGS, min_size=15, max_size=15))
def test_terminal_output_shows_data_as_text(strings):
    plan, spec = plan_with(strings), spec_with(strings[0])
    for terminal in (False, True):
        text = _terminal(plan, spec, terminal)
        escapes = [m.start() for m in re.finditer("\x1b", text)]
        sgr = [m.start() for m in re.finditer(r"\x1b\[[0-9;]*m", text)]
        assert escapes == sgr, repr(text)  # every ESC is the console's own colour, none is data's
        assert not UNSAFE.search(text.replace("\x1b", "")), repr(text)


@HYPOTHESIS
@given(st.lists(STRINGS, min_size=15, max_size=15))
def test_markdown_holds_no_tag_link_or_mention_from_data(strings):
    plan, spec = plan_with(strings), spec_with(strings[0])
    benign = plan_with([f"v{i}" for i in range(15)])
    for render in (render_plan_markdown, lambda p: drift_markdown(spec_with(strings[0]), p)):
        page = MARKDOWN.render(render(plan))
        _same_structure(page, MARKDOWN.render(render(benign)), MARKDOWN_TAGS)
        outside = _outside_code(page)
        assert "@octocat" not in outside and "evil.example" not in outside, outside
        assert not UNSAFE.search(page), repr(page)


@HYPOTHESIS
@given(st.lists(STRINGS, min_size=15, max_size=15))
def test_the_html_report_holds_no_tag_or_control_character_from_data(strings):
    plan = plan_with(strings)
    page = drift_html(spec_with(strings[0]), plan)
    _same_structure(page, drift_html(spec_with("team"), plan_with([f"v{i}" for i in range(15)])), PAGE_TAGS)
    assert not UNSAFE.search(page), repr(page)


@HYPOTHESIS
@given(st.lists(STRINGS, min_size=15, max_size=15))
def test_json_round_trips_exactly(strings):
    plan = plan_with(strings)
    for data in (plan.to_json(), drift_json(spec_with(strings[0]), plan)):
        assert json.loads(json.dumps(data)) == data


def test_policy_reports_show_hostile_route_names_safely(tmp_path):
    """Route names are free text in a spec; they reach every format of `edgec check`."""
    from conftest import run_cli

    name = "\x1b[2J<img src=x>\u202e@octocat"
    spec = tmp_path / "edge.yaml"
    spec.write_text(json.dumps({
        "apiVersion": "edgec/v1", "name": "hostile",
        "aws": {"region": "eu-west-1", "vpc_id": "vpc-0abc", "subnets": {"private": ["subnet-0a"]}},
        "zones": {"corp.internal": {"provider": "route53", "private": True}},
        "certificates": {"c": {"source": "files", "domains": ["*.corp.internal"], "cert_file": "/c", "key_file": "/k"}},
        "gateways": {"g": {"exposure": "private", "allow": ["10.0.0.0/8"], "tls": {"certificate": "c"}}},
        "services": {"s": {"endpoints": ["s:80"]}},
        "ingresses": [{"host": "a.corp.internal", "gateway": "g", "routes": [{"name": name, "service": "s"}]}]}))
    text = run_cli("check", str(spec)).output
    assert "EDGE008" in text and not UNSAFE.search(text.replace("\x1b", "")) and "\x1b" not in text
    junit = run_cli("check", "--format", "junit", str(spec)).output
    assert ET.fromstring(junit.split("\n", 1)[1]).tag == "testsuite"  # well-formed XML
    sarif = json.loads(run_cli("check", "--format", "sarif", str(spec)).output)
    messages = [r["message"]["text"] for r in sarif["runs"][0]["results"]]
    assert messages and not any(UNSAFE.search(m) for m in messages)
    findings = json.loads(run_cli("check", "--format", "json", str(spec)).output)["findings"]
    assert any(name in f["message"] for f in findings)  # JSON keeps the data exactly
