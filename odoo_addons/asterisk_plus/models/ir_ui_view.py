"""Odoo 17 only: the module's own `<list>` views loaded as `tree` (compat.view_values_for_17).

The module's models are set up before its data files load, so this already applies to its own views; it
touches only records loaded from this module's files and does not exist on Odoo 18 and later."""

from odoo import models, release

if release.version_info[0] < 18:

    class IrUiView(models.Model):
        _name = "ir.ui.view"
        _inherit = ["ir.ui.view", "asterisk_plus.compat17"]
