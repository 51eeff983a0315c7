"""The TUI's formatters are runwatch.formatting's (the command line shares them); this name
stays so that older imports keep working. New code imports runwatch.formatting."""

from runwatch.formatting import *  # noqa: F403
from runwatch.formatting import __all__  # noqa: F401
