"""Phone numbers as the services share them: caller IDs to E.164 with the server's country.

Shared by the odoo_bridge (caller IDs of events) and the phonebook (the number the dialplan asks about), so
both read a number the same way Odoo stores it."""

from .e164 import MIN_EXTERNAL_DIGITS, to_e164

__all__ = ["MIN_EXTERNAL_DIGITS", "to_e164"]
