"""The console in a real headless Chromium (Debian's build, driven by Playwright) against the AMI peer."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.bus import keys

from ..ami_gateway.conftest import Running
from .conftest import ConsoleFactory


def _chromium() -> str | None:
    for name in (os.environ.get("CHROMIUM", ""), "chromium", "chromium-browser", "google-chrome"):
        if name and (path := shutil.which(name)):
            return path
    return None


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    path = _chromium()
    if path is None:
        pytest.skip("no Chromium on this machine (make test installs Debian's chromium where it is root)")
    playwright_api = pytest.importorskip("playwright.async_api")
    async with playwright_api.async_playwright() as pw:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        browser = await pw.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield browser
        await browser.close()


async def test_run_complete_and_recall_a_command_then_a_used_token_is_refused(
    make_console: ConsoleFactory, gateway: Running, browser: Any
) -> None:
    from playwright.async_api import expect

    run = await make_console()
    token = await run.token(login="admin")
    page = await browser.new_page()
    await page.goto(f"{run.url}/?token={token}")
    assert "token" not in page.url
    await expect(page.locator("#state")).to_have_text("Asterisk 22.10.1", timeout=10_000)
    await expect(page.locator("#user")).to_have_text("admin")

    line = page.locator("#line")
    await line.fill("core show version")
    await line.press("Enter")
    await expect(page.locator("#out")).to_contain_text("Asterisk 22.10.1 built by", timeout=10_000)

    await line.fill("core sh")
    await line.press("Tab")
    await expect(line).to_have_value("core show ", timeout=10_000)
    await line.press("Tab")  # several matches: they are listed, the line stays
    await expect(page.locator("#out")).to_contain_text("version", timeout=10_000)
    await expect(page.locator("#out")).to_contain_text("uptime")

    await line.fill("")
    await line.press("ArrowUp")
    await expect(line).to_have_value("core show version")

    await page.locator("#clear").click()
    await expect(page.locator("#out")).to_have_text("")

    again = await browser.new_page()
    response = await again.goto(f"{run.url}/?token={token}")
    assert response is not None and response.status == 401
    await expect(again.locator("h1")).to_have_text("Not authorized")


ATTACK = """<!doctype html><title>cat pictures</title><script>
window.result = {messages: []};
const ws = new WebSocket("WS_URL");
ws.onopen = () => ws.send(JSON.stringify({type: "command", id: 1, line: "core show version"}));
ws.onmessage = (e) => window.result.messages.push(JSON.parse(e.data));
ws.onclose = (e) => { window.result.closed = e.code; };
</script>"""


async def serve_one_page(html: str) -> asyncio.Server:
    """Another web server on the same host: its pages are another origin, but the same site."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        body = html.encode()
        head = f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {len(body)}\r\n"
        writer.write(head.encode() + b"Connection: close\r\n\r\n" + body)
        await writer.drain()
        writer.close()

    return await asyncio.start_server(answer, "127.0.0.1", 0)


async def test_a_page_on_another_port_of_the_same_host_cannot_use_the_session(
    make_console: ConsoleFactory, gateway: Running, browser: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The admin opened the console; a page of another server on the same host (the same site: the
    SameSite=Strict cookie goes along) opens a WebSocket to it. The console refuses it on its Origin, and
    its own page works on under its Content-Security-Policy."""
    from playwright.async_api import expect

    caplog.set_level(logging.WARNING)
    run = await make_console()
    context = await browser.new_context()
    console = await context.new_page()
    said: list[str] = []
    console.on("console", lambda message: said.append(message.text))
    await console.goto(f"{run.url}/?token={await run.token(login='admin')}")
    await expect(console.locator("#state")).to_have_text("Asterisk 22.10.1", timeout=10_000)

    evil = await serve_one_page(ATTACK.replace("WS_URL", run.url.replace("http://", "ws://") + "/ws"))
    try:
        attacker = await context.new_page()
        await attacker.goto(f"http://127.0.0.1:{evil.sockets[0].getsockname()[1]}/")
        await attacker.wait_for_function(  # refused, or (what it was before) the command's output came back
            "window.result && (window.result.closed !== undefined"
            " || window.result.messages.some((m) => m.type === 'output'))"
        )
        result = await attacker.evaluate("window.result")
    finally:
        evil.close()
        await evil.wait_closed()
    assert result.get("closed") == 4403, result
    assert result["messages"] == []  # not even the hello with the user's name and history
    assert await run.bus.redis.xlen(run.bus.key(keys.ACTIONS)) == 0
    # The browser did send the admin's session cookie: only the Origin check stood in the way.
    refused = [getattr(r, "fields", {}) for r in caplog.records if "WebSocket refused" in r.getMessage()]
    assert [(r["origin"], r["session_of"]) for r in refused] == [(attacker.url.rstrip("/"), "admin")]

    line = console.locator("#line")
    await line.fill("core show version")
    await line.press("Enter")
    await expect(console.locator("#out")).to_contain_text("Asterisk 22.10.1 built by", timeout=10_000)
    # The page runs under its Content-Security-Policy: script and style load, nothing inline is needed.
    assert await console.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(17, 17, 17)"
    assert not [text for text in said if "Content Security Policy" in text]
    await context.close()
