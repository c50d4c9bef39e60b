"""A urllib opener for odoorpc that keeps its HTTP connection to Odoo open between calls.

urllib (which odoorpc uses) closes the connection after every request, so each batch paid a new connection,
and over HTTPS a TLS handshake. A proxy in front of Odoo (nginx) or a hosted Odoo keeps connections open; the
bridge then reuses one for as long as the server keeps it. Odoo's own server (werkzeug) closes after every
answer (`Connection: close`): the connection is then made anew for each call, as before.
"""

from __future__ import annotations

import http.client
import io
import urllib.error
import urllib.request
from http.cookiejar import CookieJar
from typing import Any
from urllib.response import addinfourl

# A reused connection the server closed while idle fails like this before any answer: the request is sent
# once more on a new connection. Should the server have read it after all, this is the bus's at-least-once
# delivery again: events and console commands are stored once by `@id`, files, bans and flags end the same.
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


class _KeepAlive:
    def __init__(self) -> None:
        self._connections: dict[str, http.client.HTTPConnection] = {}

    def close(self) -> None:
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()

    def _keep_alive_open(
        self,
        handler: urllib.request.AbstractHTTPHandler,
        connection_type: type[http.client.HTTPConnection],
        req: urllib.request.Request,
        **kw: Any,
    ) -> addinfourl | http.client.HTTPResponse:
        if req._tunnel_host:  # type: ignore[attr-defined]  # HTTPS through a proxy: urllib's own way
            return handler.do_open(connection_type, req, **kw)
        headers = dict(req.unredirected_hdrs)
        headers.update({k: v for k, v in req.headers.items() if k not in headers})
        headers = {name.title(): value for name, value in headers.items()}
        for attempt in (1, 2):
            connection = self._connections.get(req.host)
            reused = connection is not None
            if connection is None:
                connection = connection_type(req.host, timeout=req.timeout, **kw)
                self._connections[req.host] = connection
            try:
                connection.request(req.get_method(), req.selector, req.data, headers)
                response = connection.getresponse()
                body = response.read()
            except _STALE as exc:
                self._drop(req.host)
                if reused and attempt == 1:
                    continue
                raise urllib.error.URLError(exc) from exc
            except OSError as exc:  # a timeout, a refused connection: urllib's way of saying it
                self._drop(req.host)
                raise urllib.error.URLError(exc) from exc
            except BaseException:
                self._drop(req.host)
                raise
            if response.will_close:
                self._drop(req.host)
            result = addinfourl(io.BytesIO(body), response.headers, req.full_url, response.status)
            result.msg = response.reason  # type: ignore[attr-defined]  # urllib's error processor reads it
            return result
        raise AssertionError("unreachable")

    def _drop(self, host: str) -> None:
        connection = self._connections.pop(host, None)
        if connection is not None:
            connection.close()


class KeepAliveHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, pool: _KeepAlive) -> None:
        super().__init__()
        self.pool = pool

    # urllib takes any response with read/info/geturl/status; typeshed says HTTPResponse.
    def http_open(self, req: urllib.request.Request) -> addinfourl | http.client.HTTPResponse:  # type: ignore[override]
        return self.pool._keep_alive_open(self, http.client.HTTPConnection, req)


class KeepAliveHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, pool: _KeepAlive) -> None:
        super().__init__()
        self.pool = pool

    def https_open(self, req: urllib.request.Request) -> addinfourl | http.client.HTTPResponse:  # type: ignore[override]
        return self.pool._keep_alive_open(
            self,
            http.client.HTTPSConnection,
            req,
            context=self._context,  # type: ignore[attr-defined]
        )


class KeepAliveOpener:
    """`opener` for `odoorpc.ODOO`: cookies as odoorpc's own opener keeps them, one persistent connection."""

    def __init__(self) -> None:
        self._pool = _KeepAlive()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(CookieJar()),
            KeepAliveHTTPHandler(self._pool),
            KeepAliveHTTPSHandler(self._pool),
        )

    def close(self) -> None:
        self._pool.close()
