"""The gateway: AMI events onto the bus in arrival order, AMI actions from the bus with replies."""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from collections import OrderedDict, deque
from datetime import UTC, datetime
from typing import Any

from panoramisk.actions import Action
from panoramisk.message import Message

from services.bus import (
    REDIS_DOWN,
    Bus,
    Consumer,
    Entry,
    Log,
    StateLog,
    Status,
    encode_pairs,
    expired,
    keys,
    metrics,
)
from services.bus.bus import _sleep
from services.bus.entry import parse_iso

from . import originate
from .checks import Refused, check_action
from .config import GatewaySettings
from .connection import AmiConnection, FastAMIProtocol, Pairs

GROUP = "ami_gateway"
SECURITY_PRIVILEGE = "security"


class Gateway:
    def __init__(self, settings: GatewaySettings, bus: Bus) -> None:
        self.settings = settings
        self.bus = bus
        self.log = Log("ami_gateway", server=bus.server)
        self.ami_state = StateLog(self.log, "AMI")
        self.redis_state = StateLog(self.log, "redis publishing")
        self.status = Status(bus, "ami_gateway")
        self.allowed = settings.allowed_actions()
        # Unique per process: with the sequence number it makes `@id`, the dedupe key of every event.
        self.session = uuid.uuid4().hex[:12]
        self.seq = 0
        self.buffer: deque[tuple[dict[str, str], bool]] = deque()
        self.dropped = 0
        self.published = 0
        self._wake = asyncio.Event()
        self._down_since: str | None = None
        self._down_reason = ""
        self._done_requests: OrderedDict[str, tuple[bool, str, dict[str, Any], Any]] = OrderedDict()
        FastAMIProtocol.max_frame_bytes = settings.ami_max_frame_bytes
        self.ami = AmiConnection(
            self,
            settings.ami_reconnect_max_s,
            host=settings.ami_host,
            port=settings.ami_port,
            username=settings.ami_user,
            secret=settings.ami_secret,
            loop=asyncio.get_running_loop(),
            log=logging.getLogger("ami_gateway.panoramisk"),
        )
        metrics.AMI_CONNECTED.watch(self, lambda g: g.ami.ready, server=bus.server)
        metrics.GATEWAY_BUFFERED.watch(self, lambda g: len(g.buffer), server=bus.server)
        metrics.GATEWAY_DROPPED.watch(
            self, lambda g: int(g.status.fields.get("dropped", "0")) + g.dropped, server=bus.server
        )

    # -- the AMI side (called by the connection) ------------------------------------------------------------

    def on_events(self, frames: list[Pairs], at: str) -> None:
        if self._down_since is not None:  # events can come before panoramisk reports the login
            self._close_gap()
        envelope = {"@type": "event", "@server": self.bus.server, "@at": at}
        for pairs in frames:
            self.seq += 1
            fields = encode_pairs(pairs, {**envelope, "@id": f"{self.session}:{self.seq}"})
            privilege = fields.get("Privilege", "")
            self._push(fields, SECURITY_PRIVILEGE in privilege)
            if fields.get("Event") == "FullyBooted":
                self.status.fields["fully_booted"] = "1"
        self.status.fields["last_event_at"] = at

    def _push(self, fields: dict[str, str], security: bool) -> None:
        if len(self.buffer) >= self.settings.gateway_buffer_max:
            # Redis has been away too long; keep the newest and say how much was lost.
            self.buffer.popleft()
            self.dropped += 1
        self.buffer.append((fields, security))
        self._wake.set()

    def on_connected(self, banner: str) -> None:
        self.log.debug("AMI TCP connected", host=self.settings.ami_host, port=self.settings.ami_port)

    def on_login(self, ok: bool, message: str) -> None:
        where = {
            "host": self.settings.ami_host,
            "port": self.settings.ami_port,
            "user": self.settings.ami_user,
        }
        if not ok:
            self.ami_state.set(
                "login failed",
                logging.ERROR,
                reason=message or "no reason given",
                **where,
                hint="check AMI_USER / AMI_SECRET and manager.conf",
            )
            asyncio.ensure_future(
                self.status.set(ami_connected=0, ready=0, reason=f"AMI login failed: {message}")
            )
            return
        version = self.ami.protocol.version if self.ami.protocol else ""
        self.ami_state.set("connected", **where, ami_version=version)
        self._close_gap()
        asyncio.ensure_future(self._after_login(version))

    async def _after_login(self, ami_version: str) -> None:
        asterisk_version = ""
        try:
            settings = await asyncio.wait_for(self.ami.send_action({"Action": "CoreSettings"}), 5)
            asterisk_version = settings.get("AsteriskVersion", "") if isinstance(settings, Message) else ""
        except Exception as exc:  # the version is nice to have; its absence changes nothing
            self.log.warning("could not read the Asterisk version", error=str(exc))
        await self.status.set(
            ami_connected=1, ami_version=ami_version, asterisk_version=asterisk_version, ready=1, reason=""
        )

    def on_disconnected(self, reason: str) -> None:
        self._mark_down(reason)
        # Asterisk closes the socket after a failed login: that is the same state, not a new one to log.
        if self.ami_state.state != "login failed":
            self.ami_state.set("disconnected", logging.WARNING, reason=reason)

    def on_connect_failed(self, reason: str) -> None:
        self._mark_down(reason)
        self.ami_state.set(
            "unreachable",
            logging.WARNING,
            reason=reason,
            host=self.settings.ami_host,
            port=self.settings.ami_port,
        )

    def _mark_down(self, reason: str) -> None:
        # FullyBooted arrives with the login response, before panoramisk reports the login: reset it here.
        self.status.fields["fully_booted"] = "0"
        if self._down_since is None:
            self._down_since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            self._down_reason = reason
        asyncio.ensure_future(self.status.set(ami_connected=0, ready=0, reason=f"AMI {reason}"))

    def on_malformed(self, count: int, oversized: int) -> None:
        self.log.warning(
            "AMI sent frames that could not be used; they were skipped",
            malformed=count,
            oversized=oversized,
            max_frame_bytes=self.settings.ami_max_frame_bytes,
        )

    def _close_gap(self) -> None:
        if self._down_since is not None:
            self._publish_gap(self._down_since, self._down_reason)
        self._down_since = None

    async def _gap_since_last_run(self) -> None:
        """A new gateway process continues a stream another one wrote: what came in between is unknown."""
        try:
            last = await self.bus.redis.xrevrange(self.bus.key(keys.EVENTS), count=1)
        except REDIS_DOWN:
            return
        if last and last[0][1].get("@at"):
            self._down_since = last[0][1]["@at"]
            self._down_reason = "gateway (re)started: no gateway was receiving Asterisk's events"

    def _publish_gap(self, since: str, reason: str) -> None:
        # Asterisk keeps no backlog: what it sent while nobody was connected is gone. Say so, in order.
        until = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        self.seq += 1
        fields = {
            "@type": "gap",
            "@server": self.bus.server,
            "@at": until,
            "@id": f"{self.session}:{self.seq}",
            "@from": since,
            "@to": until,
            "@reason": reason,
        }
        self._push(fields, False)
        self.log.warning(
            "events between these times were not received", gap_from=since, gap_to=until, reason=reason
        )

    # -- the bus side ---------------------------------------------------------------------------------------

    async def publish_loop(self, stop: asyncio.Event) -> None:
        """Move buffered events onto `events` (and `security`) in pipelined batches, in arrival order."""
        backoff = 0.0
        while True:
            if not self.buffer:
                if stop.is_set():
                    return
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), 0.5)
                except TimeoutError:
                    continue
            n = min(len(self.buffer), self.settings.gateway_flush_batch)
            items: list[tuple[str, dict[str, str]]] = []
            for i in range(n):
                fields, security = self.buffer[i]
                items.append((keys.EVENTS, fields))
                if security:
                    items.append((keys.SECURITY, fields))
            try:
                await self.bus.publish_many(items)
            except REDIS_DOWN as exc:
                self.redis_state.set("failing", logging.WARNING, error=str(exc), buffered=len(self.buffer))
                if stop.is_set() and backoff >= 5:
                    self.log.error("stopping with events not published", buffered=len(self.buffer))
                    return
                backoff = min(max(backoff * 2, 0.1), 5.0)
                await asyncio.sleep(backoff)
                continue
            backoff = 0.0
            self.redis_state.set("ok")
            for _ in range(n):
                self.buffer.popleft()
            self.published += n
            if self.dropped:
                self.log.error("events dropped while Redis was away (buffer full)", dropped=self.dropped)
                self.status.fields["dropped"] = str(
                    int(self.status.fields.get("dropped", "0")) + self.dropped
                )
                self.dropped = 0

    async def keepalive_loop(self, stop: asyncio.Event) -> None:
        """Ping Asterisk; a connection that does not answer in time is dropped and made again."""
        while not stop.is_set():
            await _sleep(self.settings.ami_ping_interval_s, stop)
            if stop.is_set() or not self.ami.ready:
                continue
            try:
                await asyncio.wait_for(
                    self.ami.send_action({"Action": "Ping"}), self.settings.ami_ping_timeout_s
                )
            except (TimeoutError, ConnectionError):
                self.log.warning(
                    "AMI did not answer Ping, reconnecting", timeout_s=self.settings.ami_ping_timeout_s
                )
                self.ami.abort()
            self.status.fields["published"] = str(self.published)
            self.status.fields["buffered"] = str(len(self.buffer))

    async def handle_actions(self, batch: list[Entry]) -> None:
        # Independent actions run side by side: a slow Originate must not hold a Ping back.
        await asyncio.gather(*(self.execute(entry) for entry in batch))

    async def execute(self, request: Entry) -> None:
        log = self.log.bind(stream=request.stream, entry=request.id, request=request.msg_id)
        done = self._done_requests.get(request.msg_id) if request.msg_id else None
        if done is not None:
            # Delivered again after we answered (the ack was lost): answer again, never run it twice.
            await self._reply(request, *done)
            return
        ok, error, headers, payload = await self._run(request, log)
        if request.msg_id:
            self._done_requests[request.msg_id] = (ok, error, headers, payload)
            while len(self._done_requests) > 10_000:
                self._done_requests.popitem(last=False)
        if not request.reply_to:
            log.warning("action has no @reply_to; its result is only logged", ok=ok, error=error)
            return
        await self._reply(request, ok, error, headers, payload)

    async def _reply(
        self, request: Entry, ok: bool, error: str, headers: dict[str, Any], events: Any
    ) -> None:
        # A list action's items travel as JSON in `@json`, with their number in `@count`.
        extra = {"count": len(events)} if events is not None else {}
        await self.bus.reply(request, headers, ok=ok, error=error, payload=events, **extra)

    async def _run(self, request: Entry, log: Log) -> tuple[bool, str, dict[str, Any], Any]:
        try:
            name, headers = check_action(
                request.headers, self.allowed, self.settings.gateway_max_action_bytes
            )
        except Refused as exc:
            return self._refuse(log, str(exc))
        if expired(request):
            return self._refuse(
                log, f"deadline {request.meta.get('deadline')} passed before {name} could run"
            )
        if not self.ami.ready:
            reason = self.status.fields.get("reason") or "not connected"
            return self._refuse(log, f"AMI not connected ({reason}); {name} was not sent")
        timeout = self.settings.gateway_action_timeout_s
        if name.lower() == "originate":
            timeout = originate.wait_s(headers, timeout)
        deadline = request.meta.get("deadline")
        if deadline:
            try:
                timeout = min(timeout, (parse_iso(deadline) - datetime.now(UTC)).total_seconds())
            except ValueError:
                pass
        action = Action(headers, ActionID=f"{self.session}-{request.msg_id or uuid.uuid4().hex}")
        started = time.monotonic()
        try:
            result = await asyncio.wait_for(self.ami.send_action(action), max(timeout, 0.1))
        except TimeoutError:
            self.ami.forget(action.id)
            return self._refuse(log, f"AMI did not answer {name} within {timeout:.1f} s")
        except ConnectionError as exc:
            return self._refuse(log, f"{exc}; {name} may or may not have run")
        ms = round((time.monotonic() - started) * 1000, 1)
        head, items = (result[0], result[1:]) if isinstance(result, list) else (result, None)
        ok = bool(head.success)
        error = "" if ok else (head.get("Message") or f"{name} failed")
        events = [_headers(m) for m in items] if items is not None else None
        reply = _headers(head)
        if ok and name.lower() == "originate" and (failed := originate.failure(events)):
            # Queued is not started: the OriginateResponse that followed says the call never began.
            ok, error = False, failed[0]
            reply.update(failed[1])
        said = {"error": error} if error else {}
        log.info("action done", action=name, ok=ok, items=len(events or ()), ms=ms, **said)
        return ok, error, reply, events

    def _refuse(self, log: Log, error: str) -> tuple[bool, str, dict[str, Any], Any]:
        log.warning("action refused", error=error)
        return False, error, {}, None

    async def run(self, stop: asyncio.Event) -> None:
        await self._gap_since_last_run()
        self.ami.connect()
        consumer = Consumer(self.bus, GROUP, {keys.ACTIONS: self.handle_actions}, start_id="$")
        tasks = [
            asyncio.create_task(self.publish_loop(stop)),
            asyncio.create_task(self.keepalive_loop(stop)),
            asyncio.create_task(consumer.run(stop)),
            asyncio.create_task(self.status.heartbeat(stop)),
        ]
        await stop.wait()
        self.ami.close()
        await self.status.set(ami_connected=0, ready=0, reason="stopped")
        await asyncio.gather(*tasks)
        self.log.info("gateway stopped", published=self.published, pid=os.getpid())


def _headers(message: Message) -> dict[str, Any]:
    """A response as reply headers: ActionID dropped, Command output joined into one text field."""
    out: dict[str, Any] = {}
    for name, value in message.items():
        if name.lower() == "actionid" or (name == "content" and not value):
            continue
        if name.lower() == "output":
            out["Output"] = "\n".join(value) if isinstance(value, list) else value
        else:
            out[name] = value
    return out
