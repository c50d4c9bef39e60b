"""odoo_bridge settings (environment variables)."""

from __future__ import annotations

from services.bus import BusSettings

# The seed's password of the system account (odoo_addons/asterisk_plus/data/system_account.xml): public.
DEFAULT_ODOO_PASSWORD = "asterisk1"


class BridgeSettings(BusSettings):
    odoo_url: str = "http://127.0.0.1:8069"
    odoo_db: str = "odoo"
    odoo_user: str = "asterisk1"
    odoo_password: str = DEFAULT_ODOO_PASSWORD
    odoo_timeout_s: float = 60.0
    odoo_retry_max_s: float = 30.0
    # Events in one Odoo call at most: Odoo's cost is mostly per call and per touched call record, so big is
    # cheap (measured on Odoo 18: 500 -> 1000 -> 2000 gave about +5% and +20%).
    odoo_batch: int = 1000
    # RPCs in flight at once, each with its own calls (Linkedids): several Odoo workers share the load.
    odoo_concurrency: int = 4
    # A Cdr's EndTime (read in the server's timezone) this far from its arrival: the timezone is wrong.
    odoo_tz_tolerance_s: float = 300.0
    # Entries of the `recordings` stream per Odoo call (chunks of up to RECORDINGS_CHUNK_BYTES each).
    odoo_recordings_batch: int = 4
