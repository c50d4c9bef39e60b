"""odoo_bridge settings (environment variables)."""

from __future__ import annotations

from services.bus import BusSettings


class BridgeSettings(BusSettings):
    odoo_url: str = "http://127.0.0.1:8069"
    odoo_db: str = "odoo"
    odoo_user: str = "asterisk1"
    odoo_password: str = "asterisk1"
    odoo_timeout_s: float = 60.0
    odoo_retry_max_s: float = 30.0
