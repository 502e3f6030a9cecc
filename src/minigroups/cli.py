"""The `minigroups` command: serve, migrate, token."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from uuid import UUID

from minigroups.bootstrap import StartupError
from minigroups.config import (
    DEV_AUDIENCE,
    ConfigError,
    LoadedSettings,
    default_data_dir,
    embedded_settings,
    load_settings,
)


def _settings(config: Path | None) -> tuple[LoadedSettings, bool]:
    """The configured settings, or the embedded default (and whether it is the default)."""
    if config is not None:
        return load_settings(config, os.environ), False
    return embedded_settings(default_data_dir(os.environ), os.environ), True


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minigroups", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--config", type=Path, help="App.toml (default: the embedded sandbox)")
    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.add_argument("--config", type=Path)
    token = commands.add_parser("token", help="mint a token with a configured issuer's key")
    token.add_argument("--label", required=True, help="the account label (`sub`)")
    token.add_argument("--audience", required=True, help="the account audience (`aud`)")
    token.add_argument("--issuer", help="a configured [authn] issuer (default: the only one)")
    token.add_argument("--private-key", type=Path, help="signing key, for ES256 issuers")
    token.add_argument("--expires-in", type=int, help="seconds until `exp` (default: none)")
    token.add_argument("--config", type=Path)
    events = commands.add_parser("events", help="recorded lifecycle events (the inbox)")
    actions = events.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="the newest events")
    listing.add_argument("--dead", action="store_true", help="only dead letters")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--config", type=Path)
    replay = actions.add_parser("replay", help="handle an event again (a dead letter, after a fix)")
    replay.add_argument("event_id", type=UUID)
    replay.add_argument("--config", type=Path)
    sandbox = commands.add_parser("sandbox", help="drive the sandbox's stand-in platform")
    sandbox_actions = sandbox.add_subparsers(dest="action", required=True)
    finish = sandbox_actions.add_parser(
        "finish", help="a lesson takes place: close, upload recordings, and watch it transcode"
    )
    finish.add_argument("minigroup_id", type=UUID)
    finish.add_argument("--participants", type=int, default=2)
    finish.add_argument("--timeout", type=float, default=30.0, help="seconds to wait")
    finish.add_argument("--config", type=Path)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        loaded, embedded = _settings(args.config)
        for warning in loaded.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        if args.command == "serve":
            from minigroups.server import serve

            serve(loaded.settings, dev_token=dev_token(loaded) if embedded else None)
        elif args.command == "migrate":
            from minigroups.adapters.db import migrate

            migrate(loaded.settings.database_url)
            print("database migrated")
        elif args.command == "events":
            asyncio.run(_events(args, loaded))
        elif args.command == "sandbox":
            _finish(args, loaded)
        else:
            print(_token(args, loaded))
    except (ConfigError, StartupError) as exc:
        sys.exit(f"minigroups: {exc}")


def _finish(args: argparse.Namespace, loaded: LoadedSettings) -> None:
    from minigroups.cli_sandbox import FinishFailed, finish_and_watch, local_base_url

    settings = loaded.settings
    if settings.upstream != "sandbox":
        raise StartupError('`sandbox finish` needs upstream = "sandbox"')
    issuer = next(iter(settings.authn.items()), None)
    if issuer is None:
        raise StartupError("no [authn] issuer to sign a token with")
    name, issuer_settings = issuer
    token = mint(
        loaded, label="sandbox", audience=issuer_settings.audience[0], issuer=name, expires_in=300
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
            if not await inbox_admin.replay(store, args.event_id):
                raise StartupError(f"no dead or handled event {args.event_id}")
            print(f"event {args.event_id} will be handled again")
            return
        status = "dead" if args.dead else None
        for item in await inbox_admin.list_events(store, status=status, limit=args.limit):
            received = item.received_at.isoformat(timespec="seconds")
            print(f"{item.id}  {item.status:7}  {item.attempts:2}  {received}  {item.label}")
            if item.last_error:
                print(f"    {item.last_error}")
    finally:
        await store.close()


def _token(args: argparse.Namespace, loaded: LoadedSettings) -> str:
    return mint(
        loaded,
        label=args.label,
        audience=args.audience,
        issuer=args.issuer,
        private_key=args.private_key,
        expires_in=args.expires_in,
    )


def mint(
    loaded: LoadedSettings,
    *,
    label: str,
    audience: str,
    issuer: str | None = None,
    private_key: Path | None = None,
    expires_in: int | None = None,
) -> str:
    """A token of a configured issuer (the only one when `issuer` is None)."""
    from minigroups.adapters.auth.keys import AuthConfigError, load_signing_key
    from minigroups.adapters.auth.tokens import mint_token

    issuers = loaded.settings.authn
    name = issuer or (next(iter(issuers)) if len(issuers) == 1 else None)
    if name is None or name not in issuers:
        known = ", ".join(issuers) or "none"
        raise StartupError(f"name a configured issuer with --issuer (configured: {known})")
    settings = issuers[name]
    if audience.split(":", 1)[0] not in settings.audience:
        raise StartupError(f"issuer {name} does not accept audience {audience}")
    if settings.algorithm == "ES256" and private_key is None:
        raise StartupError(f"issuer {name} uses ES256: pass its private key with --private-key")
    try:
        key = load_signing_key(private_key or settings.key, settings.algorithm)
    except AuthConfigError as exc:
        raise StartupError(str(exc)) from exc
    expires_at = None if expires_in is None else int(time.time()) + expires_in
    return mint_token(
        issuer=name,
        audience=audience,
        subject=label,
        algorithm=settings.algorithm,
        key=key,
        expires_at=expires_at,
    )


def dev_token(loaded: LoadedSettings) -> str:
    """The ready-to-paste token printed by `serve` on the embedded default."""
    return mint(loaded, label="dev", audience=DEV_AUDIENCE)
