"""Recordings and active calls seen in a real browser, against a real Odoo, agent (gateway, bridge,
recordings) and Asterisk. By hand, not in `make test`.

It needs an Odoo with asterisk_plus whose server records calls (policy "all"), a participant `--login` of
the calls `--call` places (a PBX user whose phone or extension takes part), a Call Manager `--manager`, and a
command that places a call answered at once and lasting a few seconds. It checks, in Chromium (Playwright):

- the live view (*Active calls*, as the manager): the call appears while it lasts and leaves when it ends,
  with no reload of the page (Odoo's bus);
- the player of the recording Asterisk made of it, in the calls list and on the call form, as the
  participant: the browser loads the MP3 and plays it (its duration, time moving on);
- the server form's recording settings (as admin).

    python scripts/recordings_in_a_browser.py --url http://127.0.0.1:8069 --db odoo --version 18 \\
        --login agent --password agent-pass --manager boss --manager-password boss-pass \\
        --call "python3 /path/to/ami.py originate --channel Local/101@from-internal --application Milliwatt"
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import subprocess
import time
from typing import Any, cast

from playwright.sync_api import Browser as PlaywrightBrowser
from playwright.sync_api import FloatRect, Locator, Page, expect, sync_playwright


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", required=True)
    p.add_argument("--db", required=True)
    p.add_argument("--version", choices=["17", "18"], default="18")
    p.add_argument("--login", required=True, help="a participant of the calls placed")
    p.add_argument("--password", required=True)
    p.add_argument("--manager", required=True, help="a Call Manager")
    p.add_argument("--manager-password", required=True)
    p.add_argument("--admin", default="admin")
    p.add_argument("--admin-password", default="admin")
    p.add_argument("--call", required=True, help="command placing a call that is answered and lasts a while")
    p.add_argument("--out", default="docs/screenshots")
    p.add_argument("--prefix", default="")
    return p.parse_args()


class Browser:
    """One user at a time, each in a browser context of its own (Odoo 18's login page remembers users)."""

    def __init__(self, args: argparse.Namespace, browser: PlaywrightBrowser, errors: list[str]) -> None:
        self.args, self.browser, self.errors = args, browser, errors
        self.page: Page | None = None

    @property
    def open(self) -> Page:
        assert self.page is not None, "log in first"
        return self.page

    def shot(
        self, name: str, clip: tuple[int, int, int, int] | None = None, locator: Locator | None = None
    ) -> None:
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
        if self.args.version == "18":
            self.open.goto(f"{self.args.url}/odoo/action-{xmlid}?view_type={view}")
        else:
            self.open.goto(f"{self.args.url}/web#action={xmlid}&view_type={view}")
        self.open.wait_for_selector(f".o_{view}_view", timeout=30_000)


def plays(audio: Locator) -> dict[str, Any]:
    """Load the element's MP3 and play a second of it, muted: what the browser says of it."""
    return cast(
        dict[str, Any],
        audio.evaluate(
            """async (el) => {
            el.muted = true;
            el.preload = "auto";
            el.load();
            await new Promise((ok, ko) => {
                el.addEventListener("loadedmetadata", ok, { once: true });
                const failed = () => ko(new Error("media error " + (el.error && el.error.code)));
                el.addEventListener("error", failed, { once: true });
            });
            await el.play();
            await new Promise((ok) => setTimeout(ok, 1000));
            el.pause();
            const mp3 = el.canPlayType("audio/mpeg");
            return { src: el.currentSrc, duration: el.duration, played: el.currentTime, mp3 };
        }"""
        ),
    )


def main() -> None:
    args = parse()
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        run = Browser(args, browser, errors)
        try:
            scenario(args, run)
        except Exception:
            if run.page is not None:
                run.shot("failed-here")
            raise
        finally:
            browser.close()
    print("page errors:", errors or "none")
    if errors:
        raise SystemExit(1)


def scenario(args: argparse.Namespace, run: Browser) -> None:
    page = run.login(args.manager, args.manager_password)
    run.action("asterisk_plus.call_active_action")
    rows = page.locator(".o_list_view .o_data_row")
    expect(rows).to_have_count(0, timeout=20_000)
    call = subprocess.Popen(shlex.split(args.call), stdout=subprocess.DEVNULL)
    expect(rows).to_have_count(1, timeout=10_000)  # no reload: the bus said so
    expect(rows.first.locator("button[name=action_spy]")).to_be_visible()
    run.shot("active-calls", clip=(0, 0, 1280, 200))
    expect(rows).to_have_count(0, timeout=20_000)  # and it leaves when it ends
    call.wait(timeout=60)
    print("live view: the call came and went without a reload")

    time.sleep(8)  # the recordings service takes the file once Asterisk closed it, then Odoo has it
    page = run.login(args.login, args.password)
    run.action("asterisk_plus.call_action")
    audio = page.locator(".o_list_view .o_data_row").first.locator("audio.o_asterisk_audio")
    expect(audio).to_be_visible(timeout=20_000)
    print("calls list player:", plays(audio))
    run.shot("calls-list-player", clip=(0, 0, 1280, 200))
    page.locator(".o_list_view .o_data_row").first.locator("td[name=caller]").click()
    form_audio = page.locator(".o_form_view audio.o_asterisk_audio").first
    expect(form_audio).to_be_visible(timeout=20_000)
    result = plays(form_audio)
    print("call form player:", result)
    if not (result["duration"] > 0 and result["played"] > 0):
        raise SystemExit(f"the recording did not play: {result}")
    page.locator(".o_notebook a", has_text="Recordings").click()
    run.shot("call-form-recording", clip=(0, 40, 1280, 680))

    page = run.login(args.admin, args.admin_password)
    run.action("asterisk_plus.server_action")
    page.locator(".o_list_view .o_data_row").first.click()
    settings = page.locator(".o_inner_group").filter(has=page.locator("div[name=recording_policy]"))
    expect(settings).to_be_visible(timeout=20_000)
    settings.scroll_into_view_if_needed()
    run.shot("server-recordings", locator=settings)


if __name__ == "__main__":
    main()
