"""What the phonebook reads from Redis, and how it answers: pure functions and one small reader class.

Odoo writes, per server (odoo_addons/asterisk_plus/models/phonebook.py):
  `<prefix>:<server>:phonebook`       hash, E.164 number -> the name a desk phone shows
  `<prefix>:<server>:phonebook:meta`  hash, `token` (what callers must present), `country` (ISO alpha-2, how a
                                      local number is read), `count`, `updated_at`
"""

from __future__ import annotations

import hmac
import re
import time
from dataclasses import dataclass
from xml.sax.saxutils import escape

from services.bus import Bus
from services.numbers import to_e164

BOOK = "phonebook"
META = "phonebook:meta"

# Characters that mean something to Asterisk's dialplan or expression parser, and control characters: a
# name is handed to Set(CALLERID(name)=...) and must stay plain text.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f"\\$\[\]{}`]')
_SPACES = re.compile(r"\s+")


def safe_name(name: str, limit: int) -> str:
    """A name as the dialplan may take it: no quotes, backslashes, `$[]{}` or control characters, one
    space at a time, at most `limit` characters."""
    return _SPACES.sub(" ", _UNSAFE.sub("", name or "")).strip()[:limit].strip()


def token_ok(given: str | None, expected: str) -> bool:
    """Constant-time comparison; no token published means nobody is let in."""
    if not expected or not given:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def number_key(asked: str, country: str) -> str | None:
    """The hash key of the number the dialplan asks about: E.164 with the server's country, None when it
    is no outside number (an extension, `anonymous`)."""
    return to_e164(asked.strip(), country)


def yealink_xml(entries: dict[str, str], title: str = "Odoo") -> str:
    """Yealink's remote phonebook (`YealinkIPPhoneDirectory`): one entry per name, its numbers under it."""
    by_name: dict[str, list[str]] = {}
    for number, name in entries.items():
        by_name.setdefault(name, []).append(number)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<YealinkIPPhoneDirectory>",
        f"<Title>{escape(title)}</Title>",
    ]
    for name in sorted(by_name, key=str.casefold):
        lines.append("<DirectoryEntry>")
        lines.append(f"<Name>{escape(name)}</Name>")
        lines += [f"<Telephone>{escape(number)}</Telephone>" for number in sorted(by_name[name])]
        lines.append("</DirectoryEntry>")
    lines.append("</YealinkIPPhoneDirectory>")
    return "\n".join(lines) + "\n"


@dataclass
class Meta:
    token: str = ""
    country: str = ""
    count: str = ""
    updated_at: str = ""
    read_at: float = 0.0


class Book:
    """The server's phonebook in Redis: its meta read every `refresh_s`, one HGET a lookup."""

    def __init__(self, bus: Bus, refresh_s: float) -> None:
        self.bus = bus
        self.refresh_s = refresh_s
        self.book_key = bus.key(BOOK)
        self.meta_key = bus.key(META)
        self.meta = Meta()

    async def refresh(self) -> Meta:
        fields = await self.bus.redis.hgetall(self.meta_key)
        self.meta = Meta(
            token=fields.get("token", ""),
            country=fields.get("country", ""),
            count=fields.get("count", ""),
            updated_at=fields.get("updated_at", ""),
            read_at=time.monotonic(),
        )
        return self.meta

    async def current(self) -> Meta:
        # Until Odoo's first publication every request looks again, so the book serves as soon as it exists.
        if not self.meta.token or time.monotonic() - self.meta.read_at >= self.refresh_s:
            await self.refresh()
        return self.meta

    async def name(self, number: str) -> str | None:
        return await self.bus.redis.hget(self.book_key, number)

    async def entries(self) -> dict[str, str]:
        return await self.bus.redis.hgetall(self.book_key)
