"""The AMI actions the peer answers, one method each, as Asterisk 22 answers them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from services.ami.codec import Pairs, encode, first

from .flows import click_to_call, local_chain, originate_failure
from .flows.recording import mixmonitor_started
from .manager import getvar

if TYPE_CHECKING:
    from .cli import CLI

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


class Actions:
    """Mixed into AmiPeer: what each action does. The state, `emit` and `replay` are the peer's."""

    cli: CLI
    channels: dict[str, Pairs]
    conf_files: dict[str, list[tuple[str, list[str]]]]
    registered: set[str]
    contexts: set[str]
    _started: float
    restart_downtime: float
    _deferred: set[asyncio.Task[None]]
    clock_offset: float
    timezone: str

    if TYPE_CHECKING:  # the peer's own (server.py)

        def emit(self, pairs: Pairs, privilege_filter: str | None = None) -> None: ...
        async def replay(
            self, events: Iterable[Pairs], rate: float | None = None, drain_every: int = 500
        ) -> int: ...
        async def drain(self) -> None: ...
        async def refuse_for(self, seconds: float) -> None: ...

    def _defer(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run after the response, as Asterisk does; kept so that stop() ends it."""
        task = asyncio.get_running_loop().create_task(coro)
        self._deferred.add(task)
        task.add_done_callback(self._deferred.discard)

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

    def _conf_file(self, session: Session, frame: Pairs, aid: Pairs) -> str | None:
        """The Filename the action names, or None once the error Asterisk gives for an unknown one is sent."""
        name = first(frame, "Filename")
        if name not in self.conf_files:
            session.send([("Response", "Error"), *aid, ("Message", "Config file not found")])
            return None
        return name

    async def _do_listcategories(self, session: Session, frame: Pairs, aid: Pairs) -> bool:
        name = self._conf_file(session, frame, aid)
        if name is None:
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
            self._defer(after())
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
        # In Asterisk's own clock and local time.
        started = datetime.fromtimestamp(self._started + self.clock_offset, ZoneInfo(self.timezone))
        session.send(
            [
                ("Response", "Success"),
                *aid,
                ("CoreStartupDate", started.strftime("%Y-%m-%d")),
                ("CoreStartupTime", started.strftime("%H:%M:%S")),
                ("CoreReloadDate", started.strftime("%Y-%m-%d")),
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
        name = self._conf_file(session, frame, aid)
        if name is None:
            return True
        out: Pairs = [("Response", "Success"), *aid]
        for c, (category, lines) in enumerate(self.conf_files[name]):
            out.append((f"Category-{c:06d}", category))
            out += [(f"Line-{c:06d}-{n:06d}", line) for n, line in enumerate(lines)]
        session.send(out)
        return True

    async def _do_originate(self, session: Session, frame: Pairs, aid: Pairs) -> bool:
        channel, exten, context = first(frame, "Channel"), first(frame, "Exten"), first(frame, "Context")
        is_async = first(frame, "Async").lower() in ("true", "yes", "1")
        if context and context not in self.contexts:
            session.send([("Response", "Error"), *aid, ("Message", "Extension does not exist.")])
            return True
        reachable = self.reachable(channel) and "999" not in exten
        if not is_async:
            # A sync Originate answers once the call is up, or fails: nothing is queued.
            if not reachable:
                session.send([("Response", "Error"), *aid, ("Message", "Originate failed")])
                return True
        session.send([("Response", "Success"), *aid, ("Message", "Originate successfully queued")])
        callerid = first(frame, "CallerID")
        cid_num = callerid.rpartition("<")[2].rstrip(">") if "<" in callerid else callerid
        cid_name = callerid.partition("<")[0].strip(' "') if "<" in callerid else ""
        action_id = aid[0][1] if aid and is_async else ""
        if not reachable:
            events = originate_failure(
                action_id,
                channel=channel,
                context=context,
                exten=exten,
                cid_num=cid_num,
                cid_name=cid_name,
                channel_id=first(frame, "ChannelId"),
                application=first(frame, "Application"),
                data=first(frame, "Data"),
            )
        elif channel.startswith("Local/"):
            events = local_chain(
                action_id=action_id,
                local=channel.removeprefix("Local/"),
                context=context,
                exten=exten,
                cid_num=cid_num or "<unknown>",
                cid_name=cid_name or "<unknown>",
                channel_id=first(frame, "ChannelId"),
                other_channel_id=first(frame, "OtherChannelId"),
            )
        else:
            events = click_to_call(
                action_id=action_id,
                channel=channel,
                context=context or "default",
                exten=exten,
                cid_num=cid_num or "<unknown>",
                cid_name=cid_name or "<unknown>",
                channel_id=first(frame, "ChannelId"),
            )
        if not is_async:  # no OriginateResponse without Async
            events = [e for e in events if dict(e).get("Event") != "OriginateResponse"]
        self._defer(self._originated(events))
        return True

    def reachable(self, channel: str) -> bool:
        """Can this channel be created? An unregistered PJSIP endpoint cannot (nor anything with 999)."""
        if not channel or "999" in channel:
            return False
        tech, _, resource = channel.partition("/")
        if tech.upper() == "PJSIP" and "@" not in resource:
            return resource in self.registered
        return True

    async def _originated(self, events: list[Pairs]) -> None:
        await asyncio.sleep(0.01)
        await self.replay(events)

    async def _do_hangup(self, session: Session, frame: Pairs, aid: Pairs) -> bool:
        channel = first(frame, "Channel")
        if channel not in self.channels:
            session.send([("Response", "Error"), *aid, ("Message", "No such channel")])
            return True
        self.channels.pop(channel)
        session.send([("Response", "Success"), *aid, ("Message", "Channel Hungup")])
        return True

    async def _do_mixmonitor(self, session: Session, frame: Pairs, aid: Pairs) -> bool:
        """As app_mixmonitor answers: the channel by name or Uniqueid; a bare Success (no Message)."""
        name, file = first(frame, "Channel"), first(frame, "File")
        if not name:
            session.send([("Response", "Error"), *aid, ("Message", "No channel specified")])
            return True
        snapshot = self.channels.get(name) or next(
            (pairs for pairs in self.channels.values() if ("Uniqueid", name) in pairs), None
        )
        if snapshot is None:
            session.send([("Response", "Error"), *aid, ("Message", "No such channel")])
            return True
        if not file:  # MixMonitor() without a file name refuses to start
            session.send([("Response", "Error"), *aid, ("Message", "Could not start monitoring channel")])
            return True
        session.send([("Response", "Success"), *aid])
        self._defer(self._originated(mixmonitor_started(snapshot, file)))
        return True

    async def restart(self) -> None:
        """`core restart now`: Shutdown event, sockets closed, down for a while, then back."""
        self.emit(
            [("Event", "Shutdown"), ("Privilege", "system,all"), ("Shutdown", "Cleanly"), ("Restart", "True")]
        )
        await self.drain()
        await self.refuse_for(self.restart_downtime)
