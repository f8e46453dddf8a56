"""WAF expressions are parsed by Cloudflare's wirefilter engine; errors point inside the expression."""

import pytest

from conftest import write
from edgec.spec.expressions import check_expression
from edgec.spec.validate import validate

pytestmark = pytest.mark.real_tool("wirefilter")

HEAD = """
apiVersion: edgec/v1
name: acme
zones:
  acme.com: {provider: cloudflare}
waf:
  acme.com:
    custom:
"""


def _error_location(tmp_path, rule_yaml):
    path = write(tmp_path, HEAD + rule_yaml)
    diagnostics = validate(str(path)).diagnostics
    assert len(diagnostics) == 1, diagnostics
    return diagnostics[0].location.line, diagnostics[0].location.column, diagnostics[0].message


@pytest.mark.parametrize("expression", [
    'starts_with(http.request.uri.path, "/admin")',
    'ip.src in {192.0.2.0/24 2001:db8::/32} and not cf.client.bot',
    'http.request.uri.path matches "^/api/v[0-9]+/"',
    'any(http.request.headers.names[*] == "x-debug")',
    'http.host in $allowed_hosts',
])
def test_valid_expressions_pass(expression):
    assert check_expression(expression) is None


def test_unknown_field_in_single_quoted_expression(tmp_path):
    line, column, message = _error_location(
        tmp_path, "      - {name: a, action: block, expression: 'http.hots eq \"x\"'}\n")
    # the expression starts at column 47 on line 8; wirefilter flags its first character
    assert (line, column) == (8, 47)
    assert "unknown identifier" in message


def test_error_in_plain_scalar(tmp_path):
    line, column, _ = _error_location(
        tmp_path, "      - name: a\n        action: block\n        expression: http.host eqq 1\n")
    assert (line, column) == (10, 33)  # wirefilter flags the third character of "eqq"


def test_error_on_second_line_of_block_scalar(tmp_path):
    line, column, message = _error_location(tmp_path, """\
      - name: a
        action: block
        expression: |
          http.host eq "x"
            and (ip.src in {192.0.2.1}
""")
    assert (line, column) == (12, 39)  # just past the end of the second line
    assert 'expected literal ")"' in message


def test_too_long_expression_is_refused_before_parsing():
    problem = check_expression('http.host eq "' + "x" * 5000 + '"')
    assert problem is not None and "4,096" in problem.message


@pytest.mark.parametrize("written", [
    r'"http.host eq \"a\" or http.host eqq \"x\""',  # escapes in a double-quoted scalar
    r'"http.host eq \"\u00e9\" or http.host eqq 1"',  # a \u escape
    "'http.host eq \"é日本\" or http.host eqq 1'",  # multi-byte characters (wirefilter counts bytes)
    '"   http.host eqq 1"',  # leading spaces, which wirefilter trims before counting
    'http.host eq "it\'s" or http.host eqq 1',  # plain scalar: nothing to unescape
    "'http.host eq \"it''s\" or http.host eqq 1'",  # '' in a single-quoted scalar
], ids=["double-quoted escapes", "unicode escape", "multi-byte", "leading spaces", "plain", "single-quoted"])
def test_columns_inside_one_line_scalars(tmp_path, written):
    line_text = f"        expression: {written}"
    got = _error_location(tmp_path, f"      - name: a\n        action: block\n{line_text}\n")
    # wirefilter flags the third character of "eqq"; find it in the line as written
    assert got[:2] == (10, line_text.index("eqq") + 3)


def test_block_scalars_with_indentation_indicator_and_blank_first_line(tmp_path):
    got = _error_location(tmp_path, """\
      - name: a
        action: block
        expression: |2

            http.host eq "x" or http.host eqq 1
""")
    assert got[:2] == (12, 45)


def test_folded_scalar_points_at_its_start(tmp_path):
    got = _error_location(tmp_path, """\
      - name: a
        action: block
        expression: >
          http.host eq "x"
          or http.host eqq 1
""")
    assert got[:2] == (10, 21)  # folding rewrites line breaks, so the scalar's start is the honest answer
