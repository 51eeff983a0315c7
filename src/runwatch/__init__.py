"""runwatch: a terminal dashboard for CI and test runs across several runs APIs."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("runwatch")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"
