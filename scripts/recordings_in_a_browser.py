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

    python -m scripts.recordings_in_a_browser --url http://127.0.0.1:8069 --db odoo --version 18 \\
        --login agent --password agent-pass --manager boss --manager-password boss-pass \\
        --call "python3 /path/to/ami.py originate --channel Local/101@from-internal --application Milliwatt"
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import time
from typing import Any, cast

from playwright.sync_api import Locator, expect

from scripts.browser import Session, arguments, drive


def parse() -> argparse.Namespace:
    p = arguments(__doc__, "command placing a call that is answered and lasts a while")
    p.add_argument("--login", required=True, help="a participant of the calls placed")
    p.add_argument("--password", required=True)
    p.add_argument("--manager", required=True, help="a Call Manager")
    p.add_argument("--manager-password", required=True)
    p.add_argument("--admin", default="admin")
    p.add_argument("--admin-password", default="admin")
    return p.parse_args()


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
    drive(args, Session, lambda run: scenario(args, run))


def scenario(args: argparse.Namespace, run: Session) -> None:
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
