"""Redis key names: everything of one Asterisk server under `<prefix>:<server>:`."""

from __future__ import annotations

from dataclasses import dataclass

EVENTS = "events"
SECURITY = "security"
ACTIONS = "actions"
TO_ODOO = "to_odoo"
DEAD = "dead"
RECORDINGS = "recordings"


def replies(requester: str) -> str:
    return f"replies:{requester}"


def commands(service: str) -> str:
    return f"commands:{service}"


def status(service: str) -> str:
    return f"status:{service}"


@dataclass(frozen=True)
class Keys:
    prefix: str
    server: str

    @property
    def base(self) -> str:
        return f"{self.prefix}:{self.server}:"

    def key(self, name: str) -> str:
        """Full Redis key of a name relative to the server (`events` -> `pbx:asterisk1:events`)."""
        return self.base + name

    def relative(self, key: str) -> str:
        return key[len(self.base) :] if key.startswith(self.base) else key
