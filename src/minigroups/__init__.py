"""minigroups: lifecycle of scheduled small-group live classes."""
