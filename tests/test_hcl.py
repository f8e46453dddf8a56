"""The HCL writer: any string, and any nesting of values, parses back to exactly what was written."""

import os
import shutil
import subprocess

import hcl2
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from edgec.emit.hcl import Block, Expr, quote, render

OPTIONS = hcl2.SerializationOptions(strip_string_quotes=True, with_comments=False)
# Spec text comes from UTF-8 files, so it never holds lone surrogates (which UTF-8 cannot encode).
strings = st.text(st.characters(exclude_categories=["Cs"]), max_size=60)
tricky = st.lists(st.sampled_from(["$", "%", "{", "}", "\\", '"', "\n", "${", "%{", "$${", "é", "\t", "\x00", "u"]),
                  max_size=12).map("".join)
scalars = st.one_of(strings, tricky, st.integers(-10**12, 10**12), st.booleans())
keys = st.one_of(st.from_regex(r"[a-z_][a-z0-9_-]{0,10}", fullmatch=True), strings.filter(bool))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
                      max_leaves=15)


def parse_attribute(value):
    return hcl2.loads(render([Block("locals").attr("x", value)]), serialization_options=OPTIONS)["locals"][0]["x"]


@settings(max_examples=1500, deadline=None)
@given(st.one_of(strings, tricky))
def test_any_string_parses_back_to_itself(text):
    assert parse_attribute(text) == text


@settings(max_examples=300, deadline=None)
@given(values)
@example({"A\n": ""})  # a key that `$` would have taken for an identifier (it matches before a final newline)
def test_nested_values_parse_back_unchanged(value):
    assert parse_attribute(value) == value


def test_template_sequences_are_not_templates():
    assert quote("${var.secret}") == '"$\\u007bvar.secret}"'
    assert quote("%{if x}") == '"%\\u007bif x}"'
    assert quote('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'


@pytest.mark.real_tool("terraform")
@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform binary not found on PATH")
def test_terraform_reads_the_same_strings(tmp_path):
    """terraform itself evaluates the escaped strings back to the originals."""
    samples = ["${x}", "%{x}", "$${", "$$${", 'q"uote', "back\\slash", "new\nline", "tab\tx", "ünï", "\x01", "}{"]
    expressions = "".join(f"jsonencode({quote(s)})\n" for s in samples)
    env = dict(os.environ, TF_CLI_CONFIG_FILE=os.devnull, CHECKPOINT_DISABLE="1")
    got = []
    for line in expressions.splitlines():  # terraform console answers the last expression of its input
        out = subprocess.run(["terraform", "console"], input=line + "\n", cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        got.append(out.stdout.strip())
    import json
    decoded = [json.loads(json.loads(g.replace("\\x01", "\\u0001"))) for g in got]
    assert decoded == samples


def test_output_is_terraform_fmt_shaped():
    text = render([Block("resource", ("t", "n")).attr("a", 1).attr("long_name", "x")
                   .attr("obj", {"k": 1, "longer": [1, 2]}).attr("ref", Expr("var.x"))])
    assert text == (
        'resource "t" "n" {\n'
        "  a         = 1\n"
        '  long_name = "x"\n'
        "  obj = {\n"
        "    k      = 1\n"
        "    longer = [1, 2]\n"
        "  }\n"
        "  ref = var.x\n"
        "}\n")
