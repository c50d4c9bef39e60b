"""An AMI server that behaves as Asterisk 22 does on the wire, for tests, benchmarks and `make run`."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from services.ami.codec import FrameParser, Pairs, encode, first

from .actions import Actions, Session
from .cli import CLI
from .manager import Perms
from .scenarios import Call, security_event

log = logging.getLogger("ami_peer")
BANNER = b"Asterisk Call Manager/11.0.0\r\n"


@dataclass
class AmiPeer(Actions):
    host: str = "127.0.0.1"
    port: int = 0
    users: dict[str, str] = field(default_factory=lambda: {"admin": "admin"})
    login_failure_delay: float = 1.0
    restart_downtime: float = 2.0
    tag_events: bool = False  # add `PeerSeq: N` to every event, for exactly-once checks
    # manager.conf `timestampevents=yes`: `Timestamp: <epoch>.<usec>` on every event.
    timestamp_events: bool = False
    # PJSIP endpoints with a contact: an Originate to any other fails (an OriginateResponse Failure).
    registered: set[str] = field(default_factory=lambda: {"101", "102", "103"})
    # Dialplan contexts: an Originate into another one is refused at once ("Extension does not exist.").
    contexts: set[str] = field(default_factory=lambda: {"from-internal", "from-trunk", "demo", "default"})
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
        self._serving: set[asyncio.Task[None]] = set()  # one per connection, awaited by stop()
        self._deferred: set[asyncio.Task[None]] = set()  # what actions started and did not wait for
        self._seq = itertools.count(1)
        self._sessions_ids = itertools.count(0x7EFF00)
        self._started = time.time()

    # -- life -----------------------------------------------------------------------------------------------

    async def start(self) -> AmiPeer:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        # A restart half-way or an OriginateResponse not yet sent has nobody left to hear it.
        for task in self._deferred:
            task.cancel()
        if self._deferred:
            await asyncio.wait(self._deferred)
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
        if self.timestamp_events and pairs and pairs[0][0] == "Event":
            # Asterisk writes it right after Event and Privilege, in its own clock.
            now = time.time() + self.clock_offset
            pairs = [*pairs[:2], ("Timestamp", f"{now:.6f}"), *pairs[2:]]
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
        return bool(await handler(session, frame, aid))

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


def _tv() -> Pairs:
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}+0000"
    return [("EventTV", stamp)]


__all__ = ["AmiPeer", "Call", "security_event"]
