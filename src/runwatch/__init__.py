"""runwatch: a terminal dashboard for CI and test runs across several runs APIs."""

# The single source of the version (pyproject reads it from here); a literal, because
# importlib.metadata costs ~0.1 s at every start.
__version__ = "0.1.0"
