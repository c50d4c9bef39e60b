"""Settings every service shares: where the bus is and which Asterisk server it speaks for."""

from __future__ import annotations

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class BusSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    redis_url: str = "redis://127.0.0.1:6379/0"
    # Overrides the URL's password: kept apart so a Secret can hold it (the URL is plain configuration).
    redis_password: str = ""
    # High availability: the Sentinels (host:port,...) and the name they monitor the master by. The URL then
    # gives only the scheme (rediss: TLS), user, password and database; its host is not used.
    redis_sentinels: str = ""
    redis_master_name: str = "mymaster"
    redis_sentinel_password: str = ""
    # Redis Cluster: the URL names any node; keys carry the server as a hash tag (docs/bus-contract.md).
    redis_cluster: bool = False
    pbx_prefix: str = "pbx"
    agent_server: str = "asterisk1"
    # Approximate MAXLEN for every stream, and per-stream overrides: "events=1000000,security=200000".
    bus_maxlen: int = 1_000_000
    bus_maxlen_streams: str = ""
    # Consumer-group runner.
    bus_batch: int = 200
    bus_block_ms: int = 1000
    bus_claim_idle_ms: int = 30_000
    bus_max_deliveries: int = 5
    bus_retry_max_s: float = 30.0
    # How long a replies stream lives after its last reply.
    bus_reply_ttl_s: int = 3600
    # WAIT for this many replicas after the gateway's publishes and the consumers' acks (0: do not wait).
    bus_wait_replicas: int = 0
    bus_wait_timeout_ms: int = 1000
    log_level: str = "INFO"
    # Prometheus metrics on http://<host>:<port>/metrics; no port: the service's own (services/bus/metrics.py,
    # DEFAULT_PORTS), 0: none. The groups' lag and pending are read from Redis every interval.
    metrics_port: int | None = None
    metrics_host: str = "0.0.0.0"
    metrics_interval_s: float = 5.0

    @field_validator("pbx_prefix", "agent_server")
    @classmethod
    def _no_separator(cls, value: str) -> str:
        if not value or ":" in value or any(c.isspace() for c in value):
            raise ValueError("must be non-empty, without ':' or spaces")
        return value

    @field_validator("metrics_port", mode="before")
    @classmethod
    def _empty_is_default(cls, value: object) -> object:
        # METRICS_PORT= (left empty in an env file) means the service's own port, as when it is absent.
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _one_topology(self) -> BusSettings:
        if self.redis_cluster and self.redis_sentinels.strip():
            raise ValueError("REDIS_CLUSTER and REDIS_SENTINELS exclude each other")
        if self.redis_cluster and self.bus_wait_replicas:
            # WAIT names no key, so a cluster client cannot send it on the connection that wrote.
            raise ValueError("BUS_WAIT_REPLICAS is for a single Redis or Sentinel, not REDIS_CLUSTER")
        return self

    def sentinel_addresses(self) -> list[tuple[str, int]]:
        out = []
        for item in filter(None, (part.strip() for part in self.redis_sentinels.split(","))):
            host, sep, port = item.rpartition(":")
            if not sep or not host or not port.isdigit():
                raise ValueError(f"REDIS_SENTINELS: expected host:port, got {item!r}")
            out.append((host.strip("[]"), int(port)))
        return out

    def maxlen_for(self, stream: str) -> int:
        for item in filter(None, (part.strip() for part in self.bus_maxlen_streams.split(","))):
            name, _, value = item.partition("=")
            if name.strip() == stream:
                return int(value)
        return self.bus_maxlen
