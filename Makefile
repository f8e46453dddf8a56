# Two commands set up everything on a fresh machine (see README):
#   make demo   create a small venv (.venv-demo) with edgec and its sandbox extra only (pinned by
#               requirements-sandbox.lock), and run it on the examples
#   make test   create the venv, install edgec with its dev tools (pinned by requirements-dev.lock),
#               and run the test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
EDGEC := $(VENV)/bin/edgec
EXAMPLE_NAMES := public-api private-internal multi-team
EXAMPLES := $(foreach name,$(EXAMPLE_NAMES),examples/$(name)/edge.yaml)
# The dev/CI environment is locked: every package of '.[dev]' (and the build backend) at the version CI
# last passed with, with its hashes. pyproject.toml keeps version ranges for users; `make lock` refreshes
# this file from them (see README, "Working on edgec").
LOCK := requirements-dev.lock
# The demo's environment: edgec's own dependencies and the sandbox extra (moto), nothing for tests.
# `make lock` resolves it with requirements-dev.lock as constraints, so every package it pins is pinned
# at the same version in both (the dev extra includes the sandbox extra): one set of versions, two lists.
SANDBOX_LOCK := requirements-sandbox.lock
DEMO_VENV := .venv-demo
DEMO_EDGEC := $(DEMO_VENV)/bin/edgec
# The lock is resolved for CI's machine: CPython 3.11 on x86_64 Linux with glibc 2.36 (Debian 12).
LOCK_TARGET := --python-version 3.11 --python-platform x86_64-manylinux_2_36
# The resolver, in a venv of its own so that a broken lock never stops `make lock` from mending it.
UV_VERSION := 0.13.9
LOCK_VENV := .venv-lock
PIP_QUIET := --quiet --disable-pip-version-check

.PHONY: install install-demo test demo golden bench lock clean refresh-cloudflare-ips

# A fresh venv whenever the lock or pyproject.toml changes, so it holds exactly what the lock says and
# nothing left over from an older one. The lock's hashes are checked; edgec itself is installed
# editable on top, without dependencies (the lock has them all) and built with the locked setuptools.
# Then pip, offline, must find every requirement of '.[dev]' met by what is installed (pip check alone
# does not look at extras): a dependency added to pyproject.toml but not to the lock stops here.
$(VENV)/.installed: pyproject.toml $(LOCK)
	$(PYTHON) -m venv --clear $(VENV)
	$(VENV)/bin/pip install $(PIP_QUIET) --require-hashes --no-deps -r $(LOCK)
	$(VENV)/bin/pip install $(PIP_QUIET) --no-deps --no-build-isolation -e .
	$(VENV)/bin/pip check && $(VENV)/bin/pip install $(PIP_QUIET) --dry-run --no-index --no-build-isolation -e '.[dev]' \
	  || { echo "$(LOCK) does not satisfy pyproject.toml: run 'make lock'" >&2; exit 1; }
	touch $@

install: $(VENV)/.installed

# Two workers (pytest-xdist), each test file on one of them (its module fixtures, such as a Terraform
# apply to moto, are made once): the Terraform, moto and Envoy suites spend most of their time waiting on
# those processes. `make test WORKERS=0` runs in one process; a single file: .venv/bin/python -m pytest FILE.
WORKERS ?= 2
test: install
	$(PY) -m pytest $(if $(filter 0,$(WORKERS)),,-n $(WORKERS) --dist loadfile)

# The demo's venv, like the dev one but from $(SANDBOX_LOCK): edgec is installed (not editable) with
# the locked build backend, and pip, offline, must find '.[sandbox]' met by what is installed. It is
# kept small (a third of the dev venv): no bytecode compiled ahead (Python writes it for what the demo
# imports), and pip and the build backend removed once edgec is in: this venv only runs edgec.
$(DEMO_VENV)/.installed: pyproject.toml $(SANDBOX_LOCK)
	$(PYTHON) -m venv --clear $(DEMO_VENV)
	$(DEMO_VENV)/bin/pip install $(PIP_QUIET) --no-compile --require-hashes --no-deps -r $(SANDBOX_LOCK)
	$(DEMO_VENV)/bin/pip install $(PIP_QUIET) --no-compile --no-deps --no-build-isolation .
	$(DEMO_VENV)/bin/pip check && $(DEMO_VENV)/bin/pip install $(PIP_QUIET) --dry-run --no-index --no-build-isolation '.[sandbox]' \
	  || { echo "$(SANDBOX_LOCK) does not satisfy pyproject.toml: run 'make lock'" >&2; exit 1; }
	$(DEMO_VENV)/bin/python -m pip uninstall $(PIP_QUIET) --yes setuptools wheel pip
	rm -rf build
	touch $@

install-demo: $(DEMO_VENV)/.installed

# validate and compile the examples, then plan one against a local sandbox (moto + a fake Cloudflare,
# seeded as applied, with some drift): exit 2 from the plan means "changes found", as intended here.
# The demo venv has no Envoy (a dev tool), so compile checks what it can and says Envoy was skipped.
demo: install-demo
	$(DEMO_EDGEC) validate $(EXAMPLES)
	$(DEMO_EDGEC) compile --check --skip-envoy-check examples/public-api/edge.yaml -o generated/public-api
	$(DEMO_EDGEC) sandbox examples/public-api/edge.yaml -- $(DEMO_EDGEC) plan {spec} || test $$? -eq 2

# Regenerate every committed generated file: schemas, the field reference, generated/<example>/, and
# the expected outputs of the per-stage golden tests (tests/testdata/: spec -> IR, IR -> Envoy, IR -> HCL,
# live API answers -> IR; re-record those answers with tests/record_live_answers.py).
golden: install
	$(PY) -m pytest -q -p no:cacheprovider tests/test_stages.py --update-golden
	$(EDGEC) schema -o schemas/edge.schema.json
	$(EDGEC) schema --fragment -o schemas/edge-fragment.schema.json
	$(EDGEC) schema --format markdown -o docs/spec-reference.md
	$(foreach name,$(EXAMPLE_NAMES),$(EDGEC) compile examples/$(name)/edge.yaml -o generated/$(name) &&) true

# Time validate, compile, envoy --mode validate and plan (against the sandbox) on generated estates of
# 1k to 20k hostnames, beside octodns-validate and terraform validate; see docs/performance.md.
# (The dev extra includes the bench extra: octodns.)
bench: install
	$(PY) bench/run.py

# Re-resolve the lock after a change to the dependencies in pyproject.toml, keeping every pin that still
# fits; `make lock UPGRADE=1` moves everything to the newest versions the ranges allow. Then run
# `make test` (it rebuilds the venv from the new lock) and commit the lock with the change.
# The inputs: the dev extra (which includes the bench and sandbox extras) and the build backend of
# [build-system]; then the same for the sandbox extra alone, constrained to the dev lock's versions.
# uv starts from the pins in its output file; a lock is replaced only if it changed, so an unchanged
# one does not rebuild its venv.
lock: $(LOCK_VENV)/.uv-$(UV_VERSION)
	$(call compile_lock,$(LOCK),dev,$(if $(UPGRADE),--upgrade))
	$(call compile_lock,$(SANDBOX_LOCK),sandbox,--constraint $(LOCK))

# $(call compile_lock,LOCK FILE,EXTRA,MORE UV OPTIONS)
define compile_lock
	rm -f $(LOCK_VENV)/lock.txt && { test ! -f $(1) || cp $(1) $(LOCK_VENV)/lock.txt; }
	$(PYTHON) -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], sep="\n")' \
	  | $(LOCK_VENV)/bin/uv pip compile --quiet pyproject.toml - --extra $(2) $(LOCK_TARGET) --generate-hashes \
	      $(3) --custom-compile-command 'make lock' -o $(LOCK_VENV)/lock.txt
	cmp -s $(LOCK_VENV)/lock.txt $(1) && echo "$(1) is unchanged" || cp $(LOCK_VENV)/lock.txt $(1)
endef

$(LOCK_VENV)/.uv-$(UV_VERSION):
	$(PYTHON) -m venv --clear $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install $(PIP_QUIET) uv==$(UV_VERSION)
	touch $@

# Cloudflare's published IP ranges (needs network access to api.cloudflare.com); review and commit.
refresh-cloudflare-ips: install
	$(PY) -m edgec.layers.cloudflare.ips --refresh

clean:
	rm -rf $(VENV) $(DEMO_VENV) $(LOCK_VENV) .pytest_cache .hypothesis build dist *.egg-info
