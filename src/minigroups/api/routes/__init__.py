"""Thin routes: parse, call one use case, render. `build_routes` assembles the table."""

from __future__ import annotations

from minigroups.api import idempotency, rate_limits
from minigroups.api.routes import (
    docs,
    listing,
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
    """Every route of the API; the sandbox's control route only with its lesson simulator.

    The API's description (`docs`) comes last: it describes every route registered before it.
    """
    table = RouteTable()
    modules = (
        minigroups,
        listing,
        viewing,
        properties,
        room_events,
        postprocessing,
        webhooks,
        probes,
    )
    for module in modules:
        module.register(table)
    if simulator is not None:
        sandbox.register(table, simulator)
    idempotency.describe(table)
    rate_limits.describe(table)
    docs.register(table)
    return table
