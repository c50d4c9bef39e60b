"""The doctor's AMI checks: log in as the gateway does, find the manager.conf classes, read Asterisk's clock.

Only harmless actions: Ping (any user), ModuleCheck (write class system), Command `core show version` and
`manager show user` (command), ListCategories (config), Getvar of STRFTIME/EPOCH (call or reporting). An
action runs when the user's write classes share one with the action's, so each probe names a class alone.
Whether `originate` is allowed cannot be seen without placing a call, unless `manager show user` tells it.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from services.ami.codec import FrameParser, Pairs, encode, first

from .clock import clock_check
from .config import DoctorSettings
from .report import FAIL, OK, WARN, Check

TIMEOUT_S = 5.0
# What the agent needs of manager.conf. Read: the events it forwards (calls, Cdr, FullyBooted), then the
# guard's security events and the queues' (agent class). Write: Reload and CoreSettings (system), the
# console and `pbx action Command` (command), click-to-call (originate).
READ_NEEDED = {"call": "calls", "cdr": "Cdr records", "system": "FullyBooted, for the conf sync"}
READ_WANTED = {"security": "the guard sees no attack", "agent": "no queue events in the call journal"}
WRITE_NEEDED = {"system": "Reload, CoreSettings", "command": "the console", "originate": "click-to-call"}
PROBES = {
    "system": {"Action": "ModuleCheck", "Module": "chan_pjsip"},
    "command": {"Action": "Command", "Command": "core show version"},
    "config": {"Action": "ListCategories", "Filename": "manager.conf"},
}
DENIED = "permission denied"


class AmiError(Exception):
    pass


class AmiClient:
    """One AMI session, one action at a time, events off: just enough to ask Asterisk a few questions."""

    def __init__(self) -> None:
        self.parser = FrameParser()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self._ids = itertools.count(1)

    async def connect(self, host: str, port: int) -> None:
        self.reader, self.writer = await asyncio.wait_for(asyncio.open_connection(host, port), TIMEOUT_S)

    async def action(self, headers: dict[str, str]) -> Pairs:
        assert self.reader is not None and self.writer is not None
        action_id = f"pbx-doctor-{next(self._ids)}"
        self.writer.write(encode([*headers.items(), ("ActionID", action_id)]))
        async with asyncio.timeout(TIMEOUT_S):
            while True:
                data = await self.reader.read(65536)
                if not data:
                    raise AmiError("Asterisk closed the connection")
                for frame in self.parser.feed(data):
                    if first(frame, "ActionID") == action_id and first(frame, "Response"):
                        return frame

    async def close(self) -> None:
        if self.writer is not None:
            try:
                self.writer.write(encode([("Action", "Logoff")]))
                self.writer.close()
                await asyncio.wait_for(self.writer.wait_closed(), 1)
            except (OSError, TimeoutError):
                pass


def ok(frame: Pairs) -> bool:
    return first(frame, "Response").lower() == "success"


@dataclass
class AmiFacts:
    logged_in: bool = False
    version: str = ""
    allowed: dict[str, bool] = field(default_factory=dict)  # probed write classes
    read: set[str] | None = None  # from `manager show user`, when the command class allows it
    write: set[str] | None = None
    skew_s: float | None = None  # Asterisk's clock minus this machine's
    # Asterisk's UTC offset, "+0100", now and mid-January and mid-July (DST), or why it is unknown.
    offsets: dict[str, str] = field(default_factory=dict)
    offsets_error: str = ""


def _classes(text: str) -> set[str]:
    return {c.strip() for c in text.split(",") if c.strip()}


async def gather(settings: DoctorSettings, checks: list[Check]) -> AmiFacts:
    """Log in and ask; appends the lines ami.login, ami.write, ami.read and clock to `checks`."""
    facts = AmiFacts()
    where = f"{settings.ami_user}@{settings.ami_host}:{settings.ami_port}"
    client = AmiClient()
    try:
        try:
            await client.connect(settings.ami_host, settings.ami_port)
            login = await client.action(
                {
                    "Action": "Login",
                    "Username": settings.ami_user,
                    "Secret": settings.ami_secret,
                    "Events": "off",
                }
            )
        except (OSError, TimeoutError, AmiError) as exc:
            checks.append(
                Check(
                    FAIL,
                    "ami.login",
                    f"cannot reach AMI at {settings.ami_host}:{settings.ami_port}: {_reason(exc)}",
                    "check AMI_HOST/AMI_PORT, manager.conf [general] enabled=yes, port and bindaddr",
                )
            )
            return facts
        if not ok(login):
            checks.append(
                Check(
                    FAIL,
                    "ami.login",
                    f"Asterisk refused the login of {where}: {first(login, 'Message') or 'no reason given'}",
                    f"check AMI_USER/AMI_SECRET against manager.conf [{settings.ami_user}] secret=, and that "
                    "its permit= lets this host in",
                )
            )
            return facts
        facts.logged_in = True
        await _ask(client, settings, facts)
    finally:
        await client.close()
    version = f"Asterisk {facts.version}" if facts.version else "Asterisk (version not readable)"
    checks.append(Check(OK, "ami.login", f"logged in as {where}, {version}"))
    checks += [_write_check(settings, facts), _read_check(settings, facts), clock_check(facts)]
    return facts


async def _ask(client: AmiClient, settings: DoctorSettings, facts: AmiFacts) -> None:
    ping = await client.action({"Action": "Ping"})
    stamp = first(ping, "Timestamp")
    if stamp:
        facts.skew_s = float(stamp) - time.time()
    for name, probe in PROBES.items():
        frame = await client.action(probe)
        facts.allowed[name] = ok(frame) or DENIED not in first(frame, "Message").lower()
        if name == "command" and ok(frame):
            facts.version = first(frame, "Output").split(" built ")[0].removeprefix("Asterisk ").strip()
    if facts.allowed["command"]:
        user = await client.action({"Action": "Command", "Command": f"manager show user {settings.ami_user}"})
        lines = [v for k, v in user if k == "Output"]
        for line in lines:
            label, _, value = line.strip().partition(":")
            if label.strip() == "read perm":
                facts.read = _classes(value)
            elif label.strip() == "write perm":
                facts.write = _classes(value)
    await _offsets(client, facts)


async def _offsets(client: AmiClient, facts: AmiFacts) -> None:
    """Asterisk's UTC offset now, and in winter and summer: a zone differing only by DST shows there."""
    year = datetime.now(UTC).year
    moments = {
        "now": "",
        "january": str(int(datetime(year, 1, 15, 12, tzinfo=UTC).timestamp())),
        "july": str(int(datetime(year, 7, 15, 12, tzinfo=UTC).timestamp())),
    }
    for label, epoch in moments.items():
        frame = await client.action({"Action": "Getvar", "Variable": f"STRFTIME({epoch},,%z)"})
        value = first(frame, "Value").strip()
        if not ok(frame) or len(value) != 5:
            facts.offsets_error = first(frame, "Message") or f"Getvar STRFTIME answered {value!r}"
            facts.offsets = {}
            return
        facts.offsets[label] = value


def _write_check(settings: DoctorSettings, facts: AmiFacts) -> Check:
    section = f"manager.conf [{settings.ami_user}] write="
    if facts.write is not None:
        missing = [
            f"{c} ({why})"
            for c, why in WRITE_NEEDED.items()
            if c not in facts.write and "all" not in facts.write
        ]
        if missing:
            return Check(FAIL, "ami.write", f"{section} lacks {', '.join(missing)}", _add(section, missing))
        return Check(OK, "ami.write", f"{section} has {', '.join(WRITE_NEEDED)}")
    # Without the command class there is no `manager show user`: what the probes showed.
    missing = [f"{c} ({WRITE_NEEDED[c]})" for c in ("system", "command") if not facts.allowed.get(c)]
    if missing:
        return Check(FAIL, "ami.write", f"{section} lacks {', '.join(missing)}", _add(section, missing))
    return Check(
        WARN,
        "ami.write",
        "system and command allowed; originate cannot be checked without placing a call",
        f"make sure {section} includes originate (click-to-call)",
    )


def _read_check(settings: DoctorSettings, facts: AmiFacts) -> Check:
    section = f"manager.conf [{settings.ami_user}] read="
    if facts.read is None:
        return Check(
            WARN,
            "ami.read",
            "the read classes cannot be seen without the command class (`manager show user`)",
            f"check by hand that {section} has {','.join([*READ_NEEDED, *READ_WANTED])}",
        )
    have = facts.read if "all" not in facts.read else set(READ_NEEDED) | set(READ_WANTED)
    missing = [f"{c} ({why})" for c, why in READ_NEEDED.items() if c not in have]
    if missing:
        return Check(FAIL, "ami.read", f"{section} lacks {', '.join(missing)}", _add(section, missing))
    wanted = [f"{c} ({why})" for c, why in READ_WANTED.items() if c not in have]
    if wanted:
        return Check(WARN, "ami.read", f"{section} lacks {', '.join(wanted)}", _add(section, wanted))
    return Check(OK, "ami.read", f"{section} has {', '.join([*READ_NEEDED, *READ_WANTED])}")


def _add(section: str, missing: list[str]) -> str:
    names = ",".join(m.split(" ")[0] for m in missing)
    return f"add {names} to {section}, then `manager reload` in Asterisk's CLI"


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
