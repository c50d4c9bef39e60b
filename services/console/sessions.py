"""One-time tokens from Odoo's Console button, redeemed once for a session; per-session rate limits."""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import asdict, dataclass

from services.bus import Bus

TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
COOKIE = "pbx_console"


@dataclass(frozen=True)
class Session:
    sid: str
    uid: int
    login: str
    server: str


class Sessions:
    def __init__(self, bus: Bus, ttl_s: int) -> None:
        self.bus = bus
        self.ttl_s = ttl_s

    def _session_key(self, sid: str) -> str:
        return self.bus.key(f"console:session:{sid}")

    async def redeem(self, token: str) -> tuple[Session | None, str]:
        """The session a token opens, or None and why. GETDEL makes a token good exactly once."""
        if not TOKEN.match(token):
            return None, "malformed token"
        raw = await self.bus.redis.getdel(self.bus.key(f"console:token:{token}"))
        if raw is None:
            return None, "unknown, used or expired token"
        try:
            data = json.loads(raw)
            uid, login, server, exp = int(data["uid"]), str(data["login"]), str(data["server"]), data["exp"]
        except (ValueError, KeyError, TypeError):
            return None, "unreadable token"
        if float(exp) < time.time():
            return None, "expired token"
        if server != self.bus.server:
            return None, f"token for server {server}, this console serves {self.bus.server}"
        session = Session(secrets.token_urlsafe(32), uid, login, server)
        await self.bus.redis.set(self._session_key(session.sid), json.dumps(asdict(session)), ex=self.ttl_s)
        return session, ""

    async def get(self, sid: str | None) -> Session | None:
        if not sid or not TOKEN.match(sid):
            return None
        raw = await self.bus.redis.get(self._session_key(sid))
        if raw is None:
            return None
        try:
            return Session(**json.loads(raw))
        except (ValueError, TypeError):
            return None

    async def touch(self, session: Session) -> bool:
        """Keep an active session alive; False once it has expired."""
        return bool(await self.bus.redis.expire(self._session_key(session.sid), self.ttl_s))


class RateLimit:
    """Token bucket: `rate` commands a second on average, `burst` at once."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.at = time.monotonic()

    def allow(self) -> float:
        """0 when allowed now, else the seconds to wait."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


def check_command(line: str, max_len: int, allow_empty: bool = False) -> str:
    """Why a command line is refused, or "" when it may go to Asterisk (an empty one only to complete)."""
    if not line.strip() and not allow_empty:
        return "empty command"
    if len(line) > max_len:
        return f"command too long ({len(line)} characters, at most {max_len})"
    if any(ord(c) < 32 or ord(c) == 127 for c in line):
        return "control characters are not allowed in a command"
    return ""
