"""The console service: FastAPI page + WebSocket, served by uvicorn inside the service's own event loop."""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from services.bus import REDIS_DOWN, Bus, Entry, Log, Requester, RequestTimeout, Status, keys, new_request_id
from services.bus.status import seconds_since_update

from .config import ConsoleSettings
from .sessions import COOKIE, RateLimit, Session, Sessions, check_command

PAGE = (Path(__file__).parent / "static" / "index.html").read_text()
NOT_AUTHORIZED = (
    "<!doctype html><title>Not authorized</title><h1>Not authorized</h1>"
    "<p>Open the console from the Asterisk Server form in Odoo (button <b>Console</b>).</p>"
)
COMPLETE_EOF = "_EOF_"  # Asterisk's AST_CLI_COMPLETE_EOF, the end of a match list
GATEWAY_STALE_S = 30.0
OUTPUT_TO_ODOO = 65536  # characters of a command's output kept in Odoo's history


class _Server(uvicorn.Server):
    # The service's own handlers turn SIGTERM into its stop event; uvicorn must not take the signals.
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def completion_word(line: str) -> str:
    """The word being completed: the last one, or "" after a space (Asterisk's own convention)."""
    return "" if not line or line.endswith(" ") else line.split()[-1]


def cli_quote(text: str) -> str:
    """One argument for the Asterisk CLI parser: double quotes and backslashes, not shell quoting."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_matches(output: str) -> tuple[str, list[str]]:
    """`_command matchesarray` output: the common prefix, then every match, then `_EOF_`.

    An empty common prefix shows as a leading space, which a line-trimming transport may have eaten: the
    first word is the prefix only if every other word starts with it.
    """
    words = output.strip("\r\n").split(" ")
    words = (
        [w for w in words[: words.index(COMPLETE_EOF)] if w]
        if COMPLETE_EOF in words
        else [w for w in words if w]
    )
    if output.startswith(" "):
        return "", words
    if len(words) > 1 and all(w.startswith(words[0]) for w in words[1:]):
        return words[0], words[1:]
    if len(words) == 1:
        return words[0], words
    return "", words


class Console:
    def __init__(self, settings: ConsoleSettings, bus: Bus) -> None:
        self.settings = settings
        self.bus = bus
        self.sessions = Sessions(bus, settings.console_session_ttl_s)
        self.requester = Requester(bus, f"console-{socket.gethostname()}-{os.getpid()}")
        self.status = Status(bus, "console")
        self.log = Log("console", server=bus.server)
        self.app = self._make_app()
        self.server: _Server | None = None

    # -- HTTP -------------------------------------------------------------------------------------------
    def _make_app(self) -> FastAPI:
        app = FastAPI(title="Asterisk console", docs_url=None, redoc_url=None, openapi_url=None)

        @app.get("/", response_model=None)
        async def page(request: Request, token: str | None = None) -> Response:
            if token is not None:
                return await self._redeem(request, token)
            session = await self.sessions.get(request.cookies.get(COOKIE))
            if session is None:
                return HTMLResponse(NOT_AUTHORIZED, status_code=401)
            return HTMLResponse(PAGE.replace("{{server}}", html.escape(self.bus.server)), headers=_no_store())

        @app.get("/healthz")
        async def healthz() -> JSONResponse:
            try:
                await self.bus.redis.ping()
            except REDIS_DOWN as exc:
                return JSONResponse({"ready": False, "reason": f"redis: {exc}"}, status_code=503)
            gateway = await self.gateway_state()
            return JSONResponse({"ready": True, "asterisk": gateway})

        @app.websocket("/ws")
        async def ws(websocket: WebSocket) -> None:
            await self._websocket(websocket)

        return app

    async def _redeem(self, request: Request, token: str) -> Response:
        session, why = await self.sessions.redeem(token)
        client = request.client.host if request.client else ""
        if session is None:
            self.log.warning("console token refused", reason=why, client=client)
            return HTMLResponse(NOT_AUTHORIZED, status_code=401)
        self.log.info("console session opened", user=session.login, uid=session.uid, client=client)
        # Redirect so the used token leaves the address bar and the browser history.
        response = RedirectResponse("./", status_code=303, headers=_no_store())
        response.set_cookie(
            COOKIE,
            session.sid,
            max_age=self.settings.console_session_ttl_s,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",  # uvicorn sets it from X-Forwarded-Proto of a trusted proxy
        )
        return response

    # -- WebSocket --------------------------------------------------------------------------------------
    async def _websocket(self, websocket: WebSocket) -> None:
        session = await self.sessions.get(websocket.cookies.get(COOKIE))
        if session is None:
            # Accept first: a close before the handshake reaches the page as a bare 1006 it would retry.
            await websocket.accept()
            await websocket.close(code=4401, reason="not authorized")
            return
        await websocket.accept()
        log = self.log.bind(user=session.login, uid=session.uid)
        log.info("console connected")
        limit = RateLimit(self.settings.console_rate_per_s, self.settings.console_rate_burst)
        events = _EventPane()
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
                "asterisk": await self.gateway_state(),
            }
        )
        pane = asyncio.create_task(self._events_loop(events, send))
        state = asyncio.create_task(self._state_loop(send))
        try:
            while True:
                try:
                    message = json.loads(await websocket.receive_text())
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
        events: _EventPane,
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
            await send(await self.complete(session, line, request_id))
            return
        line = line.strip()
        ok, text = await self.command(session, line)
        await send({"type": "output", "id": request_id, "ok": ok, "text": text})
        await self._record(session, line, ok, text, log)

    # -- Asterisk over the bus ----------------------------------------------------------------------------
    async def gateway_state(self) -> dict[str, Any]:
        try:
            fields = await self.bus.redis.hgetall(self.bus.key(keys.status("ami_gateway")))
        except REDIS_DOWN:
            return {"connected": False, "reason": "Redis unreachable"}
        if seconds_since_update(fields) > GATEWAY_STALE_S:  # no hash at all counts as stale
            return {"connected": False, "reason": "the AMI gateway is not running"}
        if fields.get("ami_connected") != "1":
            return {"connected": False, "reason": fields.get("reason") or "not connected"}
        return {"connected": True, "version": fields.get("asterisk_version", "")}

    async def command(self, session: Session, command: str) -> tuple[bool, str]:
        state = await self.gateway_state()
        if not state["connected"]:
            return False, f"Asterisk not connected: {state['reason']}"
        try:
            reply = await self.requester.request(
                keys.ACTIONS,
                {"Action": "Command", "Command": command},
                timeout=self.settings.console_command_timeout_s,
                uid=session.uid,
                user=session.login,
            )
        except RequestTimeout:
            return False, "Asterisk not connected: no answer from the AMI gateway in time"
        except REDIS_DOWN:
            return False, "Asterisk not connected: the bus (Redis) is unreachable"
        output = reply.get("Output") or ""
        if reply.meta.get("status") == "ok":
            return True, output
        return False, output or reply.meta.get("error") or "command failed"

    async def complete(self, session: Session, line: str, request_id: Any) -> dict[str, Any]:
        word = completion_word(line)
        ok, text = await self.command(session, f"_command matchesarray {cli_quote(line)} {cli_quote(word)}")
        if not ok:
            return {"type": "error", "id": request_id, "text": text}
        prefix, matches = parse_matches(text)
        return {
            "type": "matches",
            "id": request_id,
            "line": line,
            "word": word,
            "prefix": prefix,
            "matches": matches,
        }

    # -- records ------------------------------------------------------------------------------------------
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
        last = await self.gateway_state()
        while True:
            await asyncio.sleep(2)
            now = await self.gateway_state()
            if now != last:
                await send({"type": "status", "asterisk": now})
                last = now

    async def _events_loop(self, pane: _EventPane, send: Any) -> None:
        """The live pane: AMI events as they come, filtered per page, capped so a busy PBX can't flood it."""
        key = self.bus.key(keys.EVENTS)
        last = "$"
        while True:
            if not pane.on:
                await asyncio.sleep(0.2)
                last = "$"
                continue
            try:
                result = await self.bus.redis.xread({key: last}, block=1000, count=200)
            except REDIS_DOWN:
                await asyncio.sleep(1)
                continue
            for _, entries in result or ():
                for entry_id, fields in entries:
                    last = entry_id
                    entry = Entry.from_fields(keys.EVENTS, entry_id, fields)
                    if entry.type != "event" or not pane.wants(entry.headers):
                        continue
                    if pane.admit(self.settings.console_events_per_s):
                        await send({"type": "event", "id": entry_id, "headers": entry.headers})
            if pane.skipped and pane.sent < self.settings.console_events_per_s:
                await send({"type": "skipped", "count": pane.skipped})
                pane.skipped = 0

    # -- the service loop -----------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        config = uvicorn.Config(
            self.app,
            host=self.settings.console_host,
            port=self.settings.console_port,
            proxy_headers=True,
            forwarded_allow_ips=self.settings.console_forwarded_allow_ips,
            log_config=None,
            access_log=False,
            lifespan="off",
            ws_ping_interval=20,
        )
        self.server = _Server(config)
        await self.requester.start()
        heartbeat = asyncio.create_task(self.status.heartbeat(stop))
        serving = asyncio.create_task(self.server.serve())
        while not self.server.started and not serving.done():  # noqa: ASYNC110 - uvicorn offers only a flag
            await asyncio.sleep(0.02)
        if serving.done():  # the port is taken or similar: uvicorn has logged why
            stop.set()
        else:
            url = f"http://{self.settings.console_host}:{self.settings.console_port}"
            self.log.info("console listening", url=url)
            await self.status.set(ready=1, reason="", url=url)
            await stop.wait()
        self.server.should_exit = True
        await self.status.set(ready=0, reason="stopped")
        await asyncio.gather(serving, heartbeat, return_exceptions=True)
        await self.requester.close()


class _EventPane:
    def __init__(self) -> None:
        self.on = False
        self.filter = ""
        self.window = 0
        self.sent = 0
        self.skipped = 0

    def wants(self, headers: dict[str, Any]) -> bool:
        if not self.filter:
            return True
        for name in ("Event", "Channel", "DestChannel"):
            value = headers.get(name)
            if isinstance(value, str) and self.filter in value.lower():
                return True
        return False

    def admit(self, per_s: int) -> bool:
        second = int(time.monotonic())
        if second != self.window:
            self.window, self.sent = second, 0
        if self.sent >= per_s:
            self.skipped += 1
            return False
        self.sent += 1
        return True


def _no_store() -> dict[str, str]:
    return {"Cache-Control": "no-store"}
