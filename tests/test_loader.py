"""Loading YAML: positions, hostile input, and estates split across files."""

import re

import pytest
import yaml

from conftest import run_cli, write
from edgec.spec.loader import load_spec
from edgec.spec.validate import validate
from edgec.spec.yaml_source import MAX_DEPTH

MINIMAL = """
apiVersion: edgec/v1
name: acme
zones:
  acme.com: {provider: cloudflare}
"""


def _messages(target):
    return [(d.location.line, d.location.column, d.message) for d in validate(str(target)).diagnostics]


@pytest.mark.parametrize("content, expected", [
    (b"", "file is empty"),
    (b"# just a comment\n", "file is empty"),
    (b"\xff\xfe\x00garbage\x00", "not UTF-8"),
    (b"- a\n- b\n", "must be a mapping"),
    (b"a: [1, 2\n", "invalid YAML"),
    (b"a: 1\n---\nb: 2\n", "more than one YAML document"),
    (b"a: &x [*x]\n", "refers to itself"),
    (b"a: *nowhere\n", "no anchor"),
    (b"x: !!python/object:os.system ls\n", "unsupported YAML tag"),
    (b"a: 1\x07\n", "control characters are not allowed"),
    (b"? [a]\n: 1\n", "cannot be a mapping key"),
    (b"a: &k x\n*k : 1\n", "cannot be a mapping key"),
])
def test_hostile_input_is_a_located_error(tmp_path, content, expected):
    path = tmp_path / "edge.yaml"
    path.write_bytes(content)
    assert any(expected in message for *_, message in _refused(path))


def _refused(path):
    """Validate `path`, expecting it refused (exit 1, no traceback) with diagnostics that are all located,
    `FILE:LINE:COL: SEVERITY: ...`: their (line, column, message), errors first in the output."""
    result = run_cli("validate", str(path))
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.output.startswith(f"{path}:"), result.output
    pattern = re.escape(str(path)) + r":(\d+):(\d+): (error|warning): (.+)"
    located = [re.fullmatch(pattern, line) for line in result.output.splitlines() if line.startswith(f"{path}:")]
    assert all(located), result.output
    assert located[0][3] == "error", result.output
    return [(int(m[1]), int(m[2]), m[4]) for m in located]


def _about_nesting(message):
    return re.search(r"nest|deep|depth", message, re.IGNORECASE)


# YAML that parses but nests one level deeper than edgec allows, in flow and in block style: edgec's own
# limit refuses it, at the first collection too deep (the YAML parser would take it: libyaml's limit, in
# PyYAML 6.0.4, is 1,000 levels).
_ONE_TOO_DEEP = {
    "flow": (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1) + b"\n", (1, MAX_DEPTH + 1)),
    "block": (b"".join(b"  " * level + b"k:\n" for level in range(MAX_DEPTH + 1)) + b"  " * (MAX_DEPTH + 1) + b"v\n",
              (MAX_DEPTH + 1, 2 * MAX_DEPTH + 1)),
}


@pytest.mark.parametrize("style", sorted(_ONE_TOO_DEEP))
def test_nesting_beyond_edgecs_limit_is_a_located_error(tmp_path, style):
    content, where = _ONE_TOO_DEEP[style]
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the parser edgec uses
    try:
        list(yaml.parse(content, Loader=loader))
    except yaml.YAMLError as exc:
        pytest.fail(f"the YAML parser refuses this itself, so it no longer tests edgec's limit: {exc}")
    path = tmp_path / "edge.yaml"
    path.write_bytes(content)
    assert [(line, column) for line, column, message in _refused(path) if _about_nesting(message)] == [where]


def test_nesting_at_edgecs_limit_is_not_refused(tmp_path):
    path = write(tmp_path, MINIMAL + "x-deep: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n")
    assert not any(_about_nesting(message) for *_, message in _messages(path))


def test_absurd_nesting_is_a_located_error(tmp_path):
    """Whichever refuses it first (libyaml, which in PyYAML 6.0.4 stops at its own depth limit with its own
    message, or edgec), the user gets a located error about the nesting, not a crash."""
    path = tmp_path / "edge.yaml"
    path.write_bytes(b"[" * 5000)
    diagnostics = _refused(path)
    assert any(_about_nesting(message) for *_, message in diagnostics), diagnostics


def test_alias_bomb_is_refused_quickly(tmp_path):
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    path = write(tmp_path, "\n".join(lines) + "\n")
    diagnostics = validate(str(path)).diagnostics
    assert len(diagnostics) == 1 and "alias bomb" in diagnostics[0].message


def test_duplicate_keys_are_errors_with_both_positions(tmp_path):
    path = write(tmp_path, MINIMAL + "name: other\n")
    assert (5, 1, "duplicate key 'name' (first defined at 2:1); keep only one") in _messages(path)


def test_yaml_1_1_booleans_stay_strings(tmp_path):
    path = write(tmp_path, MINIMAL + """
services:
  app:
    endpoints: ["app:80"]
    retries: {attempts: 1, on: [5xx], per_try_timeout: 1s}
zones_tls_probe: off
""")
    loaded = load_spec(str(path))
    assert loaded.data["services"]["app"]["retries"]["on"] == ["5xx"]
    assert loaded.data["zones_tls_probe"] == "off"


def test_merge_keys_and_anchors_work(tmp_path):
    path = write(tmp_path, MINIMAL + """
x-defaults: &defaults {timeout: 3s, connect_timeout: 1s}
services:
  a: {<<: *defaults, endpoints: ["a:80"]}
  b: {<<: *defaults, endpoints: ["b:80"], timeout: 5s}
""")
    result = validate(str(path))
    assert result.ok, result.diagnostics
    assert result.spec.services["a"].timeout.total_seconds() == 3
    assert result.spec.services["b"].timeout.total_seconds() == 5  # explicit keys win over merged ones
    assert result.spec.services["b"].endpoints == ["b:80"]


def test_quoted_merge_key_is_an_ordinary_key(tmp_path):
    path = write(tmp_path, MINIMAL + 'services:\n  a: {"<<": {timeout: 3s}, endpoints: ["a:80"]}\n')
    assert any("unknown field '<<'" in m for *_, m in _messages(path))


def test_errors_in_included_files_point_at_those_files(tmp_path):
    write(tmp_path, MINIMAL + "include: [teams/*.yaml]\n")
    team = write(tmp_path, """
        services:
          pay: {endpoints: ["pay:80"], timeout: 3}
        """, "teams/payments.yaml")
    diagnostics = validate(str(tmp_path / "edge.yaml")).diagnostics
    assert [(d.location.file, d.location.line, d.location.column) for d in diagnostics] == [(str(team), 2, 41)]
    assert "needs a unit" in diagnostics[0].message


def test_the_same_entry_in_two_files_is_an_error_pointing_at_both(tmp_path):
    write(tmp_path, MINIMAL + 'services:\n  pay: {endpoints: ["a:80"]}\n')
    other = write(tmp_path, 'services:\n  pay: {endpoints: ["b:80"]}\n', "team.yaml")
    diagnostics = validate(str(tmp_path)).diagnostics
    assert len(diagnostics) == 1
    d = diagnostics[0]
    assert (d.location.file, d.location.line) == (str(other), 2)
    assert f"{tmp_path / 'edge.yaml'}:6:3" in d.message


def test_split_lists_keep_their_own_positions(tmp_path):
    write(tmp_path, MINIMAL + """
gateways:
  gw: {exposure: public}
ingresses:
  - {host: a.acme.com, gateway: gw, routes: [{service: s}]}
""")
    team = write(tmp_path, """
        ingresses:
          - {host: b.acme.com, gateway: gw, routes: [{service: s}]}
          - {host: c.acme.com, gateway: gww, routes: [{service: s}]}
        """, "z-team.yaml")
    diagnostics = [d for d in validate(str(tmp_path)).diagnostics if "gateway 'gww'" in d.message]
    assert len(diagnostics) == 1
    assert diagnostics[0].path == ("ingresses", 2, "gateway")
    assert (diagnostics[0].location.file, diagnostics[0].location.line) == (str(team), 3)


def test_dns_records_of_one_zone_concatenate_across_files(tmp_path):
    write(tmp_path, MINIMAL + "dns:\n  acme.com: [{name: a, type: A, content: 192.0.2.1}]\n")
    write(tmp_path, "dns:\n  acme.com: [{name: b, type: A, content: 192.0.2.2}]\n", "more.yaml")
    result = validate(str(tmp_path))
    assert result.ok, result.diagnostics
    assert [r.name for r in result.spec.dns["acme.com"]] == ["a", "b"]


def test_missing_include_and_missing_spec(tmp_path):
    path = write(tmp_path, MINIMAL + "include: [nope.yaml, 'teams/*.yaml']\n")
    messages = [m for *_, m in _messages(path)]
    assert any("cannot read" in m and "nope.yaml" in m for m in messages)
    nul = write(tmp_path, MINIMAL + 'include: ["\\0"]\n', "nul.yaml")  # found by the fuzz suite
    assert any("an include entry is a file path" in m for *_, m in _messages(nul))
    assert any("matches no file" in m for m in messages)
    result = run_cli("validate", str(tmp_path / "absent.yaml"))
    assert result.exit_code == 1 and "cannot read" in result.output


def test_control_character_is_located(tmp_path):
    path = tmp_path / "edge.yaml"
    path.write_bytes(b"apiVersion: edgec/v1\nname: x\nzones: {}\nmetadata: {owner: a\x1bb}\n")
    (d,) = validate(str(path)).diagnostics
    assert (d.location.line, d.location.column) == (4, 20)


def test_fifo_in_a_spec_folder_is_refused_not_waited_on(tmp_path):
    import os
    write(tmp_path, MINIMAL)
    os.mkfifo(tmp_path / "team.yaml")
    messages = [m for *_, m in _messages(tmp_path)]
    assert any("is not a regular file" in m for m in messages)


def test_empty_sections_merge_like_empty_ones(tmp_path):
    write(tmp_path, MINIMAL + "services:\n# none yet\ningresses:\n")
    write(tmp_path, 'services:\n  a: {endpoints: ["a:80"]}\n', "team.yaml")
    result = validate(str(tmp_path))
    assert result.ok, result.diagnostics
    assert list(result.spec.services) == ["a"]


def test_symlinked_team_folders_are_followed_once(tmp_path):
    import os
    root = tmp_path / "estate"
    write(root, MINIMAL)
    write(tmp_path / "shared", 'services:\n  a: {endpoints: ["a:80"]}\n', "team.yaml")
    os.symlink(tmp_path / "shared", root / "teams")
    os.symlink(root, root / "loop")
    result = validate(str(root))
    assert result.ok, result.diagnostics
    assert list(result.spec.services) == ["a"]


def test_a_key_named_like_pydantics_marker_is_just_a_key(tmp_path):
    """Found by the fuzz suite: a top-level key literally named '[key]'."""
    path = write(tmp_path, "'[key]': null\n")
    messages = [m for *_, m in _messages(path)]
    assert "unknown field '[key]'" in " ".join(messages)
