"""The AMI connection: panoramisk's Manager, with a fast frame parser and reconnection with backoff.

panoramisk keeps what it does well (login, ActionIDs, matching responses and event lists to their actions).
Events go around its per-event Message/dispatch path straight to the gateway in whole TCP reads, which is what
lets one core ingest tens of thousands of events a second.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol

from panoramisk import Manager
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

from services.ami.codec import FrameParser
from services.bus import Backoff, now_iso

Pairs = list[tuple[str, str]]


class ConnectionListener(Protocol):
    def on_events(self, frames: list[Pairs], at: str) -> None: ...
    def on_connected(self, banner: str) -> None: ...
    def on_login(self, ok: bool, message: str) -> None: ...
    def on_disconnected(self, reason: str) -> None: ...
    def on_connect_failed(self, reason: str) -> None: ...
    def on_malformed(self, count: int, oversized: int) -> None: ...


def to_message(pairs: Pairs) -> Message:
    headers: dict[str, Any] = {}
    for name, value in pairs:
        if name in headers:
            current = headers[name]
            headers[name] = [*current, value] if isinstance(current, list) else [current, value]
        else:
            headers[name] = value
    return Message(headers)


class FastAMIProtocol(AMIProtocol):
    max_frame_bytes = 1_048_576
    # panoramisk's, which it does not annotate.
    version: str | None
    factory: AmiConnection | None
    responses: dict[str, Any]

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.parser = FrameParser(max_frame_bytes=self.max_frame_bytes)
        self._malformed_seen = (0, 0)
        self._early: list[Pairs] = []

    def data_received(self, data: bytes) -> None:
        frames = self.parser.feed(data)
        if self.version is None and self.parser.banner:
            self.version = self.parser.banner.partition("/")[2].strip()
        if self.factory is None:
            # The banner can arrive before panoramisk has attached this protocol to its Manager.
            self._early.extend(frames)
            return
        if self._early:
            frames, self._early = self._early + frames, []
        listener: ConnectionListener = self.factory.listener
        seen = (self.parser.malformed, self.parser.oversized)
        if seen != self._malformed_seen:
            listener.on_malformed(seen[0] - self._malformed_seen[0], seen[1] - self._malformed_seen[1])
            self._malformed_seen = seen
        if not frames:
            return
        events: list[Pairs] = []
        for pairs in frames:
            if not pairs:
                continue
            kind = pairs[0][0]
            if kind == "Event":
                events.append(pairs)
                # Items of an event list, or OriginateResponse, also complete an action someone waits on.
                if self.responses and any(name == "ActionID" for name, _ in pairs):
                    self.handle_message(to_message(pairs))
            elif kind == "Response" or any(name == "Response" for name, _ in pairs):
                self.handle_message(to_message(pairs))
            elif any(name == "Event" for name, _ in pairs):
                events.append(pairs)
            else:
                listener.on_malformed(1, 0)
        if events:
            listener.on_events(events, now_iso())


class AmiConnection(Manager):
    """panoramisk Manager that reconnects with exponential backoff and reports its state to a listener."""

    # panoramisk's, which it does not annotate.
    protocol: FastAMIProtocol | None
    pinger: asyncio.Handle | None

    def __init__(self, listener: ConnectionListener, reconnect_max_s: float, **config: Any) -> None:
        config.setdefault("protocol_factory", FastAMIProtocol)
        # The gateway runs its own keepalive with a timeout; panoramisk's pinger never notices a dead peer.
        config.setdefault("ping_delay", 10**9)
        super().__init__(**config)
        self.listener = listener
        self.backoff = Backoff(0.5, reconnect_max_s)
        self.stopping = False
        self._reconnect: asyncio.TimerHandle | None = None

    @property
    def ready(self) -> bool:
        return bool(self._connected and self.authenticated and self.protocol and not self.protocol.closed)

    def connect(self, *args: Any, **kwargs: Any) -> Any:
        self._reconnect = None
        if self.stopping:
            return None
        return super().connect(*args, **kwargs)

    def _schedule_reconnect(self) -> None:
        if self.stopping or self._reconnect is not None:
            return
        self._reconnect = self.loop.call_later(self.backoff.next(), self.connect)

    def connection_made(self, f: asyncio.Future[Any]) -> None:
        try:
            f.result()
        except OSError as exc:
            self._connected = False
            self.listener.on_connect_failed(str(exc) or type(exc).__name__)
            self._schedule_reconnect()
            return
        super().connection_made(f)
        self.listener.on_connected("")

    def login(self, future: asyncio.Future[Any]) -> bool:
        ok = bool(super().login(future))
        message = future.result()
        if ok:
            self.backoff.reset()
        self.listener.on_login(ok, message.get("Message", "") if hasattr(message, "get") else str(message))
        return ok

    def connection_lost(self, exc: Exception | None) -> None:
        self._connected = False
        self.authenticated = False
        if self.pinger:
            self.pinger.cancel()
            self.pinger = None
        # panoramisk would send these again after the next login; a stale Originate or restart must not run
        # late, so they fail now and their requesters get an error reply.
        while self.awaiting_actions:
            action = self.awaiting_actions.popleft()
            if not action.future.done():
                action.future.set_exception(ConnectionError("AMI connection lost before the reply"))
        reason = "closed by Asterisk" if exc is None or isinstance(exc, Message) else str(exc)
        self.listener.on_disconnected(reason)
        self._schedule_reconnect()

    def abort(self) -> None:
        """Drop a connection that stopped answering; the usual connection_lost path reconnects."""
        if self.protocol is not None and getattr(self.protocol, "transport", None) is not None:
            self.protocol.transport.abort()

    def close(self) -> None:
        self.stopping = True
        if self._reconnect is not None:
            self._reconnect.cancel()
            self._reconnect = None
        super().close()

    def forget(self, action_id: str) -> None:
        if self.protocol is not None:
            self.protocol.responses.pop(action_id, None)


ListenerFactory = Callable[[], ConnectionListener]
