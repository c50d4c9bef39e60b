"""`python -m services.conf_sync`: Asterisk .conf files <-> Odoo."""

from services.bus import serve

from .config import ConfSyncSettings
from .sync import ConfSync

if __name__ == "__main__":
    serve("conf_sync", ConfSyncSettings, ConfSync)
