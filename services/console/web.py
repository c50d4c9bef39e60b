"""What keeps other web pages away from the console: the WebSocket's Origin check and the response headers.

The session cookie is SameSite=Strict, but a page on another port of the same host is the same *site*, so
its WebSocket to the console carries the cookie. Browsers always send `Origin` with a WebSocket handshake:
only the console's own origin (from the Host header and scheme, as a proxy passes them) and the configured
public ones may open one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

DEFAULT_PORTS = {"http": "80", "https": "443"}
# host[:port]: a DNS name or IPv4 address, or an [IPv6] literal; nothing else may reach a header we write.
HOST = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?")


def origin_of(scheme: str, host: str) -> str | None:
    """`scheme://host[:port]`, lower-case, without a default port; None when it is not a plain origin."""
    scheme = {"ws": "http", "wss": "https"}.get(scheme.lower(), scheme.lower())
    match = HOST.fullmatch(host)
    if scheme not in DEFAULT_PORTS or match is None:
        return None
    name, port = match.group(1).lower(), match.group(2) or ""
    port = "" if port in ("", DEFAULT_PORTS[scheme]) else port
    return f"{scheme}://{name}" + (f":{port}" if port else "")


def parse_origin(value: str) -> str | None:
    """An Origin header (`https://pbx.example.com`) normalised as origin_of does; None for anything else."""
    scheme, sep, host = value.strip().partition("://")
    return origin_of(scheme, host) if sep else None


def parse_public_origins(value: str) -> tuple[str, ...]:
    """CONSOLE_PUBLIC_ORIGIN: comma-separated origins; a trailing `/` is forgiven, a path is not."""
    origins = []
    for item in (v.strip() for v in value.split(",")):
        if not item:
            continue
        origin = parse_origin(item.removesuffix("/"))
        if origin is None:
            raise ValueError(f"{item!r} is not an origin such as https://pbx.example.com (no path)")
        origins.append(origin)
    return tuple(origins)


def allowed_origins(scheme: str, host: str, public: Iterable[str]) -> list[str]:
    own = origin_of(scheme, host)
    return [*([own] if own else []), *(o for o in public if o != own)]


def origin_allowed(origin: str | None, scheme: str, host: str, public: Iterable[str]) -> bool:
    """A WebSocket's Origin is the console's own or a configured public one; a missing one is refused."""
    if not origin:
        return False
    return parse_origin(origin) in allowed_origins(scheme, host, public)


def security_headers(scheme: str, host: str, public: Iterable[str]) -> list[tuple[bytes, bytes]]:
    """Headers on every HTTP response: no framing, no referrer, no sniffing, scripts and sockets from here."""
    sockets = ["'self'"]  # 'self' covers ws(s) of the same host in current browsers; the rest say it plainly
    for origin in allowed_origins(scheme, host, public):
        sockets.append(origin.replace("https://", "wss://", 1).replace("http://", "ws://", 1))
    csp = (
        f"default-src 'self'; connect-src {' '.join(sockets)}; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'none'; object-src 'none'"
    )
    return [
        (b"content-security-policy", csp.encode()),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-content-type-options", b"nosniff"),
    ]


def header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


class SecurityHeaders:
    """ASGI middleware adding security_headers() to every HTTP response (the WebSocket has its own check)."""

    def __init__(self, app: Any, public_origins: tuple[str, ...]) -> None:
        self.app = app
        self.public = public_origins

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(scope.get("scheme", "http"), header(scope, b"host"), self.public)

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
