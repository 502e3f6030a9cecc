"""The recording pipeline's use cases: one per lifecycle event (upstream §6), all idempotent."""
