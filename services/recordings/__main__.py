"""`python -m services.recordings`: finished recordings -> MP3 -> Odoo, as attachments of their calls."""

from services.bus.service import serve

from .config import RecordingsSettings
from .service import Recordings

if __name__ == "__main__":
    serve("recordings", RecordingsSettings, Recordings)
