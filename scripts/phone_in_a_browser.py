"""The phone in the user's hands, seen in a real browser: click-to-call, the incoming call pop-up, a missed
call and the number-not-found wizard, against a real Odoo, agent and Asterisk. By hand, not in `make test`.

It needs an Odoo with asterisk_plus (user `--login` a PBX user whose phone Asterisk rings for the calls
placed by `--call`), the agent's gateway and bridge on that Odoo and Asterisk, a partner named `--partner`
with the caller's number, and a command that places an inbound call: `--call "call-in.sh {exten} {number}"`
({exten} and {number} are filled in). Chromium is driven by Playwright; screenshots go to `--out`.

    python -m scripts.phone_in_a_browser --url http://127.0.0.1:8069 --db odoo --version 18 \\
        --call "/path/to/call-in.sh {exten} {number}" --ring 440 --missed 450 --out docs/screenshots
"""

from __future__ import annotations

import argparse
import random
import shlex
import subprocess
import time

import odoorpc
from playwright.sync_api import Browser, Locator, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from scripts.browser import Session, arguments, drive

KNOWN = "0470123456"
UNKNOWN = f"04709{random.randrange(100000):05d}"  # nobody has it yet, run after run


def parse() -> argparse.Namespace:
    p = arguments(__doc__, "command placing an inbound call, with {exten} and {number}")
    p.add_argument("--login", default="admin")
    p.add_argument("--password", default="admin")
    p.add_argument("--partner", default="Jane Doe")
    p.add_argument(
        "--ring", default="440", help="extension that rings the user's phone, answered after a while"
    )
    p.add_argument("--missed", default="450", help="extension that rings the user's phone, never answered")
    p.add_argument("--failing-phone", default="PJSIP/6001", help="a phone Asterisk cannot reach")
    return p.parse_args()


class Run(Session):
    """The user of the phone, logged in once, and the calls placed to them."""

    def __init__(self, args: argparse.Namespace, browser: Browser, errors: list[str]) -> None:
        super().__init__(args, browser, errors)
        self.calls: list[subprocess.Popen[bytes]] = []

    def call(self, exten: str, number: str) -> None:
        command = self.args.call.format(exten=exten, number=number)
        self.calls.append(subprocess.Popen(shlex.split(command), stdout=subprocess.DEVNULL))

    def open_partner(self) -> None:
        self.action("contacts.action_contacts")
        self.shot("contacts-list-dial", clip=(0, 0, 1280, 240))
        self.open.locator(".o_data_row", has_text=self.args.partner).first.click()
        self.open.wait_for_selector(".o_form_view .o_field_phone", timeout=30_000)

    def click_to_call(self, expect_text: str, name: str) -> None:
        page = self.open
        for close in page.locator(
            ".o_notification .o_notification_close, .o_notification button.btn-close"
        ).all():
            close.click()
        time.sleep(1)
        field = page.locator(".o_field_phone").filter(has=page.locator(".o_asterisk_call_button")).first
        field.hover()
        button = field.locator(".o_asterisk_call_button")
        expect(button).to_be_visible()
        button.click()
        notice = page.locator(".o_notification", has_text=expect_text).first
        expect(notice).to_be_visible(timeout=20_000)
        time.sleep(1)  # the notifications' animation
        self.shot(name, clip=(600, 40, 680, 380))

    def popup(self, state: str, text: str = "", timeout: float = 30_000) -> Locator:
        """The card of a call once it is in that state; the returned locator follows that call's card."""
        card = self.open.locator(f".o_asterisk_call_popup[data-state={state}]", has_text=text).first
        expect(card).to_be_visible(timeout=timeout)
        call_id = card.get_attribute("data-call-id")
        return self.open.locator(f".o_asterisk_call_popup[data-call-id='{call_id}']")

    def close_popups(self) -> None:
        buttons = self.open.locator(".o_asterisk_call_close")
        for _attempt in range(20):  # cards may come and go while closing (a late update re-renders them)
            if not buttons.count():
                return
            try:
                buttons.first.click(timeout=2000)
            except PlaywrightTimeout:
                pass

    def wait_calls(self) -> None:
        for process in self.calls:
            process.wait(timeout=60)
        self.calls.clear()


def set_phone(args: argparse.Namespace, phone: str) -> str:
    """The user's first phone set to `phone` over JSON-RPC; returns the one it had."""
    host, port = args.url.split("//", 1)[1].split(":")
    odoo = odoorpc.ODOO(host, port=int(port))
    odoo.login(args.db, args.login, args.password)
    pbx = odoo.env["asterisk_plus.user"]
    [pbx_id] = pbx.search([("user_id", "=", odoo.env.uid)], limit=1)
    old = pbx.read([pbx_id], ["channel"])[0]["channel"]
    pbx.write([pbx_id], {"channel": phone})
    return str(old)


def main() -> None:
    args = parse()
    drive(args, Run, lambda run: scenario(args, run))


def scenario(args: argparse.Namespace, run: Run) -> None:
    page = run.login(args.login, args.password)
    time.sleep(3)  # a new tab hears the bus's last seconds again: earlier calls' cards are closed first
    run.close_popups()
    run.open_partner()

    run.click_to_call("rings: answer it", "click-to-call-rings")
    old = set_phone(args, args.failing_phone)
    try:
        run.click_to_call("could not be called", "click-to-call-failed")
    finally:
        set_phone(args, old)

    run.call(args.ring, KNOWN)
    card = run.popup("ringing", args.partner)
    run.shot("popup-ringing", page.locator(".o_asterisk_call_popups"))
    run.popup("answered", "You answered")
    run.shot("popup-answered", page.locator(".o_asterisk_call_popups"))
    card.locator(".o_asterisk_call_open").click()
    page.wait_for_selector(".o_form_view", timeout=20_000)
    run.wait_calls()
    run.popup("ended")
    run.close_popups()

    run.call(args.missed, KNOWN)
    run.popup("ended", "Missed call")
    run.shot("popup-missed", page.locator(".o_asterisk_call_popups"))
    run.wait_calls()
    run.close_popups()

    run.call(args.ring, UNKNOWN)
    card = run.popup("ringing")
    card.locator(".o_asterisk_call_unknown").click()
    dialog = page.locator(".modal-dialog", has_text="Unknown number")
    expect(dialog).to_be_visible(timeout=20_000)
    dialog.locator("div[name=name] input").fill("New Caller")
    run.shot("number-not-found-wizard", clip=(140, 140, 1000, 440))
    dialog.locator("button[name=action_apply]").click()
    expect(dialog).to_be_hidden(timeout=20_000)
    expect(page.locator(".o_breadcrumb")).to_contain_text("New Caller", timeout=20_000)
    run.shot("number-not-found-contact", clip=(0, 40, 1280, 680))
    run.wait_calls()
    time.sleep(1)


if __name__ == "__main__":
    main()
