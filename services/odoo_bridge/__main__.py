"""`python -m services.odoo_bridge`: the bus <-> Odoo."""

from services.bus import serve

from .bridge import Bridge
from .config import BridgeSettings

if __name__ == "__main__":
    serve("odoo_bridge", BridgeSettings, Bridge)
