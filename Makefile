# Two commands set up everything on a fresh machine (see README):
#   make demo   create the venv, install edgec, and run it on the examples
#   make test   create the venv, install edgec with its dev tools, and run the test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
EDGEC := $(VENV)/bin/edgec
EXAMPLES := examples/public-api/edge.yaml examples/private-internal/edge.yaml examples/multi-team/edge.yaml

.PHONY: install test demo golden clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

install: $(VENV)/.installed

test: install
	$(PY) -m pytest

demo: install
	$(EDGEC) validate $(EXAMPLES)

# Regenerate every committed generated file (schemas, the field reference; later: generated/).
golden: install
	$(EDGEC) schema -o schemas/edge.schema.json
	$(EDGEC) schema --fragment -o schemas/edge-fragment.schema.json
	$(EDGEC) schema --format markdown -o docs/spec-reference.md

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
