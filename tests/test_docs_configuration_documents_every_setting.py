"""Every environment variable a service reads is in docs/configuration.md's table: every field of every
pydantic settings class found in services/*/config.py, so a new service or setting cannot be left out."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[1]
TABLE = (ROOT / "docs" / "configuration.md").read_text()


def settings_classes() -> list[type[BaseSettings]]:
    found: list[type[BaseSettings]] = []
    for path in sorted((ROOT / "services").glob("*/config.py")):
        module = importlib.import_module(f"services.{path.parent.name}.config")
        for value in vars(module).values():
            # Defined in that module (not imported into it), a settings class and not the base itself.
            if (
                isinstance(value, type)
                and issubclass(value, BaseSettings)
                and value is not BaseSettings
                and value.__module__ == module.__name__
            ):
                found.append(value)
    return found


def test_every_service_with_a_config_has_its_settings_found() -> None:
    names = {cls.__name__ for cls in settings_classes()}
    services = {p.parent.name for p in (ROOT / "services").glob("*/config.py")}
    assert len(services) >= 9 and len(names) >= len(services)
    assert {"BusSettings", "GatewaySettings", "RecordingsSettings", "PhonebookSettings"} <= names


@pytest.mark.parametrize("settings", settings_classes(), ids=lambda cls: cls.__name__)
def test_every_setting_is_documented(settings: type[BaseSettings]) -> None:
    missing = [name.upper() for name in settings.model_fields if f"| `{name.upper()}` |" not in TABLE]
    assert missing == []
