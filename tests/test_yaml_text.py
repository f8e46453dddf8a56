"""edgec's fast YAML writer (the Envoy bootstrap) must read back as exactly the data it was given,
under PyYAML (YAML 1.1) and edgec's own YAML 1.2 core loader, whatever the strings hold."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from edgec.emit import yaml_text
from edgec.spec.yaml_source import parse_yaml

# Strings YAML would read as something else when written plain, and strings with every kind of
# awkward character (indicators, quotes, line breaks, non-ASCII, U+2028).
TRICKY = ["yes", "No", "on", "OFF", "y", "~", "null", "true", "1", "0x1F", "0o17", "1e3", "1:20", "2001-12-14",
          ".inf", "-.inf", ".NaN", "10s", "127.0.0.1", "0.0.0.0/0", ":method", "@type", "%REQ(:PATH)%", "- x",
          "a: b", "a #b", "'q'", '"q"', "x\ny", " lead", "trail ", "", "*", "&a", "!tag", "|", ">", "[x]", "{x}",
          "é", "\u2028", "\t", "5xx,reset", "^/v1/[0-9]{2}$", "private, no-store"]

scalars = (st.sampled_from(TRICKY) | st.text(max_size=12) | st.integers() | st.booleans() | st.none()
           | st.floats(allow_nan=False))
documents = st.recursive(scalars, lambda children: st.lists(children, max_size=4)
                         | st.dictionaries(st.sampled_from(TRICKY) | st.text(min_size=1, max_size=8), children,
                                           max_size=4), max_leaves=30)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=8), documents, min_size=1, max_size=5))
def test_written_yaml_reads_back_as_the_same_data(data):
    text = yaml_text.dump(data)
    assert yaml.safe_load(text) == data
    parsed = parse_yaml(text, "bootstrap.yaml")
    assert not parsed.diagnostics and parsed.data == data


def test_tricky_strings_are_quoted_and_plain_ones_are_not():
    text = yaml_text.dump({"words": TRICKY, "plain": ["envoy.filters.http.router", "10s", "127.0.0.1", "/healthz"]})
    assert yaml.safe_load(text)["words"] == TRICKY
    assert "- envoy.filters.http.router\n- 10s\n- 127.0.0.1\n- /healthz\n" in text
    assert "- 'yes'\n" in text and "- '1:20'\n" in text and "- '2001-12-14'\n" in text
