"""Console settings (environment variables, docs/configuration.md)."""

from __future__ import annotations

from pydantic import field_validator

from services.bus import BusSettings

from .web import parse_public_origins


class ConsoleSettings(BusSettings):
    console_disabled: bool = False
    console_host: str = "0.0.0.0"
    console_port: int = 48001
    # Proxies whose X-Forwarded-Proto/-For are believed (uvicorn's forwarded_allow_ips); "*" trusts any.
    console_forwarded_allow_ips: str = "127.0.0.1"
    # Origins a browser shows for the console behind a proxy that rewrites Host (https://pbx.example.com);
    # the console's own origin (Host header and scheme) is always allowed.
    console_public_origin: str = ""
    console_session_ttl_s: int = 3600
    console_command_timeout_s: float = 10.0
    console_max_command: int = 1000
    console_rate_per_s: float = 2.0
    console_rate_burst: int = 10
    # Every WebSocket message (commands, completions, event filters, junk) counts against this one.
    console_message_rate_per_s: float = 20.0
    console_message_burst: int = 40
    console_events_per_s: int = 100
    console_history: int = 200

    @field_validator("console_disabled", mode="before")
    @classmethod
    def _yes_no(cls, value: object) -> object:
        # The seed and compose files say CONSOLE_DISABLED=yes; pydantic alone would refuse an empty value.
        if isinstance(value, str):
            return value.strip().lower() in ("yes", "y", "true", "1", "on")
        return value

    @field_validator("console_public_origin")
    @classmethod
    def _origins(cls, value: str) -> str:
        parse_public_origins(value)  # refuse a bad value at start, not at the first WebSocket
        return value

    def public_origins(self) -> tuple[str, ...]:
        return parse_public_origins(self.console_public_origin)
