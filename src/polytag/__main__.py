"""`python -m polytag` runs the CLI."""

from polytag.cli import main

main()
