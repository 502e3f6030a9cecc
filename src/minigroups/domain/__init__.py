"""Pure-Python rules of minigroups: identities, time ranges, read rules, errors."""
