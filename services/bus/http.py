"""A uvicorn HTTP server run inside a service's own loop (the console, the phonebook).

The service's signal handlers turn SIGTERM into its stop event, so uvicorn must not take the signals; the
server starts with the service's heartbeat and stops with it. uvicorn is imported when a server starts: the
services without one do not load it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

from .log import Log
from .status import Status

if TYPE_CHECKING:
    import uvicorn


@contextlib.asynccontextmanager
async def http_server(
    config: uvicorn.Config, status: Status, log: Log, stop: asyncio.Event, name: str
) -> AsyncIterator[bool]:
    """Serve `config` with the service's heartbeat; yields whether it listens (the status says ready, with
    its URL). A port already taken or similar sets `stop` (uvicorn has logged why). On leaving, the server
    stops and the status says so."""
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    server = Server(config)
    heartbeat = asyncio.create_task(status.heartbeat(stop))
    serving = asyncio.create_task(server.serve())
    while not server.started and not serving.done():  # noqa: ASYNC110 - uvicorn offers only a flag
        await asyncio.sleep(0.02)
    listening = not serving.done()
    if listening:
        url = f"http://{config.host}:{config.port}"
        log.info(f"{name} listening", url=url)
        await status.set(ready=1, reason="", url=url)
    else:
        stop.set()
    try:
        yield listening
    finally:
        server.should_exit = True
        await status.set(ready=0, reason="stopped")
        await asyncio.gather(serving, heartbeat, return_exceptions=True)
