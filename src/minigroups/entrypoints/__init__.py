"""How the service is run: the `minigroups` command, `serve` under uvicorn, `sandbox finish`."""
