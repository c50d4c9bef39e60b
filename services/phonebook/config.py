"""Phonebook settings (environment variables, docs/configuration.md)."""

from __future__ import annotations

from services.bus import BusSettings


class PhonebookSettings(BusSettings):
    phonebook_host: str = "0.0.0.0"
    phonebook_port: int = 48002
    # How often the token and country Odoo published are read again (a new token works after this long).
    phonebook_meta_refresh_s: float = 5.0
    # Longest name handed to the dialplan, in characters (desk phones show 20-40).
    phonebook_name_max: int = 48
