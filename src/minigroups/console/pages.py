"""The console's pages: login and logout, overview, minigroups, a minigroup, dead letters."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from uuid import UUID

import jinja2
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from minigroups.console.forms import read_form
from minigroups.console.sessions import Session, Sessions
from minigroups.console.svg import TrackView, activity_chart, pipeline_timeline, recording_tracks
from minigroups.console.views import page, see_other, style_sheet
from minigroups.domain.errors import InvalidAuthentication, MissingAuthenticationToken
from minigroups.domain.ids import AccountId
from minigroups.domain.minigroup import Status
from minigroups.services import console
from minigroups.services.console_minigroup import minigroup_report
from minigroups.services.console_stages import short_author
from minigroups.services.context import Context
from minigroups.services.inbox_admin import Replay
from minigroups.services.pipeline.events import LifecycleDecoder

if TYPE_CHECKING:
    from minigroups.console.app import ConsoleOptions

log = logging.getLogger(__name__)

SESSION_COOKIE = "minigroups_console"
LOGIN_COOKIE = "minigroups_console_login"  # the login form's own CSRF token (double submit)
_MINIGROUP_PAGE = re.compile(r"/console/minigroups/[0-9a-f-]{36}")
_OUTCOMES = {
    Replay.REPLAYED.value: "The dead letter is pending again; the worker handles it next.",
    Replay.REFUSED_HANDLED.value: "Refused: the event was handled already.",
    Replay.ALREADY_PENDING.value: "The event is pending already.",
    Replay.UNKNOWN.value: "No dead letter has this id (any more).",
}

Handler = Callable[["ConsolePages", Request, Session], Awaitable[Response]]


def _signed_in(handler: Handler) -> Callable[[ConsolePages, Request], Awaitable[Response]]:
    """Pages for a logged-in admin; without a session, the login page instead."""

    async def guarded(self: ConsolePages, request: Request) -> Response:
        session = self.sessions.find(request.cookies.get(SESSION_COOKIE))
        if session is None:
            return see_other("/console/login")
        return await handler(self, request, session)

    return guarded


def _changing(handler: Handler) -> Callable[[ConsolePages, Request], Awaitable[Response]]:
    """A form that changes something: a session AND its CSRF token, else 403."""

    async def guarded(self: ConsolePages, request: Request) -> Response:
        session = self.sessions.find(request.cookies.get(SESSION_COOKIE))
        form = await read_form(request)
        if session is None or not session.accepts(form.get("csrf_token")):
            raise HTTPException(403, "The form's CSRF token is missing or not this session's.")
        request.state.form = form
        return await handler(self, request, session)

    return guarded


class ConsolePages:
    def __init__(  # noqa: PLR0917 - built in one place, from the app's parts
        self,
        ctx: Context,
        decoder: LifecycleDecoder,
        authenticate: Callable[[str | None, str | None], AccountId],
        sessions: Sessions,
        env: jinja2.Environment,
        options: ConsoleOptions,
    ) -> None:
        self.ctx = ctx
        self.decoder = decoder
        self.authenticate = authenticate
        self.sessions = sessions
        self.env = env
        self.options = options
        self._css: bytes | None = None

    def _page(self, template: str, session: Session | None, **context: Any) -> Response:
        return self._answer(template, session, 200, context)

    def _answer(
        self, template: str, session: Session | None, code: int, context: dict[str, Any]
    ) -> Response:
        common = {"session": session, "instance": self.options.instance}
        return page(self.env, template, {**common, **context}, code)

    # --- access ---------------------------------------------------------------------------

    async def login_form(self, request: Request) -> Response:
        return self._login_page(None, 200)

    def _login_page(self, problem: str | None, status: int) -> Response:
        token = secrets.token_urlsafe(32)
        context = {"login_token": token, "problem": problem, "no_admins": not self.options.admins}
        response = self._answer("login.html", None, status, context)
        self._set_cookie(response, LOGIN_COOKIE, token, path="/console/login", max_age=3600)
        return response

    async def login(self, request: Request) -> Response:
        form = await read_form(request)
        expected = request.cookies.get(LOGIN_COOKIE)
        submitted = form.get("login_token")
        if not expected or not submitted or not secrets.compare_digest(expected, submitted):
            raise HTTPException(403, "The login form expired or was not ours: load it again.")
        token = form.get("token", "").strip()
        try:
            account = self.authenticate(f"Bearer {token}", None)
        except (MissingAuthenticationToken, InvalidAuthentication) as exc:
            log.info("console: a login with a refused token: %s", exc.detail or "no token")
            return self._login_page(f"The token is refused: {exc.detail or 'no token'}.", 401)
        if account not in self.options.admins:
            log.info("console: a login of %s, who is not in [console] admins", account)
            return self._login_page(f"{account} is not a console admin.", 403)
        cookie, _ = self.sessions.open(account)
        log.info("console: %s logged in", account)
        response = see_other("/console/")
        max_age = int(self.sessions.lifetime)
        self._set_cookie(response, SESSION_COOKIE, cookie, path="/console", max_age=max_age)
        response.delete_cookie(
            LOGIN_COOKIE, path="/console/login", httponly=True, samesite="strict"
        )
        return response

    @_changing
    async def logout(self, request: Request, session: Session) -> Response:
        self.sessions.close(request.cookies.get(SESSION_COOKIE))
        response = see_other("/console/login")
        response.delete_cookie(SESSION_COOKIE, path="/console", httponly=True, samesite="strict")
        return response

    def _set_cookie(
        self, response: Response, name: str, value: str, *, path: str, max_age: int
    ) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path=path,
            httponly=True,
            samesite="strict",
            secure=self.options.secure_cookie,
        )

    # --- pages ----------------------------------------------------------------------------

    @_signed_in
    async def overview(self, request: Request, session: Session) -> Response:
        seen = await console.overview(self.ctx)
        chart = activity_chart(seen.per_minute, seen.chart_end)
        return self._page("overview.html", session, overview=seen, chart=chart, nav="overview")

    @_signed_in
    async def minigroups(self, request: Request, session: Session) -> Response:
        audiences = self.options.audiences
        query = request.query_params
        audience = query.get("audience") or (audiences[0] if audiences else "")
        status = query.get("status") or None
        listing = None
        if audience:
            listing = await console.list_minigroups(
                self.ctx, audience, status=status, cursor=query.get("cursor") or None
            )
        return self._page(
            "minigroups.html",
            session,
            audiences=audiences,
            audience=audience,
            status=status,
            statuses=[s.value for s in Status],
            listing=listing,
            now=self.ctx.clock.now(),
            nav="minigroups",
        )

    @_signed_in
    async def minigroup(self, request: Request, session: Session) -> Response:
        minigroup_id: UUID = request.path_params["minigroup_id"]
        report = await minigroup_report(
            self.ctx, self.decoder, minigroup_id, stuck_after=self.options.stuck_after
        )
        if report is None:
            raise HTTPException(404, f"No minigroup has the id {minigroup_id}.")
        tracks = [
            TrackView(
                short_author(t.author, report.minigroup.audience),
                t.offset,
                t.segments,
                t.pins,
                t.video_mutes,
                t.audio_mutes,
            )
            for t in report.tracks
        ]
        return self._page(
            "minigroup.html",
            session,
            report=report,
            timeline=pipeline_timeline(report.stages, report.now),
            recordings=recording_tracks(tracks) if tracks else None,
            request_outcome=_OUTCOMES.get(request.query_params.get("outcome", "")),
            nav="minigroups",
        )

    @_signed_in
    async def dead_letters(self, request: Request, session: Session) -> Response:
        letters = await console.dead_letters(self.ctx)
        outcome = _OUTCOMES.get(request.query_params.get("outcome", ""))
        return self._page(
            "dead_letters.html",
            session,
            letters=letters,
            outcome=outcome,
            now=self.ctx.clock.now(),
            nav="dead-letters",
        )

    @_changing
    async def replay(self, request: Request, session: Session) -> Response:
        event_id: UUID = request.path_params["event_id"]
        outcome = await console.replay_dead_letter(self.ctx, event_id)
        log.info("console: %s replayed dead letter %s: %s", session.account, event_id, outcome)
        back = request.state.form.get("back", "")
        if _MINIGROUP_PAGE.fullmatch(back):
            return see_other(f"{back}?outcome={outcome.value}")
        return see_other(f"/console/dead-letters?outcome={outcome.value}")

    async def style_sheet(self, request: Request) -> Response:
        if self._css is None:
            self._css = style_sheet()
        return Response(self._css, media_type="text/css", headers={"cache-control": "max-age=300"})
