"""Odoo 17 only: the module's own `list` view modes loaded as `tree` (compat.action_values_for_17).

It touches only records loaded from this module's files and does not exist on Odoo 18 and later."""

from odoo import models, release

if release.version_info[0] < 18:

    class IrActionsActWindow(models.Model):
        _name = "ir.actions.act_window"
        _inherit = ["ir.actions.act_window", "asterisk_plus.compat17"]
