"""Use cases: the only place that opens and commits a unit of work."""
