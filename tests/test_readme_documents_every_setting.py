"""Every environment variable a service reads is in the README's configuration table."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.ami_gateway.config import GatewaySettings
from services.bus import BusSettings
from services.conf_sync.config import ConfSyncSettings
from services.console.config import ConsoleSettings
from services.guard.config import GuardSettings
from services.odoo_bridge.config import BridgeSettings
from services.phonebook.config import PhonebookSettings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


@pytest.mark.parametrize(
    "settings",
    [
        BusSettings,
        GatewaySettings,
        BridgeSettings,
        GuardSettings,
        ConfSyncSettings,
        ConsoleSettings,
        PhonebookSettings,
    ],
)
def test_every_setting_is_documented(settings: type) -> None:
    missing = [name.upper() for name in settings.model_fields if f"| `{name.upper()}` |" not in README]
    assert missing == []
