"""The console in a real headless Chromium (Debian's build, driven by Playwright) against the AMI peer."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from typing import Any

import pytest

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
