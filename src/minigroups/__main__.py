"""`python -m minigroups ...`."""

from minigroups.cli import main

main()
