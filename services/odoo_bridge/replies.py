"""Answers to the AMI actions Odoo's own code sent (`asterisk_plus.server.ami_action`, docs/odoo-api.md): the
gateway writes them on `odoo_replies` (the action's `@reply_to`), the bridge hands them to Odoo in batches,
which calls each request's callback once.

A stream of their own, not `to_odoo`: those replies notify a person, these are data for code. Not a
`replies:*` stream either: the gateway makes those expire, and a reply must wait for Odoo to come back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.bus import Entry, Outcome

if TYPE_CHECKING:
    from .bridge import Bridge

ON_REPLIES = ("asterisk_plus.ami_request", "on_ami_replies")


class RepliesRoute:
    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge

    async def handle(self, batch: list[Entry]) -> Outcome:
        replies = [e for e in batch if e.type == "reply"]
        outcome = await self.bridge.deliver({ON_REPLIES: replies}) if replies else Outcome()
        for entry in batch:
            if entry.type != "reply":
                outcome.reject[entry.id] = f"not a reply on {entry.stream}: @type {entry.type!r}"
        return outcome
