"""`python -m runwatch` runs the command line."""

from runwatch.cli import main

raise SystemExit(main())
