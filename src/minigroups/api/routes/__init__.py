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
    webhooks,
)
from minigroups.api.routing import RouteTable
from minigroups.services.sandbox import LessonSimulator


def build_routes(*, simulator: LessonSimulator | None = None) -> RouteTable:
    """Every route of the API; the sandbox's control route only with its lesson simulator."""
    table = RouteTable()
    modules = (minigroups, viewing, properties, room_events, postprocessing, webhooks, probes)
    for module in modules:
        module.register(table)
    if simulator is not None:
        sandbox.register(table, simulator)
    return table
