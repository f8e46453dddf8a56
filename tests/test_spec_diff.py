"""`edgec diff`: what a spec change means per hostname, read from folders or from git revisions."""

from __future__ import annotations

import pathlib
import re
import shutil
import subprocess

import pytest
from rich.console import Console

from edgec.diff.plan import AttributeChange, Change, Plan
from edgec.diff.spec_changes import FieldChange, SpecChange, SpecChanges, spec_changes
from edgec.diff.versions import load_version
from edgec.render.plan_markdown import GITHUB_COMMENT_LIMIT
from edgec.render.spec_changes import pr_comment, print_spec_changes, spec_changes_markdown
from edgec.spec.validate import validate

ROOT = pathlib.Path(__file__).resolve().parent.parent
MULTI_TEAM = ROOT / "examples" / "multi-team"
PUBLIC_API = ROOT / "examples" / "public-api" / "edge.yaml"
NEW_HOST = """
  - host: lens.globex.com
    gateway: public
    owner: search-team
    routes:
      - {name: lens, path: /, service: search-api}
"""
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def edit(path: pathlib.Path, old: str, new: str) -> None:
    """Replace text that must occur exactly once, so a changed example fails loudly here."""
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path}"
    path.write_text(text.replace(old, new))


def copy_public_api(spec: pathlib.Path) -> None:
    """The public-api example at `spec`, with the client certificate it names beside it."""
    shutil.copy(PUBLIC_API, spec)
    shutil.copytree(PUBLIC_API.parent / "certs", spec.parent / "certs", dirs_exist_ok=True)


def spec_of(path: pathlib.Path):
    validation = validate(str(path))
    assert validation.ok, [str(d) for d in validation.diagnostics]
    return validation.spec


def git(repo: pathlib.Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture
def team_edit(tmp_path):
    """multi-team with a route timeout changed (catalog), a route removed (shipping), a host added (search)."""
    head = tmp_path / "multi-team"
    shutil.copytree(MULTI_TEAM, head)
    edit(head / "teams" / "catalog.yaml", "exact: /api/healthz, service: storefront, timeout: 1s,",
         "exact: /api/healthz, service: storefront, timeout: 2s,")
    edit(head / "teams" / "shipping.yaml",
         "      - {name: old-tracking, exact: /track, redirect: {path: /, code: 301}}\n", "")
    (head / "teams" / "search.yaml").write_text((head / "teams" / "search.yaml").read_text() + NEW_HOST)
    return spec_changes(spec_of(MULTI_TEAM), spec_of(head), base_label="main", head_label="this branch")


@pytest.fixture
def repo(tmp_path):
    """A git repository holding public-api's edge.yaml, then a commit that changes one route of docs.acme.com."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "user.name", "edgec tests")
    git(repo, "config", "user.email", "tests@edgec.invalid")
    git(repo, "config", "commit.gpgsign", "false")
    copy_public_api(repo / "edge.yaml")
    git(repo, "add", "edge.yaml", "certs")
    git(repo, "commit", "-q", "-m", "public api")
    edit(repo / "edge.yaml", "{name: old-guides, path: /guides, redirect: {path: /docs, code: 308}}",
         "{name: old-guides, path: /guides, redirect: {path: /handbook, code: 308}}")
    git(repo, "commit", "-q", "-am", "guides move")
    return repo


# --- (a) hosts edited in different team files ---------------------------------------------------

def test_changed_hosts_are_exactly_the_edited_and_added_ones(team_edit):
    assert team_edit.changed_hosts == ["lens.globex.com", "shop.globex.com", "track.globex.com"]
    assert team_edit.shared == []  # nothing else moved: no service, zone or gateway noise


def test_each_host_lists_what_changed_and_the_removed_route_is_destructive(team_edit):
    [timeout] = team_edit.by_host["shop.globex.com"]
    assert (timeout.action, timeout.kind, timeout.key) == ("change", "route", "health")
    assert timeout.fields == (FieldChange("timeout", "1s", "2s"),) and not timeout.destructive

    [removed] = team_edit.by_host["track.globex.com"]
    assert (removed.action, removed.kind, removed.key) == ("remove", "route", "old-tracking")
    assert removed.destructive and removed.reason == "route removed"

    [added] = team_edit.by_host["lens.globex.com"]
    assert (added.action, added.kind, added.destructive) == ("add", "host", False)
    assert FieldChange("gateway", None, "public") in added.fields


def test_zone_wide_tls_and_waf_changes_reach_every_host_of_the_zone(tmp_path):
    head = tmp_path / "edge.yaml"
    copy_public_api(head)
    edit(head, 'mode: strict\n      min_version: "1.2"', 'mode: full\n      min_version: "1.0"')
    edit(head, "expression: 'starts_with(http.request.uri.path, \"/admin\")'\n        action: block",
         "expression: 'starts_with(http.request.uri.path, \"/admin\")'\n        action: block\n        enabled: false")
    base = spec_of(PUBLIC_API)
    changes = spec_changes(base, spec_of(head))
    assert changes.changed_hosts == sorted(i.host for i in base.ingresses if i.host.endswith(".acme.com"))
    assert len(changes.changed_hosts) == 4
    for host in changes.changed_hosts:
        tls, waf = changes.by_host[host]  # once each, under every host of acme.com
        assert tls.kind == "tls"
        assert tls.reason == "TLS mode weakened from strict to full; TLS minimum version lowered from 1.2 to 1.0"
        assert (waf.kind, waf.key, waf.reason) == ("waf_custom", "acme.com block-admin", "rule disabled")
    assert changes.shared == []  # the zone's hosts show it: not repeated under no single host


def test_service_changes_sit_under_no_single_host_with_the_hosts_they_reach(tmp_path):
    head = tmp_path / "edge.yaml"
    copy_public_api(head)
    edit(head, "    owner: web-team\n    timeout: 10s", "    owner: web-team\n    timeout: 12s")
    changes = spec_changes(spec_of(PUBLIC_API), spec_of(head))
    assert changes.changed_hosts == []
    [service] = changes.shared
    assert (service.kind, service.key, service.affects) == ("service", "docs", ("docs.acme.com",))
    assert service.fields == (FieldChange("timeout", "10s", "12s"),)


# --- (b) versions from git ----------------------------------------------------------------------

def test_git_revisions_list_exactly_the_edited_host(repo):
    base, head = load_version("HEAD~1:edge.yaml", str(repo)), load_version("HEAD:edge.yaml", str(repo))
    assert base.ok and head.ok
    changes = spec_changes(base.spec, head.spec)
    assert changes.changed_hosts == ["docs.acme.com"]
    [route] = changes.by_host["docs.acme.com"]
    assert (route.key, route.fields) == ("old-guides", (FieldChange("redirect.path", "/docs", "/handbook"),))
    assert base.files == ["HEAD~1:edge.yaml"]  # named as the user wrote it, not a temporary folder


@needs_git
def test_a_folder_at_a_revision_keeps_its_includes_and_reads_nothing_else(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(MULTI_TEAM, repo / "estate")
    (repo / "other.yaml").write_text("not: a spec\n")  # outside PATH: must not be read
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "-c", "commit.gpgsign=false",
        "commit", "-q", "-m", "estate")
    shutil.rmtree(repo / "estate")  # only git holds it now
    for target in ("HEAD:estate/", "HEAD:estate/edge.yaml"):
        version = load_version(target, str(repo))
        assert version.ok, [str(d) for d in version.diagnostics]
        assert len(version.files) == 9 and all(f.startswith("HEAD:estate/") for f in version.files)
        assert not spec_changes(version.spec, spec_of(MULTI_TEAM)).has_changes


def test_an_invalid_spec_at_a_revision_is_reported_where_it_was_written(repo):
    edit(repo / "edge.yaml", "service: docs,", "service: dcos,")
    git(repo, "commit", "-q", "-am", "typo")
    version = load_version("HEAD:edge.yaml", str(repo))
    assert not version.ok and version.spec is None
    assert any(d.location.file == "HEAD:edge.yaml" and "unknown service 'dcos'" in d.message
               for d in version.diagnostics)


# --- (c) no changes -----------------------------------------------------------------------------

def test_identical_specs_make_a_one_line_comment():
    spec = spec_of(MULTI_TEAM)
    changes = spec_changes(spec, spec_of(MULTI_TEAM))
    assert not changes.has_changes and changes.changed_hosts == []
    assert pr_comment(changes, Plan("globex-prod", layers_read=["aws", "cloudflare"])) == "edgec: no changes."
    assert pr_comment(changes, None) == "edgec: no changes."


def test_a_failed_plan_is_never_summed_up_as_no_changes():
    failed = Plan("globex-prod", errors=["could not read DNS records of globex.com: HTTP 500"])
    comment = pr_comment(SpecChanges(), failed)
    assert comment != "edgec: no changes." and "HTTP 500" in comment


# --- (d) what reviewers read --------------------------------------------------------------------

def test_markdown_shows_every_changed_host_and_flags_the_destructive_change(team_edit):
    text = spec_changes_markdown(team_edit)
    for host in team_edit.changed_hosts:
        assert f"#### `{host}`" in text
    assert "**⚠️ Destructive:**\n- `track.globex.com`: route `old-tracking`: route removed" in text
    assert '`timeout` `"1s"` → `"2s"`' in text
    assert text.startswith("### edgec diff: `main` → `this branch`")


def test_terminal_output_groups_by_host_with_symbols(team_edit):
    console = Console(record=True, width=200, color_system=None)
    print_spec_changes(console, team_edit)
    text = console.export_text()
    assert "shop.globex.com\n  ~ route health\n      timeout: \"1s\" -> \"2s\"" in text
    assert "track.globex.com\n  - route old-tracking  ! destructive: route removed" in text
    assert "lens.globex.com\n  + host lens.globex.com" in text
    assert text.rstrip().endswith("Spec: 3 host(s) changed; 1 to add, 1 to change, 1 to remove; 1 destructive.")


def test_pr_comment_holds_the_spec_change_and_the_plan(team_edit):
    create = Change("create", "cloudflare", "dns_record", "lens.globex.com CNAME", "lens.globex.com")
    plan = Plan("globex-prod", [create], layers_read=["cloudflare"])
    comment = pr_comment(team_edit, plan)
    assert comment.index("### edgec diff") < comment.index("### edgec plan")
    assert "lens.globex.com CNAME" in comment


def test_huge_changes_and_plan_stay_under_githubs_limit():
    changes = SpecChanges({f"host-{i}.acme.com": [SpecChange("change", "route", "api", (
        FieldChange("timeout", f"{i}s", f"{i + 1}s"),))] for i in range(5000)})
    plan = Plan("acme", [Change("update", "cloudflare", "dns_record", f"host-{i}.acme.com CNAME", f"host-{i}.acme.com",
                                (AttributeChange("content", f"new-{i}.example.net", f"old-{i}.example.net"),))
                         for i in range(5000)], layers_read=["cloudflare"])
    comment = pr_comment(changes, plan)
    assert len(comment) < GITHUB_COMMENT_LIMIT
    assert "more change(s) not shown" in comment and "The plan is cut here" in comment
    assert comment.count("<details>") == comment.count("</details>")


# --- (e) targets that are neither -----------------------------------------------------------------

@pytest.mark.parametrize("target, message", [
    ("no-such-spec.yaml", "'no-such-spec.yaml' is not a file or folder; give a spec path, or REV:PATH"),
    ("no-such-branch:edge.yaml", "'no-such-branch' is not a git revision here"),
    ("HEAD:missing.yaml", "'missing.yaml' does not exist at HEAD"),
    ("HEAD:../edge.yaml", "'../edge.yaml' does not exist at HEAD"),
    (":edge.yaml", "nor REV:PATH with both a git revision and a path"),
])
def test_bad_targets_say_what_to_give(repo, target, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        load_version(target, str(repo))


def test_git_form_outside_a_repository_says_so(tmp_path):
    with pytest.raises(ValueError, match="is not in a git repository"):
        load_version("HEAD:edge.yaml", str(tmp_path))


def test_an_existing_path_with_a_colon_is_a_path(tmp_path):
    copy_public_api(tmp_path / "v1:edge.yaml")
    version = load_version("v1:edge.yaml", str(tmp_path))
    assert version.ok and version.spec.name == "acme-prod"


def test_a_client_certificate_is_read_at_each_revision_and_compared_by_content(repo):
    shutil.copy(ROOT / "tests" / "testdata" / "origin-pull-old.pem", repo / "certs" / "origin-pull.pem")
    git(repo, "commit", "-q", "-am", "rotate the origin-pull certificate")
    base, head = load_version("HEAD~1:edge.yaml", str(repo)), load_version("HEAD:edge.yaml", str(repo))
    assert base.ok and head.ok, [str(d) for d in base.diagnostics + head.diagnostics]
    [rotated] = spec_changes(base.spec, head.spec).shared
    assert (rotated.kind, rotated.key) == ("certificate", "acme-origin-pull")
    assert rotated.affects == ("api.acme.com", "docs.acme.com", "www.acme.com")  # the hosts of gateway 'public'
    [field] = rotated.fields
    assert field.name == "certificate_file" and field.base != field.head and field.head.startswith("sha256 ")
    # the same certificate at another path (the example's own) is no change
    assert spec_changes(base.spec, spec_of(PUBLIC_API)).shared == []


def test_the_cli_lists_exactly_the_changed_hosts_between_two_git_revisions(repo, monkeypatch):
    from conftest import run_cli

    monkeypatch.chdir(repo)
    result = run_cli("diff", "HEAD~1:edge.yaml", "HEAD:edge.yaml")
    assert result.exit_code == 2, result.output
    hosts = {line.strip() for line in result.output.splitlines() if line and not line[0].isspace()}
    assert "docs.acme.com" in hosts and not {"api.acme.com", "partners.acme.com"} & hosts
    assert run_cli("diff", "HEAD:edge.yaml", "edge.yaml").exit_code == 0
