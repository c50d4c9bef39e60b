"""Odoo 17 only: the module's crons run for ever (compat.cron_values_for_17). It touches only crons loaded
from this module's files (all noupdate: the loader only creates them)."""

from odoo import models, release

if release.version_info[0] < 18:

    class IrCron(models.Model):
        _name = "ir.cron"
        _inherit = ["ir.cron", "asterisk_plus.compat17"]
