"""Redis key names: everything of one Asterisk server under `<prefix>:<server>:`.

On a Redis Cluster the server is a hash tag, `<prefix>:{<server>}:`: all keys of one server share one slot,
so a consumer reads all its streams in one XREADGROUP and a transaction spans them, while the servers spread
across the cluster's nodes. A single Redis or Sentinel keeps the plain form (no migration, readable keys).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

EVENTS = "events"
SECURITY = "security"
ACTIONS = "actions"
TO_ODOO = "to_odoo"
DEAD = "dead"
RECORDINGS = "recordings"
# Answers to the AMI actions Odoo code sends (`ami_action`): read by the bridge, handed to their callbacks.
ODOO_REPLIES = "odoo_replies"


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
    cluster: bool = False

    @classmethod
    def of(cls, settings: Any) -> Keys:
        return cls(settings.pbx_prefix, settings.agent_server, settings.redis_cluster)

    @property
    def base(self) -> str:
        if self.cluster:
            return f"{self.prefix}:{{{self.server}}}:"
        return f"{self.prefix}:{self.server}:"

    def key(self, name: str) -> str:
        """Full Redis key of a name relative to the server (`events` -> `pbx:asterisk1:events`)."""
        return self.base + name

    def relative(self, key: str) -> str:
        return key[len(self.base) :] if key.startswith(self.base) else key
