"""Settings every service shares: where the bus is and which Asterisk server it speaks for."""

from __future__ import annotations

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class BusSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    redis_url: str = "redis://127.0.0.1:6379/0"
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
    log_level: str = "INFO"

    @field_validator("pbx_prefix", "agent_server")
    @classmethod
    def _no_separator(cls, value: str) -> str:
        if not value or ":" in value or any(c.isspace() for c in value):
            raise ValueError("must be non-empty, without ':' or spaces")
        return value

    def maxlen_for(self, stream: str) -> int:
        for item in filter(None, (part.strip() for part in self.bus_maxlen_streams.split(","))):
            name, _, value = item.partition("=")
            if name.strip() == stream:
                return int(value)
        return self.bus_maxlen
