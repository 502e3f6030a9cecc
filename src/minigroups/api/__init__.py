"""The HTTP API: app factory, request schemas, representations and thin routes."""
