"""Odoo 17 only: the module's own `<list>` views loaded as `tree` (see ../compat.py).

The module's models are set up before its data files load, so this already applies to its own views; it
touches only records loaded from this module's files and does not exist on Odoo 18 and later."""

from odoo import api, models, release

from .. import compat

if release.version_info[0] < 18:

    class IrUiView(models.Model):
        _inherit = "ir.ui.view"

        @api.model_create_multi
        def create(self, vals_list):
            if compat.loaded_from_this_module(self.env):
                vals_list = [compat.view_values_for_17(vals) for vals in vals_list]
            return super().create(vals_list)

        def write(self, vals):
            if compat.loaded_from_this_module(self.env):
                vals = compat.view_values_for_17(vals)
            return super().write(vals)
