"""The console service: FastAPI page + WebSocket, served by uvicorn inside the service's own event loop.

Here are the page, its assets, the token redeemed for a session cookie and the health check; what goes on
over the WebSocket is in `terminal.py`.
"""

from __future__ import annotations

import asyncio
import html
import os
import socket
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from services.bus import REDIS_DOWN, Bus, Log, Requester, Status, http_server

from .asterisk import Asterisk
from .config import ConsoleSettings
from .sessions import COOKIE, Sessions
from .terminal import Terminal
from .web import SecurityHeaders

STATIC = Path(__file__).parent / "static"
PAGE = (STATIC / "index.html").read_text()
ASSETS = {
    "console.js": ((STATIC / "console.js").read_text(), "text/javascript; charset=utf-8"),
    "console.css": ((STATIC / "console.css").read_text(), "text/css; charset=utf-8"),
}
NOT_AUTHORIZED = (
    "<!doctype html><title>Not authorized</title><h1>Not authorized</h1>"
    "<p>Open the console from the Asterisk Server form in Odoo (button <b>Console</b>).</p>"
)
WS_MAX_BYTES = 65536  # one WebSocket message from the page (a command is at most CONSOLE_MAX_COMMAND)


class Console:
    def __init__(self, settings: ConsoleSettings, bus: Bus) -> None:
        self.settings = settings
        self.bus = bus
        self.sessions = Sessions(bus, settings.console_session_ttl_s)
        self.requester = Requester(bus, f"console-{socket.gethostname()}-{os.getpid()}")
        self.asterisk = Asterisk(bus, self.requester, settings.console_command_timeout_s)
        self.status = Status(bus, "console")
        self.log = Log("console", server=bus.server)
        self.public_origins = settings.public_origins()
        self.terminal = Terminal(settings, bus, self.sessions, self.asterisk, self.log, self.public_origins)
        self.app = self._make_app()

    # -- HTTP -------------------------------------------------------------------------------------------
    def _make_app(self) -> FastAPI:
        app = FastAPI(title="Asterisk console", docs_url=None, redoc_url=None, openapi_url=None)
        app.add_middleware(SecurityHeaders, public_origins=self.public_origins)

        @app.get("/", response_model=None)
        async def page(request: Request, token: str | None = None) -> Response:
            if token is not None:
                return await self._redeem(request, token)
            session = await self.sessions.get(request.cookies.get(COOKIE))
            if session is None:
                return HTMLResponse(NOT_AUTHORIZED, status_code=401)
            return HTMLResponse(PAGE.replace("{{server}}", html.escape(self.bus.server)), headers=_no_store())

        for name, (text, media_type) in ASSETS.items():
            # Script and style are files of their own: the Content-Security-Policy allows no inline ones.
            app.add_api_route(
                f"/{name}",
                _asset(text, media_type),
                methods=["GET"],
                response_model=None,
                include_in_schema=False,
            )

        @app.get("/healthz")
        async def healthz() -> JSONResponse:
            # Anyone who reaches the port may ask: yes or no, never the Asterisk version or a reason.
            try:
                await self.bus.redis.ping()
            except REDIS_DOWN:
                return JSONResponse({"ready": False}, status_code=503)
            gateway = await self.asterisk.state()
            return JSONResponse({"ready": True, "asterisk": {"connected": gateway["connected"]}})

        @app.websocket("/ws")
        async def ws(websocket: WebSocket) -> None:
            await self.terminal.serve(websocket)

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
            ws_max_size=WS_MAX_BYTES,
        )
        await self.requester.start()
        async with http_server(config, self.status, self.log, stop, "console") as listening:
            if listening:
                await stop.wait()
        await self.requester.close()


def _asset(text: str, media_type: str) -> Any:
    async def asset() -> Response:
        return Response(text, media_type=media_type, headers={"Cache-Control": "no-cache"})

    return asset


def _no_store() -> dict[str, str]:
    return {"Cache-Control": "no-store"}
