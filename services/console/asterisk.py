"""Asterisk as the console reaches it: the gateway's status hash, and CLI commands as AMI `Command`."""

from __future__ import annotations

from typing import Any

from services.bus import REDIS_DOWN, Bus, Requester, RequestTimeout, keys, seconds_since_update

from .completion import cli_quote, completion_word, parse_matches
from .sessions import Session

GATEWAY_STALE_S = 30.0


class Asterisk:
    def __init__(self, bus: Bus, requester: Requester, command_timeout_s: float) -> None:
        self.bus = bus
        self.requester = requester
        self.command_timeout_s = command_timeout_s

    async def state(self) -> dict[str, Any]:
        try:
            fields = await self.bus.redis.hgetall(self.bus.key(keys.status("ami_gateway")))
        except REDIS_DOWN:
            return {"connected": False, "reason": "Redis unreachable"}
        if seconds_since_update(fields) > GATEWAY_STALE_S:  # no hash at all counts as stale
            return {"connected": False, "reason": "the AMI gateway is not running"}
        if fields.get("ami_connected") != "1":
            return {"connected": False, "reason": fields.get("reason") or "not connected"}
        return {"connected": True, "version": fields.get("asterisk_version", "")}

    async def command(self, session: Session, command: str) -> tuple[bool, str]:
        state = await self.state()
        if not state["connected"]:
            return False, f"Asterisk not connected: {state['reason']}"
        try:
            reply = await self.requester.request(
                keys.ACTIONS,
                {"Action": "Command", "Command": command},
                timeout=self.command_timeout_s,
                uid=session.uid,
                user=session.login,
            )
        except RequestTimeout:
            return False, "Asterisk not connected: no answer from the AMI gateway in time"
        except REDIS_DOWN:
            return False, "Asterisk not connected: the bus (Redis) is unreachable"
        output = reply.get("Output") or ""
        if reply.meta.get("status") == "ok":
            return True, output
        return False, output or reply.meta.get("error") or "command failed"

    async def complete(self, session: Session, line: str, request_id: Any) -> dict[str, Any]:
        word = completion_word(line)
        ok, text = await self.command(session, f"_command matchesarray {cli_quote(line)} {cli_quote(word)}")
        if not ok:
            return {"type": "error", "id": request_id, "text": text}
        prefix, matches = parse_matches(text)
        return {
            "type": "matches",
            "id": request_id,
            "line": line,
            "word": word,
            "prefix": prefix,
            "matches": matches,
        }
