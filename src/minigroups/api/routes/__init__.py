"""Thin routes: parse, call one use case, render. `build_routes` assembles the table."""

from __future__ import annotations

from minigroups.api.routes import (
    minigroups,
    postprocessing,
    probes,
    properties,
    room_events,
    sandbox,
    viewing,
)
from minigroups.api.routing import RouteTable


def build_routes(*, sandbox_control: bool = False) -> RouteTable:
    """Every route of the API; the sandbox's control route only when asked for."""
    table = RouteTable()
    for module in (minigroups, viewing, properties, room_events, postprocessing, probes):
        module.register(table)
    if sandbox_control:
        sandbox.register(table)
    return table
