"""The `minigroups` command: serve, migrate, token, events, webhooks, sandbox, openapi."""

# Start-up stays cheap (`--help` and `--version` import no framework, no database driver): each
# command imports what it runs inside its function; only the light config package is imported here.

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

from minigroups.config import (
    DEV_AUDIENCE,
    ConfigError,
    LoadedSettings,
    default_data_dir,
    embedded_settings,
    load_settings,
)
from minigroups.entrypoints import webhooks_cli

if TYPE_CHECKING:
    from minigroups.services.inbox_admin import Replay

DISTRIBUTION = "minigroups"
CONFIG_HELP = "App.toml to load (default: the embedded sandbox configuration)"
DEFAULT_TOKEN_TTL = 24 * 3600  # seconds until the `exp` of a minted development token


def _settings(config: Path | None) -> tuple[LoadedSettings, bool]:
    """The configured settings, or the embedded default (and whether it is the default)."""
    if config is not None:
        return load_settings(config, os.environ), False
    return embedded_settings(default_data_dir(os.environ), os.environ), True


def build_parser() -> argparse.ArgumentParser:
    """The command line: every command and every option with its help line."""
    parser = argparse.ArgumentParser(
        prog="minigroups",
        description=__doc__,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version(DISTRIBUTION)}")
    commands = parser.add_subparsers(
        dest="command",
        required=True,
        title="commands",
        metavar="command",
        help="`minigroups <command> --help` shows its options",
    )
    serve = commands.add_parser("serve", help="run the HTTP API")
    serve.add_argument(
        "--insecure-public",
        action="store_true",
        help="listen on a non-loopback address although the sandbox or authorization "
        '"none" is configured',
    )
    serve.add_argument(
        "--workers",
        type=_positive,
        default=1,
        help="processes serving the one listener, each a whole instance (upstream ulms only)",
    )
    _add_config(serve)
    _add_ttl(serve, "--token-ttl", "of the development token printed on the embedded default")
    migrate = commands.add_parser("migrate", help="apply database migrations")
    _add_config(migrate)
    token = commands.add_parser("token", help="mint a token with a configured issuer's key")
    token.add_argument("--label", required=True, help="the account label (`sub`)")
    token.add_argument("--audience", required=True, help="the account audience (`aud`)")
    token.add_argument("--issuer", help="a configured [authn] issuer (default: the only one)")
    token.add_argument("--private-key", type=Path, help="signing key, for ES256 issuers")
    _add_ttl(token, "--ttl", "of the token; `--expires-in` is the older spelling", "--expires-in")
    _add_config(token)
    events = commands.add_parser("events", help="recorded lifecycle events (the inbox)")
    actions = events.add_subparsers(
        dest="action", required=True, title="actions", metavar="action", help="what to do"
    )
    listing = actions.add_parser("list", help="the newest events")
    listing.add_argument("--dead", action="store_true", help="only dead letters")
    listing.add_argument(
        "--limit", type=int, default=50, help="how many events to list (default: 50)"
    )
    _add_config(listing)
    replay = actions.add_parser("replay", help="handle a dead letter again (after a fix)")
    replay.add_argument("event_id", type=UUID, help="the event's id, as `events list` prints it")
    replay.add_argument(
        "--force", action="store_true", help="replay an event that was already handled"
    )
    _add_config(replay)
    purge = actions.add_parser(
        "purge",
        help="delete dead letters (handled events and sent effects are purged in the background)",
    )
    purge.add_argument("--dead", action="store_true", required=True, help="dead letters")
    purge.add_argument(
        "--older-than",
        type=duration,
        required=True,
        metavar="DURATION",
        help="received longer ago than this: 30d, 12h, 90m or 45s",
    )
    _add_config(purge)
    webhooks_cli.add_parser(commands, _add_config)
    sandbox = commands.add_parser("sandbox", help="drive the sandbox's stand-in platform")
    sandbox_actions = sandbox.add_subparsers(
        dest="action", required=True, title="actions", metavar="action", help="what to do"
    )
    finish = sandbox_actions.add_parser(
        "finish", help="a lesson takes place: close, upload recordings, and watch it transcode"
    )
    finish.add_argument("minigroup_id", type=UUID, help="the minigroup whose lesson ends")
    finish.add_argument(
        "--participants", type=int, default=2, help="recordings to upload, one each (default: 2)"
    )
    finish.add_argument(
        "--timeout", type=float, default=30.0, help="seconds to wait for `transcoded` (default: 30)"
    )
    _add_config(finish)
    commands.add_parser(
        "openapi",
        help="print the API's OpenAPI 3.1 document (/api/v1/openapi.json, less the sandbox route)",
    )
    return parser


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def duration(text: str) -> timedelta:
    """`30d`, `12h`, `90m`, `45s` or `2w` (a whole number and one unit)."""
    number, unit = text[:-1], text[-1:].lower()
    if unit not in _UNITS or not number.isdigit():
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 30d, 12h, 90m, 45s)")
    return timedelta(seconds=int(number) * _UNITS[unit])


def _add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help=CONFIG_HELP)


def _add_ttl(parser: argparse.ArgumentParser, flag: str, what: str, *aliases: str) -> None:
    parser.add_argument(
        flag,
        *aliases,
        dest="ttl",
        type=_positive_seconds,
        default=DEFAULT_TOKEN_TTL,
        metavar="SECONDS",
        help=f"seconds until the `exp` {what} (default: {DEFAULT_TOKEN_TTL}, 24 h)",
    )


def _positive(text: str, unit: str = "") -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a whole number{unit} > 0, got {text!r}")
    return value


def _positive_seconds(text: str) -> int:
    return _positive(text, " of seconds")


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.command == "openapi":
        print(openapi_document())
        return
    from minigroups.bootstrap import StartupError

    try:
        loaded, embedded = _settings(args.config)
        _configure_logging(loaded)
        for warning in loaded.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        if args.command == "serve":
            from minigroups.entrypoints.server import serve

            token = dev_token(loaded, ttl=args.ttl) if embedded else None
            serve(
                loaded.settings,
                dev_token=token,
                insecure_public=args.insecure_public,
                workers=args.workers,
            )
        elif args.command == "migrate":
            from minigroups.entrypoints.startup import migrate_database

            migrate_database(loaded.settings.database_url)
            print("database migrated")
        elif args.command == "events":
            import asyncio

            asyncio.run(_events(args, loaded))
        elif args.command == "webhooks":
            import asyncio

            asyncio.run(webhooks_cli.run(args, loaded))
        elif args.command == "sandbox":
            _finish(args, loaded)
        else:
            print(_token(args, loaded))
    except (ConfigError, StartupError) as exc:
        sys.exit(f"minigroups: {exc}")


def openapi_document() -> str:
    """The document of every product route (not the sandbox-only one), indented for reading."""
    import msgspec

    from minigroups.api.openapi import build_document
    from minigroups.api.routes import build_routes

    document = build_document(build_routes(), version=version(DISTRIBUTION))
    return msgspec.json.format(msgspec.json.encode(document), indent=2).decode("utf-8")


def _configure_logging(loaded: LoadedSettings) -> None:
    """The process's one logging setup (`[log]`), before anything of the command runs."""
    from minigroups.adapters.logging_setup import configure_logging

    log = loaded.settings.log
    configure_logging(log.level, log.format, access=log.access)


def _finish(args: argparse.Namespace, loaded: LoadedSettings) -> None:
    from minigroups.bootstrap import StartupError
    from minigroups.entrypoints.sandbox_cli import FinishFailed, finish_and_watch, local_base_url

    settings = loaded.settings
    if settings.upstream != "sandbox":
        raise StartupError('`sandbox finish` needs upstream = "sandbox"')
    issuer = next(iter(settings.authn.items()), None)
    if issuer is None:
        raise StartupError("no [authn] issuer to sign a token with")
    name, issuer_settings = issuer
    token = mint(
        loaded, label="sandbox", audience=issuer_settings.audience[0], issuer=name, ttl=300
    )
    base_url = local_base_url(settings.http.listener_address)
    try:
        finish_and_watch(
            base_url,
            token,
            args.minigroup_id,
            participants=args.participants,
            timeout=args.timeout,
        )
    except FinishFailed as exc:
        raise StartupError(str(exc)) from exc


async def _events(args: argparse.Namespace, loaded: LoadedSettings) -> None:
    from minigroups.adapters.db import create_store
    from minigroups.services import inbox_admin

    store = create_store(loaded.settings.database_url)
    try:
        if args.action == "replay":
            _report_replay(
                args.event_id, await inbox_admin.replay(store, args.event_id, force=args.force)
            )
            return
        if args.action == "purge":
            before = datetime.now(UTC) - args.older_than
            purged = await inbox_admin.purge_dead(store, before)
            received = before.isoformat(timespec="seconds")
            print(f"{purged} dead letters received before {received} purged")
            return
        status = "dead" if args.dead else None
        for item in await inbox_admin.list_events(store, status=status, limit=args.limit):
            received = item.received_at.isoformat(timespec="seconds")
            print(f"{item.id}  {item.status:7}  {item.attempts:2}  {received}  {item.label}")
            if item.last_error:
                print(f"    {item.last_error}")
    finally:
        await store.close()


def _report_replay(event_id: UUID, outcome: Replay) -> None:
    """One line for the operator; a refusal is an error (non-zero exit)."""
    from minigroups.bootstrap import StartupError
    from minigroups.services.inbox_admin import Replay

    refusals = {
        Replay.UNKNOWN: f"no event {event_id}",
        Replay.ALREADY_PENDING: f"event {event_id} is pending already: a worker will handle it",
        Replay.REFUSED_HANDLED: (
            f"event {event_id} was already handled; replaying it runs its handler again "
            "(pass --force to do so anyway)"
        ),
    }
    if outcome in refusals:
        raise StartupError(refusals[outcome])
    if outcome is Replay.REPLAYED_HANDLED:
        print(
            f"warning: event {event_id} was already handled and is replayed (--force); "
            "its handler runs again, it does not move a minigroup's pipeline backwards",
            file=sys.stderr,
        )
    print(f"event {event_id} will be handled again")


def _token(args: argparse.Namespace, loaded: LoadedSettings) -> str:
    return mint(
        loaded,
        label=args.label,
        audience=args.audience,
        issuer=args.issuer,
        private_key=args.private_key,
        ttl=args.ttl,
    )


def mint(
    loaded: LoadedSettings,
    *,
    label: str,
    audience: str,
    issuer: str | None = None,
    private_key: Path | None = None,
    ttl: int = DEFAULT_TOKEN_TTL,
) -> str:
    """A token of a configured issuer (the only one when `issuer` is None), valid `ttl` seconds."""
    from minigroups.adapters.auth.keys import AuthConfigError, load_signing_key
    from minigroups.adapters.auth.tokens import mint_token
    from minigroups.bootstrap import StartupError

    issuers = loaded.settings.authn
    name = issuer or (next(iter(issuers)) if len(issuers) == 1 else None)
    if name is None or name not in issuers:
        known = ", ".join(issuers) or "none"
        raise StartupError(f"name a configured issuer with --issuer (configured: {known})")
    settings = issuers[name]
    if "." in label:
        raise StartupError(
            f"label {label!r}: account labels never contain a dot, such a token is refused"
        )
    if audience.split(":", 1)[0] not in settings.audience:
        raise StartupError(f"issuer {name} does not accept audience {audience}")
    if settings.algorithm == "ES256" and private_key is None:
        raise StartupError(f"issuer {name} uses ES256: pass its private key with --private-key")
    try:
        key = load_signing_key(private_key or settings.key, settings.algorithm)
    except AuthConfigError as exc:
        raise StartupError(str(exc)) from exc
    return mint_token(
        issuer=name,
        audience=audience,
        subject=label,
        algorithm=settings.algorithm,
        key=key,
        expires_at=int(time.time()) + ttl,
    )


def dev_token(loaded: LoadedSettings, *, ttl: int = DEFAULT_TOKEN_TTL) -> str:
    """The ready-to-paste token printed by `serve` on the embedded default, valid `ttl` seconds."""
    return mint(loaded, label="dev", audience=DEV_AUDIENCE, ttl=ttl)
