"""The gateway: AMI events onto the bus in arrival order, AMI actions from the bus with replies."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections import deque
from typing import Any

from panoramisk.message import Message

from services.bus import (
    REDIS_DOWN,
    Backoff,
    Bus,
    Consumer,
    Log,
    StateLog,
    Status,
    Tasks,
    encode_pairs,
    keys,
    metrics,
    now_iso,
    sleep,
)

from .actions import ActionRunner
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
        # Unique per process: with the sequence number it makes `@id`, the dedupe key of every event.
        self.session = uuid.uuid4().hex[:12]
        self.seq = 0
        self.buffer: deque[tuple[dict[str, str], bool]] = deque()
        self.dropped = 0
        self.published = 0
        self._wake = asyncio.Event()
        self._down_since: str | None = None
        self._down_reason = ""
        # Status writes started by the connection's callbacks, which cannot await them.
        self.tasks = Tasks(self.log)
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
        self.actions = ActionRunner(settings, bus, self.ami, self.status, self.log, self.session)
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
        where: dict[str, Any] = {
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
            self.tasks.spawn(self.status.set(ami_connected=0, ready=0, reason=f"AMI login failed: {message}"))
            return
        version = (self.ami.protocol.version if self.ami.protocol else None) or ""
        self.ami_state.set("connected", **where, ami_version=version)
        self._close_gap()
        self.tasks.spawn(self._after_login(version))

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
            self._down_since = now_iso()
            self._down_reason = reason
        self.tasks.spawn(self.status.set(ami_connected=0, ready=0, reason=f"AMI {reason}"))

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
        until = now_iso()
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
        backoff = Backoff(0.1, 5.0)
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
                if stop.is_set() and backoff.at_most:
                    self.log.error("stopping with events not published", buffered=len(self.buffer))
                    return
                await backoff.sleep()  # not cut short by a stop: the buffer is worth a few more tries
                continue
            backoff.reset()
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
            await sleep(self.settings.ami_ping_interval_s, stop)
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

    async def run(self, stop: asyncio.Event) -> None:
        await self._gap_since_last_run()
        self.ami.connect()
        consumer = Consumer(self.bus, GROUP, {keys.ACTIONS: self.actions.handle}, start_id="$")
        tasks = [
            asyncio.create_task(self.publish_loop(stop)),
            asyncio.create_task(self.keepalive_loop(stop)),
            asyncio.create_task(consumer.run(stop)),
            asyncio.create_task(self.status.heartbeat(stop)),
        ]
        await stop.wait()
        self.ami.close()
        await self.tasks.wait()
        await self.status.set(ami_connected=0, ready=0, reason="stopped")
        await asyncio.gather(*tasks)
        self.log.info("gateway stopped", published=self.published, pid=os.getpid())
