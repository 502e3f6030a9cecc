"""Lifecycle events in: intake into the inbox, parsing, dispatch, and the worker loops."""
