"""`python -m minigroups ...`."""

from minigroups.entrypoints.cli import main

main()
