"""The spec: load YAML, validate it into the v1 model, and check it as a whole."""
