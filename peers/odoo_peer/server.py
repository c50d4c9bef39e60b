"""An HTTP server speaking Odoo's JSON-RPC as odoorpc uses it (Odoo 17/18 routes), with the asterisk_plus
bridge methods in memory. It records what it receives and can be made to fail on demand."""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from .developer import EXECUTE_MAP_ROW, REQUESTS, RULES, Developer
from .recordings import RecordingStore, refusal

log = logging.getLogger("odoo_peer")

DEFAULT_MAP = [
    {"id": i + 1, "event": name, "model": "asterisk_plus.call", "method": "on_ami_events", "conditions": []}
    for i, name in enumerate(
        [
            "Newchannel",
            "Newstate",
            "DialBegin",
            "DialEnd",
            "BridgeEnter",
            "Hangup",
            "Cdr",
            "OriginateResponse",
        ]
    )
] + [{"id": 9, **EXECUTE_MAP_ROW}]


class OdooError(Exception):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


@dataclass
class Received:
    model: str
    method: str
    item: dict[str, Any]
    wall: float
    monotonic: float


@dataclass
class OdooPeer:
    host: str = "127.0.0.1"
    port: int = 0
    db: str = "demo"
    users: dict[str, str] = field(default_factory=lambda: {"asterisk1": "asterisk1", "admin": "admin"})
    config: dict[str, Any] = field(
        default_factory=lambda: {
            "country_code": "BE",
            "tz": "Europe/Brussels",
            "update_direction": "odoo_to_asterisk",
            "initial_update_done": False,
            "sync_at_start": True,
            "events_map": [dict(m) for m in DEFAULT_MAP],
            "module_version": "18.0.1.1.0",
            "console_url": "",
        }
    )
    latency: float = 0.0  # seconds added to every call, like a real Odoo round trip
    verbose: bool = False
    record: IO[str] | None = None  # one JSON line per received item: model, method, wall time, the item
    record_keys: tuple[str, ...] = ()  # only these keys of each item go to the record (all when empty)
    keep_alive: bool = True  # False: every answer says `Connection: close` and the connection is closed
    tls: ssl.SSLContext | None = None  # HTTPS, as a hosted Odoo answers
    keep_audio: bool = True  # False: recordings are checked and counted, their MP3 not kept (a long run)
    # Server records by name -> login of their system account, checked as the module does; None: any name,
    # any user.
    servers: dict[str, str] | None = None

    def __post_init__(self) -> None:
        self.received: list[Received] = []
        self.calls: list[tuple[str, str, int]] = []  # (model, method, items) per call
        self.seen: set[tuple[str, str, str]] = set()
        self.fail_next = 0  # this many calls answer with an Odoo server error
        self.reject: Callable[[dict[str, Any]], str | None] = lambda item: None
        self.files: dict[str, str] = {}
        # The conf files' sync state as the module keeps it (models/conf.py): names changed in Odoo since
        # the last sync, and the names each Upload took to conf_sync, synced once its conf.result says ok.
        self.changed: set[str] = set()
        self.uploads: dict[str, set[str]] = {}
        self.recordings = RecordingStore(self.keep_audio)
        self.developer = Developer()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._serving: set[asyncio.Task[None]] = set()  # one per connection, awaited by stop()
        self.in_flight = 0  # calls being answered right now
        self.max_in_flight = 0  # the most calls answered at once so far
        self.spans: list[tuple[float, float, list[dict[str, Any]]]] = []  # (start, end, items) per delivery
        self.connections = 0  # TCP connections accepted so far
        self.requests = 0  # HTTP requests answered so far
        self.logins = 0  # successful `common.login` calls so far
        self._uids = {login: n for n, login in enumerate(self.users, start=2)}

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    async def start(self) -> OdooPeer:
        self._server = await asyncio.start_server(self._serve, self.host, self.port, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Odoo down: open connections are closed and the port refuses new ones until `start()`."""
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            await self._server.wait_closed()
            self._server = None
        # Let each connection's task see its socket close, so none is left for the loop to cancel at exit.
        if self._serving:
            await asyncio.wait(self._serving, timeout=5)

    def items(self, model: str | None = None) -> list[dict[str, Any]]:
        return [r.item for r in self.received if model is None or r.model == model]

    # -- HTTP -----------------------------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._serving.add(task)
            task.add_done_callback(self._serving.discard)
        self.connections += 1
        self._writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                arrived = asyncio.get_running_loop().time()
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {
                    k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)
                }
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                status, payload = await self._route(path, body, arrived)
                self.requests += 1
                data = json.dumps(payload).encode()
                close = not self.keep_alive or headers.get("connection", "").lower() == "close"
                writer.write(
                    f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(data)}"
                    f"\r\nConnection: {'close' if close else 'keep-alive'}\r\n\r\n".encode()
                    + data
                )
                await writer.drain()
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, IndexError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _route(self, path: str, body: bytes, arrived: float) -> tuple[str, dict[str, Any]]:
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return "400 Bad Request", {"error": "not JSON"}
        rid = request.get("id")
        params = request.get("params") or {}
        try:
            if path == "/web/webclient/version_info":
                result: Any = {
                    "server_version": "18.0",
                    "server_version_info": [18, 0, 0, "final", 0, ""],
                    "server_serie": "18.0",
                    "protocol_version": 1,
                }
            elif path == "/jsonrpc":
                result = await self._jsonrpc(
                    str(params.get("service")), str(params.get("method")), params.get("args", []), arrived
                )
            else:
                return "404 NOT FOUND", {"error": f"no route {path}"}
        except OdooError as exc:
            return "200 OK", _error(rid, exc.name, str(exc))
        return "200 OK", {"jsonrpc": "2.0", "id": rid, "result": result}

    async def _jsonrpc(self, service: str, method: str, args: list[Any], arrived: float) -> Any:
        if service == "common" and method == "login":
            db, login, password = args
            if db != self.db or self.users.get(login) != password:
                return False
            self.logins += 1
            return self._uids[login]
        if service == "common" and method == "version":
            return {"server_version": "18.0"}
        if service != "object" or method not in ("execute", "execute_kw"):
            raise OdooError("odoo.exceptions.UserError", f"unknown service {service}.{method}")
        db, uid, password, model, name = args[:5]
        call_args = args[5] if len(args) > 5 else []
        login = next((lg for lg, u in self._uids.items() if u == uid), None)
        if db != self.db or login is None or self.users.get(login) != password:
            raise OdooError("odoo.exceptions.AccessDenied", "Access Denied")
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency:
                # The latency is the server's time per call from the request's arrival, parsing included.
                await asyncio.sleep(max(0.0, arrived + self.latency - asyncio.get_running_loop().time()))
            if self.fail_next > 0:
                self.fail_next -= 1
                raise OdooError(
                    "psycopg2.errors.SerializationFailure",
                    "could not serialize access due to concurrent update",
                )
            result = self._call(model, name, call_args, login)
            if name.startswith(("bridge_on_", "on_")):
                self.spans.append((arrived, asyncio.get_running_loop().time(), call_args[1]))
            return result
        finally:
            self.in_flight -= 1

    def _call(self, model: str, method: str, args: list[Any], login: str) -> Any:
        if model == "res.users" and method == "context_get":
            return {"lang": "en_US", "tz": "Europe/Brussels"}
        if model == "asterisk_plus.server" and method == "bridge_get_config":
            if self.servers is not None:
                if args[0] not in self.servers:
                    raise OdooError("odoo.exceptions.UserError", f"No Asterisk server named {args[0]}")
                if self.servers[args[0]] != login:
                    raise OdooError(
                        "odoo.exceptions.AccessError", f"Only the system account of {args[0]} may do this"
                    )
            return {"server": args[0], **self.config}
        if model == "asterisk_plus.server" and method == "bridge_ping":
            return {"ok": True, "db": self.db, "login": login}
        if model == "asterisk_plus.conf" and method == "bridge_get_files":
            request = args[2] if len(args) > 2 else None
            if not isinstance(request, dict) or not request.get("@entry") or not request.get("@id"):
                # The module looks the conf.plan request up on the bus and refuses without one.
                raise OdooError("odoo.exceptions.AccessError", "Odoo's files go only to a conf.plan request")
            return [{"name": n, "content": c} for n, c in sorted(self.files.items())]
        if model == "asterisk_plus.recording" and method in ("bridge_on_chunks", "bridge_on_recordings"):
            return self._recordings(method, args[1])
        if (model, method) in ((REQUESTS, "on_ami_replies"), (RULES, "on_execute_events")):
            return self._developer(model, method, args[1])
        if method.startswith("bridge_on_") or method == "on_ami_events":
            _server, items = args
            return self._deliver(model, method, items)
        raise OdooError("builtins.AttributeError", f"type object '{model}' has no attribute '{method}'")

    def _deliver(self, model: str, method: str, items: list[dict[str, Any]]) -> list[dict[str, str]]:
        now, mono = time.time(), time.monotonic()
        self.calls.append((model, method, len(items)))
        results = []
        for item in items:
            key = (model, method, str(item.get("@id") or item.get("@entry")))
            refused = refusal(self.reject, item, key in self.seen)
            if refused:
                results.append(refused)
                continue
            self.seen.add(key)
            self.received.append(Received(model, method, item, now, mono))
            if self.record is not None:
                kept = {k: item.get(k) for k in self.record_keys} if self.record_keys else item
                line = {"model": model, "method": method, "wall": now, "item": kept}
                self.record.write(json.dumps(line) + "\n")
            if method == "bridge_on_initial_done":
                self.config["initial_update_done"] = True
            if model == "asterisk_plus.server" and method == "bridge_on_replies":
                self._on_upload_result(item)
            if model == "asterisk_plus.conf" and method == "bridge_on_files" and item.get("@json"):
                f = json.loads(item["@json"])
                if f.get("mode") == "overwrite" or f["name"] not in self.files:
                    self.files[f["name"]] = f["content"]
            results.append({"status": "ok"})
        if self.record is not None:
            self.record.flush()
        if self.verbose:
            kinds = sorted({str(i.get("Event") or i.get("@type")) for i in items})
            log.info(
                "%s.%s: %d items in one call (%s), %d calls in flight",
                model,
                method,
                len(items),
                ", ".join(kinds),
                self.in_flight,
            )
        return results

    def _developer(self, model: str, method: str, items: list[dict[str, Any]]) -> list[dict[str, str]]:
        self.calls.append((model, method, len(items)))
        if method == "on_ami_replies":
            results = self.developer.on_ami_replies(items)
        else:
            results = self.developer.on_execute_events(items)
        now, mono = time.time(), time.monotonic()
        for item, result in zip(items, results, strict=True):
            if result["status"] == "ok":
                self.received.append(Received(model, method, item, now, mono))
        return results

    def edit_file(self, name: str, content: str) -> None:
        """A file made or edited in Odoo: changed since sync, and no Upload sent before says otherwise."""
        self.files[name] = content
        self.changed.add(name)
        for names in self.uploads.values():
            names.discard(name)

    def upload_sent(self, request_id: str, names: list[str]) -> None:
        """Odoo's Upload (or Apply) `request_id` took these files to conf_sync."""
        self.uploads[request_id] = set(names)

    def _on_upload_result(self, item: dict[str, Any]) -> None:
        """conf_sync's answer to an Upload (@id = the Upload's): its files are synced if it says ok."""
        if item.get("@type") != "conf.result" or item.get("@request_type") != "upload":
            return
        names = self.uploads.pop(str(item.get("@id") or ""), set())
        if item.get("@status") == "ok":
            self.changed -= names

    def _recordings(self, method: str, items: list[dict[str, Any]]) -> list[dict[str, str]]:
        """Chunks are staged (not recorded: they are the audio); summaries are recorded as other items are."""
        self.calls.append(("asterisk_plus.recording", method, len(items)))
        if method == "bridge_on_chunks":
            return self.recordings.on_chunks(items)
        results = self.recordings.on_recordings(items)
        now, mono = time.time(), time.monotonic()
        for item, result in zip(items, results, strict=True):
            if result["status"] != "ok":
                continue
            self.received.append(Received("asterisk_plus.recording", method, item, now, mono))
            if self.record is not None:
                kept = {k: item.get(k) for k in self.record_keys} if self.record_keys else item
                line = {"model": "asterisk_plus.recording", "method": method, "wall": now, "item": kept}
                self.record.write(json.dumps(line) + "\n")
        if self.record is not None:
            self.record.flush()
        if self.verbose:
            log.info("asterisk_plus.recording.%s: %d recordings in one call", method, len(items))
        return results


def _error(rid: Any, name: str, message: str) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": rid,
        "error": {
            "code": 200,
            "message": "Odoo Server Error",
            "data": {
                "name": name,
                "debug": f"Traceback (most recent call last):\n{name}: {message}\n",
                "message": message,
                "arguments": [message],
                "context": {},
            },
        },
    }
