"""Thin routes: parse, call one use case, render. `build_routes` assembles the table."""

from __future__ import annotations

from minigroups.api.routes import (
    minigroups,
    postprocessing,
    probes,
    properties,
    room_events,
    viewing,
)
from minigroups.api.routing import RouteTable


def build_routes() -> RouteTable:
    table = RouteTable()
    for module in (minigroups, viewing, properties, room_events, postprocessing, probes):
        module.register(table)
    return table
