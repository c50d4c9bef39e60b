"""The Bus: one Redis connection, the server's key names, publishing and replying."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any, cast

import redis.asyncio as aioredis
from prometheus_client import Counter
from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
from redis.exceptions import (
    AskError,
    ClusterDownError,
    MovedError,
    SlotNotCoveredError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from . import metrics, resp
from .backoff import Backoff
from .client import AsyncRedis, Pipeline
from .config import BusSettings
from .connect import close_redis, connect_redis
from .entry import Entry, HeaderInput, encode, now_iso
from .keys import Keys
from .log import Log, StateLog

# What "Redis is away" looks like to redis-py: reconnect and try again, nothing else. On a cluster, also a
# cluster without a master for a slot (failing over) or a slot in the middle of a move.
REDIS_DOWN = (
    RedisConnectionError,
    RedisTimeoutError,
    ConnectionError,
    OSError,
    ClusterDownError,
    TryAgainError,
    SlotNotCoveredError,
)


class Bus:
    def __init__(self, settings: BusSettings, redis: AsyncRedis | None = None) -> None:
        self.settings = settings
        self.redis: AsyncRedis = redis or connect_redis(settings)
        self.keys = Keys.of(settings)
        self.server = settings.agent_server
        self.cluster = settings.redis_cluster
        self._maxlen: dict[str, int] = {}
        self.wait_replicas = settings.bus_wait_replicas
        # Writes a WAIT did not see on enough replicas in time (they may be lost if the master dies now).
        self.unreplicated = 0
        self._replication = StateLog(Log("bus", server=self.server), "replicas")
        self._packer = resp.XaddPacker(self.key, self.maxlen)
        self._out: dict[str, Counter] = {}  # stream label -> its pbx_entries_out counter

    def count_out(self, stream: str, n: int = 1) -> None:
        label = metrics.stream_label(stream)
        counter = self._out.get(label)
        if counter is None:
            counter = self._out[label] = metrics.ENTRIES_OUT.labels(self.server, label)
        counter.inc(n)

    async def close(self) -> None:
        await close_redis(self.redis)

    def key(self, stream: str) -> str:
        return self.keys.key(stream)

    def maxlen(self, stream: str) -> int:
        # Per-stream overrides name the family: "replies" covers every replies:<requester>.
        if stream not in self._maxlen:
            family = stream.split(":", 1)[0]
            value = self.settings.maxlen_for(stream)
            if value == self.settings.bus_maxlen:
                value = self.settings.maxlen_for(family)
            self._maxlen[stream] = value
        return self._maxlen[stream]

    def envelope(self, type: str, **meta: Any) -> dict[str, Any]:
        return {"type": type, "server": self.server, "at": now_iso(), **meta}

    async def publish(
        self, stream: str, headers: HeaderInput | None = None, *, type: str, payload: Any = None, **meta: Any
    ) -> str:
        """XADD one entry; `payload` (any JSON value) goes to `@json`. Returns the entry id."""
        if payload is not None:
            meta["json"] = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        fields = encode(headers, **self.envelope(type, **meta))
        key, maxlen = self.key(stream), self.maxlen(stream)
        entry_id = await self.redis.xadd(key, fields, maxlen=maxlen, approximate=True)
        self.count_out(stream)
        return entry_id

    async def publish_fields(self, stream: str, batch: Iterable[Mapping[str, str]]) -> list[str]:
        """XADD already-encoded entries in one pipelined round trip, in order."""
        return await self.publish_many((stream, fields) for fields in batch)

    async def publish_many(self, items: Iterable[tuple[str, Mapping[str, str]]]) -> list[str]:
        """XADD (stream, fields) items, in order, in one round trip; returns their ids.

        The commands are packed by `resp.XaddPacker` rather than by redis-py's pipeline: the gateway's hot
        path (the module says why, with the figures).
        """
        # A cluster may have to write the batch again through redis-py's pipeline: keep it.
        listed = list(items) if self.cluster else None
        parts: list[str] = []
        counts: dict[str, int] = {}
        count = self._packer.pack(items if listed is None else listed, parts, counts)
        if not count:
            return []
        replies = count
        if self.wait_replicas:
            # On the connection that wrote: WAIT counts the replicas that have this client's writes.
            timeout_ms = str(self.settings.bus_wait_timeout_ms)
            parts.append(resp.command("WAIT", str(self.wait_replicas), timeout_ms))
            replies += 1
        data = "".join(parts).encode()
        if listed is not None:
            written = await self._publish_cluster(listed, data, count)
            self._count_many(counts)
            return written
        try:
            ids = await self._send_packed(data, replies)
        except REDIS_DOWN:
            # Most often a pooled connection that died with a Redis restart: one more try on a fresh one.
            # If the first try had reached Redis, entries are doubled; their `@id` lets readers drop them.
            ids = await self._send_packed(data, replies)
        for reply in ids:
            if isinstance(reply, Exception):
                raise reply
        if self.wait_replicas:
            self._replicated(ids.pop(), count)
        self._count_many(counts)
        return ids

    def _count_many(self, counts: dict[str, int]) -> None:
        for stream, n in counts.items():
            self.count_out(stream, n)

    def _replicated(self, replicas: int, count: int) -> None:
        if replicas >= self.wait_replicas:
            self._replication.set("confirm the writes")
            return
        # Kept, not written again: a second copy would double every entry the replica does have. Redis's
        # WAIT guarantees nothing more; the log says the bus now runs without the replica's safety.
        self.unreplicated += count
        self._replication.set(
            "did not confirm the writes in time",
            logging.WARNING,
            wanted=self.wait_replicas,
            confirmed=replicas,
            timeout_ms=self.settings.bus_wait_timeout_ms,
        )

    async def _publish_cluster(
        self, items: list[tuple[str, Mapping[str, str]]], data: bytes, count: int
    ) -> list[str]:
        """One server's keys share a slot: the packed commands go to the node that holds it, as on a single
        Redis. When the cluster moved the slot (resharding, a failover), redis-py's cluster pipeline, which
        follows redirections, writes the batch once its map of the slots is made again."""
        cluster = cast(AsyncRedisCluster, self.redis)
        await cluster.initialize()
        node = cluster.get_node_from_key(self.key(items[0][0]))
        if node is None:  # the cluster has no master for the slot now (failing over): like Redis away
            raise SlotNotCoveredError(f"no node holds the slot of {self.key(items[0][0])}")
        conn = node.acquire_connection()
        try:
            await conn.send_packed_command(data, check_health=True)
            return [await conn.read_response() for _ in range(count)]
        except (MovedError, AskError, *REDIS_DOWN) as exc:
            await conn.disconnect()
            with contextlib.suppress(*REDIS_DOWN):
                await cluster.nodes_manager.initialize()
            if not isinstance(exc, (MovedError, AskError)):
                raise
            # Entries written before the redirection are written again: their `@id` tells them apart.
            pipe = cast(Pipeline, cluster.pipeline(transaction=False))
            for stream, fields in items:
                pipe.xadd(self.key(stream), dict(fields), maxlen=self.maxlen(stream), approximate=True)
            return await pipe.execute()
        except BaseException:
            await conn.disconnect()
            raise
        finally:
            node.release(conn)

    async def ack(self, stream_key: str, group: str, ids: list[str]) -> None:
        """XACK, and with BUS_WAIT_REPLICAS, WAIT for the replicas on the same connection."""
        if not self.wait_replicas:
            await self.redis.xack(stream_key, group, *ids)
            return
        pipe = self.redis.pipeline(transaction=False)
        pipe.xack(stream_key, group, *ids)
        pipe.execute_command("WAIT", self.wait_replicas, self.settings.bus_wait_timeout_ms)
        _, replicas = await pipe.execute()
        self._replicated(replicas, len(ids))

    async def _send_packed(self, data: bytes, count: int) -> list[Any]:
        pool = cast(aioredis.Redis, self.redis).connection_pool  # a single Redis: no cluster here
        conn = await pool.get_connection()  # type: ignore[no-untyped-call]  # not annotated in redis-py
        try:
            await conn.send_packed_command(data, check_health=True)
            return [await conn.read_response() for _ in range(count)]
        except BaseException:
            # A half-read reply stream cannot be reused.
            await conn.disconnect()
            raise
        finally:
            await pool.release(conn)

    async def reply(
        self,
        request: Entry,
        headers: HeaderInput | None = None,
        *,
        ok: bool = True,
        error: str = "",
        payload: Any = None,
        **meta: Any,
    ) -> str | None:
        """Answer a request on the stream it named, with its id; the reply stream expires when idle."""
        if not request.reply_to:
            return None
        for name in ("uid", "user"):
            if name in request.meta:
                meta.setdefault(name, request.meta[name])
        meta.setdefault("request_type", request.type)
        if payload is not None:
            meta["json"] = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        fields = encode(
            headers, **self.envelope("reply", id=request.msg_id, status="ok" if ok else "error", **meta)
        )
        if error:
            fields["@error"] = error
        key = self.key(request.reply_to)
        pipe = self.redis.pipeline(transaction=False)
        pipe.xadd(key, fields, maxlen=self.maxlen(request.reply_to), approximate=True)
        # Only a per-requester stream expires; a shared one (`to_odoo`) lives on with its readers.
        if request.reply_to.startswith("replies:"):
            pipe.expire(key, self.settings.bus_reply_ttl_s)
        results = await pipe.execute()
        self.count_out(request.reply_to)
        return str(results[0])


async def wait_for_redis(bus: Bus, stop: asyncio.Event | None = None, max_delay: float = 10.0) -> None:
    """Block until Redis answers PING, backing off; logs only when the state changes."""
    state = StateLog(Log("bus", server=bus.server), "redis")
    backoff = Backoff(0.1, max_delay)
    while stop is None or not stop.is_set():
        try:
            await bus.redis.ping()
            if not bus.cluster and (await bus.redis.info("cluster")).get("cluster_enabled"):
                # Without the hash tag the server's keys would scatter over the slots: refuse, say why.
                raise RuntimeError(f"{bus.settings.redis_url} is a Redis Cluster node: set REDIS_CLUSTER=yes")
            state.set("connected")
            return
        except REDIS_DOWN as exc:
            state.set("unreachable", logging.WARNING, error=str(exc), url=bus.settings.redis_url)
            await backoff.sleep(stop)
