"""The IR: the one middle every stage reads (docs/architecture.md). model.py holds the resource base
and the estate's facts, build.py resolves a spec into it through every layer, names.py makes labels,
ownership.py the marker edgec recognises its resources by, serial.py writes and reads it as YAML."""
