"""The CI templates (examples/ci/*.yml, issue 18 item 3): valid against their published schemas, clean
under actionlint and zizmor, and the commands they run work end to end.

The end-to-end part reads the shell commands of each template's jobs from the YAML (so a broken
command in a template breaks this test) and runs them with bash against edgec's sandbox: moto with the
private-internal example's estate in it and the Terraform state in an S3 bucket in moto (`terraform.
backend` of type s3 with moto's endpoint: a real backend, so `edgec apply` runs under CI=true, where
it refuses a local state). What only a CI service can do is not run, and the test says what stands in:
GitHub actions (`uses:`: checkout, artifacts, credentials), steps that need `gh` and GitHub's API,
GitLab lines that call its API ($CI_API_V4_URL), and the install lines (this venv's edgec and the
terraform on PATH stand in). A git repository with an `origin` plays the repository: the merge request
or pull request adds a record on a branch; "merging" fast-forwards main; the apply job runs in a
checkout cleaned of everything untracked, with only the gate's `reviewed.plan` artifact copied in.

GitHub's flow applies the first change (importing the sandbox's estate, which has no Terraform state
yet: about a minute, most of it the provider's waits on the load balancers), then the same reviewed
plan is applied again and must be refused; GitLab's applies a second change on the state the first
left in the bucket, with the role in AWS_ROLE_ARN and the template's ID-token file as its only AWS
credentials (moto's STS answers AssumeRoleWithWebIdentity).
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

import boto3
import pytest
import yaml
from conftest import ROOT, dev_tool

TEMPLATES = ROOT / "examples" / "ci"
GITHUB = TEMPLATES / "github-actions.yml"
GITLAB = TEMPLATES / "gitlab-ci.yml"
PLUGINS = "/opt/tf-plugins"
EXAMPLE = ROOT / "examples" / "private-internal" / "edge.yaml"
ZONE = "initech.internal"
BUCKET = "edge-terraform-state"


def run_tool(name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([dev_tool(name), *args], capture_output=True, text=True, timeout=120, cwd=ROOT)


def load(path: pathlib.Path) -> dict:
    return yaml.safe_load(path.read_text())


# --- published schemas and linters -------------------------------------------------------------------

@pytest.mark.real_tool("check-jsonschema")
@pytest.mark.parametrize("template, schema", [(GITHUB, "vendor.github-workflows"), (GITLAB, "vendor.gitlab-ci")])
def test_each_template_is_valid_against_its_published_schema(template, schema):
    result = run_tool("check-jsonschema", "--builtin-schema", schema, str(template))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.real_tool("actionlint")
def test_actionlint_finds_nothing_in_the_github_workflow():
    result = run_tool("actionlint", "-no-color", str(GITHUB))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


@pytest.mark.real_tool("zizmor")
def test_zizmor_finds_nothing_unjustified_in_the_github_workflow():
    """The auditor persona (zizmor's strictest); each `zizmor: ignore[...]` in the file says why."""
    result = run_tool("zizmor", "--offline", "--persona", "auditor", "--no-progress", str(GITHUB))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout + result.stderr
    lines = GITHUB.read_text().splitlines()
    for above, line in zip(lines, lines[1:]):
        if "zizmor: ignore" in line:
            assert above.strip().startswith("# "), f"an ignore without its reason on the line above: {line}"


# --- what the templates say, read from them --------------------------------------------------------------

def github_jobs() -> dict:
    return load(GITHUB)["jobs"]


def test_every_github_action_is_pinned_by_commit_with_its_tag_named():
    lines = [line.strip() for line in GITHUB.read_text().splitlines() if re.match(r"\s*(- )?uses:", line)]
    assert lines
    for line in lines:
        assert re.fullmatch(r"(- )?uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*", line), line


def test_no_github_expression_is_expanded_inside_a_shell_command():
    """Template injection: data reaches `run:` through env:, never as ${{ ... }} in the script."""
    for name, job in github_jobs().items():
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), (name, step.get("name"))


def test_every_github_job_that_assumes_an_aws_role_may_ask_for_an_oidc_token():
    roles = {}
    for name, job in github_jobs().items():
        for step in job["steps"]:
            if step.get("uses", "").startswith("aws-actions/configure-aws-credentials@"):
                assert job["permissions"].get("id-token") == "write", name
                roles[name] = step["with"]["role-to-assume"]
    assert roles == {"gate": "${{ vars.EDGE_READ_ROLE }}", "replan": "${{ vars.EDGE_READ_ROLE }}",
                     "apply": "${{ vars.EDGE_APPLY_ROLE }}", "drift": "${{ vars.EDGE_READ_ROLE }}"}


def test_applies_never_overlap():
    jobs = github_jobs()
    assert jobs["apply"]["concurrency"] == {"group": "edge-apply", "cancel-in-progress": False}
    assert jobs["apply"]["environment"] == "production"
    assert load(GITLAB)["apply"]["resource_group"] == "edge-apply"


def test_both_templates_install_edgec_from_its_repository_at_a_pinned_ref():
    install = re.compile(r'python -m pip install (--quiet )?"edgec @ git\+https://github\.com/edgec/edgec@\$\{EDGEC_REF\}"')
    github, gitlab = GITHUB.read_text(), GITLAB.read_text()
    assert install.search(github) and install.search(gitlab)
    assert "pip install" not in install.sub("", github).replace('pip install "edgec==X.Y.Z"', "")
    assert load(GITHUB)["env"]["EDGEC_REF"] == load(GITLAB)["variables"]["EDGEC_REF"]
    assert 'pip install "edgec==X.Y.Z"' in github and 'pip install "edgec==X.Y.Z"' in gitlab


# --- the commands, run against the sandbox -------------------------------------------------------------

def github_commands(job: str) -> tuple[list[tuple[str, dict]], list[str]]:
    """(script, env) of each `run:` step of a GitHub job this test can run, and what it skips, said why."""
    workflow = load(GITHUB)
    runnable, skipped = [], []
    for step in workflow["jobs"][job]["steps"]:
        label = step.get("name") or step.get("uses") or step.get("run", "")[:40]
        script = step.get("run", "")
        if "uses" in step:
            skipped.append(f"{label}: a GitHub action (uses:)")
        elif "pip install" in script:
            skipped.append(f"{label}: installs edgec (this venv's stands in)")
        elif re.search(r"\bgh ", script):
            skipped.append(f"{label}: needs gh and GitHub's API")
        elif "failure()" in step.get("if", ""):
            skipped.append(f"{label}: runs only after a failure")
        else:
            env = {**workflow["env"], **workflow["jobs"][job].get("env", {}), **step.get("env", {})}
            runnable.append((script, {k: str(v) for k, v in env.items() if "${{" not in str(v)}))
    return runnable, skipped


def gitlab_commands(job: str) -> tuple[list[tuple[str, dict]], list[str]]:
    """Like github_commands, for a GitLab job: its script lines in one shell, as GitLab runs them."""
    pipeline = load(GITLAB)
    spec = pipeline[job]
    installs = {line for anchor in (".install", ".terraform") for line in pipeline[anchor]}
    variables = dict(pipeline["variables"])
    for parent in ([spec["extends"]] if isinstance(spec.get("extends"), str) else spec.get("extends", [])):
        variables.update(pipeline[parent].get("variables", {}))
    variables.update(spec.get("variables", {}))
    lines, skipped = [], []
    for line in _flat(spec["script"]):
        if line in installs:
            skipped.append(f"{line[:50]}: installs edgec or terraform (this venv's and PATH's stand in)")
        elif "CI_API_V4_URL" in line:
            skipped.append(f"{line.splitlines()[0][:50]}: calls GitLab's API")
        else:
            lines.append(line)
    env = {k: str(v) for k, v in variables.items() if "$" not in str(v)}  # not those set in GitLab's settings
    return [("\n".join(lines), env)], skipped


def _flat(items):
    for item in items:
        yield from (_flat(item) if isinstance(item, list) else [item])


class Repo:
    """A checkout with an origin, the sandbox's spec at the templates' SPEC, and the environment of a job."""

    def __init__(self, root: pathlib.Path, env: dict[str, str], spec_dir: str):
        self.root, self.env, self.spec_dir = root, env, spec_dir
        self.work = root / "checkout"

    def git(self, *args: str, cwd: pathlib.Path | None = None) -> str:
        result = subprocess.run(["git", *args], cwd=cwd or self.work, env=self.env, capture_output=True, text=True)
        assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
        return result.stdout

    def commit_spec(self, data: dict, message: str) -> None:
        path = self.work / self.spec_dir / "edge.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        self.git("add", str(path))
        self.git("commit", "-q", "-m", message)

    def run_job(self, commands: list[tuple[str, dict]], extra: dict[str, str | None]) -> list[subprocess.CompletedProcess]:
        """Each script with bash as the CI services run them (-e, pipefail), stopping at the first failure;
        a variable None in `extra` is unset."""
        results = []
        for script, env in commands:
            merged = {**self.env, **env, **extra}
            result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=self.work,
                                    env={key: value for key, value in merged.items() if value is not None},
                                    capture_output=True, text=True, timeout=600)
            results.append(result)
            if result.returncode != 0:
                break
        return results

    def merge_and_check_out_fresh(self, branch: str, artifact: pathlib.Path, aws_url: str, name: str) -> None:
        """Fast-forward main to `branch`, push, and leave a checkout of main as a new runner would have it,
        with the gate's reviewed.plan downloaded and the test's override pointing Terraform's AWS provider
        at moto (in real CI the provider talks to AWS itself)."""
        from edgec.sandbox.run import moto_provider_override

        self.git("checkout", "-q", "main")
        self.git("merge", "-q", "--ff-only", branch)
        self.git("push", "-q", "origin", "main")
        self.git("clean", "-q", "-fdx")
        layer = self.work / "generated" / name / "terraform" / "aws"
        layer.mkdir(parents=True)
        (layer / "moto_override.tf").write_text(moto_provider_override(aws_url))
        shutil.copy(artifact, self.work / "reviewed.plan")


def record_spec(base: dict, *names: str) -> dict:
    data = yaml.safe_load(yaml.safe_dump(base))
    data["dns"][ZONE] += [{"name": name, "type": "A", "content": f"10.9.9.{n}", "ttl": 300}
                          for n, name in enumerate(names, start=1)]
    return data


def zone_names(session, url: str) -> set[str]:
    route53 = session.client("route53", endpoint_url=url)
    zone = next(z for z in route53.list_hosted_zones()["HostedZones"] if z["Name"] == f"{ZONE}.")
    return {s["Name"].rstrip(".") for s in route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]}


def output(results: list[subprocess.CompletedProcess]) -> str:
    return "".join(r.stdout + r.stderr for r in results)


@pytest.fixture(scope="module")
def flows(tmp_path_factory):
    """Both templates' gate and apply jobs, one after the other, against one sandbox (a dict of results)."""
    if shutil.which("terraform") is None or not os.path.isdir(PLUGINS):
        pytest.skip(f"terraform on PATH and the AWS provider in {PLUGINS} are needed to apply")
    if shutil.which("git") is None:
        pytest.skip("git is needed for edgec diff REV:PATH")
    from edgec.sandbox.run import start_sandbox
    from edgec.spec.loader import load_spec

    root = tmp_path_factory.mktemp("ci")
    sandbox = start_sandbox(load_spec(str(EXAMPLE)), root / "sandbox", drift=False)
    try:
        yield _run_flows(root, sandbox)
    finally:
        sandbox.stop()


def _run_flows(root: pathlib.Path, sandbox) -> dict:
    aws_url = sandbox.env["AWS_ENDPOINT_URL"]
    base = yaml.safe_load(sandbox.spec_path.read_text())
    region = base["aws"]["region"]
    # Terraform's state in S3 (moto), locked by a lock file: a backend, so CI=true is no obstacle.
    base["terraform"] = {"backend": {"type": "s3", "config": {
        "bucket": BUCKET, "key": "edgec/{layer}.tfstate", "region": region, "use_lockfile": True,
        "use_path_style": True, "endpoints": {"s3": aws_url, "sts": aws_url}, "skip_credentials_validation": True,
        "skip_requesting_account_id": True, "skip_metadata_api_check": True}}}
    session = boto3.Session(region_name=region, aws_access_key_id="sandbox", aws_secret_access_key="sandbox")
    session.client("s3", endpoint_url=aws_url).create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": region})

    spec_dir = load(GITHUB)["env"]["SPEC"].strip("/")
    assert spec_dir == load(GITLAB)["variables"]["SPEC"].strip("/")
    env = {**os.environ, **sandbox.env, "CI": "true", "EDGEC_PLUGIN_DIR": PLUGINS, "CHECKPOINT_DISABLE": "1",
           "PATH": f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "GIT_AUTHOR_NAME": "ci", "GIT_AUTHOR_EMAIL": "ci@example.com", "GIT_COMMITTER_NAME": "ci",
           "GIT_COMMITTER_EMAIL": "ci@example.com", "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(root)}
    repo = Repo(root, env, spec_dir)
    repo.git("init", "-q", "--bare", "-b", "main", str(root / "origin.git"), cwd=root)
    repo.git("clone", "-q", str(root / "origin.git"), str(repo.work), cwd=root)
    repo.git("checkout", "-q", "-b", "main")
    repo.commit_spec(base, "the estate as it is")
    repo.git("push", "-q", "-u", "origin", "main")
    artifacts = root / "artifacts"
    artifacts.mkdir()
    found: dict = {}

    # GitHub: pull request 1 adds a record; the gate, then the apply of its reviewed plan after the merge.
    repo.git("checkout", "-q", "-b", "pr-1")
    repo.commit_spec(record_spec(base, "ci-one"), "add ci-one")
    summary = root / "github-step-summary.md"
    github = {"GITHUB_ACTIONS": "true", "GITHUB_BASE_REF": "main", "GITHUB_STEP_SUMMARY": str(summary),
              "GITHUB_OUTPUT": str(root / "github-output")}
    commands, skipped = github_commands("gate")
    found["github_gate"] = (repo.run_job(commands, github), commands, skipped)
    found["github_comment"] = (repo.work / "comment.md").read_text() if (repo.work / "comment.md").exists() else None
    if (repo.work / "reviewed.plan").exists():
        shutil.copy(repo.work / "reviewed.plan", artifacts / "github.plan")
        repo.merge_and_check_out_fresh("pr-1", artifacts / "github.plan", aws_url, base["name"])
        commands, skipped = github_commands("apply")
        found["github_apply"] = (repo.run_job(commands, github), commands, skipped)
        found["records_after_github"] = zone_names(session, aws_url)
        found["github_apply_again"] = repo.run_job(commands, github)  # the same reviewed plan, once more

    # GitLab: merge request 2 adds another record, planned and applied on the state the first apply left.
    repo.git("checkout", "-q", "-b", "mr-2")
    repo.commit_spec(record_spec(base, "ci-one", "ci-two"), "add ci-two")
    # No AWS keys here: as in GitLab, the template writes the ID token to AWS_WEB_IDENTITY_TOKEN_FILE and
    # boto3, Terraform's AWS provider and the S3 backend assume AWS_ROLE_ARN with it (moto's STS answers).
    # On GitHub, configure-aws-credentials exports the role's keys, as the static keys above stand for.
    gitlab = {"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event",
              "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main", "CI_DEFAULT_BRANCH": "main",
              "AWS_OIDC_TOKEN": "header.payload.signature", "AWS_WEB_IDENTITY_TOKEN_FILE": str(root / "oidc-token"),
              "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/edge-ci", "AWS_ROLE_SESSION_NAME": "edgec-test",
              "AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None}
    found["gitlab_check"] = repo.run_job(gitlab_commands("check")[0], gitlab)
    found["gitlab_plan_without_role"] = repo.run_job(gitlab_commands("plan")[0], {**gitlab, "AWS_ROLE_ARN": None})
    commands, skipped = gitlab_commands("plan")
    found["gitlab_plan"] = (repo.run_job(commands, gitlab), commands, skipped)
    found["gitlab_comment"] = (repo.work / "comment.md").read_text() if (repo.work / "comment.md").exists() else None
    found["gitlab_junit"] = (repo.work / "edgec-junit.xml").exists()
    if (repo.work / "reviewed.plan").exists():
        shutil.copy(repo.work / "reviewed.plan", artifacts / "gitlab.plan")
        repo.merge_and_check_out_fresh("mr-2", artifacts / "gitlab.plan", aws_url, base["name"])
        commands, skipped = gitlab_commands("apply")
        found["gitlab_apply"] = (repo.run_job(commands, {**gitlab, "CI_PIPELINE_SOURCE": "push"}), commands, skipped)
        found["records_after_gitlab"] = zone_names(session, aws_url)

    # The scheduled drift jobs: GitHub's once, on the estate both applies left; then, after a port is opened
    # by hand, GitLab's twice (its second report charts the first, dated by its file name even when the
    # cache lost its modification time).
    found["github_drift"] = (repo.run_job(github_commands("drift")[0], github), sorted(
        p.name for p in (repo.work / "drift-history").glob("*.json")))
    shutil.rmtree(repo.work / "drift-history")
    ec2 = session.client("ec2", endpoint_url=aws_url)
    group = next(g for g in ec2.describe_security_groups()["SecurityGroups"] if g["GroupName"] != "default")
    ec2.authorize_security_group_ingress(GroupId=group["GroupId"], IpPermissions=[  # by hand: drift
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    schedule = {**gitlab, "CI_PIPELINE_SOURCE": "schedule"}
    first = repo.run_job(gitlab_commands("drift")[0], schedule)
    [report] = (repo.work / "drift-history").glob("*.json")
    lost = time.time() - 3 * 86400
    os.utime(report, (lost, lost))  # a date that is not the report's, as a cache that kept no mtimes could leave
    time.sleep(1.1)   # a second report, a second later, is a second file
    second = repo.run_job(gitlab_commands("drift")[0], schedule)
    found["gitlab_drift"] = (first + second, report.stem, (repo.work / "drift.html").read_text(),
                             len(list((repo.work / "drift-history").glob("*.json"))))
    return found


def _ok(results: list[subprocess.CompletedProcess]) -> None:
    assert results and all(r.returncode == 0 for r in results), output(results)


@pytest.mark.real_tool("terraform")
def test_the_github_gate_writes_the_plan_comment_and_the_reviewed_plan(flows):
    results, commands, skipped = flows["github_gate"]
    _ok(results)
    assert any("edgec validate" in script for script, _ in commands)
    assert any("edgec diff" in script and "reviewed.plan" in script for script, _ in commands)
    assert any("needs gh" in why for why in skipped)  # the comment is posted by gh, not here
    comment = flows["github_comment"]
    assert comment and "ci-one.initech.internal" in comment
    assert "to create" in comment or "create" in comment.lower()


@pytest.mark.real_tool("terraform")
def test_the_github_apply_job_applies_exactly_the_reviewed_plan_under_ci(flows):
    results, commands, _ = flows["github_apply"]
    _ok(results)
    assert [script for script, _ in commands] == ["edgec apply --auto-approve reviewed.plan"]
    text = output(results)
    assert "reviewed.plan: the spec, compiled output and live state are as reviewed." in text
    assert "Apply complete!" in text
    assert f"ci-one.{ZONE}" in flows["records_after_github"]


@pytest.mark.real_tool("terraform")
def test_a_reviewed_plan_applied_twice_is_refused_the_second_time(flows):
    [result] = flows["github_apply_again"]
    assert result.returncode == 1, result.stdout + result.stderr
    assert "live state" in result.stdout + result.stderr
    assert "Apply complete!" not in result.stdout + result.stderr


@pytest.mark.real_tool("terraform")
def test_the_gitlab_merge_request_jobs_write_the_junit_report_note_and_reviewed_plan(flows):
    _ok(flows["gitlab_check"])
    assert flows["gitlab_junit"]
    results, _, skipped = flows["gitlab_plan"]
    _ok(results)
    [no_role] = flows["gitlab_plan_without_role"]  # the credentials came from the role: none without it
    assert no_role.returncode == 1, output([no_role])
    assert any("GitLab's API" in why for why in skipped)  # the note is posted with the API, not here
    comment = flows["gitlab_comment"]
    assert comment and f"ci-two.{ZONE}" in comment and f"ci-one.{ZONE}" not in comment


@pytest.mark.real_tool("terraform")
def test_the_gitlab_apply_applies_the_reviewed_plan_on_the_state_kept_in_the_backend(flows):
    results, _, skipped = flows["gitlab_apply"]
    _ok(results)
    text = output(results)
    assert "reviewed.plan: the spec, compiled output and live state are as reviewed." in text
    assert "import" not in text.split("Terraform plan, aws layer")[1].split("\n")[0]  # the state was in S3
    assert {f"ci-one.{ZONE}", f"ci-two.{ZONE}"} <= flows["records_after_gitlab"]


@pytest.mark.real_tool("terraform")
def test_the_github_drift_job_keeps_a_json_report_and_writes_the_html_page(flows):
    results, reports = flows["github_drift"]
    _ok(results)  # exit 0: both applies left no drift
    assert len(reports) == 1 and reports[0].endswith("Z.json") and ":" not in reports[0]  # artifact-safe name


@pytest.mark.real_tool("terraform")
def test_the_gitlab_drift_job_charts_the_earlier_report_dated_by_its_name(flows):
    results, first_name, page, reports = flows["gitlab_drift"]
    assert [r.returncode for r in results] == [2, 2], output(results)  # drift found: allow_failure exit_codes
    assert reports == 2 and "0.0.0.0/0" in page
    day, clock = first_name.rstrip("Z").split("T")
    assert f"1 earlier report(s), from {day} {clock[:5]} UTC, and this one." in page
