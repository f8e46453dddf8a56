"""edgec: a declarative edge/ingress compiler for Cloudflare, AWS and Envoy."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("edgec")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"
