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
    # Entries of the `recordings` stream per Odoo call (chunks of up to RECORDINGS_CHUNK_BYTES each).
    odoo_recordings_batch: int = 4
