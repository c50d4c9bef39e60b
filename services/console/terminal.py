"""One page's WebSocket: its Origin and session checks, its messages, the commands it runs and their history
(per user for the page, and each command for Odoo's console history)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect

from services.bus import REDIS_DOWN, Bus, Log, keys, metrics, new_request_id

from .asterisk import Asterisk
from .config import ConsoleSettings
from .pane import EventPane
from .sessions import COOKIE, RateLimit, Session, Sessions, check_command
from .web import allowed_origins, origin_allowed

OUTPUT_TO_ODOO = 65536  # characters of a command's output kept in Odoo's history


class Terminal:
    def __init__(
        self,
        settings: ConsoleSettings,
        bus: Bus,
        sessions: Sessions,
        asterisk: Asterisk,
        log: Log,
        public_origins: tuple[str, ...],
    ) -> None:
        self.settings = settings
        self.bus = bus
        self.sessions = sessions
        self.asterisk = asterisk
        self.log = log
        self.public_origins = public_origins

    async def serve(self, websocket: WebSocket) -> None:
        session = await self.sessions.get(websocket.cookies.get(COOKIE))
        scheme, host = websocket.url.scheme, websocket.headers.get("host", "")
        origin = websocket.headers.get("origin")
        if not origin_allowed(origin, scheme, host, self.public_origins):
            # With a live session this is another page of the same site trying the user's cookie.
            self.log.warning(
                "console WebSocket refused: its page is not the console's",
                origin=origin or "(none)",
                allowed=",".join(allowed_origins(scheme, host, self.public_origins)),
                session_of=session.login if session else "(none)",
                client=websocket.client.host if websocket.client else "",
                hint="behind a proxy that rewrites Host, set CONSOLE_PUBLIC_ORIGIN",
            )
            await websocket.accept()
            await websocket.close(code=4403, reason="origin not allowed")
            return
        if session is None:
            # Accept first: a close before the handshake reaches the page as a bare 1006 it would retry.
            await websocket.accept()
            await websocket.close(code=4401, reason="not authorized")
            return
        await websocket.accept()
        log = self.log.bind(user=session.login, uid=session.uid)
        log.info("console connected")
        limit = RateLimit(self.settings.console_rate_per_s, self.settings.console_rate_burst)
        messages = RateLimit(self.settings.console_message_rate_per_s, self.settings.console_message_burst)
        refused = 0  # messages refused in a row: the first of them is answered, the rest dropped
        events = EventPane()
        send_lock = asyncio.Lock()

        async def send(message: dict[str, Any]) -> None:
            async with send_lock:
                await websocket.send_text(json.dumps(message))

        history = await self._history(session)
        await send(
            {
                "type": "hello",
                "user": session.login,
                "server": self.bus.server,
                "history": history,
                "asterisk": await self.asterisk.state(),
            }
        )
        pane = asyncio.create_task(events.stream(self.bus, self.settings.console_events_per_s, send))
        state = asyncio.create_task(self._state_loop(send))
        sessions = metrics.CONSOLE_SESSIONS.labels(self.bus.server)
        sessions.inc()
        try:
            while True:
                received = await websocket.receive()
                if received["type"] == "websocket.disconnect":
                    break
                # Before any work for it (JSON, Redis): a flood costs the console almost nothing.
                wait = messages.allow()
                if wait:
                    refused += 1
                    if refused == 1:
                        log.warning("console messages over the rate limit", wait_s=round(wait, 1))
                        await send({"type": "error", "text": f"too many messages: wait {wait:.1f} s"})
                    continue
                refused = 0
                try:
                    message = json.loads(received.get("text") or "")
                    if not isinstance(message, dict):
                        raise ValueError("not an object")
                except ValueError:
                    await send({"type": "error", "text": "unreadable message"})
                    continue
                if not await self.sessions.touch(session):
                    await websocket.close(code=4401, reason="session expired")
                    return
                await self._on_message(session, message, limit, events, send, log)
        except WebSocketDisconnect:
            pass
        finally:
            sessions.dec()
            for task in (pane, state):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            log.info("console disconnected")

    async def _on_message(
        self,
        session: Session,
        message: dict[str, Any],
        limit: RateLimit,
        events: EventPane,
        send: Any,
        log: Log,
    ) -> None:
        kind = message.get("type")
        request_id = message.get("id")
        if kind == "events":
            events.on = bool(message.get("on", True))
            events.filter = str(message.get("filter", ""))[:200].strip().lower()
            return
        if kind not in ("command", "complete"):
            await send({"type": "error", "id": request_id, "text": f"unknown message type {kind!r}"})
            return
        line = str(message.get("line", ""))
        why = check_command(line, self.settings.console_max_command, allow_empty=kind == "complete")
        if why:
            await send({"type": "error", "id": request_id, "text": why})
            return
        wait = limit.allow()
        if wait:
            await send(
                {"type": "error", "id": request_id, "text": f"too many commands: wait {wait:.1f} s and retry"}
            )
            return
        if kind == "complete":
            await send(await self.asterisk.complete(session, line, request_id))
            return
        line = line.strip()
        ok, text = await self.asterisk.command(session, line)
        metrics.CONSOLE_COMMANDS.labels(self.bus.server, "ok" if ok else "error").inc()
        await send({"type": "output", "id": request_id, "ok": ok, "text": text})
        await self._record(session, line, ok, text, log)

    def _history_key(self, session: Session) -> str:
        return self.bus.key(f"console:history:{session.uid}")

    async def _history(self, session: Session) -> list[str]:
        try:
            return list(reversed(await self.bus.redis.lrange(self._history_key(session), 0, -1)))
        except REDIS_DOWN:
            return []

    async def _record(self, session: Session, line: str, ok: bool, output: str, log: Log) -> None:
        """History for the page (per user) and the command for Odoo's console history."""
        try:
            pipe = self.bus.redis.pipeline(transaction=False)
            pipe.lpush(self._history_key(session), line)
            pipe.ltrim(self._history_key(session), 0, self.settings.console_history - 1)
            await pipe.execute()
            entry_id = await self.bus.publish(
                keys.TO_ODOO,
                {"command": line, "status": "ok" if ok else "error", "output": output[:OUTPUT_TO_ODOO]},
                type="console.command",
                id=new_request_id(),  # Odoo's dedupe key
                uid=session.uid,
                user=session.login,
            )
        except REDIS_DOWN as exc:
            log.error("command not recorded", command=line, error=str(exc))
            return
        log.info("command run", command=line, ok=ok, stream=keys.TO_ODOO, entry=entry_id)

    async def _state_loop(self, send: Any) -> None:
        """Tell the page when Asterisk comes or goes, so it never waits on a dead gateway unawares."""
        last = await self.asterisk.state()
        while True:
            await asyncio.sleep(2)
            now = await self.asterisk.state()
            if now != last:
                await send({"type": "status", "asterisk": now})
                last = now
