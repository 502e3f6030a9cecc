"""The recording pipeline's use cases: one per lifecycle event (upstream.md §6), all idempotent."""
