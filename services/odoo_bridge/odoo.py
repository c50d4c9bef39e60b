"""Odoo over JSON-RPC with odoorpc. odoorpc blocks, so every call runs in a worker thread."""

from __future__ import annotations

import asyncio
import http.client
import socket
import urllib.error
from typing import Any
from urllib.parse import urlparse

import odoorpc

from services.bus import Log, metrics

from .config import DEFAULT_ODOO_PASSWORD, BridgeSettings
from .keepalive import KeepAliveOpener


class OdooDown(Exception):
    """Odoo could not be reached, or answered in a way that says 'try later': nothing was decided."""


class OdooRefused(Exception):
    """Odoo answered with an error: the call was understood and refused (wrong password, a bug, bad data)."""


TRANSPORT_ERRORS = (
    urllib.error.URLError,
    http.client.HTTPException,
    ConnectionError,
    socket.timeout,
    TimeoutError,
    OSError,
)
# Odoo errors that are about the moment, not the data: retrying later is right.
TRANSIENT = ("SerializationFailure", "OperationalError", "LockNotAvailable", "TransactionRollbackError")


def odoo_rpc(odoo_url: str, timeout: float, opener: Any = None) -> odoorpc.ODOO:
    """An odoorpc client (not logged in yet) of the Odoo at this URL: http or https, on the URL's port or the
    scheme's."""
    url = urlparse(odoo_url)
    https = url.scheme == "https"
    return odoorpc.ODOO(
        url.hostname or "127.0.0.1",
        protocol="jsonrpc+ssl" if https else "jsonrpc",
        port=url.port or (443 if https else 80),
        timeout=timeout,
        opener=opener,
    )


class OdooClient:
    def __init__(self, settings: BridgeSettings, log: Log, warned: set[str] | None = None) -> None:
        self.settings = settings
        self.log = log
        self._odoo: odoorpc.ODOO | None = None
        self._opener: KeepAliveOpener | None = None
        self.version = ""
        self._lock = asyncio.Lock()
        # What was warned about already; a pool's sessions share it: once per process, not per session.
        self.warned = warned if warned is not None else set()

    def _connect(self) -> odoorpc.ODOO:
        self._opener = KeepAliveOpener()
        odoo = odoo_rpc(self.settings.odoo_url, self.settings.odoo_timeout_s, self._opener.opener)
        odoo.login(self.settings.odoo_db, self.settings.odoo_user, self.settings.odoo_password)
        self.version = odoo.version
        if self.settings.odoo_password == DEFAULT_ODOO_PASSWORD and "default password" not in self.warned:
            self.warned.add("default password")  # not again at every new login
            self.log.warning(
                "the system account still has the seed's default password: anyone who reaches Odoo can act "
                "as the agent",
                user=self.settings.odoo_user,
                hint="set a new Password in the Asterisk server form, then the same ODOO_PASSWORD",
            )
        return odoo

    async def connect(self) -> None:
        """Log in now rather than on the first call."""
        async with self._lock:
            if self._odoo is None:
                self._odoo = await asyncio.to_thread(self._connect)

    def _execute(self, model: str, method: str, args: list[Any]) -> Any:
        if self._odoo is None:
            self._odoo = self._connect()
        return self._odoo.execute_kw(model, method, args)

    async def call(self, model: str, method: str, *args: Any) -> Any:
        """One RPC; raises OdooDown (retry later) or OdooRefused (Odoo's error text)."""
        # One lock: odoorpc's connection is not made for threads side by side. The timer runs inside it.
        async with self._lock, metrics.odoo_rpc(self.settings.agent_server, model, method):
            try:
                return await asyncio.to_thread(self._execute, model, method, list(args))
            except odoorpc.error.RPCError as exc:
                name = (exc.info or {}).get("data", {}).get("name", "") if isinstance(exc.info, dict) else ""
                text = f"{name}: {exc}" if name else str(exc)
                if any(t in name for t in TRANSIENT):
                    raise OdooDown(text) from exc
                if "AccessDenied" in name or "Wrong login" in str(exc):
                    self._forget()  # log in again next time: the password may have been fixed
                raise OdooRefused(text) from exc
            except odoorpc.error.InternalError as exc:
                self._forget()
                raise OdooDown(str(exc)) from exc
            except TRANSPORT_ERRORS as exc:
                self._forget()
                raise OdooDown(f"{type(exc).__name__}: {exc}") from exc

    def _forget(self) -> None:
        """The next call connects and logs in anew."""
        self._odoo = None
        if self._opener is not None:
            self._opener.close()
            self._opener = None


class OdooPool:
    """`size` clients, each its own session and connection, so that many calls can be in flight at once."""

    def __init__(self, settings: BridgeSettings, log: Log, size: int) -> None:
        warned: set[str] = set()
        self.clients = [OdooClient(settings, log, warned) for _ in range(max(1, size))]
        # Last in, first out: at low load one connection does the work and the others stay idle.
        self._free: asyncio.LifoQueue[OdooClient] = asyncio.LifoQueue()
        for client in reversed(self.clients):
            self._free.put_nowait(client)

    @property
    def version(self) -> str:
        return next((c.version for c in self.clients if c.version), "")

    async def connect_all(self) -> int:
        """Every session logs in at once, at start: a login costs Odoo a deliberately slow password hash
        (about a second of a worker's time), better spent before the first batches than among them.
        Returns how many are logged in; the others log in on their first call."""
        done = await asyncio.gather(*(c.connect() for c in self.clients), return_exceptions=True)
        return sum(1 for d in done if not isinstance(d, BaseException))

    async def call(self, model: str, method: str, *args: Any) -> Any:
        client = await self._free.get()
        try:
            return await client.call(model, method, *args)
        finally:
            self._free.put_nowait(client)
