"""What manager.conf decides for the peer's users, as Asterisk 22 does: read/write classes per user, and the
class each action needs (an action runs when the user's write classes share one with it: `&`, not all of
them). Also Getvar's STRFTIME/EPOCH in the peer's own clock and timezone."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

CLASSES = (
    "system,call,log,verbose,command,agent,user,config,dtmf,reporting,cdr,dialplan,originate,agi,cc,aoc,test,"
    "security,message"
).split(",")

# Classes of the actions the peer answers (Asterisk 22's `manager show command <Action>`); none: any user.
AUTHORITY = {
    "ping": (),
    "logoff": (),
    "command": ("command",),
    "reload": ("system", "config"),
    "coresettings": ("system", "reporting"),
    "corestatus": ("system", "reporting"),
    "status": ("system", "call", "reporting"),
    "getconfig": ("system", "config"),
    "listcategories": ("config",),
    "modulecheck": ("system",),
    "originate": ("originate",),
    "hangup": ("system", "call"),
    "getvar": ("call", "reporting"),
}


def parse_classes(value: str) -> set[str]:
    names = {c.strip().lower() for c in value.split(",") if c.strip()}
    return set(CLASSES) | {"all"} if "all" in names else names


@dataclass
class Perms:
    read: str = "all"
    write: str = "all"

    def may(self, action: str) -> bool:
        needed = AUTHORITY.get(action.lower(), ())
        return not needed or bool(parse_classes(self.write) & set(needed))

    def shown(self, which: str) -> str:
        """As `manager show user` prints a class list: every class in order, `all` last when it was given."""
        classes = parse_classes(self.read if which == "read" else self.write)
        return ",".join([c for c in CLASSES if c in classes] + (["all"] if "all" in classes else []))


def show_user(name: str, perms: Perms | None) -> list[str]:
    if perms is None:
        return [f"There is no manager called {name}"]
    return [
        "",
        f"          username: {name}",
        "            secret: <Set>",
        "               ACL: no",
        f"         read perm: {perms.shown('read')}",
        f"        write perm: {perms.shown('write')}",
        "   displayconnects: yes",
        "allowmultiplelogin: yes",
        "         Variables: ",
        "",
    ]


def getvar(expression: str, clock_offset: float, timezone: str) -> str:
    """EPOCH and STRFTIME([epoch][,zone[,format]]) as Asterisk evaluates them without a channel."""
    now = time.time() + clock_offset
    if expression == "EPOCH":
        return str(int(now))
    if expression.startswith("STRFTIME(") and expression.endswith(")"):
        epoch, _, rest = expression[len("STRFTIME(") : -1].partition(",")
        zone, _, fmt = rest.partition(",")
        when = datetime.fromtimestamp(float(epoch) if epoch else now, ZoneInfo(zone or timezone))
        return when.strftime(fmt or "%c")
    return ""
