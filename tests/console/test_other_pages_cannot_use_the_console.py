"""Other web pages cannot drive the console: the WebSocket checks Origin, every response says no framing, no
referrer, no sniffing and what the page may load, every message counts against a rate limit, and /healthz
tells strangers nothing about Asterisk."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import re
import struct

import pydantic
import pytest
import websockets

from services.bus import keys
from services.console.config import ConsoleSettings

from ..ami_gateway.conftest import Running
from .conftest import ConsoleFactory, RunningConsole, receive


async def close_code(ws: websockets.ClientConnection) -> int | None:
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await receive(ws, "hello")
    return closed.value.rcvd.code if closed.value.rcvd else None


def refusals(caplog: pytest.LogCaptureFixture) -> list[dict]:
    return [
        getattr(r, "fields", {})
        for r in caplog.records
        if r.getMessage() == "console WebSocket refused: its page is not the console's"
    ]


@pytest.mark.parametrize(
    "origin",
    [
        "http://127.0.0.1:1",  # another port of the same host: same site, so the cookie comes along
        "http://localhost:{port}",
        "https://127.0.0.1:{port}",  # another scheme is another origin
        "http://evil.example",
        "null",  # sandboxed frames, file:// pages
        "http://127.0.0.1:{port}/ws",  # not an origin at all
        None,  # no Origin: not a browser page of the console's
    ],
    ids=["other-port", "other-name", "other-scheme", "other-host", "null", "with-path", "missing"],
)
async def test_a_websocket_from_another_origin_is_refused_with_4403_even_with_a_live_session(
    make_console: ConsoleFactory, caplog: pytest.LogCaptureFixture, origin: str | None
) -> None:
    caplog.set_level(logging.WARNING)
    run = await make_console()
    port = run.url.rsplit(":", 1)[1]
    origin = origin.format(port=port) if origin else None
    async with run.ws(await run.session_cookie(login="admin"), origin=origin) as ws:
        with contextlib.suppress(websockets.ConnectionClosed):  # the close may beat the command
            await ws.send(json.dumps({"type": "command", "id": 1, "line": "core show version"}))
        assert await close_code(ws) == 4403
    assert await run.bus.redis.xlen(run.bus.key(keys.ACTIONS)) == 0
    (logged,) = refusals(caplog)
    assert logged["origin"] == (origin or "(none)") and logged["session_of"] == "admin"
    assert logged["allowed"] == run.url


@pytest.mark.parametrize("upper", [False, True], ids=["as-is", "upper-case"])
async def test_the_consoles_own_origin_is_accepted_in_any_case(
    make_console: ConsoleFactory, upper: bool
) -> None:
    run = await make_console()
    async with run.ws(await run.session_cookie(), origin=run.url.upper() if upper else run.url) as ws:
        assert (await receive(ws, "hello"))["type"] == "hello"


async def handshake(run: RunningConsole, headers: dict[str, str]) -> int | str:
    """A handshake with the Host a proxy sends: "hello" when the console talks, else its close code."""
    host, port = run.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    key = base64.b64encode(os.urandom(16)).decode()
    lines = ["GET /ws HTTP/1.1", "Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {key}"]
    lines += ["Sec-WebSocket-Version: 13", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    writer.write("\r\n".join(lines).encode())
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 101"), head
        opcode, length = await reader.readexactly(2)  # a server's frames are not masked
        if length == 126:
            (length,) = struct.unpack("!H", await reader.readexactly(2))
        payload = await reader.readexactly(length)
        if opcode & 0x0F == 8:  # close: the code is the first two bytes
            return struct.unpack("!H", payload[:2])[0]
        return json.loads(payload)["type"]
    finally:
        writer.close()


async def test_behind_a_trusted_tls_proxy_the_public_origin_is_the_consoles_own(
    make_console: ConsoleFactory,
) -> None:
    """nginx passes Host and X-Forwarded-Proto: the page's origin is https://<Host>, no setting needed."""
    run = await make_console(console_forwarded_allow_ips="127.0.0.1")
    cookie = f"pbx_console={await run.session_cookie()}"
    proxied = {"Host": "pbx.example.com", "X-Forwarded-Proto": "https", "Cookie": cookie}
    assert await handshake(run, {**proxied, "Origin": "https://pbx.example.com"}) == "hello"
    assert await handshake(run, {**proxied, "Origin": "http://pbx.example.com"}) == 4403
    assert await handshake(run, {**proxied, "Origin": "https://pbx.example.com:8443"}) == 4403


async def test_an_untrusted_proxy_cannot_vouch_for_https(make_console: ConsoleFactory) -> None:
    run = await make_console(console_forwarded_allow_ips="192.0.2.1")
    cookie = f"pbx_console={await run.session_cookie()}"
    proxied = {"Host": "pbx.example.com", "X-Forwarded-Proto": "https", "Cookie": cookie}
    assert await handshake(run, {**proxied, "Origin": "https://pbx.example.com"}) == 4403


async def test_a_proxy_that_rewrites_host_needs_console_public_origin(make_console: ConsoleFactory) -> None:
    run = await make_console(console_public_origin="https://pbx.example.com/, https://other.example.com:8443")
    async with run.ws(await run.session_cookie(), origin="https://pbx.example.com") as ws:
        assert (await receive(ws, "hello"))["type"] == "hello"
    async with run.ws(await run.session_cookie(), origin="https://other.example.com:8443") as ws:
        assert (await receive(ws, "hello"))["type"] == "hello"
    async with run.ws(await run.session_cookie(), origin="https://third.example.com") as ws:
        assert await close_code(ws) == 4403
    async with run.ws(await run.session_cookie()) as ws:  # its own origin still works
        assert (await receive(ws, "hello"))["type"] == "hello"


@pytest.mark.parametrize("value", ["pbx.example.com", "https://pbx.example.com/console", "ftp://x", "*"])
def test_a_public_origin_that_is_no_origin_stops_the_console_at_start(value: str) -> None:
    with pytest.raises(pydantic.ValidationError, match="is not an origin"):
        ConsoleSettings(console_public_origin=value)


async def test_every_http_response_carries_the_security_headers(make_console: ConsoleFactory) -> None:
    run = await make_console(console_public_origin="https://pbx.example.com")
    async with run.http() as client:
        redeemed = await client.get("/", params={"token": await run.token()})
        client.cookies.set("pbx_console", redeemed.cookies["pbx_console"])
        responses = {
            "redirect": redeemed,
            "page": await client.get("/"),
            "refused": await client.get("/", params={"token": "A" * 32}),
            "script": await client.get("/console.js"),
            "style": await client.get("/console.css"),
            "health": await client.get("/healthz"),
            "missing": await client.get("/nope"),
        }
    assert [r.status_code for r in responses.values()] == [303, 200, 401, 200, 200, 200, 404]
    for name, response in responses.items():
        h = response.headers
        assert h["x-frame-options"] == "DENY", name
        assert h["referrer-policy"] == "no-referrer", name
        assert h["x-content-type-options"] == "nosniff", name
        csp = [d.strip() for d in h["content-security-policy"].split(";")]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, name
        ws_own = run.url.replace("http://", "ws://")
        assert f"connect-src 'self' {ws_own} wss://pbx.example.com" in csp, name
    assert responses["script"].headers["content-type"].startswith("text/javascript")
    assert responses["style"].headers["content-type"].startswith("text/css")
    page = responses["page"].text
    assert "<script>" not in page and "<style>" not in page and not re.search(r"\son\w+=", page)
    assert '<script src="console.js">' in page


async def test_every_websocket_message_counts_against_the_rate_limit(
    make_console: ConsoleFactory, gateway: Running
) -> None:
    """Event filters and junk, not only commands: past the burst, nothing is read, parsed or run."""
    run = await make_console(console_message_rate_per_s=0.01, console_message_burst=4)
    async with run.session() as (ws, _hello):
        for _ in range(2):
            await ws.send(json.dumps({"type": "events", "on": False, "filter": "x"}))
        await ws.send("not json")
        assert (await receive(ws, "error"))["text"] == "unreadable message"
        await ws.send(json.dumps({"type": "shell"}))
        assert (await receive(ws, "error"))["text"] == "unknown message type 'shell'"
        for i in range(50):  # the flood: one answer, the rest dropped
            await ws.send(json.dumps({"type": "command", "id": 10 + i, "line": "core show version"}))
        refused = await receive(ws, "error")
        assert refused["text"].startswith("too many messages: wait")
        with pytest.raises(TimeoutError):
            await receive(ws, "error", timeout=0.5)
    assert await run.bus.redis.xlen(run.bus.key(keys.ACTIONS)) == 0
    # Another page has its own allowance.
    async with run.session() as (ws, _hello):
        await ws.send(json.dumps({"type": "command", "id": 1, "line": "core show version"}))
        assert (await receive(ws, "output"))["ok"] is True


async def test_an_oversized_websocket_message_closes_the_socket(make_console: ConsoleFactory) -> None:
    run = await make_console()
    async with run.session() as (ws, _hello):
        await ws.send(json.dumps({"type": "command", "id": 1, "line": "x" * 100_000}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await receive(ws, "output")
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009  # message too big
    assert await run.bus.redis.xlen(run.bus.key(keys.ACTIONS)) == 0


async def test_healthz_never_tells_the_asterisk_version(
    make_console: ConsoleFactory, gateway: Running
) -> None:
    run = await make_console()
    async with run.http() as client:
        response = await client.get("/healthz")
    assert response.json() == {"ready": True, "asterisk": {"connected": True}}
    assert "22.10" not in response.text
    # The console's own page, behind its session, still shows it.
    async with run.session() as (_ws, hello):
        assert hello["asterisk"]["version"] == "22.10.1"
