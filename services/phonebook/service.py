"""The phonebook service: a small HTTP server (uvicorn, inside the service's own event loop).

  GET /cid/<number>?token=...                 the caller's name as plain text ("" when unknown), for
                                              Asterisk's `CURL()` in `Set(CALLERID(name)=...)`
  GET /phonebook/yealink.xml?token=...        the whole book as a Yealink remote phonebook
  GET /healthz                                Redis reachable, and whether Odoo published a book

The token is the server's, published by Odoo with the book (`phonebook:meta`); a request without it gets
403 and an empty body. Lookups are not logged one by one (the dialplan asks on every call); refusals are
counted in the status hash and logged at most once a minute."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import parse_qs

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from services.bus import REDIS_DOWN, Bus, Log, Status, http_server, sleep

from .book import Book, number_key, safe_name, token_ok, yealink_xml
from .config import PhonebookSettings

REFUSAL_LOG_EVERY_S = 60.0
CID = "/cid/"


class PhonebookService:
    def __init__(self, settings: PhonebookSettings, bus: Bus) -> None:
        self.settings = settings
        self.bus = bus
        self.book = Book(bus, settings.phonebook_meta_refresh_s)
        self.status = Status(bus, "phonebook")
        self.log = Log("phonebook", server=bus.server)
        self.counts = {"lookups": 0, "found": 0, "refused": 0, "unavailable": 0}
        self._last_refusal_log = 0.0
        self.app = self._make_app()

    # -- the caller's name ------------------------------------------------------------------------------
    async def check(self, token: str | None, client: str) -> int:
        """200 when the request carries the server's token; otherwise 403, or 503 (Redis away, no book)."""
        try:
            meta = await self.book.current()
        except REDIS_DOWN:
            self.counts["unavailable"] += 1
            return 503
        if not meta.token:
            self.counts["unavailable"] += 1
            return 503  # Odoo has not published a book (and its token) yet
        if token_ok(token, meta.token):
            return 200
        self.counts["refused"] += 1
        now = time.monotonic()
        if now - self._last_refusal_log >= REFUSAL_LOG_EVERY_S:
            self._last_refusal_log = now
            refused = self.counts["refused"]
            self.log.warning("phonebook request without the right token", client=client, refused=refused)
        return 403

    async def caller_name(self, number: str, token: str | None, client: str = "") -> tuple[int, str]:
        """(HTTP status, the name to show or "") for the number the dialplan asks about."""
        status = await self.check(token, client)
        if status != 200:
            return status, ""
        self.counts["lookups"] += 1
        key = number_key(number, self.book.meta.country)
        if key is None:
            return 200, ""
        try:
            name = await self.book.name(key)
        except REDIS_DOWN:
            self.counts["unavailable"] += 1
            return 503, ""
        if not name:
            return 200, ""
        self.counts["found"] += 1
        return 200, safe_name(name, self.settings.phonebook_name_max)

    # -- HTTP -------------------------------------------------------------------------------------------
    async def asgi(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """`GET /cid/<number>` is answered here, everything else by the FastAPI app: the dialplan waits for
        this one on every call, and FastAPI's routing and response objects were most of its time."""
        if scope["type"] != "http" or scope["method"] != "GET" or not scope["path"].startswith(CID):
            await self.app(scope, receive, send)
            return
        token = parse_qs(scope["query_string"].decode("latin-1")).get("token", [None])[0]
        client = scope["client"][0] if scope.get("client") else ""
        status, name = await self.caller_name(scope["path"][len(CID) :], token, client)
        body = name.encode()
        headers = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _make_app(self) -> FastAPI:
        app = FastAPI(title="Phonebook", docs_url=None, redoc_url=None, openapi_url=None)

        @app.get("/phonebook/yealink.xml")
        async def yealink(request: Request) -> Response:
            client = request.client.host if request.client else ""
            status = await self.check(request.query_params.get("token"), client)
            if status != 200:
                return PlainTextResponse("", status_code=status)
            try:
                entries = await self.book.entries()
            except REDIS_DOWN:
                self.counts["unavailable"] += 1
                return PlainTextResponse("", status_code=503)
            limit = self.settings.phonebook_name_max
            named = {number: safe_name(name, limit) for number, name in entries.items()}
            body = yealink_xml({number: name for number, name in named.items() if name})
            return Response(body, media_type="application/xml", headers={"Cache-Control": "no-store"})

        @app.get("/healthz")
        async def healthz() -> JSONResponse:
            try:
                meta = await self.book.refresh()
            except REDIS_DOWN as exc:
                return JSONResponse({"ready": False, "reason": f"redis: {exc}"}, status_code=503)
            published = {"published": bool(meta.token), "count": meta.count, "updated_at": meta.updated_at}
            return JSONResponse({"ready": True, **published})

        return app

    # -- the service loop -----------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        config = uvicorn.Config(
            self.asgi,
            interface="asgi3",
            host=self.settings.phonebook_host,
            port=self.settings.phonebook_port,
            log_config=None,
            access_log=False,
            lifespan="off",
        )
        async with http_server(config, self.status, self.log, stop, "phonebook") as listening:
            while listening and not stop.is_set():
                await self._report()
                await sleep(self.status.heartbeat_s, stop)

    async def _report(self) -> None:
        try:
            meta = await self.book.refresh()
        except REDIS_DOWN:
            return
        await self.status.set(published=int(bool(meta.token)), entries=meta.count, **self.counts)
