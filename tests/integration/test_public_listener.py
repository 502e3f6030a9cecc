"""The embedded kind of configuration (sandbox upstream, authorization `none`) listens on loopback
only, unless `minigroups serve --insecure-public` says otherwise (issue 8)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import msgspec
import pytest

from minigroups.bootstrap import StartupError
from minigroups.config import Settings, embedded_settings
from minigroups.entrypoints.server import check_listener
from tests.support.ports import free_port
from tests.support.served import wait_until_ready

PUBLIC_HOSTS = ["0.0.0.0", "", "::", "10.1.2.3", "example.org", "192.168.0.1"]
LOOPBACK_HOSTS = ["127.0.0.1", "127.0.0.2", "::1", "localhost"]


def _embedded(tmp_path: Path) -> Settings:
    return embedded_settings(tmp_path, {}).settings


@pytest.mark.parametrize("host", PUBLIC_HOSTS)
def test_a_public_address_is_refused_without_the_flag(tmp_path: Path, host: str) -> None:
    settings = _embedded(tmp_path)
    with pytest.raises(StartupError, match="--insecure-public") as refused:
        check_listener(settings, host, insecure_public=False)
    assert 'upstream = "sandbox"' in str(refused.value)
    assert 'authorization "none" for usr.minigroups.local' in str(refused.value)
    check_listener(settings, host, insecure_public=True)


@pytest.mark.parametrize("host", LOOPBACK_HOSTS)
def test_loopback_needs_no_flag(tmp_path: Path, host: str) -> None:
    check_listener(_embedded(tmp_path), host, insecure_public=False)


def test_a_platform_configuration_may_listen_anywhere(tmp_path: Path) -> None:
    settings = _embedded(tmp_path)
    authz = {"usr.minigroups.local": {"type": "local", "trusted": []}}
    platform = msgspec.convert(
        {**msgspec.to_builtins(settings), "upstream": "ulms", "authz": authz}, Settings
    )
    check_listener(platform, "0.0.0.0", insecure_public=False)
    only_none = msgspec.structs.replace(settings, upstream="ulms")
    with pytest.raises(StartupError, match='authorization "none"'):
        check_listener(only_none, "0.0.0.0", insecure_public=False)


def _serve(tmp_path: Path, port: int, *flags: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "MINIGROUPS_DATA_DIR": str(tmp_path / "data"),
        "APP_HTTP__LISTENER_ADDRESS": f"0.0.0.0:{port}",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "minigroups", "serve", *flags],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_serve_refuses_in_one_line_and_serves_with_the_flag(tmp_path: Path) -> None:
    port = free_port()
    refused = _serve(tmp_path, port)
    out, err = refused.communicate(timeout=30)
    assert refused.returncode != 0
    assert out == ""
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"minigroups: refusing to listen on 0.0.0.0:{port}")
    assert "--insecure-public" in err
    served = _serve(tmp_path, port, "--insecure-public")
    try:
        wait_until_ready(f"http://127.0.0.1:{port}", served)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
    finally:
        served.send_signal(signal.SIGTERM)
        served.communicate(timeout=15)
