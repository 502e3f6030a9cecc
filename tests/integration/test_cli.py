"""The `minigroups` command: its refusals, token and migrate, `--version` and a cheap start-up."""

from __future__ import annotations

import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

from minigroups.adapters.auth.tokens import read_token
from minigroups.config import embedded_settings
from minigroups.entrypoints.cli import build_parser, dev_token, main

HEAVY_MODULES = (
    "sqlalchemy",
    "alembic",
    "starlette",
    "uvicorn",
    "minigroups.bootstrap",
    "aiomqtt",
    "httpx",
)
SAMPLE = Path(__file__).parents[1] / "fixtures" / "reference-app.toml"


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MINIGROUPS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return tmp_path / "data"


def test_token_is_signed_with_the_development_secret(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["token", "--label", "web", "--audience", "usr.minigroups.local", "--expires-in", "60"])
    token = capsys.readouterr().out.strip()
    secret = OctKey.import_key((data_dir / "dev-hs256.secret").read_bytes())
    claims = jwt.decode(token, secret).claims
    assert claims["iss"] == "minigroups.local"
    assert claims["aud"] == "usr.minigroups.local"
    assert claims["sub"] == "web"
    assert isinstance(claims["exp"], int)


def _minted(data_dir: Path, capsys: pytest.CaptureFixture[str], *options: str) -> dict[str, Any]:
    main(["token", "--label", "web", "--audience", "usr.minigroups.local", *options])
    token = capsys.readouterr().out.strip()
    secret = OctKey.import_key((data_dir / "dev-hs256.secret").read_bytes())
    return dict(jwt.decode(token, secret).claims)


@pytest.mark.parametrize(
    ("options", "ttl"),
    [((), 24 * 3600), (("--ttl", "600"), 600), (("--expires-in", "60"), 60)],
)
def test_token_expires_after_the_ttl(
    data_dir: Path, capsys: pytest.CaptureFixture[str], options: tuple[str, ...], ttl: int
) -> None:
    """Issue 8: a minted token always has `exp`, 24 h by default; `--expires-in` is an alias."""
    before = int(time.time())
    claims = _minted(data_dir, capsys, *options)
    assert before + ttl <= claims["exp"] <= int(time.time()) + ttl


@pytest.mark.parametrize("ttl", ["0", "-5", "soon", "1.5"])
def test_token_refuses_a_ttl_that_is_not_positive_seconds(
    ttl: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["token", "--label", "web", "--audience", "usr.minigroups.local", "--ttl", ttl])
    assert exited.value.code == 2
    assert "must be a whole number of seconds > 0" in capsys.readouterr().err


def test_token_refuses_a_label_with_a_dot() -> None:
    with pytest.raises(SystemExit, match="account labels never contain a dot"):
        main(["token", "--label", "alice.usr", "--audience", "usr.minigroups.local"])


def test_the_development_token_of_serve_has_the_ttl(data_dir: Path) -> None:
    loaded = embedded_settings(data_dir, {})
    before = int(time.time())
    for ttl, args in ((24 * 3600, ["serve"]), (90, ["serve", "--token-ttl", "90"])):
        assert build_parser().parse_args(args).ttl == ttl
        claims = read_token(dev_token(loaded, ttl=ttl)).claims
        assert claims.exp is not None
        assert before + ttl <= claims.exp <= int(time.time()) + ttl


def test_token_refuses_an_audience_the_issuer_does_not_accept() -> None:
    with pytest.raises(SystemExit, match="does not accept audience"):
        main(["token", "--label", "web", "--audience", "other.example.org"])


def test_token_refuses_es256_without_a_private_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:///unused.sqlite3")
    with pytest.raises(SystemExit, match="uses ES256: pass its private key with --private-key"):
        main(["token", "--config", str(SAMPLE), "--label", "x", "--audience", "usr.example.org"])


def test_serve_refuses_the_ulms_upstream_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APP_UPSTREAM", "ulms")
    with pytest.raises(SystemExit, match='upstream = "ulms"'):
        main(["serve"])


def test_serve_refuses_a_missing_key_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:///unused.sqlite3")
    # loopback: the sample's 0.0.0.0 with the default sandbox upstream is refused before that
    monkeypatch.setenv("APP_HTTP__LISTENER_ADDRESS", "127.0.0.1:3000")
    with pytest.raises(SystemExit, match=r"data/keys/iam\.public_key\.p8\.der"):
        main(["serve", "--config", str(SAMPLE)])


def test_migrate_creates_the_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "db.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    main(["migrate"])
    assert "database migrated" in capsys.readouterr().out
    assert database.stat().st_size > 0


def test_the_command_line_module_imports_no_framework() -> None:
    """What `--help` and `--version` pay for: a structural check, not a timing one."""
    probe = (
        "import sys, minigroups.entrypoints.cli\n"
        f"print(' '.join(name for name in {HEAVY_MODULES!r} if name in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""


@pytest.mark.parametrize(
    "command",
    [
        pytest.param([str(Path(sys.executable).with_name("minigroups"))], id="console-script"),
        pytest.param([sys.executable, "-m", "minigroups"], id="python-m"),
    ],
)
def test_version_prints_the_package_version(command: list[str]) -> None:
    done = subprocess.run(
        [*command, "--version"], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"minigroups {version('minigroups')}\n"
