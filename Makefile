# Two commands set up everything on a fresh machine (see README):
#   make demo   create the venv, install edgec, and run it on the examples
#   make test   create the venv, install edgec with its dev tools, and run the test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
EDGEC := $(VENV)/bin/edgec
EXAMPLE_NAMES := public-api private-internal multi-team
EXAMPLES := $(foreach name,$(EXAMPLE_NAMES),examples/$(name)/edge.yaml)

.PHONY: install test demo golden bench clean refresh-cloudflare-ips

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

install: $(VENV)/.installed

test: install
	$(PY) -m pytest

# validate and compile the examples, then plan one against a local sandbox (moto + a fake Cloudflare,
# seeded as applied, with some drift): exit 2 from the plan means "changes found", as intended here.
demo: install
	$(EDGEC) validate $(EXAMPLES)
	$(EDGEC) compile --check examples/public-api/edge.yaml -o generated/public-api
	$(EDGEC) sandbox examples/public-api/edge.yaml -- $(EDGEC) plan {spec} || test $$? -eq 2

# Regenerate every committed generated file: schemas, the field reference, generated/<example>/.
golden: install
	$(EDGEC) schema -o schemas/edge.schema.json
	$(EDGEC) schema --fragment -o schemas/edge-fragment.schema.json
	$(EDGEC) schema --format markdown -o docs/spec-reference.md
	$(foreach name,$(EXAMPLE_NAMES),$(EDGEC) compile examples/$(name)/edge.yaml -o generated/$(name) &&) true

# Time validate, compile, envoy --mode validate and plan (against the sandbox) on generated estates of
# 1k to 20k hostnames, beside octodns-validate and terraform validate; see docs/performance.md.
# (The dev extra includes the bench extra: octodns.)
bench: install
	$(PY) bench/run.py

# Cloudflare's published IP ranges (needs network access to api.cloudflare.com); review and commit.
refresh-cloudflare-ips: install
	$(PY) -m edgec.layers.cloudflare.ips --refresh

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
