"""Chromium driven by Playwright against a real Odoo, for the by-hand checks in a browser
(`python -m scripts.phone_in_a_browser`, `python -m scripts.recordings_in_a_browser`): their common
arguments, logging in, opening an action, screenshots, and the run that keeps the page's errors."""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Callable
from typing import TypeVar

from playwright.sync_api import Browser, FloatRect, Locator, Page, sync_playwright


def arguments(description: str | None, call_help: str) -> argparse.ArgumentParser:
    """--url, --db, --version, --call, --out and --prefix; each script adds its own."""
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", required=True)
    p.add_argument("--db", required=True)
    p.add_argument("--version", choices=["17", "18"], default="18")
    p.add_argument("--call", required=True, help=call_help)
    p.add_argument("--out", default="docs/screenshots")
    p.add_argument("--prefix", default="", help="put before every screenshot's name (odoo17-)")
    return p


class Session:
    """One Odoo user at a time in Chromium, each in a browser context of its own (Odoo 18's login page
    remembers users); the page's JavaScript errors are kept in `errors`."""

    def __init__(self, args: argparse.Namespace, browser: Browser, errors: list[str]) -> None:
        self.args, self.browser, self.errors = args, browser, errors
        self.page: Page | None = None

    @property
    def open(self) -> Page:
        assert self.page is not None, "log in first"
        return self.page

    def shot(
        self, name: str, locator: Locator | None = None, *, clip: tuple[int, int, int, int] | None = None
    ) -> None:
        """A screenshot of the element, else of the page (or the part `clip` = x, y, width, height)."""
        path = f"{self.args.out}/{self.args.prefix}{name}.png"
        if locator is not None:
            locator.screenshot(path=path)
        else:
            area = FloatRect(x=clip[0], y=clip[1], width=clip[2], height=clip[3]) if clip else None
            self.open.screenshot(path=path, clip=area)
        print("screenshot", path)

    def login(self, login: str, password: str) -> Page:
        if self.page is not None:
            self.page.context.close()
        page = self.page = self.browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.goto(f"{self.args.url}/web/login?db={self.args.db}")
        page.fill("input[name=login]", login)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_selector(".o_main_navbar", timeout=30_000)
        return page

    def action(self, xmlid: str, view: str = "list") -> None:
        """Open a window action by its XML id (the URL differs between Odoo 17 and 18)."""
        if self.args.version == "18":
            self.open.goto(f"{self.args.url}/odoo/action-{xmlid}?view_type={view}")
        else:
            self.open.goto(f"{self.args.url}/web#action={xmlid}&view_type={view}")
        self.open.wait_for_selector(f".o_{view}_view", timeout=30_000)


S = TypeVar("S", bound=Session)


def drive(
    args: argparse.Namespace,
    session: Callable[[argparse.Namespace, Browser, list[str]], S],
    scenario: Callable[[S], None],
) -> None:
    """Run the scenario in a headless Chromium; a screenshot where it failed; exit 1 on any page error."""
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        run = session(args, browser, errors)
        try:
            scenario(run)
        except Exception:
            if run.page is not None:
                run.shot("failed-here")
            raise
        finally:
            browser.close()
    print("page errors:", errors or "none")
    if errors:
        raise SystemExit(1)
