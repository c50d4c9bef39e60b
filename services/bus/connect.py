"""The one place a Redis client is made, for every service, the `pbx` CLI and the health check.

Three topologies, chosen by the settings (docs/bus-contract.md, docs/deploy.md, "Redis high availability"):

- a single Redis at `REDIS_URL` (`rediss://` for TLS, options such as `ssl_ca_certs` in its query);
- Sentinel (`REDIS_SENTINELS`): the client asks the Sentinels for the master of `REDIS_MASTER_NAME` and asks
  again whenever a connection fails or the server it reaches answers READONLY (it was demoted), so a
  failover needs no restart: the services' own retry loops carry them over;
- Redis Cluster (`REDIS_CLUSTER=yes`): the URL names any node, the client follows the slots.
"""

from __future__ import annotations

import weakref
from typing import Any, cast

import redis
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
from redis.asyncio.connection import SSLConnection as AsyncSSLConnection
from redis.asyncio.connection import parse_url
from redis.asyncio.retry import Retry as AsyncRetry
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.backoff import ExponentialBackoff
from redis.cluster import RedisCluster
from redis.retry import Retry
from redis.sentinel import Sentinel

from .client import AsyncRedis, SyncRedis
from .config import BusSettings

# A pooled connection found dead (Redis restarted, a master lost) is replaced and the command sent again a
# few times, quickly; past that the error reaches the service, whose own loop backs off and tries again.
RETRIES = 3


def _backoff() -> ExponentialBackoff:
    return ExponentialBackoff(cap=1.0, base=0.05)


def _common() -> dict[str, Any]:
    return {
        "decode_responses": True,
        "socket_keepalive": True,
        "socket_connect_timeout": 5,
        "health_check_interval": 15,
    }


def _url_options(settings: BusSettings) -> dict[str, Any]:
    """What the URL says besides where: user, password, database, TLS and its options."""
    options: dict[str, Any] = dict(parse_url(settings.redis_url))
    options.pop("host", None)
    options.pop("port", None)
    if options.pop("connection_class", None) is AsyncSSLConnection:
        options["ssl"] = True
    if settings.redis_password:
        options["password"] = settings.redis_password
    return options


def _sentinel_options(settings: BusSettings, url: dict[str, Any]) -> dict[str, Any]:
    # Sentinels have a password of their own; with TLS on, they speak TLS too (Redis's tls-port applies).
    options: dict[str, Any] = {"socket_connect_timeout": 2, "socket_timeout": 2, "decode_responses": True}
    options.update({k: v for k, v in url.items() if k == "ssl" or k.startswith("ssl_")})
    if settings.redis_sentinel_password:
        options["password"] = settings.redis_sentinel_password
    return options


# A master_for client does not close its Sentinel connections: remember them to close with it.
_SENTINELS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def connect_redis(settings: BusSettings | str) -> AsyncRedis:
    """The asyncio client the settings describe (a plain URL string: a single Redis)."""
    # Typed as what decode_responses=True makes of redis-py's replies (client.py).
    return cast(AsyncRedis, _connect_async(settings))


def _connect_async(settings: BusSettings | str) -> aioredis.Redis | AsyncRedisCluster:
    if isinstance(settings, str):
        settings = BusSettings(redis_url=settings)
    if settings.redis_cluster:
        return AsyncRedisCluster(**_cluster_options(settings), retry=AsyncRetry(_backoff(), RETRIES))
    if settings.sentinel_addresses():
        url = _url_options(settings)
        sentinel = AsyncSentinel(
            settings.sentinel_addresses(), sentinel_kwargs=_sentinel_options(settings, url), **_common()
        )
        client: aioredis.Redis = sentinel.master_for(
            settings.redis_master_name, retry=AsyncRetry(_backoff(), RETRIES), check_connection=True, **url
        )
        _SENTINELS[client] = sentinel
        return client
    options = {**_common(), "retry": AsyncRetry(_backoff(), RETRIES)}
    if settings.redis_password:
        options["password"] = settings.redis_password
    return aioredis.from_url(settings.redis_url, **options)


def connect_redis_sync(settings: BusSettings, **overrides: Any) -> SyncRedis:
    """The same, blocking: for the container health check and scripts."""
    return cast(SyncRedis, _connect_sync(settings, **overrides))


def _connect_sync(settings: BusSettings, **overrides: Any) -> redis.Redis | RedisCluster:
    if settings.redis_cluster:
        options = {**_cluster_options(settings), **overrides}
        return RedisCluster(**options, retry=Retry(_backoff(), RETRIES))
    if settings.sentinel_addresses():
        url = _url_options(settings)
        sentinel = Sentinel(
            settings.sentinel_addresses(), sentinel_kwargs=_sentinel_options(settings, url), **_common()
        )
        master: redis.Redis = sentinel.master_for(
            settings.redis_master_name, retry=Retry(_backoff(), RETRIES), **{**url, **overrides}
        )
        return master
    options = {**_common(), "retry": Retry(_backoff(), RETRIES), **overrides}
    if settings.redis_password:
        options["password"] = settings.redis_password
    return redis.Redis.from_url(settings.redis_url, **options)


def _cluster_options(settings: BusSettings) -> dict[str, Any]:
    parsed = parse_url(settings.redis_url)
    options: dict[str, Any] = {**_common(), **_url_options(settings)}
    options.pop("db", None)  # a cluster has database 0 only
    options["host"] = parsed.get("host", "127.0.0.1")
    options["port"] = parsed.get("port", 6379)
    return options


async def close_redis(client: Any) -> None:
    await client.aclose()
    sentinel = _SENTINELS.pop(client, None)
    if sentinel is not None:
        await sentinel.aclose()
