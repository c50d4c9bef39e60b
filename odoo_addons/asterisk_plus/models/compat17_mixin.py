"""Odoo 17 only: the records this module's own files load (views, actions, crons) pass through
compat.VALUES_FOR_17 for their model as they are created or written (see ../compat.py); records from anywhere
else are left as they are. Odoo 18 and later have no such model."""

from odoo import api, models, release

from .. import compat

if release.version_info[0] < 18:

    class Compat17Mixin(models.AbstractModel):
        _name = "asterisk_plus.compat17"
        _description = "Odoo 17: this module's own records as Odoo 17 takes them"

        @api.model_create_multi
        def create(self, vals_list):
            if compat.loaded_from_this_module(self.env):
                vals_list = [compat.VALUES_FOR_17[self._name](vals) for vals in vals_list]
            return super().create(vals_list)

        def write(self, vals):
            if compat.loaded_from_this_module(self.env):
                vals = compat.VALUES_FOR_17[self._name](vals)
            return super().write(vals)
