"""Odoo 17 only: the module's own `list` view modes loaded as `tree` (see ../compat.py).

It touches only records loaded from this module's files and does not exist on Odoo 18 and later."""

from odoo import api, models, release

from .. import compat

if release.version_info[0] < 18:

    class IrActionsActWindow(models.Model):
        _inherit = "ir.actions.act_window"

        @api.model_create_multi
        def create(self, vals_list):
            if compat.loaded_from_this_module(self.env):
                vals_list = [compat.action_values_for_17(vals) for vals in vals_list]
            return super().create(vals_list)

        def write(self, vals):
            if compat.loaded_from_this_module(self.env):
                vals = compat.action_values_for_17(vals)
            return super().write(vals)
