"""`python -m services.phonebook`: the caller's name for Asterisk's dialplan, and desk phones' phonebook."""

from __future__ import annotations

from services.bus import serve

from .config import PhonebookSettings
from .service import PhonebookService

if __name__ == "__main__":
    serve("phonebook", PhonebookSettings, PhonebookService)
