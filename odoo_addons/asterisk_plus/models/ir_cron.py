"""Odoo 17 only: the module's crons run for ever (17's `numbercall` defaults to 1: a cron that runs once, then
switches itself off; Odoo 18 has no such field). It touches only crons loaded from this module's files."""

from odoo import api, models, release

from .. import compat

if release.version_info[0] < 18:

    class IrCron(models.Model):
        _inherit = "ir.cron"

        @api.model_create_multi
        def create(self, vals_list):
            if compat.loaded_from_this_module(self.env):
                vals_list = [dict({"numbercall": -1}, **vals) for vals in vals_list]
            return super().create(vals_list)
