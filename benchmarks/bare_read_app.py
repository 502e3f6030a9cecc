"""The bare route the read benchmark compares against: Starlette + asyncpg, one primary-key select.

`GET /minigroups/{id}` answers the `class` row as JSON, serialised by PostgreSQL (`row_to_json`),
so the route does no work of its own beyond the pool checkout and the select. Run by
`benchmarks/read_path.py` under uvicorn (uvloop, httptools) with `BARE_DATABASE_URL` set:

    BARE_DATABASE_URL=postgresql://... uvicorn --factory benchmarks.bare_read_app:create_app
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SELECT = "SELECT row_to_json(c)::text FROM class c WHERE c.id = $1"
POOL_SIZE = 10


def create_app() -> Starlette:
    pool: asyncpg.Pool | None = None

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        nonlocal pool
        pool = await asyncpg.create_pool(
            os.environ["BARE_DATABASE_URL"], min_size=POOL_SIZE, max_size=POOL_SIZE
        )
        yield
        await pool.close()

    async def read(request: Request) -> Response:
        assert pool is not None  # noqa: S101 - set by the lifespan
        body = await pool.fetchval(SELECT, UUID(request.path_params["id"]))
        if body is None:
            return Response(b'{"type":"not_found"}', 404, media_type="application/json")
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/minigroups/{id}", read)], lifespan=lifespan)
