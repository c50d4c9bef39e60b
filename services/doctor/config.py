"""The doctor reads the same environment as the services: every service's settings in one class."""

from __future__ import annotations

from services.ami_gateway.config import GatewaySettings
from services.console.config import ConsoleSettings
from services.guard.config import GuardSettings
from services.odoo_bridge.config import BridgeSettings


class DoctorSettings(GatewaySettings, BridgeSettings, GuardSettings, ConsoleSettings):
    """AMI_* as the gateway reads them, ODOO_* as the bridge, GUARD_* as the guard, CONSOLE_* as the console.
    (The guard's own ODOO_URL and AMI_HOST, read only for its whitelist, give way to those.)"""
