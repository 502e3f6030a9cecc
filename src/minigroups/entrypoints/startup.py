"""The start-up checks of `serve` and `migrate`: each failure is one `StartupError` line.

`cli.main` prints a StartupError as `minigroups: <message>` on stderr and exits with status 1,
so an operator sees what to fix (the setting, the path, the port) instead of a traceback.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

from minigroups.adapters.db import migrate, shown_url
from minigroups.bootstrap import StartupError
from minigroups.config import AuthzHttpSettings, Settings
from minigroups.domain.errors import DatabaseFailure, DatabaseUnavailable


def migrate_database(database_url: str) -> None:
    """Apply the migrations; a database that is unreachable or refuses us is a StartupError."""
    try:
        migrate(database_url)
    except (DatabaseUnavailable, DatabaseFailure) as exc:
        raise StartupError(
            f"cannot migrate the database {shown_url(database_url)}: {exc}"
        ) from None


def require_key_files(settings: Settings) -> None:
    """Every configured key file can be opened; else name its setting and its absolute path."""
    for setting, path in _key_files(settings):
        absolute = Path(path).absolute()
        try:
            with absolute.open("rb"):
                pass
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise StartupError(f"{setting}: key file {absolute}: {reason}") from None


def _key_files(settings: Settings) -> Iterator[tuple[str, str]]:
    for issuer, authn in settings.authn.items():
        yield f'[authn."{issuer}"] key', authn.key
    for audience, authz in settings.authz.items():
        if isinstance(authz, AuthzHttpSettings) and authz.key is not None:
            yield f'[authz."{audience}"] key', authz.key
    if settings.id_token is not None:
        yield "[id_token] key", settings.id_token.key


def bind_listener(host: str, port: int, setting: str, *, reuse_port: bool = False) -> socket.socket:
    """A listener's socket (the API's, the metrics'), bound here as uvicorn would bind it
    (uvicorn listens on it), so that a port in use is a StartupError before anything is printed.
    `reuse_port`: one of several sockets on the same port, among which the kernel spreads the
    new connections (`serve --workers`)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise _unbindable(setting, host, port, exc) from None
    sock.set_inheritable(True)
    return sock


def _unbindable(setting: str, host: str, port: int, error: OSError) -> StartupError:
    reason = error.strerror or str(error) or type(error).__name__
    return StartupError(f"{setting} {host}:{port}: cannot listen: {reason}")
