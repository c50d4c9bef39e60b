"""Who hears what about a ringing call: the incoming call pop-up of every user whose phone rang.

A call that rings through a Queue(), a ring group, several phones of one user or several devices on one
extension rings many channels; each channel leads to a user (their phone, else their extension), and every
such user gets the pop-up once, then again each time the call's state moves on (someone answered, it ended),
so each pop-up closes or says who took the call. What was told is remembered with the call (`memory`), so a
redelivered or late event tells nobody twice.

Plain Python without Odoo imports (like call_state.py): tests/odoo_module loads it by path.
"""

import importlib.util
import os

try:
    from . import call_events as ev
except ImportError:  # loaded by path, outside the package
    _spec = importlib.util.spec_from_file_location(
        "asterisk_plus_call_events_for_popup", os.path.join(os.path.dirname(__file__), "call_events.py")
    )
    ev = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(ev)

RINGING, ANSWERED, ENDED = "ringing", "answered", "ended"
ENDED_STATUSES = ("answered", "missed", "noanswer", "busy", "congestion", "failed")
DIRECTIONS = ("in", "internal")  # calls that ring someone's phone from outside or from a colleague


def state(summary):
    if summary["status"] in ENDED_STATUSES:
        return ENDED
    if summary["answered_by"]:
        return ANSWERED
    return RINGING


def rung_users(summary, user_of):
    """The users whose phones rang, in the order they rang, each once. `user_of(channel, exten)` gives the
    user behind a channel or dial string (`PJSIP/101-0000000a`, `Local/100@demo-00000004;1`), or a falsy."""
    users = []
    for target in summary["rung"]:
        user = user_of(target, ev.channel_exten(target))
        if user and user not in users:
            users.append(user)
    return users


def answered_user(summary, user_of):
    by = summary["answered_by"]
    return (user_of(by.get("channel"), by.get("exten")) or None) if by else None


def said(summary):
    """What a pop-up says of the call: its state, and for an ended call how it ended (missed, answered...)."""
    now = state(summary)
    return now, summary["status"] if now == ENDED else ""


def news(summary, memory, user_of):
    """(the new memory, [user to tell]): users rung for the first time, and every rung user when what the
    pop-up says moved on since `memory` (what was told before: {"rung": [user], "state", "status",
    "missed"}; {} for nothing yet). A late event may still turn an ended call into a missed one (the caller's
    first events tell its direction): the users then hear that too."""
    memory = memory or {}
    if summary["direction"] not in DIRECTIONS:
        return memory, []
    rung = rung_users(summary, user_of)
    if not rung:
        return memory, []
    now, status = said(summary)
    known = set(memory.get("rung") or [])
    moved = bool(known) and (now, status) != (memory.get("state"), memory.get("status", ""))
    tell = [user for user in rung if moved or user not in known]
    after = {"rung": rung, "state": now, "status": status}
    if memory.get("missed") or summary["status"] == "missed":
        after["missed"] = True
    return after, tell


def missed(memory_before, memory_after):
    """Did the call just become missed (an incoming call nobody answered) for the users it rang? Once."""
    return bool(memory_after.get("missed")) and not (memory_before or {}).get("missed")
