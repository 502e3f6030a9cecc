"""Slow and endless clients cannot pin a real `minigroups serve` (issue 8): heads and bodies have
read timeouts, heads a size bound, and other clients are answered meanwhile."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support.ports import free_port
from tests.support.served import read_token, wait_until_ready

HALF_SENT = 300
READ_SECONDS = 2


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str]]:
    tmp_path = tmp_path_factory.mktemp("slow-clients")
    port = free_port()
    env = {
        **os.environ,
        "MINIGROUPS_DATA_DIR": str(tmp_path / "data"),
        "APP_HTTP__LISTENER_ADDRESS": f"127.0.0.1:{port}",
        "APP_LIMITS__HEADER_READ_SECONDS": str(READ_SECONDS),
        "APP_LIMITS__BODY_READ_SECONDS": str(READ_SECONDS),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "minigroups", "serve"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        token = read_token(process)
        # What it prints is read as it comes: a pipe left full would block the service.
        threading.Thread(target=process.stdout.read, daemon=True).start()  # type: ignore[union-attr]
        wait_until_ready(f"http://127.0.0.1:{port}", process)
        yield port, token
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=15)


def _open(port: int, data: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(data)
    return sock


def _answer(sock: socket.socket, within: float) -> bytes:
    """What the server sent until it closed the connection (b"" if it only closed it), or what
    it answered within `within` (a loaded machine may close the connection a moment later)."""
    sock.settimeout(within)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except TimeoutError as exc:
        if received:
            return received
        raise AssertionError("the server kept the connection open and answered nothing") from exc
    return received


@pytest.mark.slow
def test_half_sent_requests_do_not_pin_the_service(served: tuple[int, str]) -> None:
    port, token = served
    base = f"http://127.0.0.1:{port}"
    half_heads = [
        _open(port, b"PUT /api/v1/account/properties/p HTTP/1.1\r\nHost: x\r\n")
        for _ in range(HALF_SENT // 2)
    ]
    head = (
        "PUT /api/v1/account/properties/p HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        "Content-Length: 100\r\n\r\n12"
    ).encode()
    half_bodies = [_open(port, head) for _ in range(HALF_SENT - len(half_heads))]
    silent = _open(port, b"")
    started = time.monotonic()
    headers = {"authorization": f"Bearer {token}"}
    assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
    written = httpx.put(f"{base}/api/v1/account/properties/q", json=1, headers=headers, timeout=5)
    assert written.status_code == 200
    assert time.monotonic() - started < 3, "a normal request waited behind the slow ones"

    for sock in [*half_heads, silent]:
        assert _answer(sock, within=READ_SECONDS + 3) == b""  # closed, nothing answered
    for sock in half_bodies:
        assert _answer(sock, within=READ_SECONDS + 3).startswith(b"HTTP/1.1 408 ")
    for sock in [*half_heads, *half_bodies, silent]:
        sock.close()
    stored = httpx.get(f"{base}/api/v1/account/properties/p", headers=headers, timeout=5)
    assert stored.status_code == 404  # no half-sent body was ever stored


@pytest.mark.slow
def test_an_endless_head_is_431_and_closed(served: tuple[int, str]) -> None:
    port, _ = served
    sock = _open(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Endless: ")
    try:
        for _ in range(20):
            sock.sendall(b"a" * 4096)
    except (BrokenPipeError, ConnectionResetError):
        pass
    answer = _answer(sock, within=5)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 431 ")
    assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200


@pytest.mark.slow
def test_a_kept_alive_connections_next_head_sent_slowly_is_closed(
    served: tuple[int, str],
) -> None:
    """The head's clock runs for every request of a connection, not only its first: after a
    whole request and its answer, half of the next head closes the connection in time."""
    port, _ = served
    sock = _open(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    sock.settimeout(5)
    first = b""
    while b"\r\n\r\n" not in first:
        first += sock.recv(65536)
    head, _, body = first.partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    while len(body) < length:
        body += sock.recv(65536)
    assert first.startswith(b"HTTP/1.1 200 ")
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and no more
    started = time.monotonic()
    assert _answer(sock, within=READ_SECONDS + 3) == b""  # closed, nothing answered
    assert time.monotonic() - started >= READ_SECONDS - 0.5
    sock.close()
