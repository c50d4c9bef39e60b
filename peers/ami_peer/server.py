"""An AMI server that behaves as Asterisk 22 does on the wire, for tests, benchmarks and `make run`."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from services.ami.codec import FrameParser, Pairs, encode, first

from .cli import CLI
from .manager import Perms, getvar
from .scenarios import Call, security_event

log = logging.getLogger("ami_peer")
BANNER = b"Asterisk Call Manager/11.0.0\r\n"
ASTERISK_VERSION = "22.10.1"


@dataclass
class Session:
    writer: asyncio.StreamWriter
    address: tuple[str, int]
    user: str = ""
    events: bool = True
    id: str = ""

    def send(self, pairs: Iterable[tuple[str, str]]) -> None:
        if not self.writer.is_closing():
            self.writer.write(encode(pairs))


@dataclass
class AmiPeer:
    host: str = "127.0.0.1"
    port: int = 0
    users: dict[str, str] = field(default_factory=lambda: {"admin": "admin"})
    login_failure_delay: float = 1.0
    restart_downtime: float = 2.0
    tag_events: bool = False  # add `PeerSeq: N` to every event, for exactly-once checks
    perms: dict[str, Perms] = field(default_factory=dict)  # manager.conf read=/write= per user; absent: all
    clock_offset: float = 0.0  # seconds Asterisk's clock is ahead of this machine's
    timezone: str = "UTC"  # Asterisk's local time (STRFTIME, CoreStatus)

    def __post_init__(self) -> None:
        self.sessions: list[Session] = []
        self.actions_received: list[Pairs] = []
        self.sent_events: list[tuple[float, Pairs]] = []  # (time.time() when written, pairs)
        self.record_sent = True
        self.silent = False  # a hung Asterisk: the socket stays open, actions get no answer
        self.cli = CLI(self)
        self.channels: dict[str, Pairs] = {}
        self.conf_files: dict[str, list[tuple[str, list[str]]]] = {
            "manager.conf": [("general", ["enabled=yes", "port=5038"]), ("admin", ["secret=admin"])],
            "extensions.conf": [("general", ["static=yes"]), ("demo", ["exten=100,1,NoOp(test)"])],
        }
        self._server: asyncio.Server | None = None
        self._serving: set[asyncio.Task] = set()  # one per connection, awaited by stop()
        self._seq = itertools.count(1)
        self._sessions_ids = itertools.count(0x7EFF00)
        self._started = time.time()

    # -- life -----------------------------------------------------------------------------------------------

    async def start(self) -> AmiPeer:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        await self.stop_listening()
        self.drop_connections()
        # Let each connection's task see its socket close, so none is left for the loop to cancel at exit.
        if self._serving:
            await asyncio.wait(self._serving, timeout=5)

    async def stop_listening(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def drop_connections(self) -> None:
        """What a crash or a network cut looks like to the client: the sockets close under it."""
        for session in list(self.sessions):
            session.writer.transport.abort()
        self.sessions.clear()

    async def refuse_for(self, seconds: float) -> None:
        """Asterisk down: connections dropped and refused for a while, then back."""
        await self.stop_listening()
        self.drop_connections()
        await asyncio.sleep(seconds)
        await self.start()

    # -- events ---------------------------------------------------------------------------------------------

    def emit(self, pairs: Pairs, privilege_filter: str | None = None) -> None:
        if self.tag_events:
            pairs = [*pairs, ("PeerSeq", str(next(self._seq)))]
        data = encode(pairs)
        for session in self.sessions:
            if session.user and session.events and not session.writer.is_closing():
                session.writer.write(data)
        if self.record_sent:
            self.sent_events.append((time.time(), pairs))

    async def replay(self, events: Iterable[Pairs], rate: float | None = None, drain_every: int = 500) -> int:
        """Send events to every logged-in session, `rate` per second or as fast as the sockets take them."""
        n = 0
        start = time.perf_counter()
        for pairs in events:
            self.emit(pairs)
            n += 1
            if rate:
                ahead = n / rate - (time.perf_counter() - start)
                if ahead > 0:
                    await asyncio.sleep(ahead)
            elif n % drain_every == 0:
                await self.drain()
        await self.drain()
        return n

    async def replay_calls(self, calls: Iterable[Call], rate: float | None = None) -> int:
        return await self.replay((e for call in calls for e in call.events()), rate)

    async def drain(self) -> None:
        for session in list(self.sessions):
            try:
                await session.writer.drain()
            except (ConnectionError, RuntimeError):
                pass

    def send_raw(self, data: bytes) -> None:
        """Bytes as they are, for malformed-frame tests."""
        for session in self.sessions:
            if session.user:
                session.writer.write(data)

    # -- one client -----------------------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._serving.add(task)
            task.add_done_callback(self._serving.discard)
        peer = writer.get_extra_info("peername") or ("127.0.0.1", 0)
        session = Session(writer, (peer[0], peer[1]), id=f"0x{next(self._sessions_ids):x}")
        self.sessions.append(session)
        writer.write(BANNER)
        parser = FrameParser(expect_banner=False)
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                for frame in parser.feed(data):
                    if not await self._action(session, frame):
                        return
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            if session in self.sessions:
                self.sessions.remove(session)
            if not writer.is_closing():
                writer.close()

    async def _action(self, session: Session, frame: Pairs) -> bool:
        """Answer one action; False closes the connection."""
        self.actions_received.append(frame)
        if self.silent:
            return True
        name = first(frame, "Action")
        action_id = first(frame, "ActionID")
        aid = [("ActionID", action_id)] if action_id else []
        lname = name.lower()
        if lname == "login":
            return await self._login(session, frame, aid)
        if not session.user:
            session.send([("Response", "Error"), *aid, ("Message", "Permission denied")])
            return True
        handler = getattr(self, f"_do_{lname}", None)
        if handler is None:
            session.send([("Response", "Error"), *aid, ("Message", "Invalid/unknown command")])
            return True
        if not self.perms_of(session.user).may(lname):
            session.send([("Response", "Error"), *aid, ("Message", "Permission denied")])
            return True
        return await handler(session, frame, aid)

    def perms_of(self, user: str) -> Perms:
        return self.perms.get(user) or Perms()

    async def _login(self, session: Session, frame: Pairs, aid: Pairs) -> bool:
        user, secret = first(frame, "Username"), first(frame, "Secret")
        local = f"IPV4/TCP/{self.host}/{self.port}"
        remote = f"IPV4/TCP/{session.address[0]}/{session.address[1]}"
        if self.users.get(user) != secret or not user:
            kind = "InvalidPassword" if user in self.users else "InvalidAccountID"
            # The other sessions hear about it before the bad client gets its answer, as with Asterisk.
            self.emit(
                [
                    ("Event", kind),
                    ("Privilege", "security,all"),
                    *_tv(),
                    ("Severity", "Error"),
                    ("Service", "AMI"),
                    ("EventVersion", "2" if kind == "InvalidPassword" else "1"),
                    ("AccountID", user),
                    ("SessionID", session.id),
                    ("LocalAddress", local),
                    ("RemoteAddress", remote),
                    ("SessionTV", "1970-01-01T00:00:00.000+0000"),
                ]
            )
            await asyncio.sleep(self.login_failure_delay)
            session.send([("Response", "Error"), *aid, ("Message", "Authentication failed")])
            await session.writer.drain()
            return False
        session.user = user
        session.events = first(frame, "Events", "on").lower() not in ("off", "no", "false")
        session.send([("Response", "Success"), *aid, ("Message", "Authentication accepted")])
        if session.events:
            uptime = str(int(time.time() - self._started))
            session.send(
                [
                    ("Event", "FullyBooted"),
                    ("Privilege", "system,all"),
                    ("Uptime", uptime),
                    ("LastReload", uptime),
                    ("Status", "Fully Booted"),
                ]
            )
        self.emit(
            [
                ("Event", "SuccessfulAuth"),
                ("Privilege", "security,all"),
                *_tv(),
                ("Severity", "Informational"),
                ("Service", "AMI"),
                ("EventVersion", "1"),
                ("AccountID", user),
                ("SessionID", session.id),
                ("LocalAddress", local),
                ("RemoteAddress", remote),
                ("UsingPassword", "0"),
                ("SessionTV", _tv()[0][1]),
            ]
        )
        return True

    # -- actions, one method each ---------------------------------------------------------------------------

    async def _do_ping(self, session: Session, frame: Pairs, aid: Pairs) -> bool:
        now = time.time() + self.clock_offset
        session.send([("Response", "Success"), *aid, ("Ping", "Pong"), ("Timestamp", f"{now:.6f}")])
        return True

    async def _do_getvar(self, session: Session, frame: Pairs, aid: Pairs) -> bool:
        name = first(frame, "Variable")
        try:
            value = getvar(name, self.clock_offset, self.timezone)
        except (ValueError, KeyError) as exc:
            session.send([("Response", "Error"), *aid, ("Message", f"Failed to evaluate {name}: {exc}")])
            return True
        session.send([("Response", "Success"), *aid, ("Variable", name), ("Value", value)])
        return True

    async def _do_modulecheck(self, session: Session, frame: Pairs, aid: Pairs) -> bool:
        session.send([("Response", "Success"), *aid, ("Version", "")])
        return True

    async def _do_listcategories(self, session: Session, frame: Pairs, aid: Pairs) -> bool:
        name = first(frame, "Filename")
        if name not in self.conf_files:
            session.send([("Response", "Error"), *aid, ("Message", "Config file not found")])
            return True
        categories = [(f"Category-{c:06d}", cat) for c, (cat, _) in enumerate(self.conf_files[name])]
        session.send([("Response", "Success"), *aid, *categories])
        return True

    async def _do_logoff(self, session: Session, frame: Pairs, aid: Pairs) -> bool:
        session.send([("Response", "Goodbye"), *aid, ("Message", "Thanks for all the fish.")])
        await session.writer.drain()
        return False

    async def _do_command(self, session: Session, frame: Pairs, aid: Pairs) -> bool:
        ok, lines, after = self.cli.run(first(frame, "Command"))
        session.send(
            [
                ("Response", "Success" if ok else "Error"),
                *aid,
                ("Message", "Command output follows"),
                *(("Output", line) for line in (lines or [""])),
            ]
        )
        if after is not None:
            await session.writer.drain()
            asyncio.ensure_future(after())
        return True

    async def _do_reload(self, session: Session, frame: Pairs, aid: Pairs) -> bool:
        module = first(frame, "Module") or "All"
        session.send([("Response", "Success"), *aid, ("Message", "Module Reloaded")])
        self.emit([("Event", "Reload"), ("Privilege", "system,all"), ("Module", module), ("Status", "0")])
        return True

    async def _do_coresettings(self, session: Session, frame: Pairs, aid: Pairs) -> bool:
        session.send(
            [
                ("Response", "Success"),
                *aid,
                ("AMIversion", "11.0.0"),
                ("AsteriskVersion", ASTERISK_VERSION),
                ("SystemName", ""),
                ("CoreMaxCalls", "0"),
                ("CoreMaxLoadAvg", "0.000000"),
                ("CoreRunUser", "asterisk"),
                ("CoreRunGroup", "asterisk"),
                ("CoreMaxFilehandles", "0"),
                ("CoreRealTimeEnabled", "No"),
                ("CoreCDRenabled", "Yes"),
                ("CoreHTTPenabled", "No"),
                ("SoundsSearchCustomDir", "No"),
            ]
        )
        return True

    async def _do_corestatus(self, session: Session, frame: Pairs, aid: Pairs) -> bool:
        started = time.strftime("%Y-%m-%d", time.localtime(self._started))
        session.send(
            [
                ("Response", "Success"),
                *aid,
                ("CoreStartupDate", started),
                ("CoreStartupTime", time.strftime("%H:%M:%S", time.localtime(self._started))),
                ("CoreReloadDate", started),
                ("CoreReloadTime", "00:00:00"),
                ("CoreCurrentCalls", str(len(self.channels))),
            ]
        )
        return True

    async def _do_status(self, session: Session, frame: Pairs, aid: Pairs) -> bool:
        session.send(
            [("Response", "Success"), *aid, ("EventList", "start"), ("Message", "Channel status will follow")]
        )
        for pairs in self.channels.values():
            session.send([("Event", "Status"), ("Privilege", "Call"), *pairs, *aid])
        n = str(len(self.channels))
        session.send(
            [("Event", "StatusComplete"), *aid, ("EventList", "Complete"), ("ListItems", n), ("Items", n)]
        )
        return True

    async def _do_getconfig(self, session: Session, frame: Pairs, aid: Pairs) -> bool:
        name = first(frame, "Filename")
        if name not in self.conf_files:
            session.send([("Response", "Error"), *aid, ("Message", "Config file not found")])
            return True
        out: Pairs = [("Response", "Success"), *aid]
        for c, (category, lines) in enumerate(self.conf_files[name]):
            out.append((f"Category-{c:06d}", category))
            out += [(f"Line-{c:06d}-{n:06d}", line) for n, line in enumerate(lines)]
        session.send(out)
        return True

    async def _do_originate(self, session: Session, frame: Pairs, aid: Pairs) -> bool:
        channel, exten = first(frame, "Channel"), first(frame, "Exten")
        is_async = first(frame, "Async").lower() in ("true", "yes", "1")
        if not channel or "999" in channel or "999" in exten:
            if not is_async:
                session.send([("Response", "Error"), *aid, ("Message", "Originate failed")])
                return True
        if not is_async:
            session.send([("Response", "Success"), *aid, ("Message", "Originate successfully queued")])
            asyncio.ensure_future(self._originated(channel, exten, first(frame, "CallerID"), aid, False))
            return True
        session.send([("Response", "Success"), *aid, ("Message", "Originate successfully queued")])
        asyncio.ensure_future(self._originated(channel, exten, first(frame, "CallerID"), aid, True))
        return True

    async def _originated(self, channel: str, exten: str, callerid: str, aid: Pairs, report: bool) -> None:
        await asyncio.sleep(0.01)
        num = callerid.rpartition("<")[2].rstrip(">") or exten
        call = Call(
            f"{channel}-{next(self._seq):08x}",
            num,
            callerid.partition("<")[0].strip(' "'),
            f"PJSIP/trunk-{next(self._seq):08x}",
            exten,
            talk_s=3,
        )
        events = call.events()
        failed = "999" in channel or "999" in exten
        uid = first(events[0], "Uniqueid")
        if report:
            self.emit(
                [
                    ("Event", "OriginateResponse"),
                    ("Privilege", "call,all"),
                    *aid,
                    ("Response", "Failure" if failed else "Success"),
                    ("Channel", channel),
                    ("Context", "from-internal"),
                    ("Exten", exten),
                    ("Reason", "0" if failed else "4"),
                    ("Uniqueid", uid),
                    ("CallerIDNum", num),
                    ("CallerIDName", ""),
                ]
            )
        if not failed:
            await self.replay(events)

    async def _do_hangup(self, session: Session, frame: Pairs, aid: Pairs) -> bool:
        channel = first(frame, "Channel")
        if channel not in self.channels:
            session.send([("Response", "Error"), *aid, ("Message", "No such channel")])
            return True
        self.channels.pop(channel)
        session.send([("Response", "Success"), *aid, ("Message", "Channel Hungup")])
        return True

    async def restart(self) -> None:
        """`core restart now`: Shutdown event, sockets closed, down for a while, then back."""
        self.emit(
            [("Event", "Shutdown"), ("Privilege", "system,all"), ("Shutdown", "Cleanly"), ("Restart", "True")]
        )
        await self.drain()
        await self.refuse_for(self.restart_downtime)


def _tv() -> Pairs:
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}+0000"
    return [("EventTV", stamp)]


__all__ = ["AmiPeer", "Call", "security_event"]
