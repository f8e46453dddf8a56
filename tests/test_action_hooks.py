"""The GitHub Action (action.yml) and the pre-commit hooks (.pre-commit-hooks.yaml): that they say what
docs/ci.md says, that the hooks pass and fail as a user's commit would (their commands through the dev
venv, and once through `pre-commit try-repo` itself), and that the action passes the linters (zizmor,
check-jsonschema's github-actions schema, actionlint where installed)."""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import textwrap

import pytest
import yaml
from conftest import ROOT, dev_tool, run_cli

BIN = pathlib.Path(sys.executable).parent
HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
ACTION_TEXT = (ROOT / "action.yml").read_text()
ACTION = yaml.safe_load(ACTION_TEXT)
DOCS = (ROOT / "docs" / "ci.md").read_text()


def _selects(hook: dict, path: str) -> bool:
    """As pre-commit picks a hook's files: matching `files`, not matching `exclude`."""
    return bool(re.search(hook["files"], path)) and not re.search(hook.get("exclude", "^$"), path)


def _selected(hook: dict) -> list[str]:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return [f for f in tracked if _selects(hook, f)]


def test_the_hooks_are_the_two_documented_ones():
    assert {h["id"]: h["entry"] for h in HOOKS} == {"edgec-validate": "edgec validate", "edgec-check": "edgec check"}
    for hook in HOOKS:
        assert hook["language"] == "python" and hook.get("pass_filenames", True) is True
        assert hook["files"] in DOCS and hook["exclude"] in DOCS and hook["id"] in DOCS


@pytest.mark.parametrize("path, matches", [
    ("edge.yaml", True), ("examples/public-api/edge.yaml", True), ("infra/edge.yml", True),
    ("examples/multi-team/teams/web.yaml", False), ("edge.yaml.bak", False), ("hedge.yaml", False),
    ("schemas/edge.schema.json", False), ("generated/acme/envoy/edge.yaml", False),
])
def test_the_hooks_pick_single_file_specs_not_compiled_envoy_config(path, matches):
    assert all(_selects(hook, path) is matches for hook in HOOKS)


@pytest.mark.parametrize("hook", HOOKS, ids=lambda h: h["id"])
def test_each_hook_passes_the_examples_as_pre_commit_passes_them(hook):
    """pre-commit runs `entry FILE...` with the matching files, several per call."""
    files = _selected(hook)
    assert len(files) >= 3
    command, *args = hook["entry"].split()
    result = subprocess.run([str(BIN / command), *args, *files], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert all(f in result.stdout for f in files)


@pytest.mark.parametrize("hook", HOOKS, ids=lambda h: h["id"])
def test_each_hook_fails_a_commit_with_a_broken_spec(hook, tmp_path):
    broken = tmp_path / "edge.yaml"
    broken.write_text((ROOT / "tests" / "fixtures" / "five-mistakes.yaml").read_text())
    good = ROOT / "examples" / "public-api" / "edge.yaml"
    command, *args = hook["entry"].split()
    result = subprocess.run([str(BIN / command), *args, str(good), str(broken)], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 1
    assert re.search(rf"{re.escape(str(broken))}:\d+:\d+: error", result.stdout)


def _docs_yaml(marker: str):
    [block] = [b for b in re.findall(r"```yaml\n(.*?)```", DOCS, re.S) if marker in b]
    return yaml.safe_load(textwrap.dedent(block))


@pytest.fixture(scope="module")
def user_repo(tmp_path_factory) -> tuple[pathlib.Path, dict]:
    """A user's repository with a good and a broken single-file spec and a spec folder, using the hooks
    as docs/ci.md's .pre-commit-config.yaml does, from this repository's HEAD commit (uncommitted changes
    to the hooks are not seen). Its PRE_COMMIT_HOME is shared by the tests here, so pre-commit builds the
    hooks' env (edgec and its dependencies, from the package index) once, in about 35 s."""
    dev_tool("pre-commit")
    repo = tmp_path_factory.mktemp("user-repo")
    shutil.copytree(ROOT / "examples" / "public-api", repo / "good")  # the spec and the certificates it names
    (repo / "bad").mkdir()
    (repo / "bad" / "edge.yaml").write_text((ROOT / "tests" / "fixtures" / "five-mistakes.yaml").read_text())
    shutil.copytree(ROOT / "examples" / "multi-team", repo / "edge")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path_factory.mktemp("pre-commit-home"))}
    return repo, env


def _pre_commit_run(user_repo, hooks: list[dict], *files: str) -> subprocess.CompletedProcess:
    repo, env = user_repo
    config = _docs_yaml("# .pre-commit-config.yaml")
    [entry] = config["repos"]
    assert [h["id"] for h in entry["hooks"]] == ["edgec-validate", "edgec-check"]
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
    entry.update(repo=str(ROOT), rev=head.stdout.strip(), hooks=hooks)
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    return subprocess.run([dev_tool("pre-commit"), "run", "--verbose", "--files", *files], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.real_tool("pre-commit")
def test_pre_commit_passes_a_good_spec_and_fails_a_broken_one_at_its_lines(user_repo):
    hooks = _docs_yaml("# .pre-commit-config.yaml")["repos"][0]["hooks"]
    good = _pre_commit_run(user_repo, hooks, "good/edge.yaml")
    assert good.returncode == 0, good.stdout + good.stderr
    assert re.search(r"edgec validate\.+Passed", good.stdout) and re.search(r"edgec check\.+Passed", good.stdout)
    bad = _pre_commit_run(user_repo, hooks, "good/edge.yaml", "bad/edge.yaml")
    assert bad.returncode == 1
    assert re.search(r"edgec validate\.+Failed", bad.stdout) and re.search(r"edgec check\.+Failed", bad.stdout)
    assert re.search(r"bad/edge.yaml:\d+:\d+: error", bad.stdout) and "good/edge.yaml: valid" in bad.stdout


@pytest.mark.real_tool("pre-commit")
def test_pre_commit_validates_a_spec_folder_as_docs_ci_md_configures_it(user_repo):
    [folder_hook] = _docs_yaml("pass_filenames: false")
    assert folder_hook["args"] == ["edge/"]
    result = _pre_commit_run(user_repo, [folder_hook], "edge/teams/payments.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "edge/: valid (9 files)" in result.stdout


def test_check_takes_one_spec_for_machine_formats(tmp_path):
    spec = str(ROOT / "examples" / "public-api" / "edge.yaml")
    result = run_cli("check", "--format", "sarif", spec, spec)
    assert result.exit_code == 64 and "--format sarif takes one SPEC, got 2" in result.output


def test_the_action_inputs_are_the_documented_ones():
    inputs = ACTION["inputs"]
    assert set(inputs) == {"command", "spec", "version", "python-version", "sarif", "comment", "github-token"}
    for name in inputs:
        assert f"| `{name}` |" in DOCS, name
    assert ACTION["runs"]["using"] == "composite"


def test_the_action_never_writes_an_input_into_a_script():
    for step in ACTION["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step.get("name")


def test_the_action_pins_every_third_party_action_by_commit():
    uses = [step["uses"] for step in ACTION["runs"]["steps"] if "uses" in step]
    assert uses and all(re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", u) for u in uses), uses
    assert all(re.search(re.escape(u) + r" # v\d", ACTION_TEXT) for u in uses)


def _run_step(name: str, tmp_path: pathlib.Path, **env: str) -> tuple[subprocess.CompletedProcess, dict]:
    """One of the action's `run:` steps, as the runner runs a `shell: bash` step (bash -e -o pipefail),
    with the dev venv's edgec; returns the result and what the step wrote to GITHUB_OUTPUT."""
    [step] = [s for s in ACTION["runs"]["steps"] if s.get("name") == name]
    script = tmp_path / "step.sh"
    script.write_text(step["run"])
    output = tmp_path / "github-output"
    output.write_text("")
    full_env = {**os.environ, "RUNNER_TEMP": str(tmp_path), "GITHUB_OUTPUT": str(output),
                "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"), "EDGEC": str(BIN / "edgec"), **env}
    result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=ROOT,
                            env=full_env, capture_output=True, text=True, timeout=120)
    return result, dict(line.split("=", 1) for line in output.read_text().splitlines())


def test_the_action_runs_the_command_on_the_spec_and_reports_its_exit_code(tmp_path):
    ok, outputs = _run_step("Run edgec", tmp_path, EDGEC_COMMAND="check --fail-on warning", EDGEC_COMMENT="false",
                            EDGEC_SPEC="examples/public-api/edge.yaml")
    assert ok.returncode == 0 and outputs == {"exit-code": "0"}, ok.stdout + ok.stderr
    assert "examples/public-api/edge.yaml: 17 policies" in ok.stdout
    broken, outputs = _run_step("Run edgec", tmp_path, EDGEC_COMMAND="validate", EDGEC_COMMENT="false",
                                EDGEC_SPEC="tests/fixtures/five-mistakes.yaml")
    assert broken.returncode == 1 and outputs == {"exit-code": "1"}
    assert "tests/fixtures/five-mistakes.yaml:18:25: error" in broken.stdout


def test_the_action_writes_the_markdown_for_the_comment_and_changes_do_not_fail_the_step(tmp_path):
    """comment: "true" runs the command with --format markdown; exit 2 (changes) is an output, not a failure."""
    result, outputs = _run_step("Run edgec", tmp_path, EDGEC_COMMAND="diff examples/private-internal/edge.yaml",
                                EDGEC_COMMENT="true", EDGEC_SPEC="examples/public-api/edge.yaml")
    assert result.returncode == 0 and outputs["exit-code"] == "2", result.stdout + result.stderr
    markdown = pathlib.Path(outputs["markdown-file"]).read_text()
    assert markdown.startswith("#") and "api.acme.com" in markdown
    assert markdown in (tmp_path / "summary.md").read_text()


def test_the_action_writes_sarif_of_every_finding(tmp_path):
    result, outputs = _run_step("Write SARIF", tmp_path, EDGEC_SPEC="examples/public-api/edge.yaml")
    assert result.returncode == 0, result.stderr
    sarif = json.loads(pathlib.Path(outputs["file"]).read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]  # the suppressed findings, with reasons


FAKE_GH = """#!/bin/bash
# gh, as far as the comment step uses it: lists the comments in $GH_COMMENTS (one id per line, as the step's
# --jq filter would print those carrying the marker), and logs every call with the body it was given.
echo "$*" >> "$GH_LOG"
if [[ "$*" == *--paginate* ]]; then cat "$GH_COMMENTS"; fi
for arg; do [[ "$arg" == body=@* ]] && cat "${arg#body=@}" >> "$GH_LOG"; done
true
"""


FAKE_PYTHON = """#!/bin/bash
# python3 -m venv DIR, giving a venv whose pip logs what it was asked to install
bin="$3/bin"; mkdir -p "$bin"
printf '#!/bin/bash\\necho "$*" >> "%s/pip.log"\\n' "$3" > "$bin/pip"
printf '#!/bin/bash\\necho edgec 0.0.0\\n' > "$bin/edgec"
chmod +x "$bin/pip" "$bin/edgec"
"""


@pytest.mark.parametrize("version, installs", [
    ("", str(ROOT)),  # the action's own files
    ("0.1.0", "edgec==0.1.0"), ("1.2.0rc1", "edgec==1.2.0rc1"),
    ("v0.1.0", "edgec @ git+https://github.com/edgec/edgec@v0.1.0"),
    ("1234567abcdef0", "edgec @ git+https://github.com/edgec/edgec@1234567abcdef0"),  # a commit, even one like this
])
def test_the_action_installs_the_version_asked_for(tmp_path, version, installs):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "python3").write_text(FAKE_PYTHON)
    (fake / "python3").chmod(0o755)
    result, _ = _run_step("Install edgec", tmp_path, PATH=f"{fake}:{os.environ['PATH']}", EDGEC_VERSION=version,
                          GITHUB_ACTION_PATH=str(ROOT))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "edgec-venv" / "pip.log").read_text().strip().endswith(installs)


def test_the_action_keeps_one_pull_request_comment_up_to_date(tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "gh").write_text(FAKE_GH)
    (fake / "gh").chmod(0o755)
    markdown = tmp_path / "plan.md"
    markdown.write_text("### edgec plan\n1 to update\n")
    log, comments = tmp_path / "gh.log", tmp_path / "comments"
    env = dict(PATH=f"{fake}:{os.environ['PATH']}", GH_LOG=str(log), GH_COMMENTS=str(comments),
               MARKDOWN=str(markdown), PR_NUMBER="7", EDGEC_SPEC="edge/", GITHUB_REPOSITORY="acme/infra")
    comments.write_text("")
    first, _ = _run_step("Post or update the pull-request comment", tmp_path, **env)
    assert first.returncode == 0, first.stderr
    assert "--method POST repos/acme/infra/issues/7/comments" in log.read_text()
    assert "<!-- edgec-action: edge/ -->\n### edgec plan\n1 to update" in log.read_text()
    log.write_text("")
    comments.write_text("4242\n")
    again, _ = _run_step("Post or update the pull-request comment", tmp_path, **env)
    assert again.returncode == 0, again.stderr
    assert "--method PATCH repos/acme/infra/issues/comments/4242" in log.read_text()
    assert "POST" not in log.read_text()


@pytest.mark.real_tool("zizmor")
def test_zizmor_finds_nothing_in_the_action():
    result = subprocess.run([dev_tool("zizmor"), "--offline", "--no-progress", "--persona", "auditor", "action.yml"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings" in result.stdout + result.stderr


@pytest.mark.real_tool("check-jsonschema")
def test_the_action_satisfies_the_published_action_schema():
    result = subprocess.run([dev_tool("check-jsonschema"), "--builtin-schema", "vendor.github-actions", "action.yml"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def _docs_workflow() -> str:
    [workflow] = [block for block in re.findall(r"```yaml\n(.*?)```", DOCS, re.S) if "edge-gate.yml" in block]
    return workflow


@pytest.mark.real_tool("actionlint")
def test_actionlint_finds_nothing_in_the_documented_workflow_using_the_action(tmp_path):
    """actionlint lints workflows (not action metadata): the docs' workflow, using this action as a local
    one (`uses: ./`) so that actionlint also checks its inputs against action.yml."""
    actionlint = dev_tool("actionlint")
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "edge-gate.yml").write_text(re.sub(r"edgec/edgec@\S+", "./", _docs_workflow()))
    shutil.copy(ROOT / "action.yml", tmp_path / "action.yml")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    result = subprocess.run([actionlint, "-no-color"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_documented_workflow_uses_the_action_with_its_inputs():
    workflow = yaml.safe_load(_docs_workflow())
    steps = [s for job in workflow["jobs"].values() for s in job["steps"] if s["uses"].startswith("edgec/edgec@")]
    assert steps and all(set(s["with"]) <= set(ACTION["inputs"]) for s in steps)
