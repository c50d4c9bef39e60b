"""Odoo's one-time token opens exactly one session; everything else is "not authorized"."""

from __future__ import annotations

import pytest
import websockets

from services.console.sessions import COOKIE

from .conftest import ConsoleFactory, receive


async def test_a_token_opens_a_session_once_and_the_cookie_is_locked_down(
    make_console: ConsoleFactory,
) -> None:
    run = await make_console()
    token = await run.token()
    async with run.http() as client:
        first = await client.get("/", params={"token": token})
        assert first.status_code == 303
        assert "token" not in first.headers["location"]  # the used token leaves the address bar
        cookie = first.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE}=")
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert "Secure" not in cookie  # plain http: a Secure cookie would never come back

        client.cookies.set(COOKIE, first.cookies[COOKIE])
        page = await client.get("/")
        assert page.status_code == 200
        assert "Asterisk console" in page.text and run.bus.server in page.text

        again = await client.get("/", params={"token": token})
        assert again.status_code == 401
        assert "Not authorized" in again.text


@pytest.mark.parametrize(
    "case",
    ["no token, no cookie", "forged token", "malformed token", "expired token", "other server", "bad cookie"],
)
async def test_anything_but_a_fresh_token_of_this_server_is_not_authorized(
    make_console: ConsoleFactory, case: str
) -> None:
    run = await make_console()
    params: dict[str, str] = {}
    cookies: dict[str, str] = {}
    if case == "forged token":
        params["token"] = "A" * 32
    elif case == "malformed token":
        params["token"] = "../../console:session:x"
    elif case == "expired token":
        params["token"] = await run.token(exp_in=-1)
    elif case == "other server":
        params["token"] = await run.token(server="another-pbx")
    elif case == "bad cookie":
        cookies[COOKIE] = "B" * 43
    async with run.http() as client:
        client.cookies.update(cookies)
        response = await client.get("/", params=params)
    assert response.status_code == 401
    assert "Not authorized" in response.text
    assert COOKIE not in response.cookies


@pytest.mark.parametrize(
    ("trusted", "secure"), [("127.0.0.1", True), ("192.0.2.1", False)], ids=["trusted-proxy", "untrusted"]
)
async def test_the_cookie_is_secure_behind_a_trusted_tls_proxy_only(
    make_console: ConsoleFactory, trusted: str, secure: bool
) -> None:
    """X-Forwarded-Proto: https makes the cookie Secure from a trusted proxy; from others it is ignored."""
    run = await make_console(console_forwarded_allow_ips=trusted)
    async with run.http() as client:
        response = await client.get(
            "/", params={"token": await run.token()}, headers={"X-Forwarded-Proto": "https"}
        )
    assert response.status_code == 303
    assert ("Secure" in response.headers["set-cookie"]) is secure


@pytest.mark.parametrize("cookie", [None, "C" * 43])
async def test_a_websocket_without_a_valid_session_is_closed(
    make_console: ConsoleFactory, cookie: str | None
) -> None:
    run = await make_console()
    async with run.ws(cookie) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_a_session_ends_when_it_expires(make_console: ConsoleFactory) -> None:
    run = await make_console()
    cookie = await run.session_cookie()
    async with run.ws(cookie) as ws:
        await receive(ws, "hello")
        await run.bus.redis.delete(run.bus.key(f"console:session:{cookie}"))  # as its TTL would
        await ws.send('{"type": "command", "id": 1, "line": "core show version"}')
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await receive(ws, "output")
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_health_endpoint_reports_redis_and_whether_asterisk_is_connected(
    make_console: ConsoleFactory,
) -> None:
    run = await make_console()
    async with run.http() as client:
        response = await client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["ready"] is True
    assert body == {"ready": True, "asterisk": {"connected": False}}
