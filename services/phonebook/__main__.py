"""`python -m services.phonebook`: the caller's name for Asterisk's dialplan, and desk phones' phonebook."""

from __future__ import annotations

import asyncio

from services.bus import serve

from .config import PhonebookSettings
from .service import PhonebookService

if __name__ == "__main__":
    try:  # uvicorn[standard] brings it on Linux: a lookup's time is mostly the event loop's
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:
        pass
    serve("phonebook", PhonebookSettings, PhonebookService)
